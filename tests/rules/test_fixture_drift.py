"""Re-synthesize the reference app and the rules' CDK fixtures; any drift from the committed copies fails.

Needs aws-cdk-lib (the `cdk` extra) and Node; .ci/run installs both.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT, require_command, require_module

pytestmark = pytest.mark.cdk
ENV = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


def _diff(left: Path, right: Path) -> list[str]:
    comparison = filecmp.dircmp(left, right)
    problems = [f"only in one: {n}" for n in comparison.left_only + comparison.right_only]
    problems += [f"differs: {n}" for n in comparison.diff_files]
    for name, sub in comparison.subdirs.items():
        problems += [f"{name}/{p}" for p in _diff(Path(sub.left), Path(sub.right))]
    return problems


@pytest.fixture(scope="module")
def cdk_ready():
    require_module("aws_cdk")
    require_command("node")


def test_reference_assemblies_do_not_drift(cdk_ready, tmp_path):
    subprocess.run([sys.executable, str(ROOT / "reference_stack" / "synth.py"), "--out",
                    str(tmp_path)], check=True, env=ENV, capture_output=True, timeout=600)
    for variant in ("reference", "flawed"):
        assert _diff(FIXTURES / variant, tmp_path / variant) == []


def test_rule_fixtures_do_not_drift(cdk_ready, tmp_path):
    # CDK's own validation (three quarters of the synth's time) writes no file these fixtures keep.
    subprocess.run([sys.executable, str(ROOT / "reference_stack" / "rule_fixtures.py"),
                    str(tmp_path)], check=True, env={**ENV, "CDK_VALIDATION": "false"},
                   capture_output=True, timeout=600)
    synthesized = sorted(tmp_path.rglob("*.json"))
    assert len(synthesized) >= 20
    for path in synthesized:
        committed = FIXTURES / path.relative_to(tmp_path)
        assert committed.read_text() == path.read_text(), f"{committed} drifted"


def test_flawed_variant_warns_that_cdk_ignores_its_tls_fix():
    """CDK itself records that minimumProtocolVersion without a certificate does nothing."""
    report = (FIXTURES / "flawed" / "validation-report.json").read_text()
    assert "minimumProtocolVersionWithoutCertificate" in report
    assert '"pluginReports": []' in (FIXTURES / "reference" / "validation-report.json").read_text()
