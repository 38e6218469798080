"""The collabkg command line: build, query and publish a knowledge graph of research collaborations.

Each sub-command lives in its own module of :mod:`collabkg.commands`. Exit codes (see
:mod:`collabkg.errors`): 0 ok, 1 records rejected or not conformant, 2 usage error, unreadable
input or store fault, 3 internal error.
"""
from __future__ import annotations

import argparse
import sys
import traceback

import collabkg.errors as errors
from collabkg.commands import registrars
from collabkg.commands.common import WRITE_COMMANDS, check_iri, fault_text, opened, remote_args
from collabkg.errors import EXIT_ERROR, EXIT_INTERNAL, EXIT_OK, CollabkgError
from collabkg.namespaces import DEFAULT_BASE
from collabkg.settings import Settings

DESCRIPTION = ("collabkg: build, validate, query and publish a knowledge graph of research collaborations "
               "(CORDIS Horizon Europe projects, OpenAlex works). Exit codes: 0 ok, 1 records rejected or "
               "not conformant, 2 usage error, unreadable input or store fault, 3 internal error.")


def _version() -> str:
    from collabkg.version import __version__  # only for --version: reading package metadata takes time

    return __version__


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="collabkg", description=DESCRIPTION)
    ap.add_argument("--version", action="version", version=f"collabkg {_version()}")
    ap.add_argument("--debug", action="store_true", help="print the traceback of an internal error")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in registrars():
        register(sub)
    for name, command in sub.choices.items():  # every command with --store can use a remote store
        if "--store" in command._option_string_actions and "--endpoint" not in command._option_string_actions:
            remote_args(command, write=name in WRITE_COMMANDS)
    return ap


def _store_fault(e: BaseException) -> str | None:
    """A one-line message when ``e`` is a fault of an opened store (I/O error, RocksDB corruption,
    read-only file system), else None."""
    if not opened:
        return None
    if isinstance(e, OSError) or (isinstance(e, RuntimeError) and any(
            w in str(e) for w in ("Corruption", "IO error", "I/O", "Read-only", "No space"))):
        return f"{opened[-1]}: store fault: {fault_text(e)}"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv[:argv.index("--")] if "--" in argv else "--debug" in argv
    try:
        ap = parser()
        args = ap.parse_args(argv)
        # The environment is read here, once; commands get its values through ``args``.
        args.settings = Settings.from_env()
        if hasattr(args, "base"):
            # Checked once here: a base that is no IRI would fail every record's mapping (exit 1).
            check_iri(args.base, "--base")
            if not args.base:
                check_iri(args.settings.base, "$COLLABKG_BASE")
                args.base = args.settings.base or DEFAULT_BASE
        return args.func(args)
    except CollabkgError as e:
        print(f"collabkg: error: {e}", file=sys.stderr)
        return e.exit_code
    except SystemExit:
        raise
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print("collabkg: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the last line of defence: one line, its own exit code
        if (msg := _store_fault(e)) is not None:
            if debug:
                traceback.print_exc()
            print(f"collabkg: error: {msg}", file=sys.stderr)
            return EXIT_ERROR
        if debug:
            traceback.print_exc()
        print(f"collabkg: {errors.internal_error_line(e)}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
