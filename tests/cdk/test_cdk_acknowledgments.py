"""One app, one verdict (issue 16): a CDK acknowledgment (`Validations.of(scope).acknowledge`, id
`tapaudit::RULE`) recorded in the cloud assembly is honoured by `tapaudit scan cdk.out` as by
`cdk synth` with the plugin; one CDK records nowhere (on the App) is named by the plugin at synth.
End to end with a real synth of the reference app."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from tests.cdk.test_cdk_validator import DRIVER, ENV, PRIMARY
from tests.conftest import SARIF_SCHEMA, require_command, require_module, run_cli

pytestmark = pytest.mark.cdk
REASON = "accepted for the test of the validation plugin"


@pytest.fixture(scope="module")
def acknowledged(tmp_path_factory):
    """The flawed app acknowledged on a construct (TAP002, HealthCheck), on the primary stack
    (TAP004) and on the App (TAP001): (synth process, tapaudit's validation report, cdk.out)."""
    require_module("aws_cdk")
    require_command("node")
    work = tmp_path_factory.mktemp("acknowledged")
    outdir = work / "cdk.out"
    proc = subprocess.run([sys.executable, str(DRIVER), "flawed", str(outdir),
                           "--acknowledge", "TAP002=HealthCheck", "--acknowledge", "TAP004=@stack",
                           "--acknowledge", "TAP001=@app"],
                          env=ENV, cwd=work, capture_output=True, text=True, timeout=600)
    report = json.loads((outdir / "validation-report.json").read_text())
    (ours,) = [r for r in report["pluginReports"] if r["pluginName"] == "tapaudit"]
    return proc, ours, outdir


def test_the_synth_passes_and_names_the_acknowledgment_it_cannot_record(acknowledged):
    proc, report, _ = acknowledged
    assert proc.returncode == 0, proc.stderr
    note = ("tapaudit: note: the acknowledgment of tapaudit::TAP001 on the App holds only inside cdk "
            "synth: CDK records an acknowledgment above a stack nowhere in the cloud assembly")
    assert note in proc.stderr and 'tapaudit.cdk.suppress(construct, "TAP001", reason=...)' in proc.stderr
    assert "tapaudit::TAP002" not in proc.stderr.split(note)[1].split("\n")[0]  # only the App's
    assert "TAP001 on the App" in report["metadata"]["unrecorded-acknowledgments"]
    # The plugin honours the recorded ones itself (tapaudit suppressions); CDK, the App's.
    assert report["metadata"]["suppressed"] == "2"
    assert [v["acknowledgedId"] for v in report.get("suppressedViolations", [])] == ["tapaudit::TAP001"]
    assert {v["ruleName"] for v in report["violations"]} == {"TAP003", "TAP005", "TAP006"}


def test_the_scan_of_the_assembly_gives_the_same_verdict(acknowledged):
    _, _, outdir = acknowledged
    proc = run_cli("scan", str(outdir), "--format", "json")
    assert proc.returncode == 0, proc.stderr  # the HIGH TAP002 finding is acknowledged
    report = json.loads(proc.stdout)
    suppressed = {f["rule_id"]: f for f in report["suppressed"]}
    assert sorted(suppressed) == ["TAP002", "TAP004"]
    assert suppressed["TAP002"]["suppression"] == {
        "reason": REASON, "expires": None, "scope": "cdk-acknowledgment",
        "acknowledged_at": f"{PRIMARY}/HealthCheck"}
    assert suppressed["TAP004"]["suppression"]["acknowledged_at"] == PRIMARY  # the whole stack
    # Not recorded in the assembly, so not honoured here: the plugin said so at synth.
    assert "TAP001" in {f["rule_id"] for f in report["findings"]}
    console = run_cli("scan", str(outdir), "--show-suppressed")
    unwrapped = " ".join(console.stdout.split())  # the console wraps at 100 columns when piped
    assert f"suppressed (CDK acknowledgment at {PRIMARY}/HealthCheck): {REASON}" in unwrapped
    # The templates named one by one (as the plugin and the hook name them): the same.
    templates = sorted(str(p) for p in outdir.glob("*.template.json"))
    named = json.loads(run_cli("scan", *templates, "--format", "json").stdout)
    assert sorted(f["rule_id"] for f in named["suppressed"]) == ["TAP002", "TAP004"]
    sarif = json.loads(run_cli("scan", str(outdir), "--format", "sarif").stdout)
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    acknowledgment = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "TAP002")
    assert acknowledgment["suppressions"] == [{
        "kind": "inSource", "justification": REASON,
        "properties": {"cdkAcknowledgedAt": f"{PRIMARY}/HealthCheck"}}]
