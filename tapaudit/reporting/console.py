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
from tapaudit.rules.model import Rule

_STYLE = {Severity.CRITICAL: "bold white on red", Severity.HIGH: "bold red",
          Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}


def make_console(stream: TextIO) -> Console:
    """Colour on a terminal; plain text (no wrapping, no escape codes) elsewhere or with NO_COLOR."""
    terminal = stream.isatty() and "NO_COLOR" not in os.environ
    return Console(file=stream, force_terminal=terminal, no_color=not terminal, highlight=False,
                   soft_wrap=not terminal, emoji=False)


def _finding(console: Console, finding: Finding) -> None:
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


def write(result: ScanResult, stream: TextIO, rules: Sequence[Rule] = ()) -> None:
    console = make_console(stream)
    shown = sorted(result.findings, key=lambda f: f.sort_key)
    for file, group in groupby(shown, key=lambda f: f.file):
        console.print(Text(file, style="bold underline"))
        for finding in group:
            _finding(console, finding)
        console.print()
    if result.unknown:
        console.print(Text(f"Could not verify ({len(result.unknown)}): values known only at deploy "
                           "time", style="bold"))
        for finding in sorted(result.unknown, key=lambda f: f.sort_key):
            _finding(console, finding)
        console.print()
    for error in result.errors:
        console.print(f"[bold red]ERROR[/] {escape(error.file)}: {escape(error.message)}")
    counts = result.summary()
    parts = ", ".join(f"{counts[s.label]} {s.label}" for s in sorted(Severity, reverse=True)
                      if counts[s.label])
    total = len(result.findings)
    summary = (f"{total} finding{'s' if total != 1 else ''}" + (f" ({parts})" if parts else "")
               + f" in {len(result.templates)} template{'s' if len(result.templates) != 1 else ''}")
    if result.unknown:
        summary += f", {len(result.unknown)} unverifiable"
    if result.errors:
        summary += f", {len(result.errors)} input{'s' if len(result.errors) != 1 else ''} not scanned"
    if result.not_checked:
        summary += _not_checked(result)
    console.print(Text(summary, style="bold"))


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
