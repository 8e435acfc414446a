"""tapaudit.cdk.TapauditValidator: a real CDK policy validation plugin, run inside real synths of
the reference app, and called directly on templates for the gate's details."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cdk.test_reference_stack import EXPECTED_FLAWED
from tests.conftest import FIXTURES, ROOT, require_command, require_module, run_cli

pytestmark = pytest.mark.cdk
DRIVER = ROOT / "tests" / "cdk" / "cdk_app_with_tapaudit.py"
PRIMARY = "TransactionMigration-Primary"
# CDK's own CloudFormation validation is not under test here: it adds ~15 s to every synth.
ENV = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_VALIDATION": "false",
       "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


@pytest.fixture(scope="module")
def cdk_ready():
    require_module("aws_cdk")
    require_command("node")


def synth(tmp_path: Path, variant: str, *options: str) -> tuple[subprocess.CompletedProcess, dict]:
    """Synthesize with the plugin; the exit code and tapaudit's part of validation-report.json
    (CDK leaves out a plugin that passed without a violation: then `{}`)."""
    outdir = tmp_path / f"{variant}.out"
    proc = subprocess.run([sys.executable, str(DRIVER), variant, str(outdir), *options], env=ENV,
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    report = json.loads((outdir / "validation-report.json").read_text())
    ours = [r for r in report["pluginReports"] if r["pluginName"] == "tapaudit"]
    assert len(ours) <= 1, report
    return proc, ours[0] if ours else {}


def test_importing_tapaudit_never_needs_aws_cdk():
    blocked = ("import sys; sys.modules['aws_cdk'] = None; sys.modules['jsii'] = None\n"
               "import tapaudit, tapaudit.cdk, tapaudit.cli, tapaudit.pipeline\n"
               "from tapaudit.pipeline import run\n"
               f"assert len(run([{str(FIXTURES / 'flawed')!r}]).result.findings) == 6\n"
               "try:\n    tapaudit.cdk.TapauditValidator\nexcept ImportError as exc:\n"
               "    print('ImportError', exc)\n")
    proc = subprocess.run([sys.executable, "-c", blocked], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ImportError")  # only the plugin itself needs aws-cdk-lib


def test_flawed_synth_fails_with_the_six_findings(cdk_ready, tmp_path):
    proc, report = synth(tmp_path, "flawed")
    assert proc.returncode == 1, proc.stderr
    assert "ValidationFailed" in proc.stderr
    assert "Acknowledge with 'tapaudit::TAP002'" in proc.stderr  # CDK printed the report
    assert report["conclusion"] == "failure"
    assert report["metadata"]["gate"] == "exit 1: 1 high finding at or above --fail-on high"
    violations = {v["ruleName"]: v for v in report["violations"]}
    assert sorted(violations) == sorted(EXPECTED_FLAWED) and len(report["violations"]) == 6
    for rule_id, (severity, logical_id, checks) in EXPECTED_FLAWED.items():
        violation = violations[rule_id]
        # CDK's severity carries the gate (--fail-on high); tapaudit's own is in the metadata.
        assert violation["severity"] == ("error" if severity == "high" else "warning")
        assert violation["ruleMetadata"]["severity"] == severity
        assert violation["ruleMetadata"]["checks"] == ", ".join(checks)
        assert violation["description"].startswith(f"[{severity}] ")
        assert violation.get("suggestedFix")
        (construct,) = violation["violatingConstructs"]
        assert construct["constructPath"].startswith(f"{PRIMARY}/")
        resource = construct["cloudFormationResource"]
        assert resource["templatePath"] == f"{PRIMARY}.template.json"
        assert resource["logicalId"] == logical_id
        assert all(p.startswith("Properties.") for p in resource.get("propertyPaths", []))
    assert "propertyPaths" not in violations["TAP002"]["violatingConstructs"][0]["cloudFormationResource"]
    # The app is Python, so the fixes are too (cdk_language is not set in a configuration file).
    assert "reserved_concurrent_executions" in violations["TAP006"]["suggestedFix"]
    tap006 = violations["TAP006"]["violatingConstructs"][0]
    assert tap006["cloudFormationResource"]["propertyPaths"] == ["Properties.ReservedConcurrentExecutions"]
    assert tap006["constructPath"] == f"{PRIMARY}/TransactionProcessor/Resource"


def test_reference_synth_passes(cdk_ready, tmp_path):
    proc, report = synth(tmp_path, "reference")
    assert proc.returncode == 0, proc.stderr
    assert report == {}  # no violation at all, not even below the gate


def test_cdk_acknowledgment_takes_a_finding_out_of_the_gate(cdk_ready, tmp_path):
    proc, report = synth(tmp_path, "flawed", "--acknowledge", "TAP002=HealthCheck")
    assert proc.returncode == 0, proc.stderr  # the rest is below --fail-on high
    assert report["conclusion"] == "success"
    assert "TAP002" not in {v["ruleName"] for v in report["violations"]}
    assert len(report["violations"]) == 5


def test_the_project_configuration_file_is_used(cdk_ready, tmp_path):
    # The app runs in tmp_path: the plugin reads its .tapaudit.toml as the CLI would (issue 8).
    (tmp_path / ".tapaudit.toml").write_text('skip_rules = ["TAP002"]\ncdk_language = "typescript"\n')
    proc, report = synth(tmp_path, "flawed")
    assert proc.returncode == 0, proc.stderr
    violations = {v["ruleName"]: v for v in report["violations"]}
    assert sorted(violations) == ["TAP001", "TAP003", "TAP004", "TAP005", "TAP006"]
    assert "reservedConcurrentExecutions" in violations["TAP006"]["suggestedFix"]


def test_tapaudit_metadata_suppression_is_honoured(cdk_ready, tmp_path):
    proc, report = synth(tmp_path, "flawed", "--suppress", "TAP002=HealthCheck")
    assert proc.returncode == 0, proc.stderr
    assert report["conclusion"] == "success"
    assert report["metadata"]["suppressed"] == "1"
    assert "TAP002" not in {v["ruleName"] for v in report["violations"]}


class _Context:
    """What CDK hands a plugin, reduced to what tapaudit reads."""

    def __init__(self, *paths: Path):
        self.template_paths = [str(p) for p in paths]


def _validate(*paths: Path, **options):
    from tapaudit.cdk import TapauditValidator

    return TapauditValidator(**options).validate(_Context(*paths))


@pytest.mark.parametrize(("fail_on", "errors", "success"), [
    ("high", {"TAP002"}, False),
    ("medium", {"TAP001", "TAP002", "TAP003", "TAP004", "TAP006"}, False),
    ("none", set(), True),
])
def test_the_gate_decides_success_and_which_violations_are_errors(cdk_ready, fail_on, errors, success):
    report = _validate(*sorted((FIXTURES / "flawed").glob("*.template.json")), fail_on=fail_on)
    assert report.success is success
    assert {v.rule_name for v in report.violations if v.severity == "error"} == errors
    assert len(report.violations) == 6


def test_plugin_properties_and_configuration(cdk_ready):
    from tapaudit.cdk import TapauditValidator
    from tapaudit.config import Config

    config = Config(skip_rules=["TAP005"], cdk_language="typescript", origins={"cdk_language": "a file"})
    plugin = TapauditValidator(config)
    assert (plugin.name, plugin.rule_ids) == ("tapaudit", ["TAP001", "TAP002", "TAP003", "TAP004", "TAP006"])
    report = plugin.validate(_Context(FIXTURES / "flawed" / f"{PRIMARY}.template.json"))
    violations = {v.rule_name: v for v in report.violations}
    assert "TAP005" not in violations
    assert "reservedConcurrentExecutions" in violations["TAP006"].fix  # the configured language


def test_unknowns_are_info_and_unreadable_templates_fail(cdk_ready, tmp_path):
    report = _validate(FIXTURES / "TAP002" / "yaml-unknown-external-role.yaml", fail_on="high")
    assert report.success is True  # its TAP003 finding is medium, below the gate
    found = {v.rule_name: v for v in report.violations}
    assert found["TAP002"].severity == "info" and found["TAP002"].description.startswith("[unknown] ")
    assert found["TAP003"].severity == "warning"
    broken = tmp_path / "Broken.template.json"
    broken.write_text('{"Resources": {')
    report = _validate(broken)
    assert report.success is False
    assert [(v.rule_name, v.severity) for v in report.violations] == [("scan-error", "error")]


NESTED_APP = """
import sys
import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from tapaudit.cdk import TapauditValidator

app = cdk.App(outdir=sys.argv[1])  # a plain `python app.py`: no asset or construct-path metadata
inner = cdk.NestedStack(cdk.Stack(app, "Outer"), "Inner")
lambda_.Function(inner, "Worker", runtime=lambda_.Runtime.NODEJS_22_X, handler="index.handler",
                 code=lambda_.Code.from_inline("exports.handler = async () => {};"))
cdk.Validations.of(app).add_plugins(TapauditValidator(fail_on="medium"))
app.synth()
"""


def test_nested_stacks_are_validated_and_scanned(cdk_ready, tmp_path):
    out = tmp_path / "cdk.out"
    proc = subprocess.run([sys.executable, "-c", NESTED_APP, str(out)], env=ENV, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "ValidationFailed" in proc.stderr
    (ours,) = [r for r in json.loads((out / "validation-report.json").read_text())["pluginReports"]
               if r["pluginName"] == "tapaudit"]
    (violation,) = ours["violations"]
    assert (violation["ruleName"], violation["severity"]) == ("TAP006", "error")
    (construct,) = violation["violatingConstructs"]
    assert construct["constructPath"] == "Outer/Inner/Worker/Resource"  # CDK finds it by logical id
    assert construct["cloudFormationResource"]["templatePath"].endswith(".nested.template.json")
    # The command line finds the nested template through the stack's asset manifest too.
    scanned = run_cli("scan", str(out), "-f", "json")
    report = json.loads(scanned.stdout)
    assert len(report["templates"]) == 2
    assert [f["rule_id"] for f in report["findings"]] == ["TAP006"]
