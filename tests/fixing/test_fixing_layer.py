"""tapaudit.fixing sits below the gate, reporting and the pipeline (reporters use fixing.sarif);
only fixing.command, an entry point like the CLI, may run the pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

FIXING = Path(__file__).resolve().parents[2] / "tapaudit" / "fixing"
ABOVE = ("tapaudit.gate", "tapaudit.reporting", "tapaudit.scan", "tapaudit.pipeline", "tapaudit.cli",
         "tapaudit.cdk", "tapaudit.fixing.command")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_fixing_imports_nothing_above_it():
    upward = sorted(f"{path.relative_to(FIXING)} imports {name}"
                    for path in FIXING.rglob("*.py") if path.name != "command.py"
                    for name in _imports(path) if name.startswith(ABOVE))
    assert upward == []
