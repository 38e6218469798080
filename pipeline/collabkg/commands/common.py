"""Arguments and helpers shared by the sub-commands: ``--store``, ``--base``, the remote-store
options, and opening the store with its faults turned into one-line :class:`StoreError` s."""
from __future__ import annotations

import argparse
import re

from collabkg.errors import StoreError, UsageError
from collabkg.settings import Settings

# Commands that write to the store; only they list the write options of a remote store.
WRITE_COMMANDS = frozenset({"build", "ingest"})

# Stores opened by this process (their locations name the store in fault messages).
opened: list[str] = []


def store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="DIR", help="store folder (default: $COLLABKG_STORE, else ./.collabkg/store)")


def base_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", metavar="IRI",
                   help="base IRI for minted instance IRIs (default: $COLLABKG_BASE, else https://w3id.org/collabkg/id/)")


def check_iri(value: str | None, option: str) -> None:
    """A :class:`UsageError` naming ``option`` unless ``value`` (if given) is an absolute IRI."""
    if not value:
        return
    ok = re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|^`\\]+", value) is not None
    if ok:
        import pyoxigraph as ox

        try:
            ox.NamedNode(value)  # the store's own IRI check (e.g. a port that is not a number)
        except ValueError:
            ok = False
    if not ok:
        raise UsageError(f"{option}: {value!r} is not an absolute IRI (e.g. https://example.org/)")


class _Endpoint(argparse.Action):
    """``--endpoint URL``; also fills ``store`` so that commands with an optional store
    (``validate --store``) see that one was given."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.endpoint = values
        if getattr(namespace, "store", None) is None:
            namespace.store = values


def remote_args(p: argparse.ArgumentParser, write: bool) -> None:
    """``--endpoint``; with ``write`` also the write paths (UPDATE endpoint, Graph Store, bulk files)."""
    g = p.add_argument_group("remote store (a SPARQL 1.1 server instead of --store; credentials from "
                             "$COLLABKG_ENDPOINT_USER/$COLLABKG_ENDPOINT_PASSWORD)")
    g.add_argument("--endpoint", metavar="URL", action=_Endpoint,
                   help="SPARQL query endpoint (its default graph must be the union of the named graphs)")
    if write:
        g.add_argument("--update-endpoint", metavar="URL", help="SPARQL update endpoint (writes: one UPDATE request per batch)")
        g.add_argument("--graph-store", metavar="URL", help="SPARQL 1.1 Graph Store Protocol endpoint (writes: PUT per named graph)")
        g.add_argument("--bulk-dir", metavar="DIR", help="write batches as N-Quads files for the server's bulk loader instead of over HTTP")


def open_store_from_args(args, read_only: bool = False):
    """The store the arguments name (``--endpoint`` or ``--store``). A store that cannot be opened
    (missing, locked, corrupt, on a read-only file system) is a :class:`StoreError` naming it."""
    settings = Settings.of(args)
    if getattr(args, "endpoint", None):
        from collabkg.remote_store import RemoteStore

        opened.append(args.endpoint)
        return RemoteStore(args.endpoint, getattr(args, "update_endpoint", None), getattr(args, "graph_store", None),
                           read_only=read_only, bulk_dir=getattr(args, "bulk_dir", None),
                           user=settings.endpoint_user, password=settings.endpoint_password, auth=settings.endpoint_auth)
    from collabkg.store import EmbeddedStore

    location = str(getattr(args, "store", None) or settings.store)
    opened.append(location)
    try:
        return EmbeddedStore(location, read_only=read_only)
    except StoreError:
        raise
    except (OSError, RuntimeError) as e:  # RocksDB: "Corruption: ...", read-only file system, ...
        raise StoreError(f"{location}: cannot open the store: {fault_text(e)}") from None


def fault_text(exc: BaseException) -> str:
    """The first line of a storage fault's message, with the OS error's own text when there is one."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f": {exc.filename}" if exc.filename else "")
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
