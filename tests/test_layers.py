"""Imports run one way, down the pipeline, and never in a circle.

Every import in tapaudit/ counts: at module level, inside functions (deferred for start-up speed)
and under `if TYPE_CHECKING:` (a circle for the type checker is a circle for the reader too).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tapaudit"

# Lowest first. A module may import its own layer and the layers below it, never one above.
# Packages are placed as a whole; each top-level module is placed on its own, with the reason.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # Core: the version, the error types and the finding records every layer speaks in; they
    # import nothing of tapaudit, so everything may import them.
    ("core", ("tapaudit", "tapaudit.errors", "tapaudit.findings")),
    ("loading", ("tapaudit.loading",)),
    # The project configuration is read like an input (it names files as discovery does) and
    # shapes the rules as they load: above loading, below everything that evaluates.
    ("config", ("tapaudit.config",)),
    ("model", ("tapaudit.model",)),
    ("transforms", ("tapaudit.transforms",)),
    ("rules", ("tapaudit.rules",)),
    ("triage", ("tapaudit.triage",)),
    ("fixing", ("tapaudit.fixing",)),  # fixes act on triaged findings; reporters show them (SARIF)
    # The gate turns triaged findings into pass/fail and exit codes; reporters show its verdict.
    ("gate", ("tapaudit.gate",)),
    ("reporting", ("tapaudit.reporting",)),
    # scan runs every stage below on one source (load, model, transform, rules, suppressions);
    # pipeline fans scan out and adds discovery and the baseline: both orchestrate, so one layer.
    ("pipeline", ("tapaudit.scan", "tapaudit.pipeline")),
    # Entry points: the command line, `python -m tapaudit` (which only calls the CLI), and the CDK
    # plugin, which drives the pipeline from inside `cdk synth`. `tapaudit fix` runs the pipeline
    # too: its command module is an entry point, the rest of tapaudit.fixing sits below the gate.
    ("entry", ("tapaudit.cli", "tapaudit.__main__", "tapaudit.cdk", "tapaudit.fixing.command")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(module: str, source: str, is_package: bool, known: set[str]) -> set[str]:
    """The tapaudit modules that `source` (the text of `module`) imports, wherever it does."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package this module is in (or is)
                anchor = module.split(".")[: None if is_package else -1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from package import submodule` imports the submodule; otherwise the module itself.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name not in known and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in known and name != module:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(files)
    return {module: imported(module, path.read_text(encoding="utf-8"), path.name == "__init__.py", known)
            for module, path in files.items()}


def layer_of(module: str) -> int:
    best = (-1, -1)  # (length of the matching name, layer index)
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best[0]:
                best = (len(name), index)
    if best[1] < 0:
        raise AssertionError(f"{module} has no layer: place it in LAYERS")
    return best[1]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_kind_of_import_is_seen():
    known = {"tapaudit.a", "tapaudit.a.b", "tapaudit.a.c", "tapaudit.d", "tapaudit.e", "tapaudit.f"}
    source = ("from typing import TYPE_CHECKING\nfrom . import c\nfrom tapaudit.d import thing\n"
              "if TYPE_CHECKING:\n    from tapaudit.e import Kind\n"
              "def later():\n    import tapaudit.f\n")
    assert imported("tapaudit.a.b", source, False, known) == {
        "tapaudit.a.c", "tapaudit.d", "tapaudit.e", "tapaudit.f"}
    assert circles({"x": {"y"}, "y": {"z"}, "z": {"x"}, "w": {"x"}}) == [["x", "y", "z"]]


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_no_import_from_a_lower_layer_to_a_higher_one():
    upward = [f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
              for module, targets in sorted(import_graph().items()) for target in sorted(targets)
              if layer_of(target) > layer_of(module)]
    assert upward == []


def test_every_module_has_a_layer():
    for module in import_graph():
        layer_of(module)  # raises, naming the module, when a new module is not placed
