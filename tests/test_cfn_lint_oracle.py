"""cfn-lint as an oracle: every template we call valid passes it without errors."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tests.conftest import FIXTURES, require_command

pytestmark = pytest.mark.cfnlint


def _passing_fixtures() -> list[str]:
    paths = [str(p) for p in sorted((FIXTURES / "reference").glob("*.template.json"))]
    for cases in sorted(FIXTURES.glob("TAP*/cases.yaml")):
        for name, expected in yaml.safe_load(cases.read_text()).items():
            if expected["verdict"] in ("pass", "not_applicable"):
                paths.append(str(cases.parent / name))
    return paths


def test_templates_we_call_valid_pass_cfn_lint():
    cfn_lint = require_command("cfn-lint")
    paths = _passing_fixtures()
    assert len(paths) > 20
    proc = subprocess.run([cfn_lint, "--format", "json", *paths], capture_output=True, text=True,
                          timeout=600)
    matches = json.loads(proc.stdout or "[]")
    errors = [f"{m['Filename']}:{m['Location']['Start']['LineNumber']} {m['Rule']['Id']} "
              f"{m['Message']}" for m in matches if m["Level"] == "Error"]
    assert errors == []
    assert proc.returncode in (0, 4, 8, 12)  # warnings and informational only, never error (2)


def test_the_object_size_filter_of_the_analysis_is_rejected_by_cfn_lint():
    """The analysis's TAP001 fix does not deploy: cfn-lint agrees with our finding."""
    cfn_lint = require_command("cfn-lint")
    path = FIXTURES / "TAP001" / "yaml-fail-object-size-filter.yaml"
    proc = subprocess.run([cfn_lint, "--format", "json", str(path)], capture_output=True, text=True,
                          timeout=300)
    rules = {m["Rule"]["Id"] for m in json.loads(proc.stdout) if m["Level"] == "Error"}
    assert "E3002" in rules
