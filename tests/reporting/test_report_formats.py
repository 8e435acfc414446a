"""The CI report formats (junit, github, gitlab, markdown), `--report FORMAT=FILE`, and the
console's end: each validated against the shape its consumer reads."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from tapaudit.findings import Checked, Exemption, Finding, ScanError, ScanResult, Severity
from tapaudit.reporting import console, github, gitlab, junit, markdown
from tapaudit.reporting.formats import FORMATS, ReportContext
from tests.cli.inprocess import run as run_cli
from tests.conftest import FIXTURES, SARIF_SCHEMA

FLAWED = str(FIXTURES / "flawed")

# GitLab Code Quality, as documented (docs.gitlab.com, "Code Quality report format").
GITLAB_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object", "required": ["path", "lines"],
                "properties": {"path": {"type": "string", "minLength": 1},
                               "lines": {"type": "object", "required": ["begin"],
                                         "properties": {"begin": {"type": "integer", "minimum": 1}}}},
            },
        },
    },
}

# The common JUnit XML shape (Jenkins' junit.xsd, which GitLab also reads): element -> attributes.
JUNIT_ATTRIBUTES = {
    "testsuites": {"name", "time", "tests", "failures", "errors", "skipped", "disabled"},
    "testsuite": {"name", "tests", "failures", "errors", "skipped", "disabled", "time", "timestamp",
                  "hostname", "id", "package", "file"},
    "testcase": {"name", "classname", "time", "file", "line", "assertions", "status"},
    "failure": {"message", "type"}, "error": {"message", "type"}, "skipped": {"message"},
}
JUNIT_CHILDREN = {"testsuites": {"testsuite"}, "testsuite": {"properties", "testcase", "system-out",
                                                             "system-err"},
                  "testcase": {"failure", "error", "skipped", "system-out", "system-err"},
                  "failure": set(), "error": set(), "skipped": set()}
JUNIT_REQUIRED = {"testsuite": {"name", "tests"}, "testcase": {"name"}}


def check_junit_shape(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    for element in root.iter():
        assert set(element.attrib) <= JUNIT_ATTRIBUTES[element.tag], element.tag
        assert JUNIT_REQUIRED.get(element.tag, set()) <= set(element.attrib), element.tag
        assert {child.tag for child in element} <= JUNIT_CHILDREN[element.tag], element.tag
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        for tag, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(suite.get(attribute)) == sum(1 for case in cases if case.find(tag) is not None)
    for attribute in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(attribute)) == sum(int(s.get(attribute)) for s in root.iter("testsuite"))


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str]:
    """Read a command back the way the Actions runner does."""
    match = re.fullmatch(r"::(\w+)(?: ([^:]*))?::(.*)", line)
    assert match, line

    def unescape(text: str) -> str:
        return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
                .replace("%2C", ",").replace("%25", "%"))

    props = {}
    for pair in (match.group(2) or "").split(","):
        if pair:
            key, _, value = pair.partition("=")
            props[key] = unescape(value)
    return match.group(1), props, unescape(match.group(3))


def _finding(rule: str, severity: Severity, resource: str, **extra) -> Finding:
    return Finding(**{"rule_id": rule, "severity": severity, "title": f"title {rule}",
                      "message": f"{resource}: is wrong.", "file": "stacks/app.yaml", "line": 4,
                      "column": 3, "resource": resource, "resource_type": "AWS::Lambda::Function",
                      "cdk_path": None, "path": ("Resources", resource), "checks": ("c",),
                      "why": "it matters", "fix": f"fix {resource}", **extra})


def _result() -> ScanResult:
    result = ScanResult(
        templates=["stacks/app.yaml"],
        findings=[_finding("TAP002", Severity.HIGH, "Health"), _finding("TAP006", Severity.MEDIUM, "Fn")],
        unknown=[_finding("TAP002", Severity.HIGH, "Other", unknown=True)],
        errors=[ScanError("broken.yaml", "invalid YAML: x")],
        exempt=[Exemption("TAP006", "stacks/app.yaml", "Handler", "AWS::Lambda::Function", None,
                          "CDK framework function")],
        checked=[Checked("TAP006", "stacks/app.yaml", name, "AWS::Lambda::Function", None)
                 for name in ("Fn", "Ok")] +
                [Checked("TAP002", "stacks/app.yaml", name, "AWS::Lambda::Function", None)
                 for name in ("Health", "Other")])
    result.sort()
    return result


@pytest.fixture(scope="module")
def flawed_reports(tmp_path_factory):
    """One scan of the flawed stack, every format at once beside the console."""
    out = tmp_path_factory.mktemp("reports")
    names = {"sarif": "tapaudit.sarif", "junit": "junit/tapaudit.xml", "github": "github.txt",
             "gitlab": "gl-code-quality.json", "markdown": "summary.md", "json": "report.json"}
    args = [arg for name, file in names.items() for arg in ("--report", f"{name}={out / file}")]
    proc = run_cli("scan", FLAWED, *args)
    return proc, {name: (out / file).read_text() for name, file in names.items()}


def test_every_format_is_registered():
    assert set(FORMATS) == {"console", "json", "sarif", "junit", "github", "gitlab", "markdown",
                            "concise"}
    for name in FORMATS:  # the CLI's --format choices come from the registry
        assert run_cli("scan", FLAWED, "-f", name).returncode == 1


def test_one_scan_writes_every_report(flawed_reports):
    proc, reports = flawed_reports
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[-1] == "exit 1: 1 high finding at or above --fail-on high"
    assert len(json.loads(reports["json"])["findings"]) == 6


def test_sarif_report_is_valid_and_carries_why_and_fix(flawed_reports):
    log = json.loads(flawed_reports[1]["sarif"])
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    for result in log["runs"][0]["results"]:
        text, md = result["message"]["text"], result["message"]["markdown"]
        assert " Fix: " in text and "\n\n**Fix:** " in md
        assert result["properties"]["why"] and result["properties"]["fix"]
    for rule in log["runs"][0]["tool"]["driver"]["rules"]:
        assert "Fix:" in rule["help"]["text"]


def test_junit_report_has_a_suite_per_rule_and_a_case_per_checked_resource(flawed_reports):
    root = ET.fromstring(flawed_reports[1]["junit"])
    check_junit_shape(root)
    suites = {s.get("name").split(":")[0]: s for s in root.iter("testsuite")}
    assert sorted(suites) == [f"TAP00{i}" for i in range(1, 7)]
    assert root.get("failures") == "6" and root.get("errors") == "0"
    assert all(s.get("failures") == "1" for s in suites.values())
    # TAP004 checks both event rules of the stack: one passes, one fails.
    tap004 = suites["TAP004"].findall("testcase")
    assert len(tap004) == 2 and sum(c.find("failure") is not None for c in tap004) == 1
    failure = root.find(".//failure")
    assert failure.get("type") in {"high", "medium", "low"} and "Fix: " in failure.text


def test_json_rules_count_what_junit_counts(flawed_reports):
    """The JSON report's per-rule rows: a row for every rule that ran, with the console's columns,
    and `checked` equal to the JUnit test cases of the rule's suite."""
    rows = {row["id"]: row for row in json.loads(flawed_reports[1]["json"])["rules"]}
    junit = ET.fromstring(flawed_reports[1]["junit"])
    suites = {s.get("name").split(":")[0]: s for s in junit.iter("testsuite")}
    assert sorted(rows) == sorted(suites) == [f"TAP00{i}" for i in range(1, 7)]
    for rule_id, row in rows.items():
        assert set(row) == {"id", "title", "severity", "checked", "findings", "suppressed", "baselined",
                            "unknown", "exempt"}
        assert row["checked"] == len(suites[rule_id].findall("testcase")) and row["findings"] == 1
    assert rows["TAP002"]["severity"] == "high" and rows["TAP004"]["checked"] == 2


def test_json_rules_list_only_the_rules_that_ran():
    report = json.loads(run_cli("scan", FLAWED, "-f", "json", "--skip-rule", "TAP006").stdout)
    assert [row["id"] for row in report["rules"]] == [f"TAP00{i}" for i in range(1, 6)]


def test_junit_reports_unknown_exempt_and_unscannable_inputs():
    stream = io.StringIO()
    junit.report(_result(), ReportContext(), stream)
    root = ET.fromstring(stream.getvalue())
    check_junit_shape(root)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["Health"].find("failure") is not None
    assert cases["Other"].find("skipped").get("message").startswith("could not be verified")
    assert cases["Handler"].find("skipped").get("message") == "exempt: CDK framework function"
    assert cases["Ok"].find("*") is None  # passed
    assert cases["broken.yaml"].find("error").get("message") == "invalid YAML: x"


def test_gitlab_report_matches_the_code_quality_format(flawed_reports):
    issues = json.loads(flawed_reports[1]["gitlab"])
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert len(issues) == 6 and len({i["fingerprint"] for i in issues}) == 6
    assert {i["severity"] for i in issues} == {"critical", "major", "minor"}  # high, medium, low
    assert all(i["location"]["path"].endswith(".template.json") for i in issues)
    unknown = gitlab.as_list(_result())
    assert [i["severity"] for i in unknown if i["check_name"] == "TAP002"] == ["critical", "info"]


def test_github_annotations_follow_the_gate(flawed_reports):
    lines = flawed_reports[1]["github"].splitlines()
    commands = [parse_workflow_command(line) for line in lines if line.startswith("::")]
    assert [level for level, _, _ in commands].count("error") == 1  # the high finding
    assert [level for level, _, _ in commands].count("warning") == 5
    _, props, message = next(c for c in commands if c[0] == "error")
    assert props["title"].startswith("TAP002 (high)") and int(props["line"]) > 1
    assert "\nFix: " in message and props["file"].endswith("Primary.template.json")
    assert lines[-1].startswith("exit 1:")
    strict = run_cli("scan", FLAWED, "-f", "github", "--fail-on", "low").stdout
    assert strict.count("::warning ") == 0 and strict.count("::error ") == 6
    assert run_cli("scan", FLAWED, "-f", "github", "--fail-on", "none").stdout.count("::error ") == 0


def test_github_escaping_round_trips():
    nasty = "100% done:\r\nline two, with commas: and colons"
    finding = _finding("TAP006", Severity.MEDIUM, "Fn", message=nasty, file="dir,a:b/t%.yaml",
                       title="a, b: c%", fix="x\ny")
    line = github.annotation(finding, "high")
    assert "\n" not in line and "\r" not in line
    level, props, message = parse_workflow_command(line)
    assert level == "warning"
    assert props == {"file": "dir,a:b/t%.yaml", "line": "4", "col": "3",
                     "title": "TAP006 (medium) a, b: c%"}
    # Line breaks of the input are shown as escapes; the line break before "Fix:" is ours.
    assert message == "100% done:\\r\\nline two, with commas: and colons\nFix: x\\ny"


def test_github_notices_for_unknowns_and_errors_for_unscannable_inputs():
    stream = io.StringIO()
    github.report(_result(), ReportContext(), stream)
    commands = [parse_workflow_command(line) for line in stream.getvalue().splitlines()
                if line.startswith("::")]
    assert [(level, props.get("file")) for level, props, _ in commands] == [
        ("error", "stacks/app.yaml"), ("warning", "stacks/app.yaml"), ("notice", "stacks/app.yaml"),
        ("error", "broken.yaml")]


def test_markdown_summary(flawed_reports):
    text = flawed_reports[1]["markdown"]
    assert text.startswith("## tapaudit: 6 findings (1 high, 4 medium, 1 low) in 2 templates\n")
    assert "**exit 1: 1 high finding at or above --fail-on high**" in text
    table = [line for line in text.splitlines() if line.startswith("| TAP")]
    assert len(table) == 6 and all(line.count("|") == 10 for line in table)
    assert text.count("\n- **") == 6 and text.count("  Fix: ") == 6
    assert text.count("<sub>Why TAP") == 6


def test_markdown_keeps_template_text_inert():
    result = _result()
    result.findings[0] = _finding("TAP002", Severity.HIGH, "Health",
                                  message="Health: value `a|b` <script>alert(1)</script> **x**")
    text = markdown.render(result, ReportContext())
    line = next(line for line in text.splitlines() if "alert" in line)
    assert "<script>" not in line and "|" not in line.replace("\\|", "")
    assert "\\*\\*x\\*\\*" in line
    assert "could not be verified" not in text and "Could not verify (1)" in text
    assert "### Not scanned" in text


def test_markdown_code_spans_cannot_be_closed_by_template_text():
    assert markdown.code("S/`</sub><img src=x>`/R") == "``S/`</sub><img src=x>`/R``"
    assert markdown.code("`edge`") == "`` `edge` ``"
    # A fix keeps its own code spans and escapes HTML around them; unpaired backticks: all escaped.
    assert markdown.fix_text("Set `A` on <b>x</b>") == "Set `A` on \\<b\\>x\\</b\\>"
    assert "<img" not in markdown.fix_text("Add `x` to `a<img src=x>").replace("\\<", "")


def test_report_option_is_checked_before_scanning(tmp_path):
    for spec in ("junit", "xml=out.xml", "junit="):
        proc = run_cli("scan", FLAWED, "--report", spec)
        assert proc.returncode == 2 and "expected FORMAT=FILE" in proc.stderr and not proc.stdout
    blocked = tmp_path / "file"
    blocked.write_text("")
    proc = run_cli("scan", FLAWED, "--report", f"junit={blocked / 'sub' / 'x.xml'}")
    assert proc.returncode == 2 and "cannot write report" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_console_ends_with_a_table_per_rule_and_the_exit_reason():
    proc = run_cli("scan", FLAWED)
    lines = proc.stdout.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("rule ")))
    assert lines[start].split() == ["rule", "checked", "findings", "suppressed", "baselined",
                                    "unknown", "exempt"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[start + 1:start + 7]}
    assert sorted(rows) == [f"TAP00{i}" for i in range(1, 7)]
    assert all(row[1] == "1" for row in rows.values())
    assert lines[-1] == "exit 1: 1 high finding at or above --fail-on high"
    # The fix on its own line under each finding; the rule's impact once per rule.
    assert sum(line.startswith("         fix: ") for line in lines) == 6
    assert sum(line.startswith("         why: ") for line in lines) == 6
    assert run_cli("scan", FLAWED, "--fail-on", "critical").stdout.splitlines()[-1] == \
        "exit 0: no finding at or above --fail-on critical"


def test_console_shows_why_once_per_rule():
    result = _result()
    result.findings.append(_finding("TAP006", Severity.MEDIUM, "Fn2", line=9))
    result.sort()
    from tapaudit.rules import load_rules

    stream = io.StringIO()
    console.write(result, stream, load_rules(), gate="exit 2: 1 input could not be scanned")
    text = stream.getvalue()
    assert text.count("why: ") == 2 and text.count("fix: ") == 4
    assert text.splitlines()[-1] == "exit 2: 1 input could not be scanned"
    tap006 = next(line for line in text.splitlines() if line.startswith("TAP006 "))
    assert tap006.split() == ["TAP006", "2", "2", "0", "0", "0", "1"]


def test_what_cdk_itself_says_about_the_flawed_stack():
    """The README's statements on CDK 2.275's own synth-time validation, as recorded by the synth:
    the ignored TLS setting is a warning of the Construct Annotations source (in the report only
    with @aws-cdk/core:annotationsInValidationReport), and it does not fail the synth."""
    report = json.loads((FIXTURES / "flawed" / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["pluginName"] == "Construct Annotations" and plugin["conclusion"] == "success"
    (violation,) = plugin["violations"]
    assert violation["ruleName"] == \
        "Annotation::@aws-cdk/aws-cloudfront:minimumProtocolVersionWithoutCertificate"
    assert violation["severity"] == "warning"
    assert violation["violatingConstructs"][0]["libraryVersion"] == "2.275.0"
    flags = json.loads((FIXTURES.parent / "reference_stack" / "cdk.json").read_text())["context"]
    assert flags["@aws-cdk/core:annotationsInValidationReport"] is True
    assert flags["@aws-cdk/core:validateAgainstDefaultRules"] is True


def test_junit_stays_well_formed_with_control_characters_in_template_text(tmp_path):
    template = tmp_path / "ctl.json"
    template.write_text(json.dumps({"Resources": {"Fn": {
        "Type": "AWS::Lambda::Function", "Metadata": {"aws:cdk:path": "S/F\u0001n/Resource"},
        "Properties": {"Runtime": "nodejs22.x"}}}}))
    proc = run_cli("scan", str(template), "--no-config", "-f", "junit")
    root = ET.fromstring(proc.stdout.encode())  # raises on ill-formed XML
    assert any("F\\x01n" in (case.get("name", "") + (case.findtext("failure") or ""))
               for case in root.iter("testcase"))


def test_junit_says_could_not_be_verified_once():
    """Issue 18: JUnit wrote "could not be verified: Fn could not be verified: ..."."""
    from tapaudit import pipeline
    from tapaudit.config import Config

    outcome = pipeline.run([str(FIXTURES / "TAP002" / "yaml-unknown-policies-from-macro.yaml")],
                           Config())
    assert outcome.result.unknown
    stream = io.StringIO()
    junit.report(outcome.result, ReportContext(outcome.rules), stream)
    skipped = [s.get("message") for s in ET.fromstring(stream.getvalue()).iter("skipped")]
    unknown = [message for message in skipped if "verif" in message]
    assert unknown and all(m.count("could not be verified") == 1 for m in unknown), unknown
