"""Regression cases for bugs a review found in the model: each names the input that showed it."""

from __future__ import annotations

import pytest

from tapaudit.loading.discovery import TemplateSource
from tapaudit.model.arns import render
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
    found = template.resolve_all(value)
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
