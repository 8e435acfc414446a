"""In-source suppressions end to end: JSON, SARIF, console, stderr and the gate."""

from __future__ import annotations

import json

import pytest

from tests.cli.inprocess import run as run_cli
from tests.conftest import FIXTURES

TRIAGE = FIXTURES / "triage"
CASES = str(TRIAGE / "suppressions.yaml")
TEMPLATE_LEVEL = str(TRIAGE / "template-level.yaml")


def scan_json(*args: str):
    proc = run_cli("scan", *args, "--format", "json", "--no-config")
    return proc, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def cases():
    return scan_json(CASES, TEMPLATE_LEVEL)


def by_resource(findings):
    return {f["resource"]: f for f in findings}


def test_valid_suppressions_leave_the_gate_and_stay_reported(cases):
    _, report = cases
    suppressed = by_resource(report["suppressed"])
    assert set(suppressed) == {"NightlyReport", "LowerCaseId", "DeployTimeValue", "ToolA", "ToolB"}
    assert suppressed["NightlyReport"]["suppression"] == {
        "reason": "Runs once a night; throttling it is harmless", "expires": "2099-06-30",
        "scope": "resource"}
    # same shape as findings, plus the suppression
    assert set(suppressed["NightlyReport"]) == set(report["findings"][0]) | {"suppression"}
    assert suppressed["ToolA"]["suppression"]["scope"] == "template"
    assert suppressed["ToolB"]["suppression"]["scope"] == "resource"  # its own one wins
    assert suppressed["DeployTimeValue"]["checks"] == ["reserved-concurrency"]
    assert report["unknown"] == []  # the unknown was suppressed too
    assert not set(suppressed) & set(by_resource(report["findings"]))


def test_every_problem_is_reported_and_suppresses_nothing(cases):
    _, report = cases
    problems = {(p["resource"], p["rule_id"], p["problem"]) for p in report["suppression_problems"]}
    assert problems == {
        ("ShortReason", "TAP006", "no-reason"),
        ("NoReason", "TAP006", "no-reason"),
        ("WrongRule", "TAP060", "unknown-rule"),
        ("Expired", "TAP006", "expired"),
        ("BadDate", "TAP006", "malformed"),
        ("NotAList", None, "malformed"),
        ("NullBlock", None, "malformed"),
        ("ExtraKey", "TAP006", "malformed"),
        ("AlreadyFixed", "TAP006", "unused"),
        (None, "TAP003", "unused"),  # template level: no table in that template
    }
    assert all(p["file"].endswith(".yaml") for p in report["suppression_problems"])
    still_failing = set(by_resource(report["findings"]))
    assert still_failing == {"ShortReason", "NoReason", "WrongRule", "Expired", "BadDate", "NotAList",
                             "ExtraKey", "Plain", "NullBlock"}


def test_an_expired_suppression_says_since_when(cases):
    _, report = cases
    assert "expired on 2020-01-31" in by_resource(report["findings"])["Expired"]["message"]


def test_summary_counts(cases):
    proc, report = cases
    assert report["summary"] == {"critical": 0, "high": 0, "medium": 9, "low": 0, "suppressed": 5,
                                 "baselined": 0, "unknown": 0, "fixed": 0}
    assert proc.returncode == 0  # medium findings do not reach the default gate


def test_problems_on_stderr_one_line_each(cases):
    proc, report = cases
    lines = [line for line in proc.stderr.splitlines() if "suppression problem" in line]
    assert len(lines) == len(report["suppression_problems"]) == 10
    assert any("suppressions.yaml: Expired: TAP006: expired: expired on 2020-01-31" in line
               for line in lines)


def test_suppressed_findings_do_not_count_for_the_gate(tmp_path):
    # Only the suppressed functions: the gate at medium passes.
    template = (TRIAGE / "template-level.yaml").read_text().replace(
        "      - id: TAP003\n        reason: This stack has no tables, so this one is unused\n", "")
    path = tmp_path / "t.yaml"
    path.write_text(template)
    assert run_cli("scan", str(path), "--fail-on", "medium", "--no-config").returncode == 0
    assert run_cli("scan", str(path), "--fail-on", "medium", "--no-config",
                   "--strict-suppressions").returncode == 0  # no problem, strict changes nothing


def test_strict_suppressions_fail_the_gate(tmp_path):
    assert run_cli("scan", TEMPLATE_LEVEL, "--no-config").returncode == 0
    proc = run_cli("scan", TEMPLATE_LEVEL, "--no-config", "--strict-suppressions")
    assert proc.returncode == 1
    config = tmp_path / ".tapaudit.toml"
    config.write_text("strict_suppressions = true\n")
    assert run_cli("scan", TEMPLATE_LEVEL, "--config", str(config)).returncode == 1


def test_console_summary_and_show_suppressed(cases):
    plain = run_cli("scan", CASES, "--no-config")
    assert plain.stdout.rstrip().splitlines()[-2].startswith("9 findings (9 medium) in 1 template, "
                                                             "3 suppressed")
    assert "Runs once a night" not in plain.stdout
    shown = run_cli("scan", CASES, "--no-config", "--show-suppressed")
    assert "Suppressed (3)" in shown.stdout
    assert "suppressed (resource, until 2099-06-30): Runs once a night; throttling it is harmless" \
        in shown.stdout


def test_sarif_marks_suppressed_results_in_source():
    proc = run_cli("scan", CASES, "--no-config", "--format", "sarif")
    results = json.loads(proc.stdout)["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 3
    nightly = next(r for r in suppressed
                   if r["locations"][0]["logicalLocations"][0]["name"] == "NightlyReport")
    assert nightly["suppressions"] == [{"kind": "inSource",
                                        "justification": "Runs once a night; throttling it is harmless"}]
    assert all("baselineState" not in r for r in results)  # no baseline in use


def test_suppressing_a_rule_that_did_not_run_is_not_unused():
    _, report = scan_json(TEMPLATE_LEVEL, "--skip-rule", "TAP003")
    assert report["suppression_problems"] == []
    assert len(report["suppressed"]) == 2


def test_suppressions_in_a_cdk_json_template(tmp_path):
    """JSON templates carry the same metadata (what tapaudit.cdk.suppress writes)."""
    source = FIXTURES / "flawed" / "TransactionMigration-Primary.template.json"
    data = json.loads(source.read_text())
    processor = next(k for k in data["Resources"] if k.startswith("TransactionProcessor")
                     and data["Resources"][k]["Type"] == "AWS::Lambda::Function")
    data["Resources"][processor]["Metadata"]["tapaudit"] = {
        "suppress": [{"id": "TAP006", "reason": "Capacity is capped by the event rule"}]}
    path = tmp_path / "primary.template.json"
    path.write_text(json.dumps(data, indent=1))
    _, report = scan_json(str(path))
    assert [(f["rule_id"], f["resource"]) for f in report["suppressed"]] == [("TAP006", processor)]
    assert "TAP006" not in {f["rule_id"] for f in report["findings"]}


def test_suppressions_are_applied_in_the_worker_processes(tmp_path):
    for i in range(8):  # 8 templates or more fan out to a process pool
        (tmp_path / f"s{i}.yaml").write_text((TRIAGE / "suppressions.yaml").read_text())
    _, report = scan_json(str(tmp_path), "--jobs", "2")
    assert report["summary"]["suppressed"] == 8 * 3
    assert len(report["suppression_problems"]) == 8 * 9


def test_a_template_waiver_is_used_while_any_resource_still_needs_it(tmp_path):
    """A's own waiver takes A's finding; the template-level one is still the reason for the rule."""
    template = tmp_path / "t.yaml"
    template.write_text("""\
Metadata:
  tapaudit:
    suppress: [{id: TAP006, reason: Nightly batch functions are not throttled}]
Resources:
  A:
    Type: AWS::Lambda::Function
    Metadata:
      tapaudit:
        suppress: [{id: TAP006, reason: Runs once a night; throttling is harmless}]
    Properties: {Runtime: nodejs22.x}
  B:
    Type: AWS::Lambda::Function
    Properties: {Runtime: nodejs22.x, ReservedConcurrentExecutions: 5}
""")
    proc = run_cli("scan", str(template), "--no-config", "--strict-suppressions", "-f", "json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["suppression_problems"] == []
    assert [f["suppression"]["scope"] for f in report["suppressed"]] == ["resource"]


def test_suppressions_inside_a_foreach_fragment_apply_to_what_the_loop_generates(tmp_path):
    template = tmp_path / "loop.yaml"
    template.write_text("""\
Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Fns:
    - Name
    - [A, B]
    - Fn${Name}:
        Type: AWS::Lambda::Function
        Metadata:
          tapaudit:
            suppress: [{id: TAP006, reason: Batch jobs that run once a night}]
        Properties: {Runtime: nodejs22.x}
""")
    report = json.loads(run_cli("scan", str(template), "--no-config", "-f", "json").stdout)
    assert report["findings"] == [] and report["suppression_problems"] == []
    assert sorted(f["resource"] for f in report["suppressed"]) == ["FnA", "FnB"]
