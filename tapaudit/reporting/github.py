"""GitHub Actions workflow commands: one annotation per finding on the file and line.

`error` for findings at or above the gate (`--fail-on`), `warning` below it, `notice` for what
could not be verified. Escaping follows the runner: `%`, CR and LF in the message; also `:` and
`,` in properties.
"""

from __future__ import annotations

from typing import TextIO

from tapaudit.findings import INVALID_RULE_ID, INVALID_TITLE, Finding, ScanResult
from tapaudit.gate import reaches_gate
from tapaudit.reporting.formats import ReportContext


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: str | int) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def level_of(finding: Finding, fail_on: str) -> str:
    if finding.unknown:
        return "notice"
    if reaches_gate(finding.severity, fail_on):
        return "error"
    return "warning"


def annotation(finding: Finding, fail_on: str) -> str:
    text = finding.message + (f"\nFix: {finding.fix}" if finding.fix else "")
    if finding.unknown:
        title = f"{finding.rule_id} could not be verified: {finding.title}"
    else:
        title = f"{finding.rule_id} ({finding.severity.label}) {finding.title}"
    return command(level_of(finding, fail_on), text, file=finding.file, line=max(1, finding.line),
                   col=max(1, finding.column), title=title)


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    for finding in [*result.findings, *result.unknown]:
        stream.write(annotation(finding, context.fail_on) + "\n")
    for error in result.errors:
        stream.write(command("error", error.message, file=error.file,
                             title="tapaudit could not scan this file") + "\n")
    for entry in result.invalid:
        stream.write(command("error", entry.message, file=entry.file, line=max(1, entry.line),
                             col=max(1, entry.column), title=f"{INVALID_RULE_ID} {INVALID_TITLE}")
                     + "\n")
    stream.write(context.gate(result)[1] + "\n")
