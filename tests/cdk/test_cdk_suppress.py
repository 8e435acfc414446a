"""`tapaudit.cdk.suppress` through a real synth of the reference app, then a scan through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cdk.synth_env import cdk_in_process
from tests.conftest import FIXTURES, ROOT, run_cli


def test_tapaudit_cdk_imports_without_aws_cdk_lib():
    code = ("import sys; sys.modules['aws_cdk'] = None\n"  # makes `import aws_cdk` fail
            "import tapaudit.cdk\nfrom tapaudit.cdk import suppress\n"
            "try:\n    suppress(object(), 'TAP006', reason='a reason long enough')\n"
            "except ImportError:\n    print('needs aws-cdk-lib only when called')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "needs aws-cdk-lib only when called"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    with cdk_in_process():
        return _synthesize_with_suppressions(tmp_path_factory.mktemp("resynth") / "cdk.out")


def _synthesize_with_suppressions(outdir):
    from app import build_app
    from synth import CLI_CONTEXT

    from tapaudit.cdk import suppress

    context = json.loads((ROOT / "reference_stack" / "cdk.json").read_text())["context"]
    context.update(CLI_CONTEXT, variant="flawed")
    app = build_app(context, str(outdir))
    primary = app.node.find_child("TransactionMigration-Primary")
    processor = primary.node.find_child("TransactionProcessor")
    written = suppress(processor, "TAP006", reason="Capacity is capped by the event rule's retries",
                       expires="2099-12-31")
    suppress(processor, "TAP002", reason="Not a health check; the suppression is unused")
    suppress(primary.node.find_child("TransactionEventRule"), "TAP004",
             reason="Events are replayed from the archive", apply_to_children=True)
    with pytest.raises(ValueError, match="at least 10 characters"):
        suppress(processor, "TAP006", reason="short")
    with pytest.raises(ValueError, match="has no CloudFormation resource"):
        suppress(primary, "TAP006", reason="a stack has no default child resource")
    assert len(written) == 1
    app.synth()
    return outdir


@pytest.mark.cdk
def test_suppress_writes_merged_metadata_on_the_resource(synthesized):
    template = json.loads((synthesized / "TransactionMigration-Primary.template.json").read_text())
    metadata = template["Resources"]["TransactionProcessorF6E575F8"]["Metadata"]
    assert metadata["tapaudit"] == {"suppress": [
        {"id": "TAP006", "reason": "Capacity is capped by the event rule's retries", "expires": "2099-12-31"},
        {"id": "TAP002", "reason": "Not a health check; the suppression is unused"}]}
    assert metadata["aws:cdk:path"] == "TransactionMigration-Primary/TransactionProcessor/Resource"


@pytest.mark.cdk
def test_the_scan_honours_what_suppress_wrote(synthesized):
    proc = run_cli("scan", str(synthesized), "--format", "json", "--no-config")
    report = json.loads(proc.stdout)
    suppressed = {(f["rule_id"], f["resource"]): f["suppression"] for f in report["suppressed"]}
    assert suppressed == {
        ("TAP006", "TransactionProcessorF6E575F8"): {
            "reason": "Capacity is capped by the event rule's retries", "expires": "2099-12-31",
            "scope": "resource"},
        ("TAP004", "TransactionEventRule3F6BA060"): {
            "reason": "Events are replayed from the archive", "expires": None, "scope": "resource"}}
    assert sorted(f["rule_id"] for f in report["findings"]) == ["TAP001", "TAP002", "TAP003", "TAP005"]
    assert [(p["resource"], p["rule_id"], p["problem"]) for p in report["suppression_problems"]] == [
        ("TransactionProcessorF6E575F8", "TAP002", "unused")]
    assert proc.returncode == 1  # TAP002 (high) on the health check still fails the gate


@pytest.mark.cdk
def test_a_baseline_of_the_fixtures_matches_a_fresh_synthesis(synthesized, tmp_path):
    baseline = tmp_path / "baseline.json"
    run_cli("scan", str(FIXTURES / "flawed"), "--write-baseline", str(baseline), "--no-config")
    proc = run_cli("scan", str(synthesized), "--baseline", str(baseline), "--format", "json",
                   "--no-config")
    report = json.loads(proc.stdout)
    assert report["findings"] == [] and len(report["baselined"]) == 4
    assert report["summary"]["fixed"] == 0  # the two suppressed findings still exist
    assert proc.returncode == 0


def test_suppress_is_the_function_however_it_is_imported():
    proc = subprocess.run([sys.executable, "-c",
                           "from tapaudit.cdk.metadata import suppress as f\n"
                           "from tapaudit.cdk import suppress\nassert suppress is f and callable(suppress)"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
