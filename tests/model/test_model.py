"""The template model: branches, resolution, references, ARN rendering and IAM evaluation."""

from __future__ import annotations

import pytest

from tapaudit.model.arns import render
from tapaudit.model.graph import ReferenceGraph
from tapaudit.model.iam import Access, RolePolicies, evaluate, execution_role, role_policies
from tapaudit.model.intrinsics import resolve
from tapaudit.model.references import reference_graph
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Unknown, branches, child
from tapaudit.model.wildcards import wildcard_match

TEMPLATE = Template({
    "Parameters": {"Size": {"Type": "Number", "Default": 5}, "Open": {"Type": "String"}},
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "ledger"}},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "ManagedPolicyArns": [{"Ref": "Managed"}],
            "Policies": [{"PolicyName": "inline", "PolicyDocument": {"Statement": {
                "Effect": "Allow", "Action": "dynamodb:Query",
                "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Table", "Arn"]}, "/index/*"]]}}}}]}},
        "Managed": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {
            "Statement": [{"Effect": "Allow", "Action": ["sqs:*"], "Resource": "*"}]}}},
        "Attached": {"Type": "AWS::IAM::Policy", "Properties": {
            "Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "x"}}}]}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
        "External": {"Type": "AWS::Lambda::Function", "Properties": {
            "Role": {"Fn::ImportValue": "role"}}},
    },
})


def test_branches_follow_nested_if_and_novalue():
    value = {"Fn::If": ["A", {"Fn::If": ["B", 1, {"Ref": "AWS::NoValue"}]}, 3]}
    got = [(b.value, b.conditions) for b in branches(value, ("x",))]
    assert got == [(1, (("A", True), ("B", True))), (MISSING, (("A", True), ("B", False))),
                   (3, (("A", False),))]


def test_child_of_missing_is_missing():
    branch = Branch({"a": {"Ref": "AWS::NoValue"}}, ())
    assert [b.value for b in child(branch, "a")] == [MISSING]
    assert [b.path for b in child(Branch(MISSING, ("p",)), "b")] == [("p", "b")]


def test_resolve_parameters_and_unknowns():
    assert resolve(TEMPLATE, {"Ref": "Size"}) == 5
    assert isinstance(resolve(TEMPLATE, {"Ref": "Open"}), Unknown)
    assert isinstance(resolve(TEMPLATE, {"Fn::GetStackOutput": {"StackName": "x"}}), Unknown)
    assert isinstance(resolve(TEMPLATE, "{{resolve:ssm:/x}}"), Unknown)
    # Ref returns what CloudFormation returns: a queue's URL, with deploy-time parts symbolic.
    url = resolve(TEMPLATE, {"Ref": "Queue"})
    assert TEMPLATE.display(url) == \
        "https://sqs.${AWS::Region}.${AWS::URLSuffix}/${AWS::AccountId}/${Queue.QueueName}"


def test_reference_graph():
    graph = reference_graph(TEMPLATE)
    assert graph is reference_graph(TEMPLATE)  # built once per template
    assert graph.references("Role") == {"Table", "Managed"}
    assert graph.referrers("Role") == ["Attached", "Fn"]


def test_referrers_in_properties_leave_out_dependson_alone():
    graph = ReferenceGraph({
        "Fn": {"Type": "AWS::Lambda::Function"},
        "Waits": {"Type": "AWS::SQS::Queue", "DependsOn": ["Fn"]},
        "Calls": {"Type": "AWS::Events::Rule", "DependsOn": "Fn",
                  "Properties": {"Targets": [{"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}}]}},
        "Subs": {"Type": "AWS::SNS::Subscription", "Properties": {"Endpoint": {"Fn::Sub": "${Fn.Arn}"}}},
    })
    assert graph.referrers("Fn") == ["Calls", "Subs", "Waits"]
    assert graph.referrers("Fn", in_properties=True) == ["Calls", "Subs"]


def test_references_name_resources_only_and_named_in_properties_leaves_out_dependson_alone():
    graph = ReferenceGraph({
        "Fn": {"Type": "AWS::Lambda::Function"},
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "Calls": {"Type": "AWS::Events::Rule", "DependsOn": ["Table", "Fn"], "Properties": {
            "Name": {"Fn::Sub": "${AWS::StackName}-${Stage}-${Calls}"},
            "Targets": [{"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}, "Input": {"Ref": "AWS::Region"}}]}},
    })
    assert graph.references("Calls") == {"Fn", "Table"}  # no parameter, pseudo parameter or itself
    assert graph.named_in_properties("Calls") == {"Fn"}
    assert graph.named_in_properties("Missing") == set()


def test_render_arns_and_unknowns():
    join = {"Fn::Join": ["", [{"Fn::GetAtt": ["Table", "Arn"]}, "/index/*"]]}
    assert TEMPLATE.display(render(TEMPLATE, join)) == \
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/ledger/index/*"
    assert TEMPLATE.display(render(TEMPLATE, {"Fn::Sub": "${Queue.Arn}-${AWS::Region}-${!Literal}"})) \
        == "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Queue.QueueName}" \
           "-${AWS::Region}-${Literal}"
    assert render(TEMPLATE, {"Fn::Sub": ["${X}/y", {"X": {"Ref": "Size"}}]}) == "5/y"
    assert isinstance(render(TEMPLATE, {"Fn::ImportValue": "x"}), Unknown)
    assert isinstance(render(TEMPLATE, {"Fn::Sub": "${Open}"}), Unknown)


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("*", "anything/at:all", True),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/deep", True),
    ("arn:aws:s3:::b/transactions/*", "arn:aws:s3:::b/other/k", False),
    ("s3:Put?bject", "s3:PutObject", True),
])
def test_iam_globs(pattern, text, expected):
    assert wildcard_match(pattern, text) is expected


def _everything(pattern: str) -> bool | None:
    return TEMPLATE.symbols.compare(pattern, "arn:aws:s3:::bucket/key")


def test_role_policies_collect_inline_attached_and_managed():
    policies = role_policies(TEMPLATE, "Role")
    origins = {s.origin for s in policies.statements}
    assert origins == {"inline policy of role Role", "AWS::IAM::ManagedPolicy Managed",
                       "AWS::IAM::Policy Attached"}
    assert policies.unverifiable == []


@pytest.mark.parametrize(("action", "access"), [
    ("sqs:SendMessage", Access.ALLOWED),       # managed policy, wildcard action
    ("s3:GetObject", Access.ALLOWED),          # NotAction iam:*
    ("iam:PassRole", Access.NOT_ALLOWED),      # excluded by NotAction
    ("s3:DeleteObject", Access.DENIED),        # explicit Deny wins
    ("s3:PutObject", Access.UNKNOWN),          # conditional Deny: cannot be decided
    ("S3:GETOBJECT", Access.ALLOWED),          # actions are case-insensitive
])
def test_evaluate(action, access):
    [decision] = evaluate(TEMPLATE, role_policies(TEMPLATE, "Role"), action, _everything, "x")
    assert decision.access is access


def test_unverifiable_managed_policy_makes_unknown():
    policies = RolePolicies([], [Unknown("managed policy PowerUserAccess cannot be read")])
    [decision] = evaluate(TEMPLATE, policies, "s3:GetObject", _everything, "x")
    assert decision.access is Access.UNKNOWN


def test_execution_role():
    assert execution_role(TEMPLATE, "Fn") == "Role"
    assert isinstance(execution_role(TEMPLATE, "External"), Unknown)
