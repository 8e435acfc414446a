"""Baselines: the findings a team has accepted for now, so only new ones fail the gate.

A finding's identity in a baseline is (rule id, template, logical id):
- `template` is the CDK stack's artifact id for a template of a cloud assembly (`<stack>/<file
  name>` for its nested stack templates), so a re-synthesis into another folder keeps it; for any
  other template it is its path relative to the baseline file's folder, so the scan may run from
  any directory;
- no line numbers and no file contents: moved lines and added or removed resources keep it.
The file is sorted JSON, one entry per finding, readable in a pull request's diff.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from msgspec import Struct

from tapaudit.findings import Finding, ScanResult

FORMAT = "tapaudit-baseline/v1"
_FIELDS = ("rule_id", "template", "resource", "cdk_path", "title")


class BaselineError(Exception):
    """The baseline file cannot be read or written: one line naming the file."""


class Origin(Struct, frozen=True):
    """Where a scanned file came from: enough to name its template stably."""

    path: Path | None
    stack: str | None


def template_name(origin: Origin | None, display: str, base: Path) -> str:
    if origin is None or origin.path is None:
        return display  # standard input
    if origin.stack:
        name = origin.path.name
        return f"{origin.stack}/{name}" if ".nested.template." in name else origin.stack
    try:
        return origin.path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return origin.path.resolve().as_posix()


def key(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(entry["rule_id"]).upper(), str(entry["template"]), str(entry["resource"]))


def entries(findings: Iterable[Finding], origins: Mapping[str, Origin], base: Path) -> list[dict]:
    rows = {}
    for f in findings:
        row = {"rule_id": f.rule_id, "template": template_name(origins.get(f.file), f.file, base),
               "resource": f.resource, "cdk_path": f.cdk_path, "title": f.title}
        rows[key(row)] = row
    return [rows[k] for k in sorted(rows)]


class Update(Struct, frozen=True):
    """What `update` wrote: entries from this scan's findings, and entries kept from the file."""

    written: int
    kept: int


def update(path: Path, findings: Iterable[Finding], origins: Mapping[str, Origin],
           scanned: Iterable[str], active_rules: Iterable[str]) -> Update:
    """Write the baseline from a scan that may not have covered everything: the entries of the
    templates it scanned (report names) under the rules it ran are replaced by its findings; the
    entries of the existing file for any other template (skipped, excluded, not named this time)
    or rule (not run) are kept, so a partial scan never loses them. An existing file that is not a
    baseline is a BaselineError: it is not overwritten."""
    base = path.parent
    rows = {key(row): row for row in entries(findings, origins, base)}
    covered_templates = {template_name(origins.get(t), t, base) for t in scanned}
    covered_rules = {r.upper() for r in active_rules}
    kept = 0
    previous = read(path) if path.exists() else []
    for row in previous:
        rule_id, template, _ = key(row)
        if (template in covered_templates and rule_id in covered_rules) or key(row) in rows:
            continue
        rows[key(row)] = {field: row.get(field) for field in _FIELDS}
        kept += 1
    _replace(path, [rows[k] for k in sorted(rows)])
    return Update(len(rows) - kept, kept)


def _replace(path: Path, rows: list[dict]) -> None:
    """The file whole or not at all: written beside it, then renamed over it."""
    import os
    import tempfile

    text = json.dumps({"format": FORMAT, "findings": rows}, indent=2, sort_keys=True) + "\n"
    temp = None
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".tmp")
        with open(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        os.replace(temp, path)
    except OSError as exc:
        if temp:
            Path(temp).unlink(missing_ok=True)
        raise BaselineError(f"{path}: cannot write baseline: {exc.strerror or exc}") from None


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def read(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline "
                            f"{path})") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    except RecursionError:  # the JSON decoder stops at Python's recursion limit (~1,000 levels)
        raise BaselineError(f"{path}: cannot read baseline: JSON nested too deep (a baseline is "
                            "two levels deep)") from None
    rows = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(
            isinstance(r, dict) and all(isinstance(r.get(k), str) for k in ("rule_id", "template",
                                                                            "resource"))
            for r in rows):
        raise BaselineError(f"{path}: not a tapaudit baseline (expected {{\"findings\": [{{"
                            f"{', '.join(_FIELDS)}}}, ...]}})")
    return rows


def apply(result: ScanResult, rows: list[dict], origins: Mapping[str, Origin], base: Path,
          active_rules: Iterable[str]) -> None:
    """Move findings known to the baseline to `baselined`; count entries that match nothing as
    fixed, among the templates and rules of this scan (a partial scan fixes nothing elsewhere)."""
    known = {key(row) for row in rows}
    seen: set[tuple[str, str, str]] = set()

    names: dict[str, str] = {}  # each template's name once: it resolves paths on disk

    def name_of(display: str) -> str:
        if display not in names:
            names[display] = template_name(origins.get(display), display, base)
        return names[display]

    def identity(f: Finding) -> tuple[str, str, str]:
        return (f.rule_id.upper(), name_of(f.file), f.resource)

    new, baselined = [], []
    for finding in result.findings:
        ident = identity(finding)
        (baselined if ident in known else new).append(finding)
        seen.add(ident)
    seen.update(identity(f) for f in [*result.suppressed, *result.unknown])
    scanned = {name_of(t) for t in result.templates}
    active = {r.upper() for r in active_rules}
    result.findings, result.baselined = new, baselined
    result.fixed = sum(1 for k in known if k not in seen and k[1] in scanned and k[0] in active)
    result.baseline_in_use = True
