"""The package's layers: no module under ``sim/`` imports a layer above its own.

Layers, lowest first (a module may import its own layer or lower ones)::

    sim._version, sim.errors, sim.defaults  ->  sim.config  ->  sim.model  ->  sim.results
    ->  sim.experiment  ->  sim.analysis  ->  sim.report  ->  sim.calibrate
    ->  sim.cli, sim.app

``sim/__init__.py`` is the public API and may import anything; no other module may
import it (``import sim`` or ``from sim import run``), since it imports every layer.
``from sim import report`` counts as importing ``sim.report``.

Every import found by :mod:`ast` counts: at module level, inside functions and under
``if TYPE_CHECKING:``. A new subpackage must be given a layer in :data:`LAYERS`.

The modules of ``sim.model`` must also not import each other in a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "sim"

#: Layer of each top-level part of the package (higher may import lower).
LAYERS: Mapping[str, int] = {
    "sim._version": 0,
    "sim.errors": 0,
    "sim.defaults": 0,
    "sim.config": 1,
    "sim.model": 2,
    "sim.results": 3,
    "sim.experiment": 4,
    "sim.analysis": 5,
    "sim.report": 6,
    "sim.calibrate": 7,
    "sim.cli": 8,
    "sim.app": 8,
}
#: ``sim/__init__.py``: imports everything, so only it may stand above every layer.
TOP = "sim"
TOP_LAYER = max(LAYERS.values()) + 1


@dataclass(frozen=True)
class Import:
    """One ``sim.*`` module imported by a module, where and how."""

    target: str
    line: int
    text: str


def module_name(path: Path, root: Path = SIM) -> str:
    """Dotted name of a file under ``root`` (``sim/model/care.py`` -> ``sim.model.care``)."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sim_modules(root: Path = SIM) -> Iterator[tuple[str, Path]]:
    """Every module of the package: its dotted name and its file."""
    for path in sorted(root.rglob("*.py")):
        yield module_name(path, root), path


def _is_module(dotted: str, root: Path = SIM) -> bool:
    """Whether ``dotted`` (``sim.x.y``) is a module or package of the source tree."""
    rel = Path(*dotted.split(".")[1:])
    base = root / rel
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(name: str, source: str, *, is_package: bool = False) -> list[Import]:
    """The ``sim.*`` modules that the source of module ``name`` imports, anywhere in it.

    ``from a import b`` counts as ``a.b`` where ``a.b`` is a module of the package, else
    as ``a``. Relative imports are resolved against ``name``.
    """
    tree = ast.parse(source)
    package = name if is_package else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        text = ast.unparse(node) if isinstance(node, ast.Import | ast.ImportFrom) else ""
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(alias.name, node.lineno, text))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                target = sub if base.startswith(TOP) and _is_module(sub) else base
                found.append(Import(target, node.lineno, text))
    return [i for i in found if i.target == TOP or i.target.startswith(TOP + ".")]


def layer_of(module: str) -> tuple[str, int] | None:
    """The part of the package a module belongs to and its layer (None if unassigned)."""
    if module == TOP:
        return TOP, TOP_LAYER
    for part, layer in LAYERS.items():
        if module == part or module.startswith(part + "."):
            return part, layer
    return None


def layer_violations(name: str, source: str, *, path: str, is_package: bool = False) -> list[str]:
    """Messages for every import in ``source`` (module ``name``) of a higher layer."""
    if name == TOP:
        return []  # the public API may import anything
    own = layer_of(name)
    if own is None:
        return [f"{path}: {name} is in no layer; give its subpackage one in LAYERS"]
    problems = []
    for imp in imports_of(name, source, is_package=is_package):
        theirs = layer_of(imp.target)
        if theirs is None:
            problems.append(f"{path}:{imp.line}: {name} imports {imp.target}, in no layer")
        elif theirs[1] > own[1]:
            problems.append(
                f"{path}:{imp.line}: {name} ({own[0]}, layer {own[1]}) imports "
                f"{imp.target} ({theirs[0]}, layer {theirs[1]}): `{imp.text}`"
            )
    return problems


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as ``[a, b, ..., a]``, or None if there is none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def package_graph(package: str, root: Path = SIM) -> dict[str, set[str]]:
    """Imports among the modules of ``package`` (``sim.model``): module -> modules it imports."""
    graph: dict[str, set[str]] = {}
    for name, path in sim_modules(root):
        if name != package and not name.startswith(package + "."):
            continue
        source = path.read_text(encoding="utf-8")
        targets = imports_of(name, source, is_package=path.name == "__init__.py")
        graph[name] = {
            i.target
            for i in targets
            if (i.target == package or i.target.startswith(package + ".")) and i.target != name
        }
    return graph


# ------------------------------------------------------------------------ tests


def test_every_module_imports_only_its_own_or_lower_layers() -> None:
    problems = []
    for name, path in sim_modules():
        problems += layer_violations(
            name,
            path.read_text(encoding="utf-8"),
            path=str(path.relative_to(SIM.parent)),
            is_package=path.name == "__init__.py",
        )
    assert not problems, "imports of a higher layer:\n" + "\n".join(problems)


def test_model_modules_import_each_other_without_a_cycle() -> None:
    graph = package_graph("sim.model")
    assert "sim.model.simulation" in graph  # the walk found the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in sim.model: " + " -> ".join(cycle or [])


# ------------------------------------------------- the checker can fail


def test_checker_reports_a_model_module_importing_the_cli() -> None:
    source = "import math\n\nfrom sim.config import Config\nimport sim.cli.main\n"
    problems = layer_violations("sim.model.fake", source, path="sim/model/fake.py")
    assert len(problems) == 1
    msg = problems[0]
    assert msg.startswith("sim/model/fake.py:4: sim.model.fake")
    assert "sim.cli.main" in msg and "`import sim.cli.main`" in msg


def test_checker_sees_lazy_type_checking_and_from_sim_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from sim.experiment.runner import run\n"  # line 3
        "def f():\n"
        "    from sim.report.charts import fan\n"  # line 5
        "    from sim import report\n"  # line 6: a subpackage
        "    from sim import run\n"  # line 7: the public API
        "    from ..results import store\n"  # line 8: relative, sim.results.store
        "    from . import entities\n"  # line 9: own package, allowed
        "    from sim.errors import CaresimError\n"  # line 10: base, allowed
    )
    problems = layer_violations("sim.model.fake", source, path="sim/model/fake.py")
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == [3, 5, 6, 7, 8]
    assert "imports sim.report (" in problems[2]
    assert "imports sim (" in problems[3]
    assert "imports sim.results.store (" in problems[4]


def test_checker_allows_downward_imports_and_the_public_api() -> None:
    source = "import sim\nfrom sim.cli.main import main\n"
    assert layer_violations("sim", source, path="sim/__init__.py", is_package=True) == []
    down = "from sim.report import charts\nfrom sim.analysis.comparison import compare\n"
    assert layer_violations("sim.cli.fake", down, path="sim/cli/fake.py") == []


def test_checker_rejects_a_module_in_no_layer() -> None:
    problems = layer_violations("sim.gui.window", "", path="sim/gui/window.py")
    assert problems and "no layer" in problems[0]


def test_cycle_finder() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sim.model import care\n"
    targets = {i.target for i in imports_of("sim.model.simulation", source)}
    assert targets == {"sim.model.care"}
