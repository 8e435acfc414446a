"""The `--write` edit as report data: `fixable` per finding, SARIF `fixes` per fixable finding.

Each hunk of a file belongs to one finding (the first whose edit it holds); a finding's SARIF
`fixes` carry its hunks as `artifactChanges` replacements (1-based line/column regions of the
original file, columns in Unicode code points as the SARIF run declares). Applying every
finding's replacements to the file gives the `--write` result byte for byte.
"""

from __future__ import annotations

from typing import Any

from tapaudit.fixing.edits import Hunk
from tapaudit.fixing.engine import FileFix


def fixable(result: FileFix) -> dict[str, bool]:
    """Finding fingerprint -> whether `fix` clears it."""
    return {item.finding.fingerprint: item.fixed for item in result.results}


def fixes_by_finding(result: FileFix, uri: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Finding fingerprint -> its SARIF `fixes` array (only findings whose edit is in a hunk)."""
    uri = uri or result.source.display
    found: dict[str, list[Hunk]] = {}
    for hunk in result.hunks:
        found.setdefault(hunk.owners[0], []).append(hunk)
    by_fingerprint = {item.finding.fingerprint: item for item in result.results}
    fixes = {}
    for owner, parts in found.items():
        item = by_fingerprint.get(owner)
        what = f"tapaudit fix: {item.finding.rule_id} on {item.finding.resource}" if item else "tapaudit fix"
        fixes[owner] = [{
            "description": {"text": what},
            "artifactChanges": [{
                "artifactLocation": {"uri": uri},
                "replacements": [replacement(result.original, hunk) for hunk in parts],
            }],
        }]
    return fixes


def replacement(text: str, hunk: Hunk) -> dict[str, Any]:
    start_line, start_column = position(text, hunk.start)
    end_line, end_column = position(text, hunk.end)
    return {"deletedRegion": {"startLine": start_line, "startColumn": start_column,
                              "endLine": end_line, "endColumn": end_column},
            "insertedContent": {"text": hunk.text}}


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of `offset`; a line ends after its \\n (\\r\\n is one break)."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def offset_of(text: str, line: int, column: int) -> int:
    """The inverse of `position`, for consumers and tests that apply replacements."""
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    return start + column - 1
