"""Issue 18: whatever way a run ends, its last line states the real exit code (`exit N: reason`, on
stdout from the console report or on stderr as `tapaudit: exit N: ...`), or is the one error line
of a run that scanned nothing or was refused (`tapaudit: error: ...`, always exit 2)."""

from __future__ import annotations

import re

import pytest

from tests.cli.inprocess import invoke, lines
from tests.conftest import FIXTURES

FLAWED = str(FIXTURES / "flawed")
PRIMARY = str(FIXTURES / "flawed" / "TransactionMigration-Primary.template.json")
STATED = re.compile(r"^(?:tapaudit: )?exit (\d): \S")


def stated_code(output: str) -> int:
    """The exit code the run's last line states."""
    last = lines(output)[-1]
    if last.startswith("tapaudit: error: "):
        return 2
    match = STATED.match(last)
    assert match, f"the last line states no exit code: {last!r}"
    return int(match.group(1))


def run(*args: str, cwd=None):
    result = invoke(*args, cwd=cwd)
    assert "Traceback" not in result.output
    assert stated_code(result.output) == result.exit_code, result.output
    return result


@pytest.fixture
def blocked(tmp_path):
    """A path no report can be written to, whoever runs the test (root too): under a file."""
    (tmp_path / "file").write_text("")
    return tmp_path / "file" / "sub"


def test_no_finding_at_the_gate_is_exit_0():
    result = run("scan", FLAWED, "--fail-on", "none")
    assert result.exit_code == 0
    assert lines(result.stdout)[-1] == "exit 0: no finding at or above --fail-on none"


def test_findings_at_the_gate_are_exit_1():
    assert run("scan", FLAWED).exit_code == 1


def test_an_input_that_cannot_be_scanned_is_exit_2(tmp_path):
    (tmp_path / "broken.yaml").write_text("Resources: [\n")
    result = run("scan", FLAWED, str(tmp_path / "broken.yaml"))
    assert result.exit_code == 2 and lines(result.stdout)[-1] == "exit 2: 1 input could not be scanned"


def test_nothing_scanned_is_one_error_line_and_no_table(tmp_path):
    result = run("scan", "nothere", cwd=tmp_path)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "tapaudit: error: nothere: no such file or directory\n"


def test_no_templates_is_one_error_line(tmp_path):
    result = run("scan", str(tmp_path))
    assert result.exit_code == 2 and result.stdout == ""
    assert lines(result.stderr) == [f"tapaudit: error: no templates found in {tmp_path}"]


def test_missing_ok_with_nothing_left_is_exit_2(tmp_path):
    result = run("scan", "--missing-ok", "cdk.out", cwd=tmp_path)
    assert result.exit_code == 2 and result.stdout == ""


def test_allowed_no_templates_is_exit_0(tmp_path):
    result = run("scan", "--allow-no-templates", "--missing-ok", "cdk.out", cwd=tmp_path)
    assert result.exit_code == 0
    assert lines(result.output)[-1] == "exit 0: no templates among the inputs (--allow-no-templates)"


def test_a_report_that_cannot_be_written_is_exit_2_and_the_console_says_so(blocked):
    """The issue's case: with --fail-on none the console said `exit 0` and the run exited 2."""
    result = run("scan", FLAWED, "--report", f"json={blocked / 'x.json'}", "--fail-on", "none")
    assert result.exit_code == 2
    assert lines(result.stdout)[-1] == f"exit 2: 1 report could not be written (json={blocked / 'x.json'})"
    assert f"tapaudit: error: {blocked / 'x.json'}: cannot write report: " in result.stderr


def test_an_output_that_cannot_be_written_ends_with_the_exit_line(blocked):
    result = run("scan", FLAWED, "-o", str(blocked / "report.txt"))
    assert result.exit_code == 2 and result.stdout == ""
    assert lines(result.stderr)[-1].startswith("tapaudit: exit 2: 1 report could not be written")


def test_a_json_report_on_stdout_with_a_failed_report_file(blocked):
    result = run("scan", FLAWED, "-f", "json", "--report", f"sarif={blocked / 'x.sarif'}")
    assert result.exit_code == 2
    assert lines(result.stderr)[-1] == (f"tapaudit: exit 2: 1 report could not be written "
                                        f"(sarif={blocked / 'x.sarif'})")


def test_a_report_written_to_a_file_ends_with_the_exit_line(tmp_path):
    result = run("scan", FLAWED, "-f", "sarif", "-o", str(tmp_path / "x.sarif"))
    assert result.exit_code == 1 and result.stdout == ""
    assert lines(result.stderr) == [f"tapaudit: wrote sarif report to {tmp_path / 'x.sarif'}",
                                    "tapaudit: exit 1: 1 high finding at or above --fail-on high"]


def test_writing_a_baseline_is_exit_0(tmp_path):
    result = run("scan", FLAWED, "--write-baseline", str(tmp_path / "baseline.json"))
    assert result.exit_code == 0
    assert lines(result.stdout)[-1] == f"exit 0: wrote 6 findings to baseline {tmp_path / 'baseline.json'}"


def test_no_baseline_from_a_partial_scan_is_exit_2(tmp_path):
    (tmp_path / "broken.yaml").write_text("Resources: [\n")
    result = run("scan", FLAWED, str(tmp_path / "broken.yaml"), "--write-baseline",
                 str(tmp_path / "baseline.json"))
    assert result.exit_code == 2 and not (tmp_path / "baseline.json").exists()


def test_a_baseline_that_cannot_be_written_is_exit_2(blocked):
    assert run("scan", FLAWED, "--write-baseline", str(blocked / "baseline.json")).exit_code == 2


@pytest.mark.parametrize("args", [
    ["scan", FLAWED, "--format", "xml"],
    ["scan", FLAWED, "--rule", "TAP042"],
    ["scan", FLAWED, "--report", "junit"],
    ["explain", "TAP999"],
])
def test_a_refused_command_line_is_one_error_line(args):
    result = run(*args)
    assert result.exit_code == 2 and len(lines(result.output)) == 1


def test_a_broken_configuration_is_one_error_line(tmp_path):
    (tmp_path / ".tapaudit.toml").write_text("fail_on = [\n")
    result = run("scan", FLAWED, cwd=tmp_path)
    assert result.exit_code == 2 and len(lines(result.output)) == 1


def test_suppression_problems_come_before_the_exit_line():
    result = run("scan", str(FIXTURES / "triage" / "suppressions.yaml"), "--strict-suppressions",
                 "--fail-on", "none")
    assert "tapaudit: suppression problem: " in result.stderr
    assert result.exit_code == 1


def test_an_internal_error_is_one_line(monkeypatch):
    from tapaudit import pipeline

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "run", explode)
    result = run("scan", FLAWED)
    assert result.exit_code == 2
    assert lines(result.output) == [
        "tapaudit: error: internal error: RuntimeError: boom (rerun with --debug)"]
    with pytest.raises(RuntimeError):
        invoke("scan", FLAWED, "--debug")


def test_nothing_scanned_with_a_report_file_ends_with_the_exit_line(tmp_path):
    result = run("scan", "nothere", "--report", f"sarif={tmp_path / 'x.sarif'}", cwd=tmp_path)
    assert result.exit_code == 2 and result.stdout == ""
    assert lines(result.stderr) == ["tapaudit: error: nothere: no such file or directory",
                                    f"tapaudit: wrote sarif report to {tmp_path / 'x.sarif'}",
                                    "tapaudit: exit 2: 1 input could not be scanned"]


def test_a_machine_report_on_stdout_and_a_file_end_with_the_exit_line(tmp_path):
    result = run("scan", FLAWED, "-f", "github", "--report", f"markdown={tmp_path / 'summary.md'}")
    assert result.exit_code == 1 and result.stdout.startswith("::")
    assert lines(result.stderr)[-1] == "tapaudit: exit 1: 1 high finding at or above --fail-on high"
