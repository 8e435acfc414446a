"""`--format concise` (issue 18): one line per finding, `file:line:col: SEVERITY TAPnnn resource:
message`, the shape ruff and flake8 print and editors' problem matchers read."""

from __future__ import annotations

import io
import re
import shutil

from tapaudit import pipeline
from tapaudit.config import Config
from tapaudit.reporting import concise
from tapaudit.reporting.formats import ReportContext
from tests.conftest import FIXTURES

SHAPE = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): "
                   r"(?P<label>CRITICAL|HIGH|MEDIUM|LOW|UNKNOWN|SUPPRESSED|ERROR) "
                   r"(?:(?P<code>TAP\d{3}) (?P<resource>[^:]+)|input): (?P<message>.+)$")


def concise_report(*paths: str, fail_on: str = "high") -> list[str]:
    outcome = pipeline.run(list(paths), Config())
    stream = io.StringIO()
    concise.report(outcome.result, ReportContext(outcome.rules, fail_on=fail_on), stream)
    return stream.getvalue().splitlines()


def test_flawed_stack_one_line_per_finding_high_first():
    lines = concise_report(str(FIXTURES / "flawed"))
    matches = [SHAPE.match(line) for line in lines[:-2]]
    assert all(matches) and len(matches) == 6
    assert [m["label"] for m in matches] == ["HIGH", "MEDIUM", "MEDIUM", "MEDIUM", "MEDIUM", "LOW"]
    high = matches[0]
    assert high["code"] == "TAP002" and high["file"].endswith("Primary.template.json")
    assert int(high["line"]) > 1 and int(high["col"]) >= 1
    assert not high["message"].startswith(high["resource"])  # the resource is named once
    assert lines[-2] == "6 findings (1 high, 4 medium, 1 low) in 2 templates"
    assert lines[-1] == "exit 1: 1 high finding at or above --fail-on high"


def test_unknowns_and_errors_keep_the_shape(tmp_path):
    missing = str(tmp_path / "nothere.json")
    lines = concise_report(str(FIXTURES / "TAP002" / "yaml-unknown-external-role.yaml"), missing)
    unknown = next(SHAPE.match(line) for line in lines if " UNKNOWN " in line)
    assert unknown["code"] == "TAP002" and "could not be verified" not in unknown["message"]
    error = next(SHAPE.match(line) for line in lines if " ERROR " in line)
    assert error["file"] == missing and (error["line"], error["col"]) == ("1", "1")
    assert error["code"] is None and error["message"] == "no such file or directory"
    assert lines[-1].startswith("exit 2: ")


def test_a_path_cannot_start_a_ci_command(tmp_path, monkeypatch):
    forged = tmp_path / "::error::forged.json"
    shutil.copy(FIXTURES / "flawed" / "TransactionMigration-Primary.template.json", forged)
    monkeypatch.chdir(tmp_path)
    lines = concise_report(forged.name)
    assert not any(line.startswith(("::", "##")) for line in lines)
    assert lines[0].startswith("./::error::forged.json:")
