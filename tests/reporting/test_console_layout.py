"""Issue 18, the console: findings by severity (critical, high, medium, low), then file and line;
wrapped to the terminal's width, or to 100 columns when piped, with a hanging indent."""

from __future__ import annotations

import io
import itertools
import re

from msgspec.structs import asdict

from tapaudit.findings import Finding, ScanResult, Severity
from tapaudit.reporting import console
from tests.conftest import FIXTURES, run_cli

FLAWED = str(FIXTURES / "flawed")
SEVERITY_LINE = re.compile(r"^(CRITICAL|HIGH|MEDIUM|LOW|UNKNOWN) +TAP")


def test_flawed_stack_piped_fits_100_columns_with_high_first():
    proc = run_cli("scan", FLAWED)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    heads = [line.split()[0] for line in lines if SEVERITY_LINE.match(line)]
    assert heads == ["HIGH", "MEDIUM", "MEDIUM", "MEDIUM", "MEDIUM", "LOW"]
    assert lines[0].startswith("HIGH     TAP002 ")
    assert lines[-1] == "exit 1: 1 high finding at or above --fail-on high"


def test_wrapped_lines_keep_their_indent():
    lines = run_cli("scan", FLAWED).stdout.splitlines()
    body = False
    for line, after in itertools.pairwise(lines):
        if SEVERITY_LINE.match(line):
            body = True
        elif not line:
            body = False
        if body and after and not SEVERITY_LINE.match(after):
            assert after.startswith(" " * 9), after  # never back at the margin
    fixes = [n for n, line in enumerate(lines) if line.startswith("         fix: ")]
    assert any(lines[n + 1].startswith(" " * 11) for n in fixes)  # a long fix goes on, indented


def _finding(severity: Severity, file: str, line: int, rule: str = "TAP006") -> Finding:
    return Finding(rule_id=rule, severity=severity, title="t", message="m " * 80, file=file,
                   line=line, column=1, resource=f"R{line}", resource_type="AWS::Lambda::Function",
                   cdk_path=None, path=(), fix="f " * 60)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_order_is_severity_then_file_then_line(monkeypatch):
    result = ScanResult(templates=["a.json", "b.json"], findings=[
        _finding(Severity.LOW, "a.json", 1), _finding(Severity.CRITICAL, "b.json", 9),
        _finding(Severity.HIGH, "b.json", 2), _finding(Severity.HIGH, "a.json", 30),
        _finding(Severity.MEDIUM, "a.json", 5)])
    stream = io.StringIO()
    console.write(result, stream)
    heads = [line.split()[:2] for line in stream.getvalue().splitlines() if SEVERITY_LINE.match(line)]
    assert heads == [["CRITICAL", "TAP006"], ["HIGH", "TAP006"], ["HIGH", "TAP006"],
                     ["MEDIUM", "TAP006"], ["LOW", "TAP006"]]
    where = [line.split()[2] for line in stream.getvalue().splitlines() if SEVERITY_LINE.match(line)]
    assert where == ["b.json:9:1", "a.json:30:1", "b.json:2:1", "a.json:5:1", "a.json:1:1"]


def test_a_terminal_wraps_to_its_own_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("NO_COLOR", "1")
    result = ScanResult(templates=["a.json"], findings=[_finding(Severity.HIGH, "a.json", 3)])
    stream = _Terminal()
    console.write(result, stream)
    lines = stream.getvalue().splitlines()
    assert "\x1b" not in stream.getvalue()
    assert max(len(line) for line in lines) <= 60 and max(len(line) for line in lines) > 50


def test_a_colour_terminal_styles_only_our_labels(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("NO_COLOR", raising=False)
    finding = _finding(Severity.HIGH, "a.json", 3)
    result = ScanResult(templates=["a.json"], findings=[
        Finding(**{**asdict(finding), "resource": "[red]x[/red]\x1b[2J", "fingerprint": ""})])
    stream = _Terminal()
    console.write(result, stream)
    text = stream.getvalue()
    assert "\x1b[" in text  # colour is on
    assert "[red]x[/red]\\x1b[2J" in text and "\x1b[2J" not in text
