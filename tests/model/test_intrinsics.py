"""Issue 9, table-driven: intrinsics as CloudFormation evaluates them, symbolic pseudo parameters,
resources found by literal name or ARN, IAM conditions, custom-resource handlers, shapes."""

from __future__ import annotations

import json

import pytest

from tapaudit.loading.discovery import TemplateSource
from tapaudit.model.arns import render
from tapaudit.model.budget import MAX_INTRINSIC_DEPTH
from tapaudit.model.iam import Access, RolePolicies, evaluate, service_context, statements_of
from tapaudit.model.intrinsics import resolve, resolve_all
from tapaudit.model.invocation import deployment_only
from tapaudit.model.lookup import denoted
from tapaudit.model.template import Template
from tapaudit.model.values import Branch, Malformed, Unknown, child, items
from tapaudit.scan import ScanOptions, scan_source
from tests.conftest import FIXTURES

DATA = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "prod"},
        "Names": {"Type": "CommaDelimitedList", "Default": "a, b,c"},
        "Open": {"Type": "String"},
        "FromSsm": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x"},
    },
    "Mappings": {
        "Stage": {"prod": {"Size": "large", "Parts": "x|y|z"}, "dev": {"Size": "small", "Parts": "q"}},
        "Same": {"us-east-1": {"Kind": "S"}, "eu-west-1": {"Kind": "S"}},
        "Differs": {"us-east-1": {"Kind": "S"}, "eu-west-1": {"Kind": "N"}},
    },
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders"}},
        "Anon": {"Type": "AWS::SQS::Queue"},
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "app", "Path": "/svc/"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "worker"}},
        "Live": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Fn"}, "Name": "live"}},
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "TableName": {"Fn::Sub": "${AWS::StackName}-ledger"}}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {"EventBusName": "payments"}},
        "Custom": {"Type": "Custom::Thing"},
        "Other": {"Type": "AWS::Foo::Bar"},
    },
}
T = Template(DATA)


def shown(value):
    rendered = render(T, value)
    return T.display(rendered) if isinstance(rendered, str) else rendered


@pytest.mark.parametrize(("value", "expected"), [
    # Ref returns what CloudFormation returns for the type
    ({"Ref": "Queue"}, "https://sqs.${AWS::Region}.${AWS::URLSuffix}/${AWS::AccountId}/orders"),
    ({"Ref": "Anon"}, "https://sqs.${AWS::Region}.${AWS::URLSuffix}/${AWS::AccountId}/${Anon.QueueName}"),
    ({"Ref": "Bucket"}, "${Bucket}"),
    ({"Ref": "Role"}, "app"),
    ({"Ref": "Fn"}, "worker"),
    ({"Ref": "Topic"}, "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${Topic.TopicName}"),
    ({"Ref": "Live"}, "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:worker:live"),
    ({"Ref": "Other"}, "${Other}"),
    # Fn::GetAtt knows the common attributes
    ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:orders"),
    ({"Fn::GetAtt": "Queue.QueueUrl"}, "https://sqs.${AWS::Region}.${AWS::URLSuffix}/${AWS::AccountId}/orders"),
    ({"Fn::GetAtt": ["Queue", "QueueName"]}, "orders"),
    ({"Fn::GetAtt": ["Role", "Arn"]}, "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/svc/app"),
    ({"Fn::GetAtt": ["Role", "RoleId"]}, "${Role.RoleId}"),
    ({"Fn::GetAtt": ["Table", "Arn"]},
     "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${AWS::StackName}-ledger"),
    ({"Fn::GetAtt": ["Rule", "Arn"]},
     "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/payments/${Rule}"),
    ({"Fn::GetAtt": ["Bucket", "RegionalDomainName"]}, "${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}"),
    # nested intrinsics
    ({"Fn::FindInMap": ["Stage", {"Ref": "Env"}, "Size"]}, "large"),
    ({"Fn::Select": [2, {"Fn::Split": ["|", {"Fn::FindInMap": ["Stage", {"Ref": "Env"}, "Parts"]}]}]}, "z"),
    ({"Fn::Join": ["-", [{"Fn::Select": [1, {"Ref": "Names"}]}, {"Ref": "AWS::Region"}]]},
     "b-${AWS::Region}"),
    ({"Fn::Sub": ["${A}/${Queue.QueueName}/${!Literal}", {"A": {"Fn::Select": [0, ["x", "y"]]}}]},
     "x/orders/${Literal}"),
    ({"Fn::FindInMap": ["Same", {"Ref": "AWS::Region"}, "Kind"]}, "S"),
    ({"Fn::Length": {"Ref": "Names"}}, "3"),
    ({"Fn::Base64": "hi"}, "aGk="),
])
def test_values_as_cloudformation_returns_them(value, expected):
    assert shown(value) == expected


@pytest.mark.parametrize(("value", "reason"), [
    ({"Fn::ImportValue": "shared-role"}, "comes from Fn::ImportValue 'shared-role' (another stack)"),
    ({"Ref": "Open"}, "parameter Open has no default"),
    ({"Ref": "FromSsm"}, "read from SSM parameter /x at deploy time"),
    ({"Fn::GetAtt": ["Custom", "Arn"]}, "attribute Arn of custom resource Custom is set by its handler"),
    ({"Fn::FindInMap": ["Differs", {"Ref": "AWS::Region"}, "Kind"]}, "whose entries differ"),
    ({"Fn::FindInMap": ["Stage", "qa", "Size"]}, "Stage has no qa/Size"),
    ("{{resolve:ssm:/cfg/x}}", "dynamic reference"),
    ({"Fn::GetAZs": ""}, "Fn::GetAZs"),
    ({"Fn::If": ["IsProd", "a", "b"]}, "depends on condition IsProd"),
])
def test_unknown_values_say_exactly_why(value, reason):
    result = render(T, value)
    assert isinstance(result, Unknown) and reason in result.reason


def test_fn_if_nested_anywhere_gives_every_branch():
    value = {"Fn::Join": ["", [{"Fn::If": ["IsProd", "p", {"Ref": "AWS::NoValue"}]}, "-x"]]}
    assert [(v, c) for v, c in resolve_all(T, value)] == [("p-x", (("IsProd", True),)),
                                                        ("-x", (("IsProd", False),))]


@pytest.mark.parametrize(("partition", "principal", "expected"), [
    ("aws", {"Fn::Sub": "events.${AWS::URLSuffix}"}, Access.ALLOWED),
    ("aws-cn", {"Fn::Sub": "events.${AWS::URLSuffix}"}, Access.ALLOWED),
    (None, {"Fn::Sub": "events.${AWS::URLSuffix}"}, Access.UNKNOWN),  # partition not configured
    ("aws", "lambda.amazonaws.com", Access.NOT_ALLOWED),
])
def test_principal_in_the_configured_partition(partition, principal, expected):
    template = Template({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}, partition=partition)
    doc = Branch({"Statement": [{"Effect": "Allow", "Principal": {"Service": principal},
                                 "Action": "sqs:SendMessage", "Resource": "*"}]}, ())
    policies = RolePolicies(list(statements_of(template, doc, "p")), [])
    [decision] = evaluate(template, policies, "sqs:SendMessage", lambda p: True, "q",
                          service="events.amazonaws.com")
    assert decision.access is expected


RULES = {"Resources": {"A": {"Type": "AWS::Events::Rule", "Properties": {"Name": "rule-a"}},
                       "B": {"Type": "AWS::Events::Rule"}}}


@pytest.mark.parametrize(("condition", "rule", "expected"), [
    ({"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["A", "Arn"]}}}, "A", Access.ALLOWED),
    ({"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["A", "Arn"]}}}, "B", Access.NOT_ALLOWED),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/rule-*"}}, "A", Access.ALLOWED),
    ({"StringLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/rule-*"}}, "B", Access.NOT_ALLOWED),
    ({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}, "B", Access.ALLOWED),
    ({"StringEquals": {"aws:SourceAccount": "111122223333"}}, "B", Access.UNKNOWN),
    ({"ArnNotEquals": {"aws:SourceArn": {"Fn::GetAtt": ["A", "Arn"]}}}, "A", Access.NOT_ALLOWED),
    ({"StringEqualsIfExists": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}, "A", Access.ALLOWED),
    ({"StringEquals": {"aws:SourceOrgID": "o-123"}}, "A", Access.UNKNOWN),  # not in the template
    ({"Bool": {"aws:SecureTransport": "false"}}, "A", Access.NOT_ALLOWED),
])
def test_request_conditions_for_a_service(condition, rule, expected):
    template = Template(RULES)
    doc = Branch({"Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                 "Action": "sqs:SendMessage", "Resource": "*",
                                 "Condition": condition}]}, ())
    policies = RolePolicies(list(statements_of(template, doc, "p")), [])
    source = render(template, {"Fn::GetAtt": [rule, "Arn"]})
    [decision] = evaluate(template, policies, "sqs:SendMessage", lambda p: True, "q",
                          service="events.amazonaws.com", context=service_context(template, source))
    assert decision.access is expected


def test_explicit_deny_with_its_conditions():
    template = Template(RULES)
    doc = Branch({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage",
         "NotResource": "arn:aws:sqs:*:*:keep",
         "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["B", "Arn"]}}}}]}, ())
    policies = RolePolicies(list(statements_of(template, doc, "p")), [])
    for rule, expected in (("A", Access.ALLOWED), ("B", Access.DENIED)):
        source = render(template, {"Fn::GetAtt": [rule, "Arn"]})
        [decision] = evaluate(template, policies, "sqs:SendMessage",
                              lambda p: template.symbols.compare(p, "arn:aws:sqs:us-east-1:1:dlq"), "q",
                              service="events.amazonaws.com", context=service_context(template, source))
        assert decision.access is expected


@pytest.mark.parametrize(("value", "types", "expected"), [
    ({"Ref": "Role"}, ("AWS::IAM::Role",), ("Role", "Ref")),
    ("app", ("AWS::IAM::Role",), ("Role", "Ref")),
    ({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/svc/${Role}"}, ("AWS::IAM::Role",),
     ("Role", "Arn")),
    ("arn:aws:iam::111122223333:role/svc/app", ("AWS::IAM::Role",), ("Role", "Arn")),
    ({"Ref": "Queue"}, ("AWS::SQS::Queue",), ("Queue", "Ref")),
    ("https://sqs.eu-west-1.amazonaws.com/111122223333/orders", ("AWS::SQS::Queue",), ("Queue", "QueueUrl")),
    ("arn:aws:sqs:us-east-1:111122223333:elsewhere", ("AWS::SQS::Queue",), None),
])
def test_resources_found_by_literal_name_or_arn(value, types, expected):
    found = denoted(T, value, types)
    got = (found[0].logical_id, found[0].form) if found else None
    if expected and expected[1] == "QueueUrl" and got:
        assert got[0] == expected[0] and got[1] in ("Ref", "QueueUrl")
    else:
        assert got == expected


HANDLERS = {"Resources": {
    "H": {"Type": "AWS::Lambda::Function"},
    "CR": {"Type": "Custom::X", "Properties": {"ServiceToken": {"Fn::GetAtt": ["H", "Arn"]}}},
    "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${H}"}}},
    "Called": {"Type": "AWS::Lambda::Function"},
    "CR2": {"Type": "Custom::Y", "Properties": {"ServiceToken": {"Fn::GetAtt": ["Called", "Arn"]}}},
    "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {
        "FunctionName": {"Ref": "Called"}, "Principal": "sns.amazonaws.com",
        "Action": "lambda:InvokeFunction"}},
    "Plain": {"Type": "AWS::Lambda::Function"},
}}


@pytest.mark.parametrize(("function", "exempt"), [("H", True), ("Called", False), ("Plain", False)])
def test_custom_resource_handlers(function, exempt):
    assert (deployment_only(Template(HANDLERS), function) is not None) is exempt


@pytest.mark.parametrize(("value", "key", "expected"), [
    ([{"a": 1}], "a", "is a list, not a mapping"),
    ("text", "a", "is a string, not a mapping"),
    ({"Fn::ImportValue": "x"}, "a", None),  # an intrinsic is unknown, not malformed
])
def test_wrong_shapes_are_malformed(value, key, expected):
    [got] = child(Branch(value, ("Resources", "R", "Properties", "X")), key)
    if expected:
        assert isinstance(got.value, Malformed) and expected in got.value.reason
    else:
        assert isinstance(got.value, Unknown)
    [listed] = items(Branch({"k": 1}, ("Resources", "R", "Properties", "L")))
    assert isinstance(listed.value, Malformed) and "L is a mapping, not a list" in listed.value.reason


def test_messages_never_invent_an_account_id(rules):
    """No fixture message shows a sample account id the template does not hold itself."""
    for path in sorted(FIXTURES.glob("TAP*/*")):
        if path.name == "cases.yaml":
            continue
        text = path.read_text()
        report = scan_source(TemplateSource(path.name, path=path), rules,
                             options=ScanOptions(partition="aws"))
        for finding in report.findings + report.unknown:
            blob = json.dumps(finding.to_dict(), ensure_ascii=False)
            assert "123456789012" not in blob or "123456789012" in text, path
            assert "us-east-1:" not in blob or "us-east-1" in text, path
            assert not any(ord(c) >= 0xF0000 for c in blob), path  # placeholders never leak


@pytest.mark.parametrize(("statement", "expected"), [
    # Resource under Fn::If: judged per branch, each decision names its condition
    ({"Effect": "Allow", "Action": "sqs:SendMessage",
      "Resource": {"Fn::If": ["IsProd", {"Fn::GetAtt": ["Queue", "Arn"]}, "arn:aws:sqs:*:*:other"]}},
     {(("IsProd", True),): Access.ALLOWED, (("IsProd", False),): Access.NOT_ALLOWED}),
    # one element of the Action list under Fn::If
    ({"Effect": "Allow", "Resource": "*",
      "Action": ["sqs:ReceiveMessage", {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "sqs:Send*"]}]},
     {(("IsProd", True),): Access.NOT_ALLOWED, (("IsProd", False),): Access.ALLOWED}),
    # the Effect under Fn::If
    ({"Effect": {"Fn::If": ["IsProd", "Allow", "Deny"]}, "Action": "sqs:*", "Resource": "*"},
     {(("IsProd", True),): Access.ALLOWED, (("IsProd", False),): Access.DENIED}),
])
def test_statement_parts_under_fn_if_are_evaluated_per_branch(statement, expected):
    doc = Branch({"Statement": [statement]}, ())
    policies = RolePolicies(list(statements_of(T, doc, "p")), [])
    queue = render(T, {"Fn::GetAtt": ["Queue", "Arn"]})
    decisions = evaluate(T, policies, "sqs:SendMessage", lambda p: T.symbols.compare(p, queue), "q")
    assert {d.conditions: d.access for d in decisions} == expected


def test_invalid_values_show_deploy_time_parts_symbolically(rules_by_id):
    from tapaudit.loading.parse import parse_document
    from tapaudit.rules.engine import evaluate_rule, to_finding

    document = parse_document(json.dumps({"Resources": {"D": {
        "Type": "AWS::CloudFront::Distribution",
        # A behavior that passes: the message (at most 200 characters) has room for the HttpVersion.
        "Properties": {"DistributionConfig": {
            "HttpVersion": {"Fn::Sub": "http-${AWS::Region}"},
            "DefaultCacheBehavior": {"ViewerProtocolPolicy": "redirect-to-https",
                                     "ResponseHeadersPolicyId": "67f7725c-6f97-4210-82d7-5512b31e9d03"}}}}}}))
    template = Template(document.data)
    [result] = evaluate_rule(rules_by_id["TAP005"], template)
    finding = to_finding(result, template, "t.json", document.source_map)
    assert "HttpVersion 'http-${AWS::Region}' is invalid" in finding.message


def test_what_getatt_returns_is_not_kept_from_past_the_depth_limit():
    """A role's Path that cannot be evaluated deep in a value is filled in as "/" there; that
    answer must not become the role's ARN everywhere else."""
    template = Template({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "r", "Path": {"Fn::Join": ["", ["/", "svc", "/"]]}}}}})
    deep: dict = {"Fn::GetAtt": ["Role", "Arn"]}
    for _ in range(MAX_INTRINSIC_DEPTH - 1):
        deep = {"Fn::Join": ["", [deep]]}
    assert ":role/r" in template.display(resolve(template, deep))  # the Path is out of reach
    assert template.display(resolve(template, {"Fn::GetAtt": ["Role", "Arn"]})) == \
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/svc/r"
