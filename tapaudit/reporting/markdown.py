"""Markdown for a pull request comment or `$GITHUB_STEP_SUMMARY`: the gate, a table per rule, and
the findings with their fixes."""

from __future__ import annotations

import re
from typing import TextIO

from tapaudit.findings import Finding, ScanResult
from tapaudit.reporting.escape import inert_line, printable
from tapaudit.reporting.escape import markdown as escape
from tapaudit.reporting.formats import ReportContext
from tapaudit.reporting.tally import COLUMNS, by_severity, tally
from tapaudit.reporting.wording import suppressed_how


def code(text: str) -> str:
    """A code span that text from a template cannot close: the fence is longer than any run of
    backticks inside it."""
    text = printable(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fix_text(fix: str) -> str:
    """A fix keeps its own code spans (literal in Markdown); around them, every Markdown and HTML
    character is escaped. A fix whose backticks do not pair up is escaped whole."""
    parts = printable(fix).split("`")
    if len(parts) % 2 == 0:
        return escape(fix)
    return "`".join(part if i % 2 else escape(part) for i, part in enumerate(parts))


def _suppressed(finding: Finding) -> str:
    return (f"- {escape(finding.rule_id)} **{escape(finding.resource)}** at "
            f"{code(f'{finding.file}:{finding.line}')}: {escape(suppressed_how(finding))}")


def _finding(finding: Finding) -> list[str]:
    where = code(f"{finding.file}:{finding.line}")
    construct = f" · construct {code(finding.cdk_path)}" if finding.cdk_path else ""
    label = "unknown" if finding.unknown else finding.severity.label
    lines = [f"- **{label}** {finding.rule_id} **{escape(finding.resource)}** "
             f"({escape(finding.resource_type)}) at {where}{construct}  ",
             f"  {escape(finding.message)}"]
    if finding.fix:
        lines[-1] += "  "
        lines.append(f"  Fix: {fix_text(finding.fix)}")
    return lines


def render(result: ScanResult, context: ReportContext) -> str:
    counts = result.summary()
    total = len(result.findings)
    severities = ", ".join(f"{counts[s]} {s}" for s in ("critical", "high", "medium", "low")
                           if counts[s])
    out = [f"## tapaudit: {total} finding{'s' if total != 1 else ''}"
           + (f" ({severities})" if severities else "")
           + f" in {len(result.templates)} template{'s' if len(result.templates) != 1 else ''}",
           "", f"**{escape(context.gate(result)[1])}**", ""]
    rows = tally(result, context.rules)
    if rows:
        out += ["| rule | severity | title | " + " | ".join(COLUMNS) + " |",
                "|---|---|---|" + "---:|" * len(COLUMNS)]
        for row in rows:
            severity = row.severity.label if row.severity else ""
            out.append(f"| {row.rule_id} | {severity} | {escape(row.title)} | "
                       + " | ".join(str(n) for n in row.counts()) + " |")
        out.append("")
    why = {rule.id: rule.why for rule in context.rules}
    if result.findings:
        out += ["### Findings", ""]
        shown: set[str] = set()
        for finding in sorted(result.findings, key=by_severity):
            out += _finding(finding)
            if finding.rule_id not in shown and why.get(finding.rule_id):
                shown.add(finding.rule_id)
                out.append(f"  <sub>Why {finding.rule_id}: {escape(why[finding.rule_id])}</sub>")
        out.append("")
    if result.unknown:
        out += [f"<details><summary>Could not verify ({len(result.unknown)}): values known only "
                "at deploy time</summary>", ""]
        for finding in result.unknown:
            out += _finding(finding)
        out += ["", "</details>", ""]
    if result.suppressed:
        # Open by default: a reviewer must see what a template switched off, and why.
        out += [f"<details open><summary>Suppressed ({len(result.suppressed)})</summary>", ""]
        out += [_suppressed(finding) for finding in result.suppressed]
        out += ["", "</details>", ""]
    if result.invalid:
        out += ["### Invalid resources (CloudFormation rejects their shape; no rule checked them)", ""]
        out += [f"- **invalid** TAP000 **{escape(entry.resource)}** at "
                f"{code(f'{entry.file}:{entry.line}')}  \n  {escape(entry.message)}"
                for entry in result.invalid]
        out.append("")
    if result.errors:
        out += ["### Not scanned", ""]
        out += [f"- {code(error.file)}: {escape(error.message)}" for error in result.errors]
        out.append("")
    return "\n".join(inert_line(line) for line in out)


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    stream.write(render(result, context))
