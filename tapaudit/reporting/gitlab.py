"""GitLab Code Quality (the merge request widget): a JSON array of Code Climate issues.

Suppressed findings are `info` issues that say so, with the reason, so a suppression (a whole
template's included) shows in the merge request. The description is `printable`; the body is
Markdown with input text escaped; `json_text` writes ASCII, so no text can fail to encode.
"""

from __future__ import annotations

import hashlib
from typing import Any, TextIO

from tapaudit.findings import INVALID_RULE_ID, Finding, Invalid, ScanResult, Severity
from tapaudit.reporting.escape import json_text, markdown, printable
from tapaudit.reporting.formats import ReportContext
from tapaudit.reporting.markdown import fix_text
from tapaudit.reporting.wording import suppressed_how

SEVERITY = {Severity.CRITICAL: "blocker", Severity.HIGH: "critical", Severity.MEDIUM: "major",
            Severity.LOW: "minor"}


def issue(finding: Finding) -> dict[str, Any]:
    body = "\n\n".join(part for part in (
        markdown(finding.message), finding.fix and f"**Fix:** {fix_text(finding.fix)}",
        finding.why and f"**Why:** {markdown(finding.why)}") if part)
    return {
        "type": "issue",
        "description": printable(f"{finding.rule_id} {finding.message}"),
        "check_name": finding.rule_id,
        "fingerprint": finding.fingerprint,
        "severity": "info" if finding.unknown else SEVERITY[finding.severity],
        "content": {"body": body},
        "location": {"path": finding.file, "lines": {"begin": max(1, finding.line)}},
    }


def suppressed_issue(finding: Finding) -> dict[str, Any]:
    how = suppressed_how(finding)
    entry = issue(finding)
    # Its own fingerprint: the widget must not take it for the finding itself.
    fingerprint = hashlib.sha256(f"suppressed\x00{finding.fingerprint}".encode()).hexdigest()[:32]
    entry.update(
        description=printable(f"{finding.rule_id} on {finding.resource} {how}"),
        fingerprint=fingerprint, severity="info")
    entry["content"]["body"] = f"**{markdown(how)}**\n\n" + entry["content"]["body"]
    return entry


def invalid_issue(entry: Invalid) -> dict[str, Any]:
    """A resource CloudFormation rejects: a blocker, like the exit code 2 it causes."""
    return {
        "type": "issue",
        "description": printable(f"{INVALID_RULE_ID} {entry.message}"),
        "check_name": INVALID_RULE_ID,
        "fingerprint": entry.fingerprint,
        "severity": "blocker",
        "content": {"body": markdown(entry.message)},
        "location": {"path": entry.file, "lines": {"begin": max(1, entry.line)}},
    }


def as_list(result: ScanResult) -> list[dict[str, Any]]:
    return ([issue(f) for f in [*result.findings, *result.unknown]]
            + [suppressed_issue(f) for f in result.suppressed]
            + [invalid_issue(entry) for entry in result.invalid])


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    stream.write(json_text(as_list(result)))  # one write, not one per token
    stream.write("\n")
