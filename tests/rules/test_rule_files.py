"""Rule files: metadata beside the check, validated on load."""

from __future__ import annotations

import pytest

from tapaudit.findings import Severity
from tapaudit.rules.loader import RuleFileError, load_rule_file
from tests.conftest import ROOT

ANALYSIS_SEVERITIES = {  # the analysis's per-failure impact levels (its summary line is wrong)
    "TAP001": Severity.MEDIUM, "TAP002": Severity.HIGH, "TAP003": Severity.MEDIUM,
    "TAP004": Severity.MEDIUM, "TAP005": Severity.LOW, "TAP006": Severity.MEDIUM,
}


def test_builtin_rules_and_severities(rules):
    assert {r.id: r.severity for r in rules} == ANALYSIS_SEVERITIES


def test_every_rule_documents_itself(rules):
    for rule in rules:
        assert rule.analysis_item and rule.rationale and rule.why and rule.help_uri
        assert rule.fix.summary and rule.fix.variants and rule.fix.cdk_python and rule.fix.cdk_typescript
        assert rule.passes and rule.fails and rule.resource_types and rule.checks
        assert "{" not in rule.why + rule.fix.summary  # every placeholder filled


def test_parameters_fill_placeholders_with_their_types(rules_by_id):
    check = rules_by_id["TAP006"].checks[0]
    assert check.args["minimum"] == 1
    assert rules_by_id["TAP003"].checks[0].args["partition_key"] == {"name": "status", "type": "S"}
    assert "replication-eligible=true" in rules_by_id["TAP001"].fix.summary


def test_analysis_corrections_are_in_the_rationale(rules_by_id):
    assert "ObjectSize" in rules_by_id["TAP001"].rationale
    assert "does not work" in rules_by_id["TAP001"].rationale
    assert "CDK drops the setting" in rules_by_id["TAP005"].rationale


@pytest.mark.parametrize(("text", "message"), [
    ("- a list", "a rule file is a mapping"),
    ("id: X1\n", "missing keys"),
    ("id: lower\ntitle: t\nseverity: low\nrationale: r\nwhy: w\nresource_types: []\n"
     "fix: {summary: s}\nchecks: []\n", "upper-case"),
    ("id: X1\ntitle: t\nseverity: urgent\nrationale: r\nwhy: w\nresource_types: []\n"
     "fix: {summary: s}\nchecks: []\n", "unknown severity"),
    ("id: X1\ntitle: t\nseverity: low\nrationale: r\nwhy: w\nresource_types: []\n"
     "fix: {summary: s}\nchecks: [{predicate: telepathy}]\n", "unknown predicate"),
    ("id: X1\ntitle: t\nseverity: low\nrationale: r\nwhy: w\nresource_types: []\n"
     "fix: {summary: s}\nchecks: [{predicate: exists, select: '$..deep'}]\n", "not supported"),
    ("id: X1\ntitle: t\nseverity: low\nrationale: r\nwhy: w\nresource_types: []\n"
     "fix: {summary: s}\nchecks: [{predicate: exists, args: {on: 1}}]\n", "argument names"),
])
def test_malformed_rule_files(tmp_path, text, message):
    path = tmp_path / "X1.yaml"
    path.write_text(text)
    with pytest.raises(RuleFileError, match=message) as info:
        load_rule_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("selector", ["$.Properties.Targets[*].Id", "$.Properties.Targets.*.Id"])
def test_wildcard_selectors_walk_lists_and_branches(selector):
    from tapaudit.model.values import Branch
    from tapaudit.rules.selectors import compile_selector, select

    steps = compile_selector(selector)
    resource = {"Properties": {"Targets": {"Fn::If": ["C", [{"Id": "a"}, {"Id": "b"}], [{"Id": "c"}]]}}}
    found = [(b.value, b.conditions) for b in select(steps, Branch(resource, ()))]
    assert found == [("a", (("C", True),)), ("b", (("C", True),)), ("c", (("C", False),))]


@pytest.mark.parametrize("selector", ["$", "$.Properties", "$.Properties.Targets[*].Id",
                                      "$.Properties.Targets.*.Id", "$.Properties.Targets[2]",
                                      "$.Properties.A_b1[0][*]"])
def test_plain_selectors_read_as_jsonpath_ng_reads_them(selector):
    """The regular-expression fast path (no jsonpath-ng import on every start) gives the same
    steps as jsonpath-ng, for these and for every selector of the built-in rules."""
    import re

    from tapaudit.rules.selectors import _PLAIN, compile_selector, compile_with_jsonpath

    built_in = [m.group(1) for path in sorted((ROOT / "rules").glob("*.yaml"))
                for m in re.finditer(r"select: (\S+)", path.read_text())]
    assert len(built_in) >= 12
    for expression in [selector, *built_in]:
        assert _PLAIN.fullmatch(expression)
        assert compile_selector(expression) == compile_with_jsonpath(expression)
    assert compile_selector("$.Properties['odd key']") == (("field", "Properties"), ("field", "odd key"))
