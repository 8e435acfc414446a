"""The JSON report: a stable contract, documented in the README."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from tapaudit import __version__
from tapaudit.findings import Finding, ScanResult
from tapaudit.reporting.escape import json_text
from tapaudit.reporting.formats import ReportContext
from tapaudit.reporting.tally import COLUMNS, tally
from tapaudit.rules.model import Rule


def as_dict(result: ScanResult, rules: Sequence[Rule] = ()) -> dict[str, Any]:
    """The report; `rules` (those that ran) gives every rule a row in `rules`, even with nothing
    to count."""
    return {
        "version": __version__,
        "templates": list(result.templates),
        "findings": [_with_fixable(f, result) for f in result.findings],
        "unknown": [_with_fixable(f, result) for f in result.unknown],
        "errors": [e.to_dict() for e in result.errors],
        "invalid": [i.to_dict() for i in result.invalid],
        "suppressed": [_with_fixable(f, result) for f in result.suppressed],
        "baselined": [_with_fixable(f, result) for f in result.baselined],
        "suppression_problems": [p.to_dict() for p in result.suppression_problems],
        "exempt": [e.to_dict() for e in result.exempt],
        "skipped": [s.to_dict() for s in result.skipped],
        "not_checked": [n.to_dict() for n in result.not_checked],
        "summary": result.summary(),
        "rules": [{"id": row.rule_id, "title": row.title,
                   "severity": row.severity.label if row.severity else None,
                   **dict(zip(COLUMNS, row.counts(), strict=True))} for row in tally(result, rules)],
    }


def _with_fixable(finding: Finding, result: ScanResult) -> dict[str, Any]:
    """`fixable`: `tapaudit fix --write` clears the finding (false when the run did not plan fixes,
    which the CLI does for every JSON report; always false for suppressed and baselined ones,
    which `fix` leaves)."""
    offer = result.fix_offers.get(finding.fingerprint)
    return {**finding.to_dict(), "fixable": offer is not None and offer.fixable}


def write(result: ScanResult, stream: TextIO, rules: Sequence[Rule] = ()) -> None:
    stream.write(json_text(as_dict(result, rules)))  # one write, not one per token
    stream.write("\n")


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    data = as_dict(result, context.rules)
    data["run"] = {**context.run_record().to_dict(), "exit_code": context.gate(result)[0]}
    stream.write(json_text(data))
    stream.write("\n")
