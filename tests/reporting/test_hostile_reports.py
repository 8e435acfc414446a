"""Issue 16: nothing a template says reaches a report unescaped. A template whose logical id holds
`\\n::stop-commands::x`, ESC sequences, rich markup, Markdown and a bidi override, whose construct
path holds CR LF, a forged `::error::` and a lone surrogate (tests/reporting/hostile), scanned in
every format: no raw control character, no line a CI runner would take for a command, Markdown
that renders as text, one line per GitHub annotation. And a template-level suppression of every
rule is visible in every format."""

from __future__ import annotations

import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tapaudit import pipeline
from tapaudit.config import Config
from tapaudit.findings import ScanResult
from tapaudit.reporting.formats import FORMATS, ReportContext, writer
from tests.conftest import FIXTURES, ROOT
from tests.reporting.test_report_formats import parse_workflow_command

HOSTILE = Path(__file__).parent / "hostile"
INJECTION = HOSTILE / "injection.template.json"
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def scan(*paths: str | Path) -> tuple[ScanResult, ReportContext]:
    outcome = pipeline.run([str(p) for p in paths], Config())
    return outcome.result, ReportContext(outcome.rules)


def render(name: str, result: ScanResult, context: ReportContext) -> str:
    stream = io.StringIO()
    writer(name)(result, context, stream)
    text = stream.getvalue()
    text.encode("utf-8")  # what the CLI writes to a file or stdout: must encode
    return text


@pytest.fixture(scope="module")
def hostile():
    result, context = scan(INJECTION)
    assert len(result.findings) == 1 and "\x1b" in result.findings[0].resource
    assert "\ud800" in (result.findings[0].cdk_path or "")
    return {name: render(name, result, context) for name in FORMATS}


def raw_unsafe(text: str) -> list[str]:
    """Characters no report may carry raw (a line break of the report itself is fine)."""
    return [c for c in text if c != "\n" and (unicodedata.category(c) in {"Cc", "Cs", "Zl", "Zp"}
                                              or c in BIDI)]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_raw_control_character_in_any_format(hostile, name):
    assert raw_unsafe(hostile[name]) == []


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_forged_ci_command_in_any_format(hostile, name):
    lines = hostile[name].splitlines()
    commands = [line for line in lines if line.lstrip().startswith(("::", "##["))]
    if name == "github":  # the tool's own annotation, and nothing else
        assert len(commands) == 1 and parse_workflow_command(commands[0])[0] == "warning"
    else:
        assert commands == []


def test_github_writes_one_line_per_annotation(hostile):
    lines = hostile["github"].splitlines()
    assert len(lines) == 2 and lines[1].startswith("exit 0: ")
    _, props, message = parse_workflow_command(lines[0])
    assert props["file"].endswith("hostile/injection.template.json")
    assert "\\n::stop-commands::x\\x1b[31m" in message
    assert message.count("\n") == 1 and "\nFix: " in message  # our own break, as %0A


def test_markdown_renders_template_text_as_text(hostile):
    html = MarkdownIt("commonmark").enable("table").render(hostile["markdown"])
    assert "beacon.invalid" in html
    assert "<img" not in html and "<strong>PASSED</strong>" not in html
    assert 'href="https://beacon.invalid' not in html


def test_console_shows_rich_markup_and_escapes_as_text(hostile):
    text = hostile["console"]
    assert "[bold red]x[/]" in re.sub(r"\s+", " ", text)  # wrapped at its space
    assert "\\x1b[31m" in text and "\\u202e" in text and "\\ud800" in text


def test_json_formats_stay_valid_json_with_a_lone_surrogate(hostile):
    for name in ("json", "sarif", "gitlab"):
        json.loads(hostile[name])
    sarif = json.loads(hostile["sarif"])["runs"][0]["results"][0]["message"]
    assert "\x1b" not in sarif["text"] and "\\x1b" in sarif["text"]
    assert "\\!\\[beacon\\]" in sarif["markdown"]


def test_junit_is_well_formed(hostile):
    root = ET.fromstring(hostile["junit"].encode())
    (failure,) = root.iter("failure")
    assert "\\n::stop-commands::x" in failure.get("message")


# A template-level suppression of every rule on the flawed stack: all six findings suppressed.
@pytest.fixture(scope="module")
def suppressed_everything(tmp_path_factory):
    template = json.loads((FIXTURES / "flawed" / "TransactionMigration-Primary.template.json")
                          .read_text())
    reason = "migration\n::error::forged **PASSED** ![beacon](https://beacon.invalid/r.png)"
    template.setdefault("Metadata", {})["tapaudit"] = {
        "suppress": [{"id": f"TAP00{i}", "reason": reason} for i in range(1, 7)]}
    path = tmp_path_factory.mktemp("suppressed") / "everything.template.json"
    path.write_text(json.dumps(template))
    result, context = scan(path)
    assert result.findings == [] and len(result.suppressed) == 6
    return {name: render(name, result, context) for name in FORMATS}


REASON_SHOWN = "migration\\n::error::forged"


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_a_template_wide_suppression_is_visible_in_every_format(suppressed_everything, name):
    text = suppressed_everything[name]
    assert raw_unsafe(text) == []
    if name in ("json", "sarif", "gitlab"):
        text = json.dumps(json.loads(text), ensure_ascii=False)
    if name == "markdown":
        text = text.replace("\\", "")  # Markdown escapes; the rendered text is the reason
    for rule in (f"TAP00{i}" for i in range(1, 7)):
        assert rule in text
    assert "migration" in text and "forged" in text


def test_github_gives_a_notice_per_suppression(suppressed_everything):
    lines = suppressed_everything["github"].splitlines()
    commands = [parse_workflow_command(line) for line in lines if line.startswith("::")]
    assert len(commands) == 6 == len(lines) - 1
    assert {level for level, _, _ in commands} == {"notice"}
    assert sorted(props["title"].split()[0] for _, props, _ in commands) == \
        [f"TAP00{i}" for i in range(1, 7)]
    for _, props, message in commands:
        assert "suppressed for the whole template: " + REASON_SHOWN in message
        assert "TransactionMigration" not in props["title"]  # the rule title, not input


def test_console_lists_a_template_wide_suppression_without_show_suppressed(suppressed_everything):
    text = suppressed_everything["console"]
    assert "Suppressed for a whole template (6)" in text
    assert text.count("suppressed (template): " + REASON_SHOWN) == 6


def test_concise_marks_suppressed_lines(suppressed_everything):
    lines = suppressed_everything["concise"].splitlines()
    assert sum(" SUPPRESSED TAP00" in line for line in lines) == 6
    assert lines[-1] == "exit 0: no finding at or above --fail-on high"


def test_hostile_files_are_where_the_docstring_says():
    assert INJECTION.is_relative_to(ROOT / "tests")
    assert re.search(r"\\n::stop-commands::x\\u001b\[31m", INJECTION.read_text())
