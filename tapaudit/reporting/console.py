"""The console report: findings by severity (critical first), then file and line, each with
location, resource, message and fix; then what could not be verified, errors, a table per rule,
the counts and the exit reason.

Lines are wrapped to the terminal's width (100 columns when the output is not a terminal) with a
hanging indent, so a CI log stays readable. Every line is `printable` and `inert_line`, printed as
rich `Text` (never markup): nothing a template says can drive the terminal, style the report or
be taken for a CI command.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from itertools import groupby
from typing import TextIO

from rich.console import Console
from rich.text import Text

from tapaudit.findings import Finding, ScanResult, Severity
from tapaudit.reporting.escape import inert_line, printable
from tapaudit.reporting.formats import ReportContext
from tapaudit.reporting.tally import COLUMNS, by_severity, tally
from tapaudit.reporting.wording import summary_line
from tapaudit.rules.model import Rule

_STYLE = {Severity.CRITICAL: "bold white on red", Severity.HIGH: "bold red",
          Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}
PIPE_WIDTH = 100  # a CI log or a file: wide enough for a finding's head, narrow enough to read
_MIN_WIDTH = 40  # below this a hanging indent leaves no room for text
_BODY = " " * 9  # under the severity label
_MORE = " " * 11  # a wrapped body line
# Joins words that must stay on one line ("Fn (AWS::Lambda::Function)"). `printable` escapes any
# NUL of the input, so every NUL left after it is ours.
_GLUE = "\x00"


def make_console(stream: TextIO) -> Console:
    """Colour on a terminal; plain text (no wrapping, no escape codes) elsewhere or with NO_COLOR."""
    terminal = stream.isatty() and "NO_COLOR" not in os.environ
    return Console(file=stream, force_terminal=terminal, no_color=not terminal, highlight=False,
                   soft_wrap=not terminal, emoji=False)


class _Out:
    """Writes wrapped, escaped lines; rich only adds colour (soft_wrap: it never wraps again)."""

    def __init__(self, stream: TextIO) -> None:
        terminal = stream.isatty()
        colour = terminal and "NO_COLOR" not in os.environ
        self.console = Console(file=stream, force_terminal=colour, no_color=not colour,
                               highlight=False, soft_wrap=True, emoji=False, markup=False)
        self.width = max(_MIN_WIDTH, self.console.width if terminal else PIPE_WIDTH)

    def line(self, text: str, style: str = "", indent: str = "", more: str = _MORE,
             head: tuple[int, str] | None = None, glued: str = "") -> None:
        """`text` (then `glued`, kept on one line with its last word) wrapped after `indent`, its
        later lines after `more`; `head` styles the first characters of the first line."""
        text = printable(text) + printable(glued).replace(" ", _GLUE)
        lines = textwrap.wrap(text, self.width, initial_indent=indent, subsequent_indent=more,
                              break_on_hyphens=False) or [""]
        for n, line in enumerate(inert_line(line.replace(_GLUE, " ")) for line in lines):
            styled = Text(line, style=style)
            if n == 0 and head:
                styled.stylize(head[1], 0, head[0])
            self.console.print(styled)

    def whole(self, text: str, style: str = "") -> None:
        """One line never wrapped: the counts and the exit reason, which scripts read whole."""
        self.console.print(Text(inert_line(printable(text)), style=style))

    def blank(self) -> None:
        self.console.print()


def _finding(out: _Out, finding: Finding, why: dict[str, str] | None = None) -> None:
    label = "UNKNOWN" if finding.unknown else finding.severity.label.upper()
    out.line(f"{label:<8} {finding.rule_id} {finding.file}:{finding.line}:{finding.column} "
             f"{finding.resource}", glued=f" ({finding.resource_type})", more=_BODY,
             head=(len(label), "dim" if finding.unknown else _STYLE[finding.severity]))
    if finding.cdk_path:
        out.line(f"construct: {finding.cdk_path}", "dim", _BODY)
    out.line(finding.message, indent=_BODY)
    for item in finding.more:
        out.line(f"and: {item}", indent=_BODY)
    for item in finding.unverified:
        out.line(f"also could not verify {item}", "dim", _BODY)
    if finding.fix:
        out.line(f"fix: {finding.fix}", "green", _BODY)
    # The rule's impact once per rule (`why` pops it), the long story in `tapaudit explain`.
    if why is not None and finding.rule_id in why:
        out.line(f"why: {why.pop(finding.rule_id)} (tapaudit explain {finding.rule_id})", "dim",
                 _BODY)


def _listing(out: _Out, title: str, findings: list[Finding]) -> None:
    """A titled list of findings outside the main report (unknowns, suppressed, baselined)."""
    if not findings:
        return
    out.line(f"{title} ({len(findings)})", "bold")
    for finding in sorted(findings, key=lambda f: f.sort_key):
        _finding(out, finding)
        if finding.suppression:
            s = finding.suppression
            until = f", until {s.expires}" if s.expires else ""
            scope = f"CDK acknowledgment at {s.acknowledged_at}" if s.acknowledged_at else s.scope
            out.line(f"suppressed ({scope}{until}): {s.reason}", "dim", _BODY)
    out.blank()


def _table(out: _Out, result: ScanResult, rules: Sequence[Rule]) -> None:
    rows = tally(result, rules)
    if not rows or not result.templates:  # nothing scanned: the counts would all be zero
        return
    header = ("rule", *COLUMNS)
    cells = [header, *[(row.rule_id, *map(str, row.counts())) for row in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    for n, line in enumerate(cells):
        text = "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                         for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
        out.line(text, "bold" if n == 0 else "")
    out.blank()


def write(result: ScanResult, stream: TextIO, rules: Sequence[Rule] = (),
          gate: str | None = None, show_suppressed: bool = False, run_line: str | None = None) -> None:
    """`gate` is the exit code's reason (`gate.decide`), printed last; `run_line` (what shaped the
    run) just before the summary."""
    out = _Out(stream)
    why = {rule.id: rule.why for rule in rules if rule.why}
    for _, group in groupby(sorted(result.findings, key=by_severity), key=lambda f: f.severity):
        for finding in group:
            _finding(out, finding, why)
        out.blank()
    _listing(out, "Could not verify", result.unknown)
    # A suppression for a whole template is listed always: it can switch every rule off.
    whole = [f for f in result.suppressed if f.suppression and f.suppression.scope == "template"]
    if show_suppressed:  # what the gate does not count, with the reason
        _listing(out, "Suppressed", result.suppressed)
        _listing(out, "In the baseline", result.baselined)
    else:
        _listing(out, "Suppressed for a whole template", whole)
    for error in result.errors:
        out.line(f"ERROR {error.file}: {error.message}", more=_BODY, head=(5, "bold red"))
    if result.errors:
        out.blank()
    _invalid(out, result)
    _table(out, result, rules)
    if run_line:
        out.line(run_line, "dim", more="     ")
    out.whole(summary_line(result), "bold")
    if gate:
        out.whole(gate, "bold")


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    write(result, stream, context.rules, context.gate(result)[1], context.show_suppressed,
          context.run_record().line())


def _invalid(out: _Out, result: ScanResult) -> None:
    """One line per resource CloudFormation rejects for its shape."""
    for entry in result.invalid:
        out.line(f"INVALID  {entry.line_text}", more=_BODY, head=(7, "bold red"))
    if result.invalid:
        out.blank()
