"""Issue 16: nothing a template says reaches a report unescaped. A template whose logical id holds
`\\n::stop-commands::x`, ESC sequences, rich markup, Markdown and a bidi override, whose construct
path holds CR LF, a forged `::error::` and a lone surrogate, and a logical id that starts with
`::error` and holds the runner's legacy `##[stop-commands]` (tests/reporting/hostile), scanned in
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
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from msgspec.structs import replace

from tapaudit import pipeline
from tapaudit.config import Config
from tapaudit.findings import Finding, ScanError, ScanResult, Severity, Suppression
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
    assert len(result.findings) == 2 and any("\x1b" in f.resource for f in result.findings)
    # The loader refuses a lone surrogate in a template (tests/loading); the writers must still
    # survive one from anywhere else, e.g. a construct path.
    result.findings = [replace(f, cdk_path=f"{f.cdk_path}\ud800") for f in result.findings]
    return {name: render(name, result, context) for name in FORMATS}


def commands(lines: list[str]) -> list[str]:
    """Lines the GitHub runner would act on: `::` after leading spaces, `##[` anywhere."""
    return [line for line in lines if line.lstrip().startswith("::") or "##[" in line]


def raw_unsafe(text: str) -> list[str]:
    """Characters no report may carry raw (a line break of the report itself is fine)."""
    return [c for c in text if c != "\n" and (unicodedata.category(c) in {"Cc", "Cs", "Zl", "Zp"}
                                              or c in BIDI)]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_raw_control_character_in_any_format(hostile, name):
    assert raw_unsafe(hostile[name]) == []


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_forged_ci_command_in_any_format(hostile, name):
    found = commands(hostile[name].splitlines())
    if name == "github":  # the tool's own annotations, and nothing else
        assert [parse_workflow_command(line)[0] for line in found] == ["warning", "warning"]
    else:
        assert found == []


def test_github_writes_one_line_per_annotation(hostile):
    lines = hostile["github"].splitlines()
    assert len(lines) == 3 and lines[2].startswith("exit 0: ")
    _, props, message = next(parse_workflow_command(line) for line in lines if "\\x1b" in line)
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
    messages = [failure.get("message") for failure in root.iter("failure")]
    assert len(messages) == 2 and any("\\n::stop-commands::x" in m for m in messages)


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


# Any text at all in every input-derived field of a finding, in every format.
_TEXT = st.text(alphabet=st.characters(codec=None), min_size=1, max_size=30)
_COMMAND = st.sampled_from(["::error::", " \t::warning::", "##[error]", "x ##[stop-commands]t",
                            "#", "\n::notice::"])
_HOSTILE = st.one_of(_TEXT, st.builds(str.__add__, _COMMAND, _TEXT),
                     st.builds(lambda a, b, c: a + b + c, _TEXT, _COMMAND, _TEXT))


@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(resource=_HOSTILE, message=_HOSTILE, fix=_HOSTILE, file=_HOSTILE, cdk_path=_HOSTILE,
       reason=_HOSTILE)
def test_any_text_stays_inert_in_every_format(resource, message, fix, file, cdk_path, reason):
    def finding(**extra) -> Finding:
        return Finding(rule_id="TAP006", severity=Severity.HIGH, title="t", message=message,
                       file=file, line=3, column=2, resource=resource,
                       resource_type="AWS::Lambda::Function", cdk_path=cdk_path, path=(), fix=fix,
                       **extra)

    result = ScanResult(templates=[file], findings=[finding()], unknown=[finding(unknown=True)],
                        suppressed=[finding(suppression=Suppression(reason, scope="template"))],
                        errors=[ScanError(file, message)])
    for name in FORMATS:
        text = render(name, result, ReportContext())
        assert raw_unsafe(text) == [], name
        lines = text.splitlines()
        forged = commands(lines)
        if name == "github":  # finding, unknown, suppression, error: one line each, then the gate
            assert len(forged) == 4 == len(lines) - 1
        else:
            assert forged == [], name
        if name == "console":
            assert max(len(line) for line in lines[:-2]) <= 100
