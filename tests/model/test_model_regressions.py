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

@pytest.mark.parametrize(("resources", "value"), [
    ({"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::GetAtt": ["Q", "QueueName"]}}}},
     {"Fn::GetAtt": ["Q", "Arn"]}),
    ({"A": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "A"}}}},
     {"Fn::GetAtt": ["A", "Arn"]}),
    ({"L": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "L"}, "Name": "live"}}},
     {"Ref": "L"}),
    # through another resource
    ({"A": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::GetAtt": ["B", "QueueName"]}}},
      "B": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Join": ["-", [
          {"Fn::GetAtt": ["A", "QueueName"]}, {"Fn::GetAtt": ["A", "QueueName"]}]]}}}},
     {"Fn::GetAtt": ["A", "Arn"]}),
    # a rule on a bus named after the rule itself
    ({"R": {"Type": "AWS::Events::Rule", "Properties": {"EventBusName": {"Fn::GetAtt": ["R", "Arn"]}}}},
     {"Fn::GetAtt": ["R", "Arn"]}),
])
def test_self_referencing_name_is_unknown_for_that_value_only(resources, value):
    template = Template({"Resources": resources})
    result = render(template, value)
    assert isinstance(result, Unknown)
    assert "refers to itself" in result.reason or "nested too deep" in result.reason


def test_self_named_queue_template_still_scans(rules):
    report = scan(REGRESSIONS / "self_named_queue.yaml", rules)
    assert report.error is None
    assert report.checked


# 2. Fn::If combinations are built part by part: contradictions dropped early, overflow found early.

def test_many_parts_on_one_condition_give_two_values_quickly():
    import time

    template = Template({"Conditions": {"C": {"Fn::Equals": ["a", "a"]}}, "Resources": {}})
    value = {"Fn::Join": ["", [{"Fn::If": ["C", "a", "b"]}] * 60]}
    start = time.perf_counter()
    found = resolve_all(template, value)
    assert time.perf_counter() - start < 2
    assert [(v, c) for v, c in found] == [("a" * 60, (("C", True),)), ("b" * 60, (("C", False),))]


def test_many_independent_conditions_are_unknown_quickly():
    import time

    names = [f"C{i}" for i in range(40)]
    template = Template({"Conditions": {n: {"Fn::Equals": ["a", "a"]} for n in names}, "Resources": {}})
    value = {"Fn::Join": ["", [{"Fn::If": [n, "a", "b"]} for n in names]]}
    start = time.perf_counter()
    result = render(template, value)
    assert time.perf_counter() - start < 2
    assert isinstance(result, Unknown) and "Fn::If combinations" in result.reason


# 3. IAM actions are rendered like resources; what cannot be read is kept as "maybe", never dropped.

def test_deny_whose_action_is_a_parameter_default_denies(rules):
    report = scan(REGRESSIONS / "deny_action_from_parameter.yaml", rules)
    assert ids(report.findings) == ["TAP004"]
    assert "explicitly denied" in report.findings[0].message


def test_allow_whose_action_is_a_sub_allows(rules):
    report = scan(REGRESSIONS / "allow_action_from_sub.yaml", rules)
    assert report.findings == [] and report.unknown == []
    assert any(c.rule_id == "TAP004" for c in report.checked)


def test_deny_with_too_many_action_combinations_is_unknown(rules):
    report = scan(REGRESSIONS / "deny_actions_too_many_conditions.json", rules)
    assert report.findings == []
    assert ids(report.unknown) == ["TAP004"]
    assert "Deny" in report.unknown[0].message


POLICY_T = Template({
    "Parameters": {"Open": {"Type": "String"}},
    "Conditions": {f"C{i}": {"Fn::Equals": ["a", "a"]} for i in range(8)},
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders"}}},
})
_ALLOW = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}


def _decide(*statements):
    from tapaudit.model.iam import RolePolicies, evaluate, statements_of
    from tapaudit.model.values import Branch

    doc = Branch({"Statement": list(statements)}, ())
    policies = RolePolicies(list(statements_of(POLICY_T, doc, "p")), [])
    queue = render(POLICY_T, {"Fn::GetAtt": ["Queue", "Arn"]})
    return {d.access for d in evaluate(POLICY_T, policies, "sqs:SendMessage",
                                       lambda p: POLICY_T.symbols.compare(p, queue), "q")}


@pytest.mark.parametrize("deny", [
    # the action comes from a parameter without default
    {"Effect": "Deny", "Action": {"Ref": "Open"}, "Resource": "*"},
    # an action that is not a string
    {"Effect": "Deny", "Action": [{"not": "a string"}], "Resource": "*"},
    # Action and Resource each fine alone, too many Fn::If combinations together
    {"Effect": "Deny",
     "Action": [{"Fn::If": [f"C{i}", "sqs:SendMessage", "sqs:ReceiveMessage"]} for i in range(4)],
     "Resource": [{"Fn::If": [f"C{i}", "*", "arn:aws:sqs:*:*:other"]} for i in range(4, 8)]},
])
def test_unreadable_deny_makes_the_answer_unknown(deny):
    from tapaudit.model.iam import Access

    assert _decide(_ALLOW, deny) == {Access.UNKNOWN}


def test_unreadable_allow_is_unknown_and_a_readable_action_still_counts():
    from tapaudit.model.iam import Access

    assert _decide({**_ALLOW, "Action": {"Ref": "Open"}}) == {Access.UNKNOWN}
    assert _decide({**_ALLOW, "Action": {"Fn::Sub": "sqs:${!Literal}"}}) == {Access.NOT_ALLOWED}
    # a Deny whose unreadable action list also names another action it covers is still a Deny
    assert _decide(_ALLOW, {"Effect": "Deny", "Action": [{"Ref": "Open"}, "sqs:*"],
                            "Resource": "*"}) == {Access.DENIED}


# 4. Hostile input is scanned, never an internal error.

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


# 5. Fn::ForEach: the generated-entries budget holds across nested loops.

def _nested_loops(outer: int, inner: int) -> dict:
    return {"Transform": "AWS::LanguageExtensions", "Resources": {"Fn::ForEach::A": [
        "x", [str(i) for i in range(outer)], {"Fn::ForEach::B": [
            "y", [str(i) for i in range(inner)],
            {"Q${x}x${y}": {"Type": "AWS::SQS::Queue",
                            "Properties": {"QueueName": {"Fn::Sub": "q-${x}-${y}"}}}}]}]}}


def test_nested_loops_over_the_budget_are_refused_early():
    import time

    from tapaudit.errors import InputError
    from tapaudit.model.provenance import Provenance
    from tapaudit.transforms.foreach import expand_language_extensions

    start = time.perf_counter()
    with pytest.raises(InputError, match="generates more than"):
        expand_language_extensions(_nested_loops(1500, 1500), Provenance())
    assert time.perf_counter() - start < 3


def test_nested_loops_within_the_budget_expand():
    from tapaudit.model.provenance import Provenance
    from tapaudit.transforms.foreach import MAX_GENERATED, expand_language_extensions

    out = expand_language_extensions(_nested_loops(100, 100), Provenance())
    assert len(out["Resources"]) == 100 * 100 <= MAX_GENERATED
    assert out["Resources"]["Q7x42"]["Properties"]["QueueName"] == {"Fn::Sub": "q-7-42"}


# 6. A combination whose conditions contradict each other is dropped, never kept.

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


# 7. Work done once per template: a role's policies, the DynamoDB index probes.

def test_role_policies_are_built_once_per_template_and_role():
    from tapaudit.model.iam import role_policies

    template = Template({"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p",
            "PolicyDocument": {"Statement": [_ALLOW]}}]}},
        "Other": {"Type": "AWS::IAM::Role"}}})
    first = role_policies(template, "Role")
    assert role_policies(template, "Role") is first and len(first.statements) == 1
    assert role_policies(template, "Other") is not first
    assert role_policies(Template(template.data), "Role") is not first


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
