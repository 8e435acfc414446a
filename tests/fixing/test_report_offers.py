"""Fix offers in the reports: JSON `fixable` and SARIF `fixes`, checked against `tapaudit fix`.

The oracles: `tapaudit fix`'s own account (which findings it fixes), the pinned `--write` results
of fixtures/autofix/expected, and the official SARIF 2.1.0 schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from tapaudit.fixing.sarif import offset_of
from tests.cli.inprocess import run as run_cli
from tests.conftest import FIXTURES, SARIF_SCHEMA

AUTOFIX = FIXTURES / "autofix"
WITH_EXPECTED = sorted(p for p in AUTOFIX.iterdir()
                       if p.is_file() and (AUTOFIX / "expected" / p.name).exists())


def reports(*args: str, cwd: Path) -> tuple[dict, dict, int]:
    """One scan, its JSON and SARIF reports (both to files), and its exit code."""
    done = run_cli("scan", "--no-config", "-f", "json", "-o", "scan.json", "--report", "sarif=scan.sarif",
                   *args, cwd=cwd)
    return (json.loads((cwd / "scan.json").read_text()), json.loads((cwd / "scan.sarif").read_text()),
            done.returncode)


def apply_sarif(text: str, results: list[dict]) -> str:
    """Every replacement of every result's `fixes`, applied to `text` (regions of the original)."""
    edits = []
    for result in results:
        for fix in result.get("fixes", []):
            for change in fix["artifactChanges"]:
                for replacement in change["replacements"]:
                    region = replacement["deletedRegion"]
                    edits.append((offset_of(text, region["startLine"], region["startColumn"]),
                                  offset_of(text, region["endLine"], region["endColumn"]),
                                  replacement["insertedContent"]["text"]))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def validate(log: dict) -> None:
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)


def fixed_by_fix_command(name: str, cwd: Path) -> set[tuple[str, str]]:
    """(rule, resource) of each finding `tapaudit fix` says it would fix, from its own account."""
    done = run_cli("fix", "--no-config", name, cwd=cwd)
    return {tuple(line.split()[1:3]) for line in done.stderr.splitlines()  # type: ignore[misc]
            if line.startswith("  fixed ")}


@pytest.mark.parametrize("source", WITH_EXPECTED, ids=lambda p: p.name)
def test_flags_and_replacements_are_what_fix_write_does(tmp_path, source):
    shutil.copyfile(source, tmp_path / source.name)
    report, log, _ = reports(source.name, cwd=tmp_path)
    validate(log)
    findings = report["findings"]
    assert any(f["fixable"] for f in findings)
    assert all(isinstance(f["fixable"], bool) for f in [*findings, *report["unknown"]])
    assert {(f["rule_id"], f["resource"]) for f in findings if f["fixable"]} == \
        fixed_by_fix_command(source.name, tmp_path)
    results = log["runs"][0]["results"]
    fixable = {f["fingerprint"] for f in findings if f["fixable"]}
    assert all(r["partialFingerprints"]["tapauditFinding/v1"] in fixable for r in results if "fixes" in r)
    for result in results:
        for fix in result.get("fixes", []):
            assert all(c["artifactLocation"] == result["locations"][0]["physicalLocation"]["artifactLocation"]
                       for c in fix["artifactChanges"])
    raw = source.read_bytes()
    bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
    original = raw[len(bom):].decode()
    expected = (AUTOFIX / "expected" / source.name).read_bytes()
    assert bom + apply_sarif(original, results).encode() == expected


def test_a_finding_fix_leaves_is_not_fixable_and_carries_no_fixes(tmp_path):
    shutil.copyfile(FIXTURES / "TAP002" / "yaml-fail-explicit-deny.yaml", tmp_path / "t.yaml")
    report, log, code = reports("t.yaml", cwd=tmp_path)
    (left,) = [f for f in report["findings"] if f["rule_id"] == "TAP002" and f["resource"] == "Monitor"]
    assert code == 1 and left["fixable"] is False
    assert ("TAP002", "Monitor") not in fixed_by_fix_command("t.yaml", tmp_path)
    (result,) = [r for r in log["runs"][0]["results"]
                 if r["partialFingerprints"]["tapauditFinding/v1"] == left["fingerprint"]]
    assert "fixes" not in result


@pytest.mark.parametrize("target", ["flawed", "autofix/cdk-metadata-refused.yaml"])
def test_cdk_output_is_never_fixable(tmp_path, target):
    report, log, _ = reports(str(FIXTURES / target), cwd=tmp_path)
    validate(log)
    assert report["findings"]
    assert not any(f["fixable"] for f in [*report["findings"], *report["unknown"]])
    assert not any("fixes" in r for r in log["runs"][0]["results"])


def test_a_cdk_assembly_is_passed_over_unread(monkeypatch):
    """cdk.out costs the fixer nothing: no file of it is read or parsed for fixing."""
    from tapaudit import pipeline
    from tapaudit.config import Config
    from tapaudit.fixing import batch

    def never(*_args, **_kwargs):
        raise AssertionError("a CDK assembly was handed to the fixer")

    monkeypatch.setattr(batch, "fix_source", never)
    monkeypatch.setattr(batch, "read_exact", never)
    outcome = pipeline.run([str(FIXTURES / "flawed")], Config(), offer_fixes=True)
    assert outcome.result.findings and outcome.result.fix_offers == {}


def test_a_console_scan_plans_no_fixes(monkeypatch):
    from tapaudit import pipeline
    from tapaudit.config import Config

    outcome = pipeline.run([str(AUTOFIX / "json-minified.json")], Config())
    assert outcome.result.findings and outcome.result.fix_offers == {}
    offered = pipeline.run([str(AUTOFIX / "json-minified.json")], Config(), offer_fixes=True)
    assert all(offer.fixable for offer in offered.result.fix_offers.values())


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_wrong_fix_settings_are_a_configuration_error(tmp_path, fmt):
    shutil.copyfile(AUTOFIX / "json-minified.json", tmp_path / "t.json")
    (tmp_path / ".tapaudit.toml").write_text("[rules.TAP006.fix]\nreserved_concurrency = 0\n")
    done = run_cli("scan", "-f", fmt, "t.json", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "[rules.TAP006.fix]" in done.stderr and "at least 1, got 0" in done.stderr
    console = run_cli("scan", "t.json", cwd=tmp_path)
    assert console.returncode != 2  # the console report plans no fixes, so it reads no fix settings


def test_a_default_the_rule_parameters_rule_out_leaves_the_scan_alone(tmp_path):
    """TAP006 `minimum = 50` rules out the default reserved_concurrency (10): `tapaudit fix` refuses
    to run, so nothing is fixable; the scan, which the user did not ask to fix, still reports."""
    shutil.copyfile(AUTOFIX / "json-minified.json", tmp_path / "t.json")
    (tmp_path / ".tapaudit.toml").write_text("[rules.TAP006.parameters]\nminimum = 50\n")
    done = run_cli("scan", "-f", "json", "t.json", cwd=tmp_path)
    report = json.loads(done.stdout)
    assert done.returncode in (0, 1) and report["findings"]
    assert not any(f["fixable"] for f in report["findings"])
    assert run_cli("fix", "t.json", cwd=tmp_path).returncode == 2
