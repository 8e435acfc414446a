"""Every command, format and exit code, run in-process with typer's runner (tests/cli/inprocess.py).
What needs a process of its own (stdin, the entry point, start-up imports) is in test_process.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tapaudit import __version__
from tapaudit.gate import GATE_LEVELS
from tapaudit.reporting.formats import FORMATS
from tests.cli.inprocess import invoke
from tests.conftest import FIXTURES

FLAWED = str(FIXTURES / "flawed")
TAP006_CASES = FIXTURES / "TAP006" / "yaml-cases.yaml"


def test_version():
    proc = invoke("--version")
    assert proc.exit_code == 0 and proc.stdout.strip() == f"tapaudit {__version__}"


def test_rules_console_and_json():
    proc = invoke("rules")
    assert proc.exit_code == 0
    assert [line.split()[0] for line in proc.stdout.splitlines()] == [f"TAP00{i}" for i in range(1, 7)]
    listed = json.loads(invoke("rules", "--format", "json").stdout)
    assert {r["id"]: r["severity"] for r in listed} == {
        "TAP001": "medium", "TAP002": "high", "TAP003": "medium", "TAP004": "medium",
        "TAP005": "low", "TAP006": "medium"}


@pytest.mark.parametrize("rule_id", [f"TAP00{i}" for i in range(1, 7)])
def test_explain(rule_id):
    proc = invoke("explain", rule_id.lower())
    assert proc.exit_code == 0
    for heading in ("Why", "Passes", "Fails", "Fix", "CDK (Python)", "CDK (TypeScript)"):
        assert heading in proc.stdout
    assert rule_id in proc.stdout


def test_explain_unknown_rule():
    proc = invoke("explain", "TAP999")
    assert proc.exit_code == 2 and "unknown rule id TAP999" in proc.stderr


def test_console_report_is_plain_and_grouped():
    proc = invoke("scan", FLAWED)
    assert proc.exit_code == 1
    assert "\x1b[" not in proc.stdout
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("HIGH     TAP002 ")
    assert any(line.startswith("HIGH     TAP002 ") for line in lines)
    assert "construct: TransactionMigration-Primary/HealthCheck/Resource" in proc.stdout
    assert lines[-2] == "6 findings (1 high, 4 medium, 1 low) in 2 templates"
    assert lines[-1] == "exit 1: 1 high finding at or above --fail-on high"


def test_json_contract_shape():
    report = json.loads(invoke("scan", FLAWED, "-f", "json").stdout)
    assert {"version", "templates", "findings", "unknown", "errors", "summary", "suppressed",
            "baselined", "suppression_problems", "exempt", "skipped"} <= set(report)
    assert {"critical", "high", "medium", "low", "suppressed", "baselined", "unknown",
            "fixed"} <= set(report["summary"])
    finding = report["findings"][0]
    assert {"rule_id", "severity", "title", "message", "file", "line", "column", "resource",
            "resource_type", "cdk_path", "path", "fingerprint"} <= set(finding)
    keys = [(f["file"], f["line"], f["rule_id"]) for f in report["findings"]]
    assert keys == sorted(keys)


def test_output_file(tmp_path):
    out = tmp_path / "report.sarif"
    proc = invoke("scan", FLAWED, "--format", "sarif", "--output", str(out))
    assert proc.exit_code == 1 and proc.stdout == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"


def test_rule_selection():
    report = json.loads(invoke("scan", FLAWED, "-f", "json", "--rule", "TAP005").stdout)
    assert [f["rule_id"] for f in report["findings"]] == ["TAP005"]
    proc = invoke("scan", FLAWED, "-f", "json", "--skip-rule", "TAP002")
    assert proc.exit_code == 0  # only medium and low remain under the default high gate
    assert "TAP002" not in {f["rule_id"] for f in json.loads(proc.stdout)["findings"]}
    proc = invoke("scan", FLAWED, "--rule", "TAP042")
    assert proc.exit_code == 2 and "unknown rule id TAP042" in proc.stderr


def test_usage_errors_exit_2():
    assert invoke("scan").exit_code == 2
    assert invoke("scan", FLAWED, "--format", "xml").exit_code == 2
    assert invoke("scan", FLAWED, "--fail-on", "severe").exit_code == 2


def test_bad_inputs_are_reported_and_the_rest_still_scanned(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources:\n  A: [\n")
    binary = tmp_path / "blob.json"
    binary.write_bytes(b"\x00\x01\x02binary")
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text('Resources: !!python/object/apply:os.system ["touch pwned"]\n')
    not_template = tmp_path / "config.json"
    not_template.write_text('{"name": "x"}')
    proc = invoke("scan", str(broken), str(binary), str(hostile), str(not_template), FLAWED,
                   "tmp-does-not-exist.yaml", "-f", "json", cwd=tmp_path)
    assert proc.exit_code == 2  # 2 wins over the findings' 1
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "pwned").exists()
    report = json.loads(proc.stdout)
    errors = {e["file"]: e["message"] for e in report["errors"]}
    assert errors["broken.yaml"].startswith("invalid YAML")
    assert errors["blob.json"].startswith("binary file")
    assert errors["hostile.yaml"].startswith("refused YAML tag")
    assert "config.json" not in errors  # parses, but is no template: skipped with a note (issue 10)
    assert report["skipped"][0]["file"] == "config.json"
    assert errors["tmp-does-not-exist.yaml"] == "no such file or directory"
    stderr_lines = [line for line in proc.stderr.splitlines() if line]
    assert len(stderr_lines) == 5
    assert sum(line.startswith("tapaudit: error: ") for line in stderr_lines) == 4
    assert "tapaudit: note: config.json: skipped, not a CloudFormation template" in proc.stderr
    assert len(json.loads(proc.stdout)["findings"]) == 6


def test_folder_walk_skips_unrelated_files(tmp_path):
    (tmp_path / "package.json").write_text('{"name": "x"}')
    (tmp_path / "notes.yaml").write_text("just: [a, list")  # broken but not a template: skipped
    shutil.copy(TAP006_CASES, tmp_path / "stack.yaml")
    proc = invoke("scan", str(tmp_path), "-f", "json", "--fail-on", "medium")
    assert proc.exit_code == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["errors"] == [] and len(report["templates"]) == 1


def test_folder_without_templates_is_an_error(tmp_path):
    proc = invoke("scan", str(tmp_path))
    assert proc.exit_code == 2 and "no templates found" in proc.stderr
    (tmp_path / "settings.yaml").write_text("debug: true\n")
    proc = invoke("scan", str(tmp_path))
    assert proc.exit_code == 2 and "no templates found" in proc.stderr


def test_unknowns_are_listed_but_never_fail_the_gate():
    path = FIXTURES / "TAP002" / "yaml-unknown-external-role.yaml"
    proc = invoke("scan", str(path), "-f", "json", "--fail-on", "low", "--rule", "TAP002")
    assert proc.exit_code == 0
    report = json.loads(proc.stdout)
    assert report["findings"] == [] and report["unknown"][0]["rule_id"] == "TAP002"


def test_rules_dir_adds_a_property_rule_without_python(tmp_path):
    (tmp_path / "ORG001.yaml").write_text("""\
id: ORG001
title: Queues must keep messages for 20 days
severity: critical
rationale: Dead letters need time to be looked at.
why: Messages expire before anyone reads them.
resource_types: [AWS::SQS::Queue]
fix:
  summary: set retention_period=Duration.days(20)
  snippet: "sqs.Queue(..., retention_period=Duration.days(20))"
checks:
  - id: retention
    select: $.Properties.MessageRetentionPeriod
    predicate: at_least
    missing: keeps messages for the default 4 days
    args: {minimum: 1728000}
""")
    proc = invoke("scan", FLAWED, "--rules-dir", str(tmp_path), "--rule", "ORG001", "-f", "json")
    assert proc.exit_code == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert {f["rule_id"] for f in findings} == {"ORG001"} and findings[0]["severity"] == "critical"
    assert "ORG001" in invoke("rules", "--rules-dir", str(tmp_path)).stdout


def test_broken_rule_file_is_a_clear_error(tmp_path):
    (tmp_path / "BAD.yaml").write_text("id: BAD1\ntitle: x\n")
    proc = invoke("scan", FLAWED, "--rules-dir", str(tmp_path))
    assert proc.exit_code == 2 and "missing keys" in proc.stderr and "Traceback" not in proc.stderr


def test_parallel_and_serial_scans_agree(tmp_path):
    for i in range(12):
        shutil.copy(TAP006_CASES, tmp_path / f"stack{i:02}.yaml")
    serial = invoke("scan", str(tmp_path), "-f", "json", "--jobs", "1")
    parallel = invoke("scan", str(tmp_path), "-f", "json", "--jobs", "2")
    assert json.loads(serial.stdout) == json.loads(parallel.stdout)
    assert len(json.loads(serial.stdout)["findings"]) == 24


# What the command line accepts: options anywhere among the paths, `--`, values that start with a dash.

PRIMARY = str(FIXTURES / "flawed" / "TransactionMigration-Primary.template.json")
REPLICA = str(FIXTURES / "flawed" / "TransactionMigration-Replica.template.json")


def test_options_may_come_before_between_and_after_the_paths():
    proc = invoke("scan", "--fail-on", "none", PRIMARY, "-f", "json", REPLICA, "--rule", "TAP002")
    assert proc.exit_code == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["templates"]) == 2
    assert {f["rule_id"] for f in report["findings"]} == {"TAP002"}


def test_double_dash_before_the_command_or_the_paths():
    assert invoke("--", "rules").exit_code == 0
    proc = invoke("scan", "-f", "json", "--", PRIMARY)
    assert proc.exit_code == 1 and len(json.loads(proc.stdout)["templates"]) == 1


def test_paths_after_double_dash_may_start_with_a_dash(tmp_path):
    (tmp_path / "-primary.json").write_text(Path(PRIMARY).read_text())
    proc = invoke("scan", "-f", "json", "--", "-primary.json", REPLICA, cwd=tmp_path)
    assert proc.exit_code == 1, proc.stderr
    assert json.loads(proc.stdout)["templates"] == sorted(["-primary.json", REPLICA])
    assert invoke("scan", "-f", "json", "--", cwd=tmp_path).exit_code == 2  # still one path at least
    assert invoke("rules", "--", "x").exit_code == 2


def test_an_option_value_may_start_with_a_dash(tmp_path):
    """The word after an option that takes a value is its value."""
    proc = invoke("scan", PRIMARY, "-o", "-report.json", "-f", "json", "--write-baseline",
                  "-baseline.json", cwd=tmp_path)
    assert proc.exit_code == 0, proc.stderr
    assert json.loads((tmp_path / "-report.json").read_text())["findings"]
    assert (tmp_path / "-baseline.json").is_file()
    proc = invoke("scan", PRIMARY, "--rule", "-x")
    assert proc.exit_code == 2 and "unknown rule id -X" in proc.stderr


def test_double_dash_before_a_rule_id():
    assert invoke("explain", "--", "TAP001").exit_code == 0
    proc = invoke("explain", "--", "-TAP001")
    assert proc.exit_code == 2 and "unknown rule id -TAP001" in proc.stderr


def test_stdin_path_between_options():
    proc = invoke("scan", "-f", "json", "-", "--fail-on", "none", stdin=TAP006_CASES.read_text())
    assert proc.exit_code == 0 and json.loads(proc.stdout)["templates"] == ["<stdin>"]


@pytest.mark.parametrize("flag", ["--progress", "--no-progress"])
def test_progress_flags(flag):
    proc = invoke("scan", FLAWED, "-f", "json", flag, "-j", "1")
    assert proc.exit_code == 1 and len(json.loads(proc.stdout)["findings"]) == 6


@pytest.mark.parametrize(("args", "mentions"), [
    (["scan", FLAWED, "--jobs", "-1"], "--jobs"),
    (["scan", FLAWED, "-j", "many"], "--jobs"),
    (["scan", FLAWED, "--form", "json"], "--form"),  # no abbreviations
    (["scan", FLAWED, "--fail", "low"], "--fail"),
    (["scan", FLAWED, "--format", "xml"], "xml"),
    (["scan", FLAWED, "--bogus"], "--bogus"),
    (["scan"], "PATH"),
    (["rules", "--format", "sarif"], "sarif"),
    (["config", "--fail-on", "severe"], "severe"),
    (["explain"], "RULE_ID"),
    (["rules", "extra"], "extra"),
    (["bogus"], "bogus"),
    (["--bogus"], "--bogus"),
    (["scan", FLAWED, "--report", "xml=out.xml"], "expected FORMAT=FILE"),
    (["scan", FLAWED, "--config", "a.toml", "--no-config"], "exclude each other"),
])
def test_usage_error_is_one_line_and_exit_2(args, mentions):
    proc = invoke(*args)
    assert proc.exit_code == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tapaudit: error: ") and mentions in lines[0]
    assert "Value error" not in lines[0] and "\u2502" not in lines[0]  # no pydantic kind, no box


def test_abbreviated_options_are_refused_even_when_unambiguous():
    proc = invoke("scan", FLAWED, "--show-supp")
    assert proc.exit_code == 2 and "No such option: --show-supp" in proc.stderr


def test_no_arguments_prints_the_help_and_exits_2():
    proc = invoke()
    assert proc.exit_code == 2
    assert proc.stdout.lstrip().startswith("Usage: tapaudit")
    for command in ("scan", "rules", "explain", "config"):
        assert command in proc.stdout


def test_version_wins_over_a_command():
    proc = invoke("--version", "scan")
    assert proc.exit_code == 0 and proc.stdout == f"tapaudit {__version__}\n"


RULE_SOURCE = ["--rules-dir", "DIR", "--config", "FILE", "--no-config"]
GATE = ["--fail-on", "SEVERITY", ", ".join(GATE_LEVELS), "--rule", "RULE_ID", "--skip-rule",
        "--baseline", "--strict-suppressions"]


@pytest.mark.parametrize(("command", "options"), [
    ("scan", ["PATH", "-f", "--format", "FORMAT", "-o", "--output", *GATE, *RULE_SOURCE,
              "-j", "--jobs", "N", "--progress", "--no-progress", "--report", "FORMAT=FILE", "--debug",
              "--write-baseline", "--show-suppressed", "--allow-no-templates", "--missing-ok",
              ", ".join(FORMATS), "default: high"]),
    ("rules", ["-f", "--format", "FORMAT", "console, json", *RULE_SOURCE]),
    ("explain", ["RULE_ID", *RULE_SOURCE]),
    ("config", ["-f", "--format", "FORMAT", *GATE, *RULE_SOURCE]),
])
def test_help_of_each_command_lists_its_options(command, options):
    proc = invoke(command, "--help", env={"COLUMNS": "300"})
    assert proc.exit_code == 0 and proc.stderr == ""
    assert proc.stdout.lstrip().startswith(f"Usage: tapaudit {command} ")
    words = " ".join(proc.stdout.replace("\u2502", " ").split())  # rich's table, unwrapped
    for option in options:
        assert option in words, option
    assert proc.stdout == invoke(command, "-h", env={"COLUMNS": "300"}).stdout


def test_choices_follow_the_registries():
    """The CLI takes its format and gate choices from the report registry and the gate."""
    for name in FORMATS:
        assert invoke("scan", FLAWED, "-f", name, "--fail-on", "low", "-o", "/dev/null").exit_code == 1
    for level in GATE_LEVELS:
        assert invoke("config", "--fail-on", level, "--no-config").exit_code == 0
    assert GATE_LEVELS == ("critical", "high", "medium", "low", "none")
