"""SARIF 2.1.0: valid against the official schema, and shaped for GitHub code scanning."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.cli.inprocess import run as run_cli
from tests.conftest import FIXTURES, SARIF_SCHEMA


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SARIF_SCHEMA.read_text())
    return jsonschema.Draft7Validator(schema)


def _sarif(*args: str) -> dict:
    return json.loads(run_cli("scan", *args, "--format", "sarif").stdout)


def test_flawed_sarif_is_valid_and_complete(validator):
    log = _sarif(str(FIXTURES / "flawed"))
    validator.validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [f"TAP00{i}" for i in range(1, 7)]
    for rule in rules:
        assert {"id", "name", "shortDescription", "fullDescription", "help", "helpUri",
                "defaultConfiguration", "properties"} <= set(rule)
        assert rule["help"]["markdown"].count("```") == 4
        assert float(rule["properties"]["security-severity"]) > 0
        assert rule["properties"]["tags"]
    assert len(run["results"]) == 6
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        location = result["locations"][0]
        assert not location["physicalLocation"]["artifactLocation"]["uri"].startswith("/")
        assert location["physicalLocation"]["region"]["startLine"] >= 1
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith(
            "TransactionMigration-Primary/")
        assert result["partialFingerprints"]["tapauditFinding/v1"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"TAP001": "warning", "TAP002": "error", "TAP003": "warning",
                      "TAP004": "warning", "TAP005": "note", "TAP006": "warning"}


def test_unknowns_and_errors_are_valid_sarif(validator, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    log = _sarif(str(FIXTURES / "TAP002" / "yaml-unknown-external-role.yaml"), str(broken),
                 "--rule", "TAP002")
    validator.validate(log)
    run = log["runs"][0]
    assert [(r["kind"], r["level"]) for r in run["results"]] == [("review", "none")]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert "broken.json" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


def test_fingerprints_do_not_depend_on_lines(tmp_path):
    original = (FIXTURES / "TAP006" / "yaml-cases.yaml").read_text()
    (tmp_path / "stack.yaml").write_text(original)
    before = _sarif(str(tmp_path / "stack.yaml"))
    (tmp_path / "stack.yaml").write_text("# moved down\n\n\n" + original)
    after = _sarif(str(tmp_path / "stack.yaml"))

    def marks(log):
        return {r["partialFingerprints"]["tapauditFinding/v1"]:
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                for r in log["runs"][0]["results"]}

    assert marks(before).keys() == marks(after).keys()
    assert all(after_line == marks(before)[fp] + 3 for fp, after_line in marks(after).items())
