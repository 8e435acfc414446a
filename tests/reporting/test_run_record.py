"""Every report records what shaped the run (issue 16): the configuration file (and one found but
not applied), fail_on, the rules run and skipped, the exclude globs and the baseline, in JSON
(`run`), SARIF (`runs[0].invocations[0]`, checked against the official schema) and one console
line."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.cli.inprocess import run as run_cli
from tests.conftest import FIXTURES, SARIF_SCHEMA

FLAWED = FIXTURES / "flawed"


def _project(tmp_path: Path, config: str) -> Path:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / ".tapaudit.toml").write_text(config)
    return project


CONFIG = 'skip_rules = ["TAP005"]\nexclude = ["test/**"]\nbaseline = "baseline.json"\nfail_on = "medium"\n'


def test_json_sarif_and_console_record_the_configuration(tmp_path):
    project = _project(tmp_path, CONFIG)
    write = run_cli("scan", str(FLAWED), "--write-baseline", "baseline.json", cwd=project)
    assert write.returncode == 0, write.stderr
    proc = run_cli("scan", str(FLAWED), "--rule", "TAP005", "--rule", "TAP006", "--fail-on", "low",
                   "--format", "json", "--report", "sarif=out.sarif", "--report", "console=out.txt",
                   cwd=project)
    run = json.loads(proc.stdout)["run"]
    assert run == {
        "config": {"file": ".tapaudit.toml", "not_applied": []},
        "fail_on": "low", "strict_suppressions": False,
        "rules": {"run": ["TAP006"], "skipped": [
            {"id": "TAP001", "reason": "not selected by --rule"},
            {"id": "TAP002", "reason": "not selected by --rule"},
            {"id": "TAP003", "reason": "not selected by --rule"},
            {"id": "TAP004", "reason": "not selected by --rule"},
            {"id": "TAP005", "reason": "skipped by skip_rules in .tapaudit.toml"}]},
        "exclude": ["test/**"], "baseline": "baseline.json", "notes": [],
        "exit_code": proc.returncode}
    assert proc.returncode == 0  # the TAP006 finding is in the baseline
    log = json.loads((project / "out.sarif").read_text())
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True and invocation["exitCode"] == 0
    assert invocation["properties"] == {k: v for k, v in run.items() if k != "exit_code"}
    lines = (project / "out.txt").read_text().splitlines()
    assert run_line(lines) == ("run: config .tapaudit.toml, fail_on low, 1 of 6 rules (skipped TAP001, "
                         "TAP002, TAP003, TAP004, TAP005), exclude 'test/**', baseline baseline.json")
    assert lines[-1].startswith("exit 0: ")


def run_line(lines: list[str]) -> str:
    """The console's `run:` line, just before the summary and the exit line, unwrapped."""
    start = next(i for i, line in enumerate(lines) if line.startswith("run: "))
    assert start < len(lines) - 2 and all(line.startswith("     ") for line in lines[start + 1:-2])
    return " ".join(line.strip() for line in lines[start:-2])


def test_without_a_configuration_file_the_defaults_are_recorded(tmp_path):
    project = _project(tmp_path, "")
    (project / ".tapaudit.toml").unlink()
    proc = run_cli("scan", str(FLAWED), cwd=project)
    assert run_line(proc.stdout.splitlines()) == "run: config none, fail_on high, 6 rules"
    sarif = json.loads(run_cli("scan", str(FLAWED), "-f", "sarif", cwd=project).stdout)
    (invocation,) = sarif["runs"][0]["invocations"]
    assert invocation["exitCode"] == 1 and invocation["executionSuccessful"] is True
    assert invocation["properties"]["config"] == {"file": None, "not_applied": []}
    broken = project / "broken.yaml"
    broken.write_text("Resources: [\n")
    sarif = json.loads(run_cli("scan", str(broken), "-f", "sarif", cwd=project).stdout)
    (invocation,) = sarif["runs"][0]["invocations"]
    assert invocation["exitCode"] == 2 and invocation["executionSuccessful"] is False


def test_a_configuration_file_not_applied_is_in_every_report(tmp_path):
    project = _project(tmp_path, 'fail_on = "none"\n')
    (project / ".tapaudit.toml").chmod(0o666)
    why = "writable by its group and others (chmod go-w .tapaudit.toml)"
    report = json.loads(run_cli("scan", str(FLAWED), "-f", "json", cwd=project).stdout)
    assert report["run"]["config"] == {"file": None, "not_applied": [
        {"file": ".tapaudit.toml", "reason": why}]}
    assert report["run"]["fail_on"] == "high" and report["run"]["exit_code"] == 1
    log = json.loads(run_cli("scan", str(FLAWED), "-f", "sarif", cwd=project).stdout)
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {"level": "warning", "message": {
        "text": f".tapaudit.toml: configuration not applied, {why}"}} in notes
    console = run_cli("scan", str(FLAWED), cwd=project)
    assert run_line(console.stdout.splitlines()) == (
        f"run: config none (.tapaudit.toml not applied: {why}), fail_on high, 6 rules")
    assert "configuration not applied" in console.stderr
