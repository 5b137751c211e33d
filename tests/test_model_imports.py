"""The modules of sim/model import one another without a circle.

Imports under ``TYPE_CHECKING`` count too: a circle there is still a circle
in the design (and one refactoring away from an import error).
"""

from __future__ import annotations

import ast
from pathlib import Path

import sim.model

MODEL = Path(sim.model.__file__).parent
PACKAGE = "sim.model"


def _module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Modules of sim/model that ``path`` imports, anywhere in the file."""
    out: set[str] = set()
    here = _module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here if path.stem == "__init__" else here.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    parent = parent.rsplit(".", 1)[0]
                base = f"{parent}.{base}" if base else parent
            for a in node.names:
                if f"{base}.{a.name}" in modules:
                    out.add(f"{base}.{a.name}")  # a submodule imported from the package
                elif base in modules:
                    out.add(base)
    out.discard(here)
    return out


def _graph() -> dict[str, set[str]]:
    paths = sorted(MODEL.glob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_model_modules_form_no_import_circle() -> None:
    graph = _graph()
    assert {"sim.model.simulation", "sim.model.care", "sim.model.params"} <= set(graph)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_only_the_package_imports_the_simulation_module() -> None:
    importers = {m for m, deps in _graph().items() if "sim.model.simulation" in deps}
    assert importers <= {PACKAGE}


def test_the_circle_check_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
