"""The oracle's steps (test helper): copy templates with fixable findings, fix them with --write's
code path, and the checks' raw material (scans, cfn-lint errors, SAM translation)."""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from tapaudit.config import Config
from tapaudit.fixing.command import _replace_file, fix_all, fix_settings
from tapaudit.fixing.engine import FileFix
from tapaudit.pipeline import run

def copy_tree(files: Iterable[Path], root: Path, into: Path) -> list[Path]:
    copies = []
    for path in files:
        target = into / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copies.append(target)
    return copies


def fix_and_write(folders: list[Path]) -> tuple[list[FileFix], list[str]]:
    """`tapaudit fix --write --no-config FOLDER...`, keeping each file's result for the checks;
    and the input errors (templates that cannot be scanned)."""
    config = Config()
    outcome = run([str(f) for f in folders], config)
    results, errors = fix_all(outcome, config, fix_settings(config, outcome.rules))
    for result in results:
        if result.changed:
            assert result.source.path is not None
            _replace_file(result.source.path, result)
    return results, errors


def finding_keys(paths: list[Path]) -> dict[str, set[tuple[str, str, bool]]]:
    """Display name -> (rule, resource, unknown) of every finding and unknown."""
    result = run([str(p) for p in paths], Config()).result
    keys: dict[str, set[tuple[str, str, bool]]] = {}
    for finding in [*result.findings, *result.unknown]:
        keys.setdefault(finding.file, set()).add((finding.rule_id, finding.resource, finding.unknown))
    return keys


def changed_lines_outside(original: str, fixed: str, edited: list[tuple[int, int]]) -> list[int]:
    """Original line numbers (1-based) that differ in `fixed` but lie in no edited range."""
    a, b = original.splitlines(keepends=True), fixed.splitlines(keepends=True)
    outside = []
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        lines = range(i1 + 1, i2 + 1) if i2 > i1 else range(i1 + 1, i1 + 1)
        for line in lines:
            if not any(start <= line < end for start, end in edited):
                outside.append(line)
        if i2 == i1 and not any(start <= i1 + 1 <= end for start, end in edited):
            outside.append(i1 + 1)  # lines inserted where no hunk is
    return outside


def cfn_lint_errors(cfn_lint: str, files: list[Path]) -> dict[str, set[tuple[str, str]]]:
    """File -> (rule id, message) of each cfn-lint error, from one cfn-lint process."""
    found: dict[str, set[tuple[str, str]]] = {str(f): set() for f in files}
    if not files:
        return found
    proc = subprocess.run([cfn_lint, "--format", "json", "--", *map(str, files)], capture_output=True,
                          text=True, timeout=900)
    for match in json.loads(proc.stdout or "[]"):
        if match["Level"] == "Error":
            found.setdefault(match["Filename"], set()).add((match["Rule"]["Id"], match["Message"]))
    return found
