"""Reporters take their stream as an argument, so their output is tested directly."""

from __future__ import annotations

import io

from msgspec.structs import asdict

from tapaudit.findings import Finding, ScanError, ScanResult, Severity
from tapaudit.reporting import console, json_report, sarif


def _finding(rule: str, line: int, severity: Severity, unknown: bool = False, **extra) -> Finding:
    return Finding(rule_id=rule, severity=severity, title=f"title {rule}", message=f"message {rule}",
                   file="stacks/app.yaml", line=line, column=3, resource=f"Res{line}",
                   resource_type="AWS::Lambda::Function", cdk_path=extra.get("cdk_path"),
                   path=("Resources", f"Res{line}"), checks=("c",), unknown=unknown)


def _result() -> ScanResult:
    result = ScanResult(templates=["stacks/app.yaml"],
                        findings=[_finding("TAP006", 40, Severity.MEDIUM),
                                  _finding("TAP002", 12, Severity.HIGH, cdk_path="App/Health/Resource")],
                        unknown=[_finding("TAP002", 70, Severity.HIGH, unknown=True)],
                        errors=[ScanError("broken.yaml", "invalid YAML: x")])
    result.sort()
    return result


def test_console_report():
    stream = io.StringIO()
    console.write(_result(), stream)
    lines = stream.getvalue().splitlines()
    # Most severe first, then by file and line: the high finding at line 12 before the medium one.
    assert lines[0].startswith("HIGH     TAP002 stacks/app.yaml:12:3 Res12")
    assert lines[1].strip() == "construct: App/Health/Resource"
    assert lines.index("") < next(n for n, line in enumerate(lines) if line.startswith("MEDIUM "))
    assert "UNKNOWN  TAP002 stacks/app.yaml:70:3 Res70" in stream.getvalue()
    assert "ERROR broken.yaml: invalid YAML: x" in stream.getvalue()
    assert lines[-1] == ("2 findings (1 high, 1 medium) in 1 template, 1 unverifiable, "
                         "1 input not scanned")


def test_clean_console_report():
    stream = io.StringIO()
    console.write(ScanResult(templates=["a.json", "b.json"]), stream)
    assert stream.getvalue() == "0 findings in 2 templates\n"


def test_json_report_is_ordered_and_counted():
    report = json_report.as_dict(_result())
    assert [f["line"] for f in report["findings"]] == [12, 40]
    assert report["summary"] == {"critical": 0, "high": 1, "medium": 1, "low": 0, "suppressed": 0,
                                 "baselined": 0, "unknown": 1, "fixed": 0}
    assert report["unknown"][0]["fingerprint"] != report["findings"][0]["fingerprint"]


def test_fingerprints_ignore_lines_and_messages():
    a = _finding("TAP006", 40, Severity.MEDIUM)
    b = Finding(**{**asdict(a), "line": 99, "message": "reworded", "fingerprint": ""})
    assert a.fingerprint == b.fingerprint


def test_sarif_results_reference_their_rules(rules):
    log = sarif.as_dict(_result(), rules)
    results = log["runs"][0]["results"]
    driver_rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [driver_rules[r["ruleIndex"]]["id"] for r in results] == ["TAP002", "TAP006", "TAP002"]
    assert results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == \
        "App/Health/Resource"
    assert results[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == \
        "Resources/Res40"
