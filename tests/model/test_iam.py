"""IAM in the model: actions are rendered like resources, what cannot be read is kept as "maybe"
(never dropped), and a role's policies are built once per template."""

from __future__ import annotations

import pytest

from tapaudit.loading.discovery import TemplateSource
from tapaudit.model.arns import render
from tapaudit.model.template import Template
from tapaudit.scan import ScanOptions, scan_source
from tests.conftest import FIXTURES

REGRESSIONS = FIXTURES / "regressions"


def scan(path, rules):
    return scan_source(TemplateSource(path.name, path=path), rules, options=ScanOptions(partition="aws"))


def ids(findings):
    return sorted(f.rule_id for f in findings)


# IAM actions are rendered like resources; what cannot be read is kept as "maybe", never dropped.

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
