"""The version of collabkg, as installed (its one home is ``pyproject.toml``)."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("collabkg")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"
