"""`--format concise`: one line per finding in the shape of ruff and flake8, for CI logs and
editors' problem matchers:

    file:line:col: SEVERITY TAPnnn resource: message

SEVERITY is CRITICAL, HIGH, MEDIUM or LOW for a finding, UNKNOWN for a resource that could not be
verified, SUPPRESSED for a suppressed finding (with the suppression and its reason instead of the
message), and ERROR for an input that could not be scanned (`file:1:1: ERROR input: reason`).
Column 1 when unknown. Then one line of counts and, last, the exit code's reason.
"""

from __future__ import annotations

from typing import TextIO

from tapaudit.findings import Finding, ScanResult
from tapaudit.reporting.escape import inert_line, printable
from tapaudit.reporting.formats import ReportContext
from tapaudit.reporting.tally import by_severity
from tapaudit.reporting.wording import summary_line, suppressed_how


def _where(file: str, line: int = 1, column: int = 1) -> str:
    """A path could start with `::` or `##` and forge a CI log command: such a relative path is
    written `./`-prefixed, the same file for an editor."""
    file = printable(file)
    if file.lstrip().startswith((":", "#")):
        file = "./" + file
    return f"{file}:{max(1, line)}:{max(1, column)}"


def _sentence(finding: Finding) -> str:
    """The message without the resource it starts with (the line names the resource already);
    for an unknown also without "could not be verified" (the label says it)."""
    if finding.unknown:
        return finding.message.removeprefix(f"{finding.resource} could not be verified: ")
    return finding.message.removeprefix(f"{finding.resource}: ")


def line(finding: Finding) -> str:
    if finding.suppression:
        label, text = "SUPPRESSED", suppressed_how(finding)
    else:
        label = "UNKNOWN" if finding.unknown else finding.severity.label.upper()
        text = _sentence(finding)
    return (f"{_where(finding.file, finding.line, finding.column)}: {label} {finding.rule_id} "
            f"{printable(finding.resource)}: {printable(text)}")


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    lines = [line(f) for f in sorted(result.findings, key=by_severity)]
    lines += [line(f) for f in [*result.unknown, *result.suppressed]]
    lines += [f"{_where(e.file)}: ERROR input: {printable(e.message)}" for e in result.errors]
    lines += [f"{_where(i.file, i.line, i.column)}: INVALID TAP000 {printable(i.resource)}: "
              f"{printable(i.message.removeprefix(i.resource + ': '))}" for i in result.invalid]
    lines += [printable(summary_line(result)), printable(context.gate(result)[1])]
    stream.write("".join(inert_line(text) + "\n" for text in lines))
