"""GitLab Code Quality (the merge request widget): a JSON array of Code Climate issues."""

from __future__ import annotations

import json
from typing import Any, TextIO

from tapaudit.findings import INVALID_RULE_ID, Finding, Invalid, ScanResult, Severity
from tapaudit.reporting.formats import ReportContext

SEVERITY = {Severity.CRITICAL: "blocker", Severity.HIGH: "critical", Severity.MEDIUM: "major",
            Severity.LOW: "minor"}


def issue(finding: Finding) -> dict[str, Any]:
    body = "\n\n".join(part for part in (finding.message, finding.fix and f"**Fix:** {finding.fix}",
                                         finding.why and f"**Why:** {finding.why}") if part)
    return {
        "type": "issue",
        "description": f"{finding.rule_id} {finding.message}",
        "check_name": finding.rule_id,
        "fingerprint": finding.fingerprint,
        "severity": "info" if finding.unknown else SEVERITY[finding.severity],
        "content": {"body": body},
        "location": {"path": finding.file, "lines": {"begin": max(1, finding.line)}},
    }


def invalid_issue(entry: Invalid) -> dict[str, Any]:
    """A resource CloudFormation rejects: a blocker, like the exit code 2 it causes."""
    return {
        "type": "issue",
        "description": f"{INVALID_RULE_ID} {entry.message}",
        "check_name": INVALID_RULE_ID,
        "fingerprint": entry.fingerprint,
        "severity": "blocker",
        "content": {"body": entry.message},
        "location": {"path": entry.file, "lines": {"begin": max(1, entry.line)}},
    }


def as_list(result: ScanResult) -> list[dict[str, Any]]:
    return ([issue(f) for f in [*result.findings, *result.unknown]]
            + [invalid_issue(entry) for entry in result.invalid])


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    stream.write(json.dumps(as_list(result), indent=2))  # one write, not one per token
    stream.write("\n")
