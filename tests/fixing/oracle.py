"""The oracle's steps (test helper): copy templates with fixable findings, fix them with --write's
code path, and the checks' raw material (scans, cfn-lint errors, SAM translation)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from tapaudit.config import Config
from tapaudit.fixing.batch import fix_all, fix_settings
from tapaudit.fixing.command import _replace_file
from tapaudit.fixing.edits import Hunk
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
    results, errors = fix_all(outcome.result, outcome.sources, outcome.rules,
                              fix_settings(config, outcome.rules), config.partition)
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


def kept_outside(original: str, written: str, hunks: list[Hunk]) -> bool:
    """Is `written` the original, byte for byte, outside the hunks' whole lines?"""
    at_original = at_written = 0
    for hunk in sorted(hunks, key=lambda h: h.start):
        starts_line = hunk.start == 0 or original[hunk.start - 1] == "\n"
        ends_line = hunk.end in (0, len(original)) or original[hunk.end - 1] == "\n"
        kept = original[at_original:hunk.start]
        if not (starts_line and ends_line) or written[at_written:at_written + len(kept)] != kept:
            return False
        at_written += len(kept) + len(hunk.text)
        at_original = hunk.end
    return written[at_written:] == original[at_original:]


def cfn_lint_errors(cfn_lint: str, sides: list[list[Path]]) -> list[dict[str, set[tuple[str, str]]]]:
    """Per list of files: file -> (rule id, message) of each cfn-lint error. One cfn-lint process
    per list, all running at once."""
    procs = [subprocess.Popen([cfn_lint, "--format", "json", "--", *map(str, files)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for files in sides]
    found = []
    for files, proc in zip(sides, procs, strict=True):
        out, _ = proc.communicate(timeout=900)
        errors: dict[str, set[tuple[str, str]]] = {str(f): set() for f in files}
        for match in json.loads(out or "[]"):
            if match["Level"] == "Error":
                errors.setdefault(match["Filename"], set()).add((match["Rule"]["Id"], match["Message"]))
        found.append(errors)
    return found
