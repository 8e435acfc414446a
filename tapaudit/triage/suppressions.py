"""In-source suppressions: `Metadata.tapaudit.suppress` on a resource or on the whole template.

A suppression takes a finding (or an unknown) out of the gate and keeps it in the report, with its
reason. A suppression that cannot be honoured suppresses nothing and is reported as a problem:
`no-reason`, `unknown-rule`, `malformed`, `expired`, or `unused` (the rule reports nothing there).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from tapaudit.findings import Finding, Suppression, SuppressionProblem
from tapaudit.triage import METADATA_KEY

MIN_REASON = 10
_ENTRY_KEYS = {"id", "reason", "expires"}


class Entry(Struct, frozen=True):
    """One valid, unexpired suppression."""

    rule_id: str
    suppression: Suppression


class _Parsed(Struct):
    active: list[Entry]
    expired: dict[str, str]  # rule id -> expiry date, for the finding's message


def apply(findings: list[Finding], unknown: list[Finding], document: Mapping[str, Any], file: str,
          known_rules: Collection[str], active_rules: Collection[str], today: date,
          expanded: Mapping[str, Any] | None = None,
          ) -> tuple[list[Finding], list[Finding], list[Finding], list[SuppressionProblem]]:
    """(findings, unknown, suppressed, problems) of one template, after its suppressions. Metadata
    is read from the resources as written; a resource only a transform writes (an Fn::ForEach
    loop's) carries the metadata of its fragment in the `expanded` template."""
    problems: list[SuppressionProblem] = []
    known = {r.upper() for r in known_rules}
    resources = {**_resources(expanded), **_resources(document)}
    template_level = _parse(_metadata(document), None, "template", file, known, today, problems)
    per_resource: dict[str, _Parsed] = {}
    for logical_id, resource in resources.items():
        if isinstance(resource, dict) and _metadata(resource) is not _ABSENT:
            per_resource[str(logical_id)] = _parse(_metadata(resource), str(logical_id), "resource",
                                                   file, known, today, problems)
    used: set[tuple[str | None, str]] = set()
    reported: set[str] = set()  # rules with a finding or unknown anywhere in this template
    suppressed: list[Finding] = []

    def triage(items: list[Finding]) -> list[Finding]:
        kept = []
        for finding in items:
            rule_id = finding.rule_id.upper()
            reported.add(rule_id)
            own = per_resource.get(finding.resource)
            for scope, parsed in ((finding.resource, own), (None, template_level)):
                entry = _find(parsed, rule_id)
                if entry:
                    used.add((scope, rule_id))
                    suppressed.append(replace(finding, suppression=entry.suppression))
                    break
            else:
                kept.append(_with_expiry(finding, own, template_level))
        return kept

    findings, unknown = triage(findings), triage(unknown)
    active = {r.upper() for r in active_rules}
    for scope, parsed in ((None, template_level), *per_resource.items()):
        for entry in parsed.active if parsed else ():
            # A rule that did not run this time cannot tell whether the suppression is needed.
            needed = entry.rule_id in reported if scope is None else (scope, entry.rule_id) in used
            if entry.rule_id in active and not needed:
                where = "this resource" if scope else "any resource of this template"
                problems.append(SuppressionProblem(file, scope, entry.rule_id, "unused",
                                                   f"{entry.rule_id} reports nothing on {where}"))
    return findings, unknown, suppressed, problems


_ABSENT = object()


def _resources(document: Mapping[str, Any] | None) -> dict[str, Any]:
    resources = document.get("Resources") if document else None
    return resources if isinstance(resources, dict) else {}


def _metadata(node: Mapping[str, Any]) -> Any:
    """`Metadata.tapaudit` of a resource or template; _ABSENT when there is none (null is there:
    it is malformed, not absent)."""
    metadata = node.get("Metadata")
    return metadata.get(METADATA_KEY, _ABSENT) if isinstance(metadata, dict) else _ABSENT


def _find(parsed: _Parsed | None, rule_id: str) -> Entry | None:
    return next((e for e in parsed.active if e.rule_id == rule_id), None) if parsed else None


def _with_expiry(finding: Finding, *parsed: _Parsed | None) -> Finding:
    """An expired suppression brings the finding back, and its message says since when."""
    for item in parsed:
        if item and finding.rule_id.upper() in item.expired:
            since = item.expired[finding.rule_id.upper()]
            return replace(finding, message=f"{finding.message} (Its suppression expired on {since}.)")
    return finding


def _parse(block: Any, resource: str | None, scope: str, file: str, known: set[str], today: date,
           problems: list[SuppressionProblem]) -> _Parsed | None:
    if block is _ABSENT:
        return None
    parsed = _Parsed([], {})

    def problem(rule_id: str | None, kind: str, detail: str) -> None:
        problems.append(SuppressionProblem(file, resource, rule_id, kind, detail))

    if not isinstance(block, dict) or set(block) != {"suppress"}:
        problem(None, "malformed", "Metadata.tapaudit must be a mapping with one key, suppress")
        if not isinstance(block, dict) or "suppress" not in block:
            return parsed
    entries = block["suppress"]
    if not isinstance(entries, list):
        problem(None, "malformed", "Metadata.tapaudit.suppress must be a list of {id, reason, expires}")
        return parsed
    for entry in entries:
        rule_id = entry.get("id") if isinstance(entry, dict) else None
        rule_id = rule_id.upper() if isinstance(rule_id, str) else None
        if not isinstance(entry, dict) or rule_id is None:
            problem(None, "malformed", f"an entry needs an id: {entry!r}")
            continue
        extra = sorted(set(map(str, entry)) - _ENTRY_KEYS)
        if extra:
            problem(rule_id, "malformed", f"unknown key {', '.join(extra)} (allowed: id, reason, expires)")
            continue
        if rule_id not in known:
            problem(rule_id, "unknown-rule", f"no rule {entry['id']} (known: {', '.join(sorted(known))})")
            continue
        reason = entry.get("reason")
        if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON:
            problem(rule_id, "no-reason", f"a reason of at least {MIN_REASON} characters is required")
            continue
        expires = entry.get("expires")
        if expires is not None:
            try:
                until = date.fromisoformat(str(expires))
            except ValueError:
                problem(rule_id, "malformed", f"expires must be an ISO date like 2027-06-30, got {expires!r}")
                continue
            if until < today:
                problem(rule_id, "expired", f"expired on {until.isoformat()}")
                parsed.expired[rule_id] = until.isoformat()
                continue
            expires = until.isoformat()
        parsed.active.append(Entry(rule_id, Suppression(reason.strip(), expires, scope)))
    return parsed
