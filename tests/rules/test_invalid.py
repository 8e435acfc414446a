"""Wrong shapes are not rule findings (issues 16 and 17): a resource CloudFormation rejects for its
shape is reported once as `invalid` (JSON), a TAP000 error (SARIF and the other formats), a console
line, and exit 2; no rule judges it, and every other resource is still checked."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tapaudit import pipeline
from tapaudit.config import Config
from tapaudit.findings import Invalid, ScanResult
from tapaudit.gate import EXIT_ERROR, decide
from tapaudit.model.values import Branch, Malformed
from tapaudit.rules.selectors import compile_selector, compile_with_jsonpath, select
from tests.conftest import FIXTURES, SARIF_SCHEMA, require_command, require_module, run_cli

INVALID = FIXTURES / "invalid"

# Fixture -> (invalid resource, line, property path, expected, found, a resource still checked).
CASES = {
    "type-mapping.yaml": ("Archive", 6, "Type", "a string", "a mapping", "Worker"),
    "type-number.json": ("Archive", 6, "Type", "a string", "a number", "Worker"),
    "type-null.yaml": ("Archive", 5, "Type", "a string", "null", "Worker"),
    "type-ref.yaml": ("Archive", 8, "Type", "a string", "Ref (an intrinsic function)", "Worker"),
    "type-list.yaml": ("Transactions", 5, "Type", "a string", "a list", "Classifier"),
    "properties-list.yaml": ("HealthCheck", 7, "Properties", "a mapping", "a list", "Worker"),
    "cachebehaviors-mapping.yaml": ("Site", 13, "Properties.DistributionConfig.CacheBehaviors",
                                    "a list", "a mapping", "Other"),
    "replicationconfiguration-list.yaml": ("Transactions", 13, "Properties.ReplicationConfiguration",
                                           "a mapping", "a list", "Classifier"),
    "targets-mapping.yaml": ("Hourly", 11, "Properties.Targets", "a list", "a mapping", "Nightly"),
    "globalsecondaryindexes-mapping.yaml": ("Ledger", 16, "Properties.GlobalSecondaryIndexes",
                                            "a list", "a mapping", None),
}


def test_every_invalid_fixture_has_a_case():
    assert {p.name for p in INVALID.iterdir()} == set(CASES)


@pytest.fixture(scope="module")
def sarif_validator():
    return jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text()))


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_resource_is_reported_once_and_judged_by_no_rule(name: str):
    resource, line, path, expected, found, other = CASES[name]
    result = pipeline.run([str(INVALID / name)], Config(), jobs=1).result
    assert result.errors == []
    assert [(i.resource, i.line, i.path, i.expected, i.found) for i in result.invalid] == \
        [(resource, line, path, expected, found)]
    judged = [*result.findings, *result.unknown, *result.checked, *result.exempt]
    assert resource not in {entry.resource for entry in judged}
    if other:  # the same template's other resources are still checked
        assert other in {checked.resource for checked in result.checked}


def unwrapped(text: str, start: str) -> list[str]:
    """The console's entries that begin with `start`, each with its wrapped lines joined."""
    entries: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith(start):
            entries.append([line])
        elif entries and line.startswith(" ") and line.strip():
            entries[-1].append(line.strip())
        elif entries and entries[-1] and not line.startswith(" "):
            entries.append([])  # a line of something else ends the entry before it
    return [" ".join(entry) for entry in entries if entry]


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_resource_in_every_format_and_exit_2(name: str, tmp_path: Path, sarif_validator):
    resource, line, path, expected, found, _ = CASES[name]
    target = f"fixtures/invalid/{name}"  # as the report shows it: run_cli runs in the root
    reports = {fmt: tmp_path / f"report.{fmt}" for fmt in
               ("json", "sarif", "junit", "github", "gitlab", "markdown")}
    proc = run_cli("scan", target, *[arg for fmt, file in reports.items()
                                     for arg in ("--report", f"{fmt}={file}")])
    assert proc.returncode == EXIT_ERROR, proc.stderr
    message = f"{resource}: {path} is {found}, not {expected}: CloudFormation rejects the resource"
    console = unwrapped(proc.stdout, "INVALID")
    assert len(console) == 1 and console[0].startswith(f"INVALID  TAP000 {target}:{line}:")
    assert message in console[0]
    assert "1 invalid resource (CloudFormation rejects its shape)" in proc.stdout.splitlines()[-1]

    entry = json.loads(reports["json"].read_text())["invalid"]
    assert len(entry) == 1
    assert {key: entry[0][key] for key in ("rule_id", "file", "line", "resource", "path",
                                           "expected", "found")} == {
        "rule_id": "TAP000", "file": target, "line": line, "resource": resource, "path": path,
        "expected": expected, "found": found}

    log = json.loads(reports["sarif"].read_text())
    sarif_validator.validate(log)
    run = log["runs"][0]
    declared = run["tool"]["driver"]["rules"]
    invalid = [r for r in run["results"] if r["ruleId"] == "TAP000"]
    assert len(invalid) == 1 and invalid[0]["level"] == "error"
    assert declared[invalid[0]["ruleIndex"]]["id"] == "TAP000"
    assert invalid[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == line
    assert not [r for r in run["results"] if r["ruleId"] != "TAP000"
                and r["locations"][0]["logicalLocations"][0]["name"] == resource]

    suite = next(s for s in ET.parse(reports["junit"]).getroot() if s.get("name").startswith("TAP000"))
    assert suite.get("failures") == "1" and message in suite.find("testcase/failure").get("message")
    github = reports["github"].read_text()
    assert f"::error file={target},line={line}," in github and message in github
    gitlab = [i for i in json.loads(reports["gitlab"].read_text()) if i["check_name"] == "TAP000"]
    assert len(gitlab) == 1 and gitlab[0]["location"]["lines"]["begin"] == line
    assert "### Invalid resources" in reports["markdown"].read_text()


def test_health_check_with_listed_properties_is_no_tap002_finding():
    result = pipeline.run([str(INVALID / "properties-list.yaml")], Config(), jobs=1).result
    assert not [f for f in result.findings if f.rule_id == "TAP002"]
    assert [f.resource for f in result.findings] == ["Worker"]  # TAP006: no reserved concurrency


def test_a_right_type_that_aws_rejects_stays_a_rule_finding():
    """ObjectSizeGreaterThan in a replication filter is well-typed: TAP001 reports it."""
    result = pipeline.run([str(FIXTURES / "TAP001" / "yaml-fail-object-size-filter.yaml")], Config(),
                          jobs=1).result
    assert result.invalid == []
    assert [f.rule_id for f in result.findings if "ObjectSizeGreaterThan" in f.message] == ["TAP001"]


def test_invalid_resources_fail_the_gate_even_when_nothing_fails_on():
    entry = Invalid("t.yaml", 3, 5, "X", None, "Type", "a string", "a number")
    code, why = decide(ScanResult(templates=["t.yaml"], invalid=[entry]), "none")
    assert code == EXIT_ERROR and why == "exit 2: 1 invalid resource (CloudFormation rejects its shape)"


def test_list_wildcard_reads_a_list_and_dot_wildcard_reads_any_container():
    behaviors = {"CacheBehaviors": {"PathPattern": "/api/*", "ViewerProtocolPolicy": "allow-all"}}
    listed = list(select(compile_selector("$.CacheBehaviors[*]"), Branch(behaviors, ())))
    assert len(listed) == 1 and isinstance(listed[0].value, Malformed)
    assert (listed[0].value.at, listed[0].value.expected, listed[0].value.found) == \
        (("CacheBehaviors",), "a list", "a mapping")
    values = [b.value for b in select(compile_selector("$.CacheBehaviors.*"), Branch(behaviors, ()))]
    assert values == ["/api/*", "allow-all"]
    # jsonpath-ng parses both wildcards alike; its lexer still tells them apart.
    assert compile_with_jsonpath("$['Cache Behaviors'][*].*") == (
        ("field", "Cache Behaviors"), ("items", None), ("each", None))


def test_control_characters_of_an_invalid_resource_reach_no_terminal():
    """A logical id with ESC and a newline that would forge a workflow command."""
    proc = run_cli("scan", str(Path(__file__).parent / "data" / "invalid-hostile-id.json"))
    assert proc.returncode == EXIT_ERROR
    line = next(text for text in proc.stdout.splitlines() if text.startswith("INVALID"))
    assert "\\x1b[2J\\n::error::forged" in line and "\x1b" not in proc.stdout
    assert not any(text.startswith("::error::forged") for text in proc.stdout.splitlines())
    for fmt in ("junit", "concise", "github", "gitlab", "markdown", "sarif", "json"):
        out = run_cli("scan", str(Path(__file__).parent / "data" / "invalid-hostile-id.json"),
                      "-f", fmt).stdout
        assert "\x1b" not in out and "\r" not in out, fmt
        assert not any(text.lstrip().startswith("::error::forged") for text in out.splitlines()), fmt


@pytest.mark.cdk
def test_cdk_plugin_fails_the_synth_on_an_invalid_resource():
    require_module("aws_cdk")
    require_command("node")
    from tests.cdk.test_cdk_validator import _validate

    report = _validate(INVALID / "targets-mapping.yaml", fail_on="none")
    assert report.success is False
    invalid = [v for v in report.violations if v.rule_name == "TAP000"]
    assert [(v.severity, v.violating_resources[0].resource_logical_id,
             v.violating_resources[0].locations) for v in invalid] == [
        ("error", "Hourly", ["Properties.Targets"])]


def test_a_resource_that_is_no_mapping_or_has_no_type_is_invalid():
    from tapaudit.model.template import Template

    template = Template({"Resources": {"Five": 5, "Untyped": {"Properties": {}},
                                       "Fine": {"Type": "AWS::SQS::Queue"}}})
    problems = {name: (p.at, p.expected, p.found) for name, p in template.shape_problems.items()}
    assert problems == {"Five": (("Resources", "Five"), "a mapping", "a number"),
                        "Untyped": (("Resources", "Untyped", "Type"), "a string", "absent")}


def _custom_rule(folder: Path, rule_id: str, check: str):
    from tapaudit.rules.loader import load_rule_file

    path = folder / f"{rule_id}.yaml"
    path.write_text(f"id: {rule_id}\ntitle: t\nseverity: high\nrationale: r\nwhy: w\n"
                    f"resource_types: [AWS::SQS::Queue]\nfix: {{summary: s}}\nchecks: [{check}]\n")
    return load_rule_file(path)


def test_a_later_rules_read_takes_back_what_earlier_rules_said(tmp_path: Path):
    """X1 fails the queue; X2 reads Tags as a list and finds a mapping: the queue is invalid,
    and X1's finding goes (the rules report nothing on an invalid resource)."""
    from tapaudit.loading.parse import parse_document
    from tapaudit.model.template import Template
    from tapaudit.scan import scan_template

    named = _custom_rule(tmp_path, "X1", "{id: named, select: $.Properties.QueueName, "
                                         "predicate: exists, missing: has no QueueName}")
    tags = _custom_rule(tmp_path, "X2", "{id: tags, select: '$.Properties.Tags[*].Key', "
                                        "predicate: exists}")
    document = parse_document('{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": '
                              '{"Tags": {"Key": "team"}}}, "R": {"Type": "AWS::SQS::Queue"}}}')
    report = scan_template(Template(document.data), [named, tags], "t.json", document.source_map)
    assert [(i.resource, i.path, i.expected, i.found) for i in report.invalid] == [
        ("Q", "Properties.Tags", "a list", "a mapping")]
    assert [(f.rule_id, f.resource) for f in report.findings] == [("X1", "R")]
    assert {(c.rule_id, c.resource) for c in report.checked} == {("X1", "R"), ("X2", "R")}
