"""The package's shape, checked on its source with ``ast`` (only the last check imports it): one place for each fact.

- no import cycle between the modules of ``pipeline/collabkg``, counting imports inside functions
  (an import moved into a function still makes the modules depend on each other);
- no module imports the package root ``collabkg`` (it sits above all of them: the public API);
- an IRI is written only in ``namespaces.py`` (a string that is an IRI, or holds ``<http...>``);
- the environment is read only in ``settings.py`` (``os.environ``, ``os.getenv``);
- the public API (``collabkg.build``, ``ingest``, ...) resolves; build and ingest take ``(store, paths, *, ...)``.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline" / "collabkg"

# IRI strings allowed outside namespaces.py: (file, string) with the reason.
IRI_EXCEPTIONS: set[tuple[str, str]] = set()
EXAMPLE_HOSTS = re.compile(r"https?://(www\.)?example\.(org|com|net)/")  # RFC 2606 sample values


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package is its ``__init__``)."""
    out = {}
    for f in sorted(package.rglob("*.py")):
        parts = (package.name, *f.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> dict[str, int]:
    """The package's modules that ``name`` imports anywhere in its file -> the line of the first import.

    ``from P import x`` imports ``P`` and, when ``x`` is a module, ``P.x``; relative imports are resolved."""
    out: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                up = here[:len(here) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            if t in known and t != name:
                out.setdefault(t, node.lineno)
    return out


def graph(package: Path = PACKAGE) -> dict[str, dict[str, int]]:
    known = modules(package)
    return {m: imports(m, f, known) for m, f in known.items()}


def find_cycle(edges: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None (depth-first search, deterministic order)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                return path[path.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def describe(cycle: list[str], edges: dict[str, dict[str, int]], package: Path = PACKAGE) -> str:
    files = modules(package)
    return "\n".join(f"  {a} -> {b}  ({files[a].relative_to(package.parent)}:{edges[a][b]})"
                     for a, b in zip(cycle, cycle[1:]))


def test_no_import_cycle():
    edges = graph()
    assert len(edges) > 50 and "collabkg.mapping.cordis" in edges  # the walk saw the package
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle (imports inside functions count):\n" + describe(cycle, edges)


def test_the_cycle_finder_names_a_cycle_through_a_function_level_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub import b\nHELPER = 1\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg.sub import HELPER\n    return HELPER\n")
    (pkg / "c.py").write_text("from . import d\n")
    (pkg / "d.py").write_text("import pkg.sub.b\n")
    edges = graph(pkg)
    assert edges["pkg.c"] == {"pkg": 1, "pkg.d": 1} and edges["pkg.d"] == {"pkg.sub.b": 1}  # relative, absolute
    cycle = find_cycle(edges)
    assert cycle == ["pkg.sub.b", "pkg.sub", "pkg.sub.b"]
    assert "pkg.sub.b -> pkg.sub  (pkg/sub/b.py:2)" in describe(cycle, edges, pkg)
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg.sub.helpers import HELPER\n")
    (pkg / "sub" / "helpers.py").write_text("HELPER = 1\n")
    assert find_cycle(graph(pkg)) is None


def test_no_module_imports_the_package_root():
    edges = graph()
    importers = sorted(m for m, targets in edges.items() if "collabkg" in targets)
    assert importers == [], f"modules importing the package root `collabkg` (import the module itself): {importers}"


def _strings(tree: ast.AST):
    """Every string constant of a module except docstrings, with its line."""
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs:
            yield n.lineno, n.value


def test_iris_are_written_only_in_namespaces():
    found = []
    for name, f in modules().items():
        if f.name == "namespaces.py" and f.parent == PACKAGE:
            continue
        for line, s in _strings(ast.parse(f.read_text(encoding="utf-8"))):
            if not (re.match(r"https?://", s) or re.search(r"<https?://", s)):
                continue
            if EXAMPLE_HOSTS.match(s) or (f.name, s) in IRI_EXCEPTIONS:
                continue
            found.append(f"{f.relative_to(PACKAGE.parent)}:{line}: {s[:80]!r}")
    assert found == [], "IRIs written outside namespaces.py (add a constant there):\n" + "\n".join(found)


def _reads_environment(tree: ast.AST) -> list[int]:
    lines = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute) and n.attr in ("environ", "environb", "getenv", "getenvb"):
            lines.append(n.lineno)
        elif isinstance(n, ast.ImportFrom) and n.module == "os" and {a.name for a in n.names} & {"environ", "getenv"}:
            lines.append(n.lineno)
    return lines


@pytest.mark.parametrize("source, reads", [
    ("import os\nx = os.environ.get('A')\n", [2]),
    ("import os\nx = os.getenv('A')\n", [2]),
    ("from os import environ\n", [1]),
    ("import os\nx = os.path.join('a')\n", []),
])
def test_the_environment_check_sees_each_way_of_reading_it(source, reads):
    assert _reads_environment(ast.parse(source)) == reads


def test_the_environment_is_read_only_in_settings():
    found = [f"{f.relative_to(PACKAGE.parent)}:{line}"
             for f in modules().values() if not (f.name == "settings.py" and f.parent == PACKAGE)
             for line in _reads_environment(ast.parse(f.read_text(encoding="utf-8")))]
    assert found == [], "the environment read outside settings.py (use Settings, read once):\n" + "\n".join(found)


def test_the_public_api_resolves_and_build_and_ingest_take_the_same_order():
    import inspect

    import collabkg

    assert all(getattr(collabkg, name) is not None for name in collabkg.__all__)
    for fn in (collabkg.build, collabkg.ingest):
        params = list(inspect.signature(fn).parameters.values())
        assert [p.name for p in params[:2]] == ["store", "paths"], fn
        assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params[2:]), fn
    with pytest.raises(TypeError, match="store comes first"):
        collabkg.ingest(["x.zip"], None)
