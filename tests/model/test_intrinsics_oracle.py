"""Our intrinsic evaluation against cfn-lint's own resolver (an independent implementation of
CloudFormation's Fn::Join/Sub/Select/Split/FindInMap/Ref semantics), on a table of expressions and
on generated nestings. cfn-lint fills pseudo parameters with sample values; ours stay symbolic, so
the comparison fills our placeholders with the same samples. The property: we give cfn-lint's
value, or say unknown; never another value. (cfn-lint does not resolve Ref/GetAtt of resources,
and keeps `${!Literal}` as is where CloudFormation writes `${Literal}`: tested in test_model.)"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tapaudit.model.intrinsics import resolve_all
from tapaudit.model.template import Template
from tapaudit.model.values import Unknown
from tests.conftest import require_module

SAMPLES = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
           "AWS::URLSuffix": "amazonaws.com"}
TEMPLATE = {
    "Parameters": {"Env": {"Type": "String", "Default": "prod"},
                   "Names": {"Type": "CommaDelimitedList", "Default": "a,b,c"}},
    "Mappings": {"Stage": {"prod": {"Parts": "x|y|z", "Size": "large"}, "dev": {"Parts": "q", "Size": "s"}}},
    "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders"}},
                  "B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "data"}}},
}


@pytest.fixture(scope="module")
def oracle():
    require_module("cfnlint")
    from cfnlint.context import create_context_for_template
    from cfnlint.decode.decode import decode_str
    from cfnlint.jsonschema import CfnTemplateValidator
    from cfnlint.template import Template as CfnTemplate

    decoded, _ = decode_str(json.dumps(TEMPLATE))
    cfn = CfnTemplate("t.json", decoded, ["us-east-1"])
    validator = CfnTemplateValidator({}).evolve(
        cfn=cfn, context=create_context_for_template(cfn).evolve(strict_types=False))

    def resolve(expression):
        return [value for value, _, errors in validator.resolve_value(expression) if not errors]

    return resolve


def ours(expression):
    template = Template(TEMPLATE)
    found = []
    for value, _ in resolve_all(template, expression):
        if isinstance(value, str):
            text = template.display(value)
            for name, sample in SAMPLES.items():
                text = text.replace("${" + name + "}", sample)
            found.append(text)
        else:
            found.append(value)
    return found


@pytest.mark.parametrize("expression", [
    {"Fn::Select": [1, {"Fn::Split": ["|", {"Fn::FindInMap": ["Stage", {"Ref": "Env"}, "Parts"]}]}]},
    {"Fn::Join": ["-", ["a", {"Fn::Select": [0, ["x", "y"]]}, {"Ref": "Env"}]]},
    {"Fn::Join": [",", {"Ref": "Names"}]},
    {"Fn::Select": [2, {"Ref": "Names"}]},
    {"Fn::Sub": ["${A}-${AWS::Region}", {"A": {"Fn::FindInMap": ["Stage", "dev", "Size"]}}]},
    {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:x"},
    {"Fn::Join": ["", ["https://", {"Ref": "AWS::URLSuffix"}]]},
    {"Fn::Split": [",", "a,,b"]},
    {"Fn::Select": [3, {"Fn::Split": [":", {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:x"}]}]},
])
def test_agrees_with_cfn_lint(oracle, expression):
    assert ours(expression) == oracle(expression)


def agrees_or_unknown(expression, oracle) -> None:
    mine = ours(expression)
    if any(isinstance(value, Unknown) for value in mine):
        return  # unknown is always allowed; a different value never is
    assert mine == oracle(expression)


_leaf = st.sampled_from(["a", "b-c", "x|y", "", {"Ref": "Env"}, {"Ref": "AWS::Region"},
                         {"Fn::FindInMap": ["Stage", {"Ref": "Env"}, "Size"]}])


def _nest(children):
    strings = children
    lists = st.lists(strings, min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda d, xs: {"Fn::Join": [d, xs]}, st.sampled_from(["", "-", "|"]), lists),
        st.builds(lambda xs, i: {"Fn::Select": [i % len(xs), xs]}, lists, st.integers(0, 5)),
        st.builds(lambda d, s, i: {"Fn::Select": [i, {"Fn::Split": [d, s]}]},
                  st.sampled_from(["|", "-"]), strings, st.just(0)),
        st.builds(lambda s: {"Fn::Sub": ["<${V}>", {"V": s}]}, strings),
    )


@settings(max_examples=150, deadline=None)
@given(st.recursive(_leaf, _nest, max_leaves=8))
def test_generated_nestings_agree_with_cfn_lint(oracle, expression):
    agrees_or_unknown(expression, oracle)
