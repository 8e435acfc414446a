"""cfn-lint as an oracle: every template we call valid passes it without errors."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import FIXTURES, require_module

pytestmark = pytest.mark.cfnlint


def _passing_fixtures() -> list[str]:
    paths = [str(p) for p in sorted((FIXTURES / "reference").glob("*.template.json"))]
    for cases in sorted(FIXTURES.glob("TAP*/cases.yaml")):
        for name, expected in yaml.safe_load(cases.read_text()).items():
            if expected["verdict"] in ("pass", "not_applicable"):
                paths.append(str(cases.parent / name))
    return paths


def _cfn_lint_errors(paths: list[str]) -> list[str]:
    """The errors `cfn-lint -- PATH...` reports (its runner, in this process), one line each."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return [f"{m.filename}:{m.linenumber} {m.rule.id} {m.message}"
            for m in Runner(ConfigMixIn(["--", *paths])).run() if m.rule.severity == "error"]


def test_templates_we_call_valid_pass_cfn_lint():
    require_module("cfnlint")
    paths = _passing_fixtures()
    assert len(paths) > 20
    assert _cfn_lint_errors(paths) == []  # warnings and informational only


def test_the_object_size_filter_of_the_analysis_is_rejected_by_cfn_lint():
    """The analysis's TAP001 fix does not deploy: cfn-lint agrees with our finding."""
    require_module("cfnlint")
    errors = _cfn_lint_errors([str(FIXTURES / "TAP001" / "yaml-fail-object-size-filter.yaml")])
    assert any(" E3002 " in error for error in errors), errors
