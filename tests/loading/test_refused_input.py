"""Input that must not pass silently (issue 10): duplicate keys, NaN/Infinity, over-long numbers,
explicitly named files that are not templates, and a newer CDK's reports inside cdk.out."""

from __future__ import annotations

import json
import shutil

import pytest

from tapaudit.errors import InputError
from tapaudit.loading.discovery import discover
from tapaudit.loading.parse import parse_document
from tests.cli.inprocess import run as run_cli
from tests.conftest import FIXTURES

FLAWED_PRIMARY = str(FIXTURES / "flawed" / "TransactionMigration-Primary.template.json")

DUPLICATE_JSON = """{
  "Resources": {
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 5}},
    "Queue": {"Type": "AWS::SQS::Queue"},
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}
  }
}
"""
DUPLICATE_YAML = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      ReservedConcurrentExecutions: 5
      ReservedConcurrentExecutions: 0
"""


@pytest.mark.parametrize(("text", "message"), [
    (DUPLICATE_JSON, "duplicate key 'Fn' at line 5 (first at line 3)"),
    (DUPLICATE_YAML, "duplicate key 'ReservedConcurrentExecutions' at line 6 (first at line 5)"),
    ('Resources:\n  A: !If [C, {Type: x, Type: y}, !Ref AWS::NoValue]\n',
     "duplicate key 'Type' at line 2 (first at line 2)"),
    ('{"a": {"k": 1}, "b": {"k": 1, "c": [{"k": 2},\n {"k": 3, "k": 4}]}}',
     "duplicate key 'k' at line 2 (first at line 2)"),
    ('{"Resources": {"A": {"Properties": {"Size": NaN}}}}',
     "NaN is not a number CloudFormation accepts at line 1"),
    ('{"Resources":\n {"A": {"Properties": {"Size": -Infinity}}}}',
     "-Infinity is not a number CloudFormation accepts at line 2"),
    ('{"Resources":\n\n {"A": {"Properties": {"Size": 1e999}}}}',
     "1e999 is not a number CloudFormation accepts at line 3"),
    ('Resources:\n  A:\n    Properties: {Size: .inf}\n',
     ".inf is not a number CloudFormation accepts at line 3"),
    ('Resources:\n  A: {Size: .NaN}\n', ".NaN is not a number CloudFormation accepts at line 2"),
    ('{"Resources":\n {"A": ' + "7" * 5000 + "}}", "number too long to convert (5000 digits) at line 2"),
    ("Resources:\n  A: " + "7" * 5000 + "\n", "number too long to convert at line 2"),
])
def test_refused_with_key_or_value_and_lines(text, message):
    with pytest.raises(InputError) as raised:
        parse_document(text)
    assert str(raised.value) == message


def test_what_is_not_a_duplicate():
    # YAML merge keys may be overridden by the mapping's own keys; equal keys in sibling mappings
    # and strings that read "NaN" are fine.
    data = parse_document("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 3\n").data
    assert data["m"] == {"x": 3, "y": 2}
    assert parse_document('{"a": {"k": "NaN"}, "b": {"k": "Infinity"}}').data["b"]["k"] == "Infinity"
    assert parse_document('{"a": 1.5e3, "b": -0.0}').data == {"a": 1500.0, "b": -0.0}


def test_duplicate_logical_id_fails_the_file_and_others_still_scan(tmp_path):
    (tmp_path / "dup.json").write_text(DUPLICATE_JSON)
    (tmp_path / "nan.json").write_text('{"Resources": {"A": {"Type": "AWS::SQS::Queue", "X": NaN}}}')
    proc = run_cli("scan", "dup.json", "nan.json", FLAWED_PRIMARY, "-f", "json", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert {e["file"]: e["message"] for e in report["errors"]} == {
        "dup.json": "duplicate key 'Fn' at line 5 (first at line 3)",
        "nan.json": "NaN is not a number CloudFormation accepts at line 1"}
    assert "tapaudit: error: dup.json: duplicate key 'Fn' at line 5 (first at line 3)" in proc.stderr
    assert len(report["templates"]) == 1 and report["findings"]


def test_named_files_that_are_not_templates_are_skipped_with_a_note(tmp_path):
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0"}')
    (tmp_path / "cdk.json").write_text('{"app": "python3 app.py", "context": {}}')
    (tmp_path / "clean.yaml").write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    proc = run_cli("scan", "package.json", "cdk.json", "clean.yaml", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["templates"] == ["clean.yaml"] and report["errors"] == []
    assert [s["file"] for s in report["skipped"]] == ["cdk.json", "package.json"]
    assert all(s["reason"].startswith("not a CloudFormation template") for s in report["skipped"])
    assert proc.stderr.count("tapaudit: note: ") == 2 and "error" not in proc.stderr
    # With findings, the exit code is the findings' one.
    proc = run_cli("scan", "package.json", FLAWED_PRIMARY, "-f", "json", cwd=tmp_path)
    assert proc.returncode == 1
    # Nothing scanned at all stays an error.
    proc = run_cli("scan", "package.json", "cdk.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "tapaudit: note: package.json: skipped" in proc.stderr


def _newer_cdk_out(tmp_path):
    """The reference assembly with what a newer CDK writes beside it when validation plugins run."""
    out = tmp_path / "cdk.out"
    shutil.copytree(FIXTURES / "reference", out)
    (out / "policy-validation-report.json").write_text(json.dumps({
        "title": "Validation Report", "pluginReports": [{
            "summary": {"pluginName": "tapaudit", "status": "failure"},
            "violations": [{"ruleName": "TAP006", "description": "no reserved concurrency",
                            "violatingResources": [{"resourceLogicalId": "Fn",
                                                    "templatePath": "Stack.template.json",
                                                    "locations": ["/Resources/Fn"]}]}]}]}))
    (out / "performance-counters.json").write_text(json.dumps({
        "Resources": {"count": 42}, "synthesis": {"durationMs": 812}}))
    return out


def test_cdk_out_with_validation_plugin_reports(tmp_path):
    out = _newer_cdk_out(tmp_path)
    for target in (out, tmp_path):  # the assembly itself, and a folder walk that finds it
        sources, errors = discover([str(target)])
        assert errors == []
        assert sorted(s.path.name for s in sources) == ["TransactionMigration-Primary.template.json",
                                                        "TransactionMigration-Replica.template.json"]
    (out / "manifest.json").unlink()  # no longer an assembly: a plain folder walk
    sources, _ = discover([str(out)])
    assert not any(s.path.name in ("policy-validation-report.json", "performance-counters.json")
                   for s in sources)
    proc = run_cli("scan", str(out), "-f", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["errors"] == []
