"""The console report: findings grouped by file, each with location, resource, message and fix."""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import groupby
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from tapaudit.findings import Finding, ScanResult, Severity
from tapaudit.reporting.formats import ReportContext
from tapaudit.reporting.tally import COLUMNS, tally
from tapaudit.rules.model import Rule

_STYLE = {Severity.CRITICAL: "bold white on red", Severity.HIGH: "bold red",
          Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}


def make_console(stream: TextIO) -> Console:
    """Colour on a terminal; plain text (no wrapping, no escape codes) elsewhere or with NO_COLOR."""
    terminal = stream.isatty() and "NO_COLOR" not in os.environ
    return Console(file=stream, force_terminal=terminal, no_color=not terminal, highlight=False,
                   soft_wrap=not terminal, emoji=False)


def _finding(console: Console, finding: Finding, why: dict[str, str] | None = None) -> None:
    head = Text()
    label = "UNKNOWN" if finding.unknown else finding.severity.label.upper()
    head.append(f"{label:<8}", style="dim" if finding.unknown else _STYLE[finding.severity])
    head.append(f" {finding.rule_id} ", style="bold")
    head.append(f"{finding.file}:{finding.line}:{finding.column} ")
    head.append(finding.resource, style="bold")
    head.append(f" ({finding.resource_type})", style="dim")
    console.print(head)
    if finding.cdk_path:
        console.print(Text(f"         construct: {finding.cdk_path}", style="dim"))
    console.print(Text(f"         {finding.message}"))
    for item in finding.unverified:
        console.print(Text(f"         also could not verify {item}", style="dim"))
    if finding.fix:
        console.print(Text(f"         fix: {finding.fix}", style="green"))
    # The rule's impact once per rule (`why` pops it), the long story in `tapaudit explain`.
    if why is not None and finding.rule_id in why:
        console.print(Text(f"         why: {why.pop(finding.rule_id)} "
                           f"(tapaudit explain {finding.rule_id})", style="dim"))


def _listing(console: Console, title: str, findings: list[Finding]) -> None:
    """A titled list of findings outside the main report (unknowns, suppressed, baselined)."""
    if not findings:
        return
    console.print(Text(f"{title} ({len(findings)})", style="bold"))
    for finding in sorted(findings, key=lambda f: f.sort_key):
        _finding(console, finding)
        if finding.suppression:
            s = finding.suppression
            until = f", until {s.expires}" if s.expires else ""
            console.print(Text(f"         suppressed ({s.scope}{until}): {s.reason}", style="dim"))
    console.print()


def _triage_counts(result: ScanResult) -> str:
    counts = [f", {len(result.suppressed)} suppressed"] if result.suppressed else []
    if result.baseline_in_use:
        counts += [f", {len(result.baselined)} baselined", f", {result.fixed} fixed since baseline"]
    return "".join(counts)


def _table(console: Console, result: ScanResult, rules: Sequence[Rule]) -> None:
    rows = tally(result, rules)
    if not rows:
        return
    header = ("rule", *COLUMNS)
    cells = [header, *[(row.rule_id, *map(str, row.counts())) for row in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    for n, line in enumerate(cells):
        text = "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                         for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
        console.print(Text(text, style="bold" if n == 0 else ""))
    console.print()


def write(result: ScanResult, stream: TextIO, rules: Sequence[Rule] = (),
          gate: str | None = None, show_suppressed: bool = False) -> None:
    """`gate` is the exit code's reason (`gate.decide`), printed last."""
    console = make_console(stream)
    why = {rule.id: rule.why for rule in rules if rule.why}
    shown = sorted(result.findings, key=lambda f: f.sort_key)
    for file, group in groupby(shown, key=lambda f: f.file):
        console.print(Text(file, style="bold underline"))
        for finding in group:
            _finding(console, finding, why)
        console.print()
    _listing(console, "Could not verify", result.unknown)
    if show_suppressed:  # what the gate does not count, with the reason
        _listing(console, "Suppressed", result.suppressed)
        _listing(console, "In the baseline", result.baselined)
    for error in result.errors:
        console.print(f"[bold red]ERROR[/] {escape(error.file)}: {escape(error.message)}")
    if result.errors:
        console.print()
    _invalid(console, result)
    _table(console, result, rules)
    counts = result.summary()
    parts = ", ".join(f"{counts[s.label]} {s.label}" for s in sorted(Severity, reverse=True)
                      if counts[s.label])
    total = len(result.findings)
    summary = (f"{total} finding{'s' if total != 1 else ''}" + (f" ({parts})" if parts else "")
               + f" in {len(result.templates)} template{'s' if len(result.templates) != 1 else ''}")
    summary += _triage_counts(result)
    if counts["unknown"]:
        summary += f", {counts['unknown']} unverifiable"
    if result.exempt:
        summary += f", {len(result.exempt)} out of scope (exempt)"
    if result.errors:
        summary += f", {len(result.errors)} input{'s' if len(result.errors) != 1 else ''} not scanned"
    if result.invalid:
        summary += f", {len(result.invalid)} invalid resource{'s' if len(result.invalid) != 1 else ''}"
    if result.not_checked:
        summary += _not_checked(result)
    console.print(Text(summary, style="bold"))
    if gate:
        console.print(Text(gate, style="bold"))


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    write(result, stream, context.rules, context.gate(result)[1], context.show_suppressed)


def _not_checked(result: ScanResult) -> str:
    """', 3 resources not checked (macro AWS::Include rewrites this template at deploy time)'."""
    reasons: dict[str, int] = {}
    for entry in result.not_checked:
        reason = entry.reason.removeprefix("not checked: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    n = len(result.not_checked)
    shown = "; ".join(sorted(reasons, key=lambda r: -reasons[r])[:2])
    more = f"; {len(reasons) - 2} more reasons" if len(reasons) > 2 else ""
    return f", {n} resource{'s' if n != 1 else ''} not checked ({shown}{more})"


def _invalid(console: Console, result: ScanResult) -> None:
    """One line per resource CloudFormation rejects for its shape; none of it is markup, and
    control characters from the template are written as escapes."""
    for entry in result.invalid:
        line = Text("INVALID  ", style="bold red")
        line.append("".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                            for ch in entry.line_text))
        console.print(line)
    if result.invalid:
        console.print()
