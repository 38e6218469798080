"""Sub-commands beyond build/ingest/sparql, one module each.

Every module here defines ``register(subparsers)``, which adds its sub-command(s) with
``set_defaults(func=...)``; a ``func`` returns the exit code (0 ok, 1 rejected/not
conformant, 2 usage, input or store error) and raises a ``collabkg.errors.CollabkgError`` (e.g.
``UsageError``) for errors the user can fix; shared arguments are in ``commands.common``.
"""
from __future__ import annotations

import importlib
import pkgutil


def registrars():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "register"):
            yield mod.register
