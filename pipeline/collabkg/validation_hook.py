"""Which validator an import uses (SHACL shapes once they exist; none before)."""
from __future__ import annotations


def default_validator(args=None):
    try:
        from collabkg.validate import import_validator
    except ImportError:
        return None
    return import_validator(args)
