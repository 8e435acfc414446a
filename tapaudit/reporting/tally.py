"""Counts per rule (checked, findings, suppressed, baselined, unknown, exempt) for report tables."""

from __future__ import annotations

from collections.abc import Sequence

from msgspec import Struct

from tapaudit.findings import Finding, ScanResult, Severity
from tapaudit.rules.model import Rule

COLUMNS = ("checked", "findings", "suppressed", "baselined", "unknown", "exempt")


class RuleTally(Struct):
    rule_id: str
    title: str
    severity: Severity | None
    checked: int = 0
    findings: int = 0
    suppressed: int = 0
    baselined: int = 0
    unknown: int = 0
    exempt: int = 0

    def counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, column) for column in COLUMNS)


def tally(result: ScanResult, rules: Sequence[Rule] = ()) -> list[RuleTally]:
    """One row per rule that ran (or, without the rule list, per rule that shows up), by id."""
    rows = {rule.id: RuleTally(rule.id, rule.title, rule.severity) for rule in rules}

    def row(rule_id: str, title: str = "", severity: Severity | None = None) -> RuleTally:
        return rows.setdefault(rule_id, RuleTally(rule_id, title, severity))

    for column, entries in (("findings", result.findings), ("suppressed", result.suppressed),
                            ("baselined", result.baselined), ("unknown", result.unknown)):
        for finding in entries:
            target = row(finding.rule_id, finding.title, finding.severity)
            setattr(target, column, getattr(target, column) + 1)
    for checked in result.checked:
        row(checked.rule_id).checked += 1
    for exemption in result.exempt:
        row(exemption.rule_id).exempt += 1
    return [rows[key] for key in sorted(rows)]


def by_severity(finding: Finding) -> tuple:
    """Most severe first, then by file and line (the console's and the Markdown report's order)."""
    return (-finding.severity, *finding.sort_key)
