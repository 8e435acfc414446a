"""GitHub Actions workflow commands: one annotation per finding on the file and line.

`error` for findings at or above the gate (`--fail-on`), `warning` below it, `notice` for what
could not be verified and for every suppressed finding (so a suppression is seen in review).
Input text is `printable` first (its own line breaks and control characters become visible
escapes); then the runner's escaping: `%`, CR and LF in the message, also `:` and `,` in
properties. Every annotation is one line.
"""

from __future__ import annotations

from typing import TextIO

from tapaudit.findings import INVALID_RULE_ID, INVALID_TITLE, Finding, ScanResult
from tapaudit.gate import reaches_gate
from tapaudit.reporting.escape import github_data, github_property, printable
from tapaudit.reporting.formats import ReportContext
from tapaudit.reporting.wording import suppressed_how


def command(level: str, message: str, **properties: str | int) -> str:
    """`message` may hold our own line breaks; input text in it must be `printable` already."""
    props = ",".join(f"{key}={github_property(printable(str(value)))}"
                     for key, value in properties.items())
    return f"::{level}{' ' + props if props else ''}::{github_data(message)}"


def level_of(finding: Finding, fail_on: str) -> str:
    if finding.unknown:
        return "notice"
    if reaches_gate(finding.severity, fail_on):
        return "error"
    return "warning"


def _where(finding: Finding) -> dict[str, str | int]:
    return {"file": finding.file, "line": max(1, finding.line), "col": max(1, finding.column)}


def annotation(finding: Finding, fail_on: str) -> str:
    text = printable(finding.message) + (f"\nFix: {printable(finding.fix)}" if finding.fix else "")
    if finding.unknown:
        title = f"{finding.rule_id} could not be verified: {finding.title}"
    else:
        title = f"{finding.rule_id} ({finding.severity.label}) {finding.title}"
    return command(level_of(finding, fail_on), text, **_where(finding), title=title)


def suppression_notice(finding: Finding) -> str:
    """A suppressed finding: the rule, the resource, where it was suppressed, and the reason."""
    text = (f"{finding.rule_id} on {printable(finding.resource)} {printable(suppressed_how(finding))}"
            f"\nFinding: {printable(finding.message)}")
    return command("notice", text, **_where(finding), title=f"{finding.rule_id} suppressed: {finding.title}")


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    lines = [annotation(finding, context.fail_on) for finding in [*result.findings, *result.unknown]]
    lines += [suppression_notice(finding) for finding in result.suppressed]
    lines += [command("error", printable(error.message), file=error.file,
                      title="tapaudit could not scan this file") for error in result.errors]
    lines += [command("error", printable(entry.message), file=entry.file, line=max(1, entry.line),
                      col=max(1, entry.column), title=f"{INVALID_RULE_ID} {INVALID_TITLE}")
              for entry in result.invalid]
    lines.append(printable(context.gate(result)[1]))
    stream.write("".join(line + "\n" for line in lines))
