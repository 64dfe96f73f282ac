"""Layers of the library, from its source: no import cycle among tagger's modules, and nothing under
tagger/ imports the app (``demo``) or its UI toolkit (``gradio``), at module level or inside a function.

Run as a script for the report: ``python tests/test_layers.py`` prints the module and edge counts and
every cycle (strongly connected component) found.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.unit


def modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``package`` under ``root``."""
    out: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imported_names(name: str, path: Path) -> list[str]:
    """What every ``import`` statement of this file names, anywhere in it (functions too), as dotted
    names: ``from X import y`` gives ``X.y`` (a submodule, or a name in module ``X``)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join([*package[: len(package) - node.level + 1], *([node.module] if node.module else [])]) if node.level else node.module
            out += [f"{base}.{a.name}" for a in node.names]
    return out


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (the parent packages Python runs first are not edges)."""
    mods = modules(root, package)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps: set[str] = set()
        for target in imported_names(name, path):
            while target not in mods and "." in target:  # ``tagger.x.func`` -> module tagger.x
                target = target.rsplit(".", 1)[0]
            if target in mods and target != name:
                deps.add(target)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted.

    >>> cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    [['a', 'b', 'c']]
    >>> cycles({"a": {"b"}, "b": set()})
    []
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_layers_tagger_has_no_import_cycle() -> None:
    graph = import_graph(REPO, "tagger")
    assert len(graph) > 30 and graph["tagger.data"] >= {"tagger.corpus", "tagger.readers"}  # the graph is really built
    assert cycles(graph) == []


def test_layers_readers_sit_below_data() -> None:
    graph = import_graph(REPO, "tagger")
    readers = [m for m in graph if m == "tagger.readers" or m.startswith("tagger.readers.")]
    assert readers and not [m for m in readers if "tagger.data" in graph[m]]


def test_layers_tagger_never_imports_the_app() -> None:
    found = [
        f"{path.relative_to(REPO)}: {target}"
        for name, path in modules(REPO, "tagger").items()
        for target in imported_names(name, path)
        if target.split(".")[0] in ("demo", "gradio", "gradio_client", "app")
    ]
    assert found == []


def main() -> int:
    graph = import_graph(REPO, "tagger")
    found = cycles(graph)
    print(f"tagger: {len(graph)} modules, {sum(len(d) for d in graph.values())} import edges, {len(found)} cycles")
    for component in found:
        print(f"cycle of {len(component)}: {', '.join(component)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
