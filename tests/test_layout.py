"""The package's layers, checked from the import statements of its source (not by importing it).

Every ``import`` and ``from ... import`` in ``src/tagwatch`` (those inside functions too) is an edge
of the graph: to the submodule when the name imported is one, else to the module named. The graph
must have no circle, and the pure core must not reach the store, the use cases or the shells.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "tagwatch"


def module_files() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("tagwatch", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = module_files()


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, name] if name else base)


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                src = _resolve(module, is_package, node.level, node.module) if node.level else node.module
                for a in node.names:
                    sub = f"{src}.{a.name}"
                    targets.append(sub if sub in MODULES else src)
            graph[module].update(t for t in targets if t in MODULES and t != module)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of the graph as a path that starts and ends at the same module, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    assert len(graph) > 100
    assert "tagwatch.services.correlation" in graph["tagwatch.services.ingest"]
    assert "tagwatch.store.errors" in graph["tagwatch.store.repo"]
    assert "tagwatch.cli.alcohol" in graph["tagwatch.cli.app"]  # `from . import alcohol` is the submodule


def test_find_cycle_finds_a_circle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_inside_tagwatch():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


CORE = ["tagwatch.rules", "tagwatch.correlate", "tagwatch.alcohol", "tagwatch.areas", "tagwatch.reoffending"]
SHELLS = ["tagwatch.store", "tagwatch.services", "tagwatch.api", "tagwatch.cli"]
LAYERS = [(core, SHELLS) for core in CORE] + [
    ("tagwatch.model", SHELLS), ("tagwatch.geo", SHELLS), ("tagwatch.schedule", SHELLS), ("tagwatch.codec", SHELLS),
    ("tagwatch.ingest", SHELLS),
    ("tagwatch.store", ["tagwatch.services", "tagwatch.api", "tagwatch.cli"]),
    ("tagwatch.services", ["tagwatch.api", "tagwatch.cli", "tagwatch.live"]),
    ("tagwatch.live", ["tagwatch.api", "tagwatch.cli"]),
    # the device gateway adapts sockets to a sink (the live engine or the web app): no store, no use cases
    ("tagwatch.gateway", ["tagwatch.store", "tagwatch.services", "tagwatch.live", "tagwatch.api", "tagwatch.cli"]),
    ("tagwatch.api", ["tagwatch.cli"]),
]


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("package,forbidden", LAYERS, ids=[p for p, _ in LAYERS])
def test_dependencies_point_inward(package, forbidden):
    graph = import_graph()
    wrong = sorted(f"{m} imports {t}" for m, targets in graph.items() if _inside(m, package)
                   for t in targets for f in forbidden if _inside(t, f))
    assert not wrong, "\n".join(wrong)
