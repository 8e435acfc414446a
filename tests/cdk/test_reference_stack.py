"""The synthesized reference app passes every rule; its flawed twin shows each failure exactly once."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import FIXTURES, run_cli

EXPECTED_FLAWED = {
    # rule: (severity, resource, failing checks)
    "TAP001": ("medium", "TransactionsBucketFCA6E1EA", ["replication-tag-gate"]),
    "TAP002": ("high", "HealthCheckA1C381C7", ["put-metric-data", "query-status-index"]),
    "TAP003": ("medium", "TransactionTable34F3B683", ["status-timestamp-gsi"]),
    "TAP004": ("medium", "TransactionEventRule3F6BA060", ["target-dead-letter-queue"]),
    "TAP005": ("low", "SiteDistribution3FF9535D", ["security-headers", "http3", "minimum-tls"]),
    "TAP006": ("medium", "TransactionProcessorF6E575F8", ["reserved-concurrency"]),
}


def _scan(variant: str, *extra: str):
    proc = run_cli("scan", str(FIXTURES / variant), "--format", "json", *extra)
    return proc, json.loads(proc.stdout)


def test_reference_assembly_is_clean():
    proc, report = _scan("reference")
    assert proc.returncode == 0, proc.stderr
    assert report["findings"] == [] and report["unknown"] == [] and report["errors"] == []
    assert len(report["templates"]) == 2


def test_flawed_assembly_shows_each_failure_once():
    proc, report = _scan("flawed")
    assert proc.returncode == 1
    got = {f["rule_id"]: (f["severity"], f["resource"], f["checks"]) for f in report["findings"]}
    assert got == EXPECTED_FLAWED
    assert len(report["findings"]) == 6
    assert report["summary"] == {"critical": 0, "high": 1, "medium": 4, "low": 1, "suppressed": 0,
                                 "baselined": 0, "unknown": 0, "fixed": 0}
    assert report["unknown"] == [] and report["errors"] == []


@pytest.mark.parametrize("rule_id", sorted(EXPECTED_FLAWED))
def test_flawed_findings_carry_location_construct_path_and_fix(rule_id):
    _, report = _scan("flawed")
    finding = next(f for f in report["findings"] if f["rule_id"] == rule_id)
    assert finding["file"].endswith("TransactionMigration-Primary.template.json")
    assert finding["line"] > 1 and finding["column"] >= 1
    assert finding["cdk_path"].startswith("TransactionMigration-Primary/")
    assert finding["path"][:2] == ["Resources", finding["resource"]]
    # One short sentence on the resource; the impact and the fix (CDK TypeScript here) apart.
    assert finding["message"].startswith(finding["resource"] + ": ")
    assert len(finding["message"]) < 200 and "Fix:" not in finding["message"]
    assert finding["why"] and "migration" not in finding["why"] and "audits" not in finding["why"]
    assert re.search(r"[a-z][A-Z]\w*[(:]", finding["fix"])  # camelCase calls or props
    assert not re.search(r"\(self\b|\b[a-z]+_[a-z_]+[(=]", finding["fix"])  # nothing Pythonic
    template = (FIXTURES / "flawed" / "TransactionMigration-Primary.template.json").read_text()
    # The line holds the deepest element of the finding's path that the template has.
    line = template.splitlines()[finding["line"] - 1]
    assert any(f'"{element}"' in line for element in finding["path"] if isinstance(element, str)) \
        or line.strip() == "{"


def test_flawed_passes_under_a_lower_gate_only_when_asked():
    assert run_cli("scan", str(FIXTURES / "flawed"), "--fail-on", "none").returncode == 0
    assert run_cli("scan", str(FIXTURES / "flawed"), "--fail-on", "critical").returncode == 0
    assert run_cli("scan", str(FIXTURES / "flawed"), "--fail-on", "low").returncode == 1
