"""Every error the command line reports, and its exit code, in one place.

Exit codes (as pySHACL's):

- **0** ok;
- **1** records rejected or not conformant (a *result*, not an error: no exception carries it);
- **2** usage error, unreadable input, store or endpoint fault (:class:`CollabkgError` and below);
- **3** internal error (any other exception): one line "internal error: ...; please report it",
  the traceback only with ``collabkg --debug``.

A record's own problem (a bad field) is not an exception: it is a plain value that the sources
yield and the import counts (exit 1). The errors here stop a whole command.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_ERROR = 2
EXIT_INTERNAL = 3


class CollabkgError(Exception):
    """Base of the errors a user can act on: one line on stderr, exit :attr:`exit_code`."""

    exit_code = EXIT_ERROR


class UsageError(CollabkgError):
    """A wrong option, argument or combination of them."""


class InputError(CollabkgError):
    """A whole input cannot be read (missing, unreadable, unknown format)."""


class StoreError(CollabkgError):
    """The store cannot be opened, read or written (locked, corrupt, read-only file system, ...);
    the message names the store."""


class EndpointError(StoreError):
    """A remote SPARQL server or a SERVICE host failed; the message names the host."""


class CatalogueError(CollabkgError):
    """A stored query file is broken (header, SPARQL, columns); the message names the file."""


class ParamError(CollabkgError, ValueError):
    """A stored-query parameter is unknown or has a wrong value; the message says what is allowed."""


class ExportError(CollabkgError):
    """The store holds something that cannot be written in the chosen format."""


class RecordOwnershipError(CollabkgError):
    """A hand-written record restates an entity another source's record owns."""


def internal_error_line(exc: BaseException) -> str:
    """The one line printed for an unexpected exception."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    what = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"internal error: {what}; please report it (run with --debug for the traceback)"
