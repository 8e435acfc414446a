"""Regression cases for bugs a review found in the model: each names the input that showed it."""

from __future__ import annotations

import pytest

from tapaudit.loading.discovery import TemplateSource
from tapaudit.model.arns import render
from tapaudit.model.intrinsics import resolve_all
from tapaudit.model.template import Template
from tapaudit.model.values import Unknown
from tapaudit.scan import ScanOptions, scan_source
from tests.conftest import FIXTURES

REGRESSIONS = FIXTURES / "regressions"


def scan(path_or_text, rules, name="t.yaml"):
    if isinstance(path_or_text, str):
        source = TemplateSource(name, text=path_or_text)
    else:
        source = TemplateSource(path_or_text.name, path=path_or_text)
    return scan_source(source, rules, options=ScanOptions(partition="aws"))


def ids(findings):
    return sorted(f.rule_id for f in findings)


# 1. A resource whose name refers to itself: that value is unknown, the template still scans.

@pytest.mark.parametrize(("resources", "value", "reason"), [
    ({"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::GetAtt": ["Q", "QueueName"]}}}},
     {"Fn::GetAtt": ["Q", "Arn"]}, "the name of Q refers to itself"),
    ({"A": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "A"}}}},
     {"Fn::GetAtt": ["A", "Arn"]}, "the name of A refers to itself"),
    ({"L": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "L"}, "Name": "live"}}},
     {"Ref": "L"}, "the function name of L refers to itself"),
    # through another resource
    ({"A": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::GetAtt": ["B", "QueueName"]}}},
      "B": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Join": ["-", [
          {"Fn::GetAtt": ["A", "QueueName"]}, {"Fn::GetAtt": ["A", "QueueName"]}]]}}}},
     {"Fn::GetAtt": ["A", "Arn"]}, "the name of A refers to itself"),
    # a rule on a bus named after the rule itself
    ({"R": {"Type": "AWS::Events::Rule", "Properties": {"EventBusName": {"Fn::GetAtt": ["R", "Arn"]}}}},
     {"Fn::GetAtt": ["R", "Arn"]}, "intrinsic functions nested too deep"),
])
def test_self_referencing_name_is_unknown_for_that_value_only(resources, value, reason):
    template = Template({"Resources": resources})
    result = render(template, value)
    assert isinstance(result, Unknown)
    assert result.reason == reason


def test_self_named_queue_template_still_scans(rules):
    report = scan(REGRESSIONS / "self_named_queue.yaml", rules)
    assert report.error is None
    assert report.checked


# 2. Fn::If combinations are built part by part: contradictions dropped early, overflow found early.

def test_many_parts_on_one_condition_give_two_values():
    # 2^60 combinations if the parts were crossed blindly: over the budget, the answer would be Unknown.
    template = Template({"Conditions": {"C": {"Fn::Equals": ["a", "a"]}}, "Resources": {}})
    value = {"Fn::Join": ["", [{"Fn::If": ["C", "a", "b"]}] * 60]}
    found = resolve_all(template, value)
    assert [(v, c) for v, c in found] == [("a" * 60, (("C", True),)), ("b" * 60, (("C", False),))]


def test_many_independent_conditions_are_unknown():
    names = [f"C{i}" for i in range(40)]
    template = Template({"Conditions": {n: {"Fn::Equals": ["a", "a"]} for n in names}, "Resources": {}})
    value = {"Fn::Join": ["", [{"Fn::If": [n, "a", "b"]} for n in names]]}
    result = render(template, value)
    assert isinstance(result, Unknown) and "Fn::If combinations" in result.reason


# 3. Hostile input is scanned, never an internal error.

@pytest.mark.parametrize("name", ["int_property_key.yaml", "int_key_in_select.yaml",
                                  "mixed_key_types.yaml", "int_condition_key.yaml",
                                  "huge_reserved_concurrency.yaml"])
def test_hostile_keys_and_numbers_scan_without_error(rules, name):
    report = scan(REGRESSIONS / name, rules)
    assert report.error is None, report.error
    assert report.is_template


def test_non_string_keys_are_not_intrinsics():
    from tapaudit.model.values import intrinsic

    assert intrinsic({1: "x"}) is None
    assert intrinsic({True: "x"}) is None
    assert intrinsic({"Ref": "X"}) == ("Ref", "X")


def test_huge_reserved_concurrency_is_a_number(rules):
    report = scan(REGRESSIONS / "huge_reserved_concurrency.yaml", rules)
    assert "TAP006" not in ids(report.findings + report.unknown)
    small = (REGRESSIONS / "huge_reserved_concurrency.yaml").read_text().replace(
        "ReservedConcurrentExecutions: 1" + "0" * 20, "ReservedConcurrentExecutions: -1" + "0" * 20)
    failed = scan(small, rules)
    assert failed.error is None and "TAP006" in ids(failed.findings)


# 4. Fn::ForEach: the generated-entries budget holds across nested loops.

def _nested_loops(outer: int, inner: int) -> dict:
    return {"Transform": "AWS::LanguageExtensions", "Resources": {"Fn::ForEach::A": [
        "x", [str(i) for i in range(outer)], {"Fn::ForEach::B": [
            "y", [str(i) for i in range(inner)],
            {"Q${x}x${y}": {"Type": "AWS::SQS::Queue",
                            "Properties": {"QueueName": {"Fn::Sub": "q-${x}-${y}"}}}}]}]}}


def test_nested_loops_over_the_budget_are_refused():
    from tapaudit.errors import InputError
    from tapaudit.model.provenance import Provenance
    from tapaudit.transforms.foreach import MAX_GENERATED, expand_language_extensions

    with pytest.raises(InputError, match=f"generates more than {MAX_GENERATED} entries"):
        expand_language_extensions(_nested_loops(1500, 1500), Provenance())


def test_nested_loops_within_the_budget_expand():
    from tapaudit.model.provenance import Provenance
    from tapaudit.transforms.foreach import MAX_GENERATED, expand_language_extensions

    out = expand_language_extensions(_nested_loops(100, 100), Provenance())
    assert len(out["Resources"]) == 100 * 100 <= MAX_GENERATED
    assert out["Resources"]["Q7x42"]["Properties"]["QueueName"] == {"Fn::Sub": "q-7-42"}


# 5. A combination whose conditions contradict each other is dropped, never kept.

COND_T = Template({
    "Conditions": {"C": {"Fn::Equals": ["a", "a"]}},
    "Mappings": {"M": {"a": {"k": {"Fn::If": ["C", "x", "y"]}}, "b": {"k": {"Fn::If": ["C", "p", "q"]}}}},
    "Resources": {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::If": ["C", "a", "b"]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": [
            {"Fn::If": ["C", {"Fn::Join": ["", [{"Fn::If": [
                "C", "arn:aws:iam::aws:policy/AdministratorAccess",
                "arn:aws:iam::123456789012:policy/outside"]}]]}, {"Ref": "AWS::NoValue"}]}]}},
    },
})


def test_find_in_map_drops_contradictory_combinations():
    value = {"Fn::FindInMap": ["M", {"Fn::If": ["C", "a", "b"]}, "k"]}
    assert resolve_all(COND_T, value) == [("x", (("C", True),)), ("q", (("C", False),))]


def test_getatt_with_computed_attribute_drops_contradictory_combinations():
    value = {"Fn::GetAtt": ["Q", {"Fn::If": ["C", "QueueName", "Arn"]}]}
    found = [(COND_T.display(v), c) for v, c in resolve_all(COND_T, value)]
    assert found == [("a", (("C", True),)),
                     ("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:b", (("C", False),))]


def test_managed_policy_arn_drops_contradictory_renderings():
    from tapaudit.model.iam import role_policies

    policies = role_policies(COND_T, "Role")
    assert policies.unverifiable == []
    assert policies.snapshot == ["AdministratorAccess"]
    assert all(s.branch_conditions == (("C", True),) for s in policies.statements)


def test_nested_fn_if_on_the_same_condition_gives_consistent_branches():
    from tapaudit.model.values import branches

    value = {"Fn::If": ["C", {"Fn::If": ["C", "x", "y"]}, {"Fn::If": ["C", "p", "q"]}]}
    assert [(b.value, b.conditions) for b in branches(value, ())] == [
        ("x", (("C", True),)), ("q", (("C", False),))]


# 6. Work done once per template: the DynamoDB index probes (a role's policies: test_iam.py).

def test_dynamodb_index_probes_are_built_once_per_template(monkeypatch):
    from tapaudit.rules.predicates import lambda_functions

    calls = []
    real = lambda_functions.arn_of
    monkeypatch.setattr(lambda_functions, "arn_of", lambda t, name: calls.append(name) or real(t, name))
    template = Template({"Resources": {"T": {"Type": "AWS::DynamoDB::Table",
                                             "Properties": {"TableName": "ledger"}}}})
    table = real(template, "T")
    assert lambda_functions.covers_dynamodb_index(template, table + "/index/*") is True
    assert lambda_functions.covers_dynamodb_index(template, table) is False
    assert lambda_functions.covers_dynamodb_index(template, "*") is True
    assert calls == ["T"]
