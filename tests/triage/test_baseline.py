"""Baselines end to end: write, apply, identity that survives moves, re-synthesis and another cwd."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.inprocess import run
from tests.conftest import FIXTURES

APP = FIXTURES / "triage" / "baseline-app.yaml"
FLAWED = FIXTURES / "flawed"
NEW_FUNCTION = """  Fresh:
    Type: AWS::Lambda::Function
    Properties: *fn
"""


def run_cli(*args: str, cwd: Path | None = None):
    return run(*args, "--no-config", cwd=cwd) if "--config" not in args else run(*args, cwd=cwd)


def scan_json(*args: str, cwd: Path | None = None) -> tuple[int, dict]:
    proc = run_cli("scan", *args, "--format", "json", cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_write_baseline_is_sorted_json_without_lines_or_times(tmp_path):
    path = tmp_path / "baseline.json"
    proc = run_cli("scan", str(FLAWED), "--write-baseline", str(path), "--fail-on", "low")
    assert proc.returncode == 0  # writing a baseline is not a failed gate
    assert "wrote 6 findings to baseline" in proc.stderr
    data = json.loads(path.read_text())
    assert data["format"] == "tapaudit-baseline/v1"
    rows = data["findings"]
    assert len(rows) == 6
    assert all(set(row) == {"rule_id", "template", "resource", "cdk_path", "title"} for row in rows)
    assert rows == sorted(rows, key=lambda r: (r["rule_id"], r["template"], r["resource"]))
    assert {row["template"] for row in rows} == {"TransactionMigration-Primary"}
    tap006 = next(row for row in rows if row["rule_id"] == "TAP006")
    assert tap006 == {"rule_id": "TAP006", "template": "TransactionMigration-Primary",
                      "resource": "TransactionProcessorF6E575F8",
                      "cdk_path": "TransactionMigration-Primary/TransactionProcessor/Resource",
                      "title": "Lambda functions must have reserved concurrency"}
    assert "\"line\"" not in path.read_text()
    before = path.read_text()
    run_cli("scan", str(FLAWED), "--write-baseline", str(path))
    assert path.read_text() == before  # byte-stable: a rewrite shows no diff


def test_baselined_findings_do_not_count_and_are_reported(tmp_path):
    path = tmp_path / "baseline.json"
    run_cli("scan", str(FLAWED), "--write-baseline", str(path))
    code, report = scan_json(str(FLAWED), "--baseline", str(path), "--fail-on", "low")
    assert code == 0
    assert report["findings"] == [] and len(report["baselined"]) == 6
    assert report["summary"]["baselined"] == 6 and report["summary"]["fixed"] == 0
    console = run_cli("scan", str(FLAWED), "--baseline", str(path))
    assert console.stdout.rstrip().splitlines()[-2] == (
        "0 findings in 2 templates, 6 baselined, 0 fixed since baseline")
    sarif = json.loads(run_cli("scan", str(FLAWED), "--baseline", str(path), "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert len(results) == 6 and {r["baselineState"] for r in results} == {"unchanged"}


def test_the_assembly_synthesized_into_another_folder_keeps_identity(tmp_path):
    path = tmp_path / "baseline.json"
    run_cli("scan", str(FLAWED), "--write-baseline", str(path))
    moved = tmp_path / "elsewhere" / "cdk.out"
    shutil.copytree(FLAWED, moved)
    work = tmp_path / "work"
    work.mkdir()
    code, report = scan_json(str(moved), "--baseline", str(path), cwd=work)
    assert report["findings"] == [] and len(report["baselined"]) == 6 and code == 0


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(APP, project / "stacks" / "app.yaml")
    return project


def test_identity_survives_moved_lines_and_unrelated_resources(tmp_path):
    project = _project(tmp_path)
    template = project / "stacks" / "app.yaml"
    baseline = project / "baseline.json"
    assert run_cli("scan", "stacks", "--write-baseline", "baseline.json", cwd=project).returncode == 0
    rows = json.loads(baseline.read_text())["findings"]
    assert [(r["rule_id"], r["template"], r["resource"]) for r in rows] == [
        ("TAP003", "stacks/app.yaml", "Ledger"), ("TAP006", "stacks/app.yaml", "Ingest"),
        ("TAP006", "stacks/app.yaml", "Report")]
    assert all(r["cdk_path"] is None for r in rows)
    # Lines move (a resource added above them), an unrelated resource goes away, a new function comes.
    text = template.read_text().replace("  Queue:\n    Type: AWS::SQS::Queue\n", "")
    text = text.replace("Resources:\n", "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
                        "    Properties: {DisplayName: alerts}\n")
    template.write_text(text + NEW_FUNCTION)
    # ... and the scan runs from another directory, naming the template by another relative path.
    code, report = scan_json(str(template), "--baseline", str(baseline), "--fail-on", "medium",
                             cwd=tmp_path)
    assert {f["resource"] for f in report["baselined"]} == {"Ledger", "Ingest", "Report"}
    assert [f["resource"] for f in report["findings"]] == ["Fresh"]
    assert code == 1  # the new finding fails the gate
    assert report["summary"]["fixed"] == 0
    sarif = json.loads(run_cli("scan", str(template), "--baseline", str(baseline), "--format", "sarif",
                               cwd=tmp_path).stdout)
    states = {r["locations"][0]["logicalLocations"][0]["name"]: r["baselineState"]
              for r in sarif["runs"][0]["results"]}
    assert states == {"Ledger": "unchanged", "Ingest": "unchanged", "Report": "unchanged",
                      "Fresh": "new"}


def test_entries_that_match_nothing_are_counted_as_fixed(tmp_path):
    project = _project(tmp_path)
    template = project / "stacks" / "app.yaml"
    run_cli("scan", "stacks", "--write-baseline", "baseline.json", cwd=project)
    template.write_text(template.read_text().replace(
        "  Report:\n    Type: AWS::Lambda::Function\n    Properties: *fn\n", ""))
    code, report = scan_json("stacks", "--baseline", "baseline.json", cwd=project)
    assert report["summary"]["fixed"] == 1 and len(report["baselined"]) == 2 and code == 0
    console = run_cli("scan", "stacks", "--baseline", "baseline.json", cwd=project)
    assert "2 baselined, 1 fixed since baseline" in console.stdout
    # A partial scan (one rule) fixes nothing of the rules it did not run.
    _, only = scan_json("stacks", "--baseline", "baseline.json", "--rule", "TAP003", cwd=project)
    assert only["summary"]["fixed"] == 0 and len(only["baselined"]) == 1


def test_baseline_from_the_configuration_is_relative_to_its_file(tmp_path):
    project = _project(tmp_path)
    (project / "pyproject.toml").write_text('[tool.tapaudit]\nbaseline = ".tapaudit-baseline.json"\n'
                                            'fail_on = "medium"\n')
    # No baseline file yet: a configured baseline that does not exist is an error, never ignored.
    missing = run("scan", "stacks", cwd=project)
    assert missing.returncode == 2 and "baseline file not found" in missing.stderr
    wrote = run("scan", "stacks", "--write-baseline", ".tapaudit-baseline.json", cwd=project)
    assert wrote.returncode == 0, wrote.stderr
    inner = project / "stacks"
    proc = run("scan", ".", "--format", "json", cwd=inner)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["baselined"]) == 3


def test_broken_baselines_are_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = run_cli("scan", str(FLAWED), "--baseline", str(bad))
    assert proc.returncode == 2 and "bad.json: cannot read baseline" in proc.stderr
    bad.write_text('{"findings": [{"rule_id": "TAP006"}]}')
    proc = run_cli("scan", str(FLAWED), "--baseline", str(bad))
    assert proc.returncode == 2 and "not a tapaudit baseline" in proc.stderr
    proc = run_cli("scan", str(FLAWED), "--baseline", str(tmp_path / "none.json"))
    assert proc.returncode == 2 and "baseline file not found" in proc.stderr


def test_no_baseline_is_written_when_an_input_fails(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [\n")
    path = tmp_path / "baseline.json"
    proc = run_cli("scan", str(FLAWED), str(broken), "--write-baseline", str(path))
    assert proc.returncode == 2 and not path.exists()
    assert "baseline not written" in proc.stderr


def test_sarif_with_suppressions_and_a_baseline_is_valid(tmp_path):
    """Suppressed results (inSource) and baselineState together, against the official schema."""
    import jsonschema

    from tests.conftest import SARIF_SCHEMA

    project = _project(tmp_path)
    run_cli("scan", "stacks", "--write-baseline", "baseline.json", cwd=project)
    shutil.copy(FIXTURES / "triage" / "suppressions.yaml", project / "stacks" / "suppressions.yaml")
    log = json.loads(run_cli("scan", "stacks", "--baseline", "baseline.json", "--format", "sarif",
                             cwd=project).stdout)
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    results = log["runs"][0]["results"]
    assert {r["baselineState"] for r in results} == {"new", "unchanged"}
    assert sum(1 for r in results if r.get("suppressions")) == 3
    assert sum(1 for r in results if r["baselineState"] == "unchanged") == 3


def test_write_baseline_reports_end_with_the_exit_code_of_the_run(tmp_path):
    target = tmp_path / "new" / "folder" / "baseline.json"  # missing folders are created
    proc = run_cli("scan", str(FLAWED), "--no-config", "--write-baseline", str(target))
    assert proc.returncode == 0 and target.is_file()
    assert proc.stdout.rstrip().splitlines()[-1] == f"exit 0: wrote 6 findings to baseline {target}"
    blocked = tmp_path / "file"
    blocked.write_text("")
    proc = run_cli("scan", str(FLAWED), "--no-config", "--write-baseline", str(blocked / "b.json"))
    assert proc.returncode == 2
    assert proc.stdout.rstrip().splitlines()[-1].startswith("exit 2: cannot write baseline")


def test_templates_named_one_by_one_keep_their_stack_identity(tmp_path):
    """A CDK validation plugin is given template paths, not the assembly: same identity."""
    path = tmp_path / "baseline.json"
    assert run("scan", str(FLAWED), "--no-config", "--write-baseline", str(path)).returncode == 0
    templates = sorted(str(p) for p in FLAWED.glob("*.template.json"))
    code, report = scan_json(*templates, "--no-config", "--baseline", str(path), "--fail-on", "low")
    assert code == 0 and report["findings"] == [] and len(report["baselined"]) == 6
    assert all(f["cdk_path"] for f in report["baselined"])


# Baselines lose no data (issue 16): a partial scan keeps the entries it did not cover; a scan that
# covered nothing refuses (exit 2) and leaves the file as it was.
def _entries(path: Path) -> set[tuple[str, str, str]]:
    return {(r["rule_id"], r["template"], r["resource"]) for r in json.loads(path.read_text())["findings"]}


def _two_templates(tmp_path: Path) -> tuple[Path, set]:
    project = _project(tmp_path)
    shutil.copy(FIXTURES / "TAP003" / "yaml-fail-no-sort-key.yaml", project / "stacks" / "other.yaml")
    proc = run_cli("scan", "stacks", "--write-baseline", "baseline.json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    full = _entries(project / "baseline.json")
    assert {t for _, t, _ in full} == {"stacks/app.yaml", "stacks/other.yaml"}
    return project, full


def test_a_scan_of_one_rule_keeps_the_entries_of_the_others(tmp_path):
    project, full = _two_templates(tmp_path)
    proc = run_cli("scan", "stacks", "--rule", "TAP006", "--write-baseline", "baseline.json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert _entries(project / "baseline.json") == full
    kept = sum(1 for rule, _, _ in full if rule != "TAP006")
    assert (f"wrote 2 findings to baseline baseline.json, kept {kept} entries of templates or rules "
            "this scan did not cover") in proc.stderr
    # What the rules that ran no longer find is dropped: it was fixed.
    (project / "stacks" / "app.yaml").write_text(
        (project / "stacks" / "app.yaml").read_text().replace("Report:", "Renamed:"))
    run_cli("scan", "stacks", "--rule", "TAP006", "--write-baseline", "baseline.json", cwd=project)
    after = _entries(project / "baseline.json")
    assert ("TAP006", "stacks/app.yaml", "Report") not in after
    assert ("TAP006", "stacks/app.yaml", "Renamed") in after
    assert {e for e in full if e[0] != "TAP006"} <= after


def test_skipped_and_excluded_templates_keep_their_entries(tmp_path):
    project, full = _two_templates(tmp_path)
    (project / ".git").mkdir()
    (project / ".tapaudit.toml").write_text('exclude = ["stacks/other.yaml"]\n')
    proc = run("scan", "stacks", "--write-baseline", "baseline.json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert _entries(project / "baseline.json") == full
    assert "kept 1 entry of templates or rules this scan did not cover" in proc.stderr
    # A file named on its own: the other template's entries stay.
    (project / ".tapaudit.toml").unlink()
    proc = run_cli("scan", "stacks/app.yaml", "--write-baseline", "baseline.json", cwd=project)
    assert proc.returncode == 0 and _entries(project / "baseline.json") == full


def test_a_scan_that_covered_nothing_writes_no_baseline(tmp_path):
    project, _ = _two_templates(tmp_path)
    before = (project / "baseline.json").read_text()
    for args in (["cdk.out", "--missing-ok", "--allow-no-templates"],  # the hook before any synth
                 ["README.yaml", "--allow-no-templates"]):  # no template among the inputs
        (project / "README.yaml").write_text("title: not a template\n")
        proc = run_cli("scan", *args, "--write-baseline", "baseline.json", cwd=project)
        assert proc.returncode == 2, proc.stderr
        assert "baseline.json: baseline not written: no template was scanned" in proc.stderr
        assert (project / "baseline.json").read_text() == before
    json_report = run_cli("scan", "cdk.out", "--missing-ok", "--allow-no-templates", "--write-baseline",
                          "baseline.json", "-f", "json", cwd=project)
    assert json.loads(json_report.stdout)["run"]["exit_code"] == 2


def test_an_existing_file_that_is_not_a_baseline_is_not_overwritten(tmp_path):
    project = _project(tmp_path)
    (project / "baseline.json").write_text('{"something": "else"}\n')
    proc = run_cli("scan", "stacks", "--write-baseline", "baseline.json", cwd=project)
    assert proc.returncode == 2
    assert "not a tapaudit baseline" in proc.stderr and "(not overwritten)" in proc.stderr
    assert (project / "baseline.json").read_text() == '{"something": "else"}\n'
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]
