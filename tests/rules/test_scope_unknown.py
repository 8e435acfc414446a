"""A rule's scope is decided like any other value (issue 16): when whether a resource is in scope
depends on a value tapaudit cannot know, the resource is unknown for that rule, never left out."""

from __future__ import annotations

import json

from tapaudit.loading.discovery import TemplateSource
from tapaudit.loading.parse import parse_document
from tapaudit.model.template import Template
from tapaudit.rules.engine import Verdict, evaluate_rule
from tapaudit.rules.loader import load_rule_file
from tests.conftest import FIXTURES, run_cli

REGRESSIONS = FIXTURES / "regressions"


def _tap002(path, rules_by_id) -> dict[str, Verdict]:
    template = Template(parse_document(path.read_text()).data)
    return {r.logical_id: r.verdict for r in evaluate_rule(rules_by_id["TAP002"], template)}


def test_computed_function_name_makes_the_high_rule_unknown_not_silent():
    proc = run_cli("scan", str(REGRESSIONS / "scope_computed_function_name.yaml"), "-f", "json")
    report = json.loads(proc.stdout)
    (row,) = [r for r in report["rules"] if r["id"] == "TAP002"]
    assert row["unknown"] == 1
    (unknown,) = [u for u in report["unknown"] if u["rule_id"] == "TAP002"]
    assert unknown["resource"] == "Probe"
    assert "FunctionName is unknown: parameter Env has no default" in unknown["message"]
    assert "so whether the rule applies is unknown" in unknown["message"]
    # What would fail if it applies is said, as unknown: the gate does not fail on it.
    said = " ".join([unknown["message"], *unknown["more"]])  # what the sentence has no room for
    assert "cannot call dynamodb:Query on a table index" in said
    assert unknown["line"] == 11  # the FunctionName that decides the scope
    assert not [f for f in report["findings"] if f["rule_id"] == "TAP002"]
    assert proc.returncode == 0


def test_the_same_function_with_a_literal_name_is_a_high_finding():
    proc = run_cli("scan", str(REGRESSIONS / "scope_literal_function_name.yaml"), "-f", "json")
    findings = [f for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == "TAP002"]
    assert [(f["resource"], f["severity"]) for f in findings] == [("Probe", "high")]
    assert proc.returncode == 1


def test_names_resolving_to_other_values_stay_out_of_scope(rules_by_id):
    verdicts = _tap002(REGRESSIONS / "scope_resolved_other_name.yaml", rules_by_id)
    assert verdicts == {"Worker": Verdict.NOT_APPLICABLE, "Mailer": Verdict.NOT_APPLICABLE}


def test_a_name_matching_in_one_branch_is_in_scope(rules_by_id):
    verdicts = _tap002(REGRESSIONS / "scope_health_in_one_branch.yaml", rules_by_id)
    assert verdicts == {"Probe": Verdict.FAIL}


# The mechanism is the engine's, for any rule: applies_if and skip_if on unknowable values.

CUSTOM_RULE = """\
id: ORG100
title: Queues must set a retention period
severity: high
rationale: r
why: w
fix: {summary: set MessageRetentionPeriod}
resource_types: [AWS::SQS::Queue]
%s
checks:
  - {id: retention, select: $.Properties.MessageRetentionPeriod, predicate: exists,
     missing: sets no MessageRetentionPeriod}
"""
QUEUES = """\
Parameters:
  Fifo: {Type: String}
Resources:
  Known: {Type: AWS::SQS::Queue, Properties: {FifoQueue: true}}
  Other: {Type: AWS::SQS::Queue, Properties: {FifoQueue: false}}
  Imported: {Type: AWS::SQS::Queue, Properties: {FifoQueue: !ImportValue fifo}}
  FromParameter: {Type: AWS::SQS::Queue, Properties: {FifoQueue: !Ref Fifo}}
  Passing:
    Type: AWS::SQS::Queue
    Properties: {FifoQueue: !Ref Fifo, MessageRetentionPeriod: 600}
"""


def _custom(tmp_path, scope: str) -> dict[str, tuple[Verdict, str | None]]:
    path = tmp_path / "ORG100.yaml"
    path.write_text(CUSTOM_RULE % scope)
    rule = load_rule_file(path)
    template = Template(parse_document(QUEUES).data)
    return {r.logical_id: (r.verdict, r.exempt_reason) for r in evaluate_rule(rule, template)}


def test_applies_if_on_an_unknown_value_is_unknown(tmp_path):
    verdicts = _custom(tmp_path, "applies_if: {select: $.Properties.FifoQueue, predicate: equals, "
                                 "args: {value: true}}")
    assert verdicts == {"Known": (Verdict.FAIL, None), "Other": (Verdict.NOT_APPLICABLE, None),
                        "Imported": (Verdict.UNKNOWN, None), "FromParameter": (Verdict.UNKNOWN, None),
                        # it passes whether or not the rule applies
                        "Passing": (Verdict.PASS, None)}


def test_skip_if_on_an_unknown_value_is_unknown(tmp_path):
    verdicts = _custom(tmp_path, "skip_if: [{id: fifo, select: $.Properties.FifoQueue, "
                                 "predicate: equals, args: {value: true}}]")
    assert verdicts == {"Known": (Verdict.NOT_APPLICABLE, "fifo"), "Other": (Verdict.FAIL, None),
                        "Imported": (Verdict.UNKNOWN, None), "FromParameter": (Verdict.UNKNOWN, None),
                        "Passing": (Verdict.PASS, None)}


def test_unknown_scope_reads_as_one_sentence(tmp_path, rules):
    from tapaudit.scan import scan_source

    path = REGRESSIONS / "scope_computed_function_name.yaml"
    report = scan_source(TemplateSource(path.name, path=path), rules)
    (unknown,) = [u for u in report.unknown if u.rule_id == "TAP002"]
    assert unknown.message.count("whether the rule applies") == 1
    assert unknown.message.endswith(".")
