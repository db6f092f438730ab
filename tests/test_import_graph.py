"""ladbench's import graph has no cycle and none of the arrows the architecture forbids.

Every ``import`` statement counts as an edge, at module level or inside a function (a function-
level import still makes the two modules depend on each other), including those under
``if TYPE_CHECKING``. ``from package import name`` is an edge to the package and, when ``name``
is a submodule, to it. See docs/architecture.md for the floors.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ladbench"
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()  # (importer, imported) edges ignored by the cycle check
BASE = {
    "ladbench",
    "ladbench.errors",
    "ladbench.io",
    "ladbench.settings",
    "ladbench.resources",
    "ladbench.provenance",
    "ladbench.manifest",
    "ladbench.layout",
    "ladbench.metric_catalogue",
    "ladbench.figure_kinds",
    "ladbench.registry",
}
ANALYSIS = (
    "ladbench.results",
    "ladbench.stats",
    "ladbench.report",
    "ladbench.figures",
    "ladbench.tables",
    "ladbench.claims",
    "ladbench.llm_analysis",  # the LLM track's analysis, one package
)
FACE = ("ladbench.cli", "ladbench.cli_llm", "ladbench.cli_config")


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from . import x, from ..y import z
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            graph[name] |= {target for target in targets if target in modules and target != name}
    return graph


def within(module: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None (depth-first search, colouring nodes)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_sees_function_level_and_relative_imports(graph):
    assert "ladbench.bandit.run" in graph["ladbench.cli"]  # imported inside a command
    assert "ladbench.sweep.store" in graph["ladbench.results"] and "ladbench.io" in graph["ladbench.manifest"]


def test_no_import_cycles(graph):
    pruned = {
        module: {target for target in targets if (module, target) not in KNOWN_CYCLE_EDGES}
        for module, targets in graph.items()
    }
    cycle = find_cycle(pruned)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


PARTS = {  # checked in order
    "face": FACE,
    "losses": ("ladbench.losses",),
    "integrations": ("ladbench.integrations",),  # the losses inside other trainers (verl; TRL's plug-in is in llm/)
    "bandit": ("ladbench.bandit",),
    "llm": ("ladbench.llm",),  # the mini-LM (ladbench.llm.minilm) included
    "code": ("ladbench.code", "ladbench.sandbox"),
    "sweep": ("ladbench.sweep",),
    "analysis": ANALYSIS,
}


def part(module: str) -> str:
    if module in BASE:
        return "base"
    return next((name for name, prefixes in PARTS.items() if within(module, prefixes)), "other")


def test_every_module_is_on_a_floor(graph):
    """A module no floor names cannot be checked by the rules below: place it (BASE, PARTS)."""
    unplaced = sorted(module for module in graph if part(module) == "other")
    assert not unplaced, f"modules on no floor (add them to BASE or PARTS): {', '.join(unplaced)}"


def test_the_command_line_sits_beside_cli(graph):
    """A Face module inside a lower folder (as ``llm/cli.py`` was) makes a loop between folders even
    without a module cycle: every command-line module is a top-level ``ladbench.cli*``."""
    named_cli = {module for module in graph if re.fullmatch(r"cli(_\w+)?", module.rpartition(".")[2])}
    assert named_cli == set(FACE)
    assert all(module.count(".") == 1 and module.startswith("ladbench.cli") for module in FACE)


def test_the_floor_check_refuses_an_unplaced_module():
    assert part("ladbench.somewhere_new") == "other" and part("ladbench.registry") == "base"


FLOORS = {  # docs/architecture.md, bottom to top: lower floors never import higher ones
    "base": 0,
    "losses": 1,
    "bandit": 2,  # the Tracks ...
    "llm": 2,
    "code": 2,
    "integrations": 2,  # ... and, beside them on the Losses, the integrations
    "sweep": 3,
    "analysis": 4,
    "face": 5,
}
# Arrows to a higher floor that belong, each (importer part, imported part) with its reason. None
# today: the one arrow across the map that docs/architecture.md names, Analysis -> Bandit
# (ladbench/figures/recovery.py draws with the bandit's recovery plot), goes down, not up.
UPWARD_ALLOWED: dict[tuple[str, str], str] = {}


def upward(a: str, b: str) -> bool:
    """An arrow from part ``a`` to a higher floor's part ``b`` that ``UPWARD_ALLOWED`` does not name."""
    return FLOORS[b] > FLOORS[a] and (a, b) not in UPWARD_ALLOWED


FORBIDDEN = {
    "no arrow to a higher floor": upward,
    "losses import nothing above Base": lambda a, b: a == "losses" and b not in ("losses", "base"),
    "Bandit and LLM do not import each other": lambda a, b: {a, b} == {"bandit", "llm"},
    "Sweeps do not import Analysis": lambda a, b: (a, b) == ("sweep", "analysis"),
    "nothing imports the command line": lambda a, b: b == "face" and a != "face",
    "Code and the sandbox import only Base": lambda a, b: a == "code" and b not in ("code", "base"),
    "Integrations import only the losses and Base": lambda a, b: (
        a == "integrations" and b not in ("integrations", "losses", "base")
    ),
    "Base imports only Base": lambda a, b: a == "base" and b != "base",
}


def forbidden_arrows(graph: dict[str, set[str]], rule: str) -> list[str]:
    return [f"{a} -> {b}" for a, targets in graph.items() for b in sorted(targets) if FORBIDDEN[rule](part(a), part(b))]


@pytest.mark.parametrize("rule", list(FORBIDDEN))
def test_no_forbidden_arrows(graph, rule):
    arrows = forbidden_arrows(graph, rule)
    assert not arrows, f"{rule}: " + ", ".join(arrows)


def test_every_part_has_a_floor():
    """Every part is on a floor, and an allowed upward arrow is one between parts, going up."""
    assert set(FLOORS) == {"base", *PARTS}
    assert all(a in FLOORS and b in FLOORS and FLOORS[b] > FLOORS[a] for a, b in UPWARD_ALLOWED)


@pytest.mark.parametrize(
    "importer,imported",
    [
        ("ladbench.llm.trainer", "ladbench.llm_analysis.report"),
        ("ladbench.llm.evaluate", "ladbench.sweep.store"),
        ("ladbench.code.grading", "ladbench.figures"),
        ("ladbench.integrations.verl", "ladbench.sweep"),
        ("ladbench.bandit.run", "ladbench.claims.ledger"),
        ("ladbench.sweep.runner", "ladbench.cli"),
        ("ladbench.stats", "ladbench.cli_llm"),
        ("ladbench.losses.lad", "ladbench.bandit.run"),
    ],
)
def test_an_arrow_to_a_higher_floor_is_refused(importer, imported):
    """On a synthetic graph: a lower floor importing a higher one is named by the generic rule."""
    synthetic = {importer: {imported}, imported: set()}
    assert forbidden_arrows(synthetic, "no arrow to a higher floor") == [f"{importer} -> {imported}"]
    assert not forbidden_arrows({imported: {importer}, importer: set()}, "no arrow to a higher floor")
