"""The layout's rules, read off the source with ``ast``: layers, no import circle, small modules, one door each.

Layers, lowest first (docs/architecture.md)::

    schema, paths, tickers  <  core, changes, estimates, grades, firms, track_record, targets, label_schemes
      <  dataset, bundle, sources, store, yahoo, refresh
      <  charts, export, formatting  <  cli, dashboard  <  pages/, app.py

A module may import from its own layer or a lower one, never a higher one; within the package no
import circle; yfinance is imported only in ``ratings/yahoo/``; the pages reach data only through
``ratings.dashboard``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ratings"
MAX_LINES = 450

LAYERS: dict[str, int] = {
    **dict.fromkeys(("schema", "paths", "tickers"), 0),
    **dict.fromkeys(("core", "changes", "estimates", "grades", "firms", "track_record", "targets", "label_schemes"), 1),
    **dict.fromkeys(("dataset", "bundle", "sources", "store", "yahoo", "refresh", "schedule"), 2),
    **dict.fromkeys(("charts", "export", "formatting"), 3),
    **dict.fromkeys(("cli", "dashboard", "__main__"), 4),
}
#: What a page may import from ratings: the dashboard package and the layers that compute and present.
PAGE_MAY_IMPORT = frozenset(
    {"dashboard", "charts", "core", "dataset", "export", "formatting", "schema", "tickers"}
    | {"grades", "firms", "track_record", "targets", "label_schemes"}  # the track record's computation, like core's
)

MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULE_NAMES = frozenset(module_name(p) for p in MODULES)


def imported(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; relative imports resolved against its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).split(".") if path.name == "__init__.py" else module_name(path).split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            # `from . import yahoo` imports the module ratings.yahoo; `from .schema import X` imports ratings.schema.
            for alias in node.names:
                names.add(f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in MODULE_NAMES else stem)
    return names


def ratings_parts(names: set[str]) -> set[str]:
    """The top-level parts of ratings among `names`: 'ratings.store.sqlite' -> 'store'."""
    return {name.split(".")[1] for name in names if name.startswith("ratings.") and name.count(".") >= 1}


def part_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {part_of(p) for p in MODULES} - {"__init__"}
    assert parts <= set(LAYERS), f"give these a layer here and in docs/architecture.md: {parts - set(LAYERS)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    if path == PACKAGE / "__init__.py":
        assert ratings_parts(imported(path)) == set(), "the package's __init__ imports nothing: importing is cheap"
        return
    own = part_of(path)
    upward = {p for p in ratings_parts(imported(path)) if p in LAYERS and LAYERS[p] > LAYERS[own]}
    assert not upward, f"{path.relative_to(ROOT)} (layer {LAYERS[own]}) imports higher layers: {sorted(upward)}"


def find_circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of `graph` (module -> modules it imports) as a path that ends where it starts; [] if none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    trail: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        trail.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt) :], nxt]
            if nxt not in state and (circle := visit(nxt)):
                return circle
        trail.pop()
        state[node] = 2
        return []

    for name in sorted(graph):
        if name not in state and (circle := visit(name)):
            return circle
    return []


def test_there_is_no_import_circle() -> None:
    graph = {module_name(p): {n for n in imported(p) if n in MODULE_NAMES and n != module_name(p)} for p in MODULES}
    assert find_circle(graph) == []


def test_the_circle_finder_finds_one() -> None:
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_size_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by concern"


def test_only_the_yahoo_package_imports_yfinance() -> None:
    users = [str(p.relative_to(ROOT)) for p in MODULES if any(n.split(".")[0] == "yfinance" for n in imported(p))]
    assert users, "the live loader imports yfinance"
    assert all(user.startswith("ratings/yahoo/") for user in users), users


@pytest.mark.parametrize("path", [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))], ids=lambda p: p.name)
def test_pages_reach_data_through_the_dashboard_package(path: Path) -> None:
    reached = ratings_parts(imported(path))
    assert reached <= PAGE_MAY_IMPORT, f"{path.name} imports {sorted(reached - PAGE_MAY_IMPORT)} directly"


def test_the_scanner_resolves_relative_imports(tmp_path: Path) -> None:
    assert "ratings.schema" in imported(PACKAGE / "core.py")
    assert "ratings.yahoo" in imported(PACKAGE / "refresh.py")
    assert ratings_parts(imported(PACKAGE / "store" / "store.py")) >= {"schema", "paths", "store"}
