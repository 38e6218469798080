"""Where the declarative parts (ontology, shapes, queries) and the bundled data live.

In a source checkout they are top-level folders of the repository; in an installed
wheel they are carried inside the package under ``_resources/``.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _root(name: str) -> Path:
    bundled = _PACKAGE / "_resources" / name
    if bundled.exists():
        return bundled
    return _PACKAGE.parent.parent / name


def ontology_dir() -> Path:
    return _root("ontology")


def shapes_dir() -> Path:
    return _root("shapes")


def queries_dir() -> Path:
    return _root("queries")


def data_dir() -> Path:
    return _root("data")


def bundled_inputs() -> list[Path]:
    """The real data that ``collabkg build`` imports when given no path."""
    d = data_dir()
    inputs = [d / "cordis-horizon-europe" / "cordis-HORIZONprojects-xml-oic-subset.zip"]
    openalex = d / "openalex-works-sample" / "author-data"
    if openalex.is_dir():
        inputs.extend(sorted(openalex.glob("*.json")))
    return [p for p in inputs if p.exists()]
