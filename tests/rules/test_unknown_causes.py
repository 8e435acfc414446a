"""Typed causes on unknowns (issue 15): each unknown a remedy depends on carries its `Cause` and the
names the remedy needs, set where the Unknown is made, and the remedy is chosen by that cause (never
by the words of the reason).

For each cause: the unknown the model (or a rule's predicate) makes on a fixture or a hand-written
template carries the cause and its subject, all the way to the rule's outcome.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tapaudit.loading.discovery import TemplateSource
from tapaudit.loading.parse import parse_document
from tapaudit.model.intrinsics import resolve
from tapaudit.model.template import Template
from tapaudit.model.values import Branch, Cause, Unknown, Why, child
from tapaudit.rules import load_rules
from tapaudit.rules.engine import evaluate_rule
from tapaudit.rules.fixes import UNKNOWN_FIX, unknown_fix
from tapaudit.scan import scan_source
from tapaudit.transforms import expand
from tests.conftest import FIXTURES

RULES = {rule.id: rule for rule in load_rules()}


def analysed(text: str) -> Template:
    """The template as a scan sees it (transforms expanded)."""
    expansion = expand(parse_document(text).data)
    template = Template(expansion.data)
    template.provenance = expansion.provenance
    return template


def causes(template: Template, rule_id: str, resource: str) -> list[Why]:
    """The typed causes of the rule's unknown outcomes on `resource` (the one the user wrote)."""
    return [why for result in evaluate_rule(RULES[rule_id], template) if result.logical_id == resource
            for _, outcome in result.unknowns for why in outcome.why]


def _fixture(path: Path) -> Template:
    return analysed(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("fixture", "rule", "resource", "why"), [
    ("TAP002/yaml-unknown-policies-from-macro.yaml", "TAP002", "HealthCheck", Why(Cause.MACRO)),
    ("TAP005/yaml-unknown-viewer-response-function.yaml", "TAP005", "Site",
     Why(Cause.HEADERS_FROM_CODE, "add-security-headers",
         (("event", "viewer-response"), ("kind", "CloudFront Function")))),
    ("TAP005/json-unknown-lambda-edge-origin-response.json", "TAP005", "Site",
     Why(Cause.HEADERS_FROM_CODE, "edge-headers:3",
         (("event", "origin-response"), ("kind", "Lambda@Edge function")))),
    ("TAP002/yaml-unknown-sam-policy-template-without-parameters.yaml", "TAP002", "HealthFn",
     Why(Cause.SAM_POLICY_TEMPLATE, "DynamoDBReadPolicy")),
    ("TAP002/sam-unknown-connector-not-evaluated.yaml", "TAP002", "HealthCheck",
     Why(Cause.CONNECTOR, "HealthCheckStream", (("what", "destination type AWS::Kinesis::Stream"),))),
    ("TAP003/yaml-unknown-attribute-not-defined.yaml", "TAP003", "Ledger",
     Why(Cause.UNDECLARED_ATTRIBUTE, "timestamp")),
    ("TAP003/yaml-unknown-findinmap-by-region.yaml", "TAP003", "Ledger",
     Why(Cause.MAPPING_ENTRIES_DIFFER, "Regions")),
    ("TAP003/yaml-unknown-type-from-parameter.yaml", "TAP003", "Ledger",
     Why(Cause.PARAMETER_WITHOUT_DEFAULT, "StatusType")),
    ("TAP004/yaml-unknown-schedule-role-elsewhere.yaml", "TAP004", "Nightly",
     Why(Cause.PARAMETER_WITHOUT_DEFAULT, "SchedulerRoleArn")),
    ("TAP002/yaml-unknown-external-role.yaml", "TAP002", "Monitor",
     Why(Cause.IMPORT_VALUE, "shared-monitor-role-arn")),
    ("TAP004/yaml-unknown-imported-dlq.yaml", "TAP004", "Rule", Why(Cause.IMPORT_VALUE, "shared-dlq-arn")),
    ("TAP004/yaml-unknown-condition-literal-account.yaml", "TAP004", "Orders",
     Why(Cause.DEPLOY_TIME_CONDITION, "StringEquals aws:SourceAccount")),
    ("TAP002/yaml-unknown-policy-not-in-snapshot.yaml", "TAP002", "Monitor",
     Why(Cause.MANAGED_POLICY_NOT_IN_SNAPSHOT, "TapauditNoSuchManagedPolicy")),
])
def test_each_cause_reaches_the_rules_outcome_with_its_subject(fixture, rule, resource, why):
    assert why in causes(_fixture(FIXTURES / fixture), rule, resource)


HAND_WRITTEN = """
Parameters:
  NoDefault: {Type: String}
Mappings:
  Regions: {us-east-1: {Type: S}, eu-west-1: {Type: N}}
Resources:
  Bucket: {Type: AWS::S3::Bucket}
"""


@pytest.mark.parametrize(("value", "why"), [
    ({"Ref": "NoDefault"}, Why(Cause.PARAMETER_WITHOUT_DEFAULT, "NoDefault")),
    ({"Fn::ImportValue": "shared-name"}, Why(Cause.IMPORT_VALUE, "shared-name")),
    ({"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-x"}}, Why(Cause.IMPORT_VALUE, "(computed name)")),
    ({"Fn::FindInMap": ["Regions", {"Ref": "AWS::Region"}, "Type"]},
     Why(Cause.MAPPING_ENTRIES_DIFFER, "Regions")),
    ({"Fn::Transform": {"Name": "Upper"}}, Why(Cause.MACRO)),
    # The cause survives the functions the value passes through.
    ({"Fn::Join": ["-", ["a", {"Ref": "NoDefault"}]]}, Why(Cause.PARAMETER_WITHOUT_DEFAULT, "NoDefault")),
    ({"Fn::Sub": ["${X}/b", {"X": {"Fn::ImportValue": "up"}}]}, Why(Cause.IMPORT_VALUE, "up")),
])
def test_the_model_types_what_it_cannot_resolve(value, why):
    found = resolve(analysed(HAND_WRITTEN), value)
    assert isinstance(found, Unknown)
    assert found.why == (why,)


def test_a_property_a_macro_computes_is_unknown_by_a_macro():
    body = {"Type": "AWS::S3::Bucket", "Properties": {"Tags": {"Fn::Transform": {"Name": "Tagger"}}}}
    (tags,) = child(Branch(body["Properties"], ("Resources", "B", "Properties")), "Tags")
    (tag,) = child(tags, 0)
    assert isinstance(tag.value, Unknown) and tag.value.cause is Cause.MACRO


def test_template_level_macros_and_unexpandable_loops_are_typed():
    macro = analysed("Transform: [SomeMacro]\nResources:\n  Q: {Type: AWS::SQS::Queue}\n")
    assert macro.provenance.unchecked["Q"].why == (Why(Cause.MACRO),)
    loop = analysed("""
Transform: AWS::LanguageExtensions
Parameters:
  Names: {Type: CommaDelimitedList}
Resources:
  Fn::ForEach::Queues:
    - Name
    - !Ref Names
    - Queue${Name}: {Type: AWS::SQS::Queue}
""")
    (unchecked,) = loop.provenance.unchecked.values()
    assert unchecked.why == (Why(Cause.PARAMETER_WITHOUT_DEFAULT, "Names"),)


def test_words_in_the_template_choose_no_remedy(tmp_path):
    """A name that reads like a cause ("macro", "parameter X has no default") is only a name."""
    path = tmp_path / "template.yaml"
    path.write_text("""
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties: {AssumeRolePolicyDocument: {}}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      ReservedConcurrentExecutions: !Ref macro-parameter-X-has-no-default
""", encoding="utf-8")
    report = scan_source(TemplateSource(str(path), path=path), list(RULES.values()))
    (unknown,) = [f for f in report.unknown if f.rule_id == "TAP006"]
    assert "Ref to macro-parameter-X-has-no-default" in unknown.message
    assert unknown.fix == UNKNOWN_FIX


def test_one_remedy_per_detail_chosen_by_the_order_of_causes():
    parameter = Why(Cause.PARAMETER_WITHOUT_DEFAULT, "P")
    condition = Why(Cause.DEPLOY_TIME_CONDITION, "StringEquals aws:SourceArn")
    macro = Why(Cause.MACRO)
    # Several causes in one detail: the one first in Cause's order; among equals, the first said.
    assert unknown_fix([(condition, parameter)]) == unknown_fix([(parameter,)])
    assert unknown_fix([(parameter, macro)]).startswith("Scan the expanded template")
    assert "parameter Q a default" in unknown_fix([(Why(Cause.PARAMETER_WITHOUT_DEFAULT, "Q"), parameter)])
    # No typed cause with a remedy: the generic text; each remedy said once.
    assert unknown_fix([(), (Why(Cause.OTHER),)]) == UNKNOWN_FIX
    assert unknown_fix([(parameter,), (parameter,)]) == unknown_fix([(parameter,)])


def test_every_cause_a_remedy_needs_has_one():
    """Causes that only steer wording (NO_VALUE, ACTION) or have none (OTHER) use the generic text."""
    wording_only = {Cause.NO_VALUE, Cause.ACTION, Cause.OTHER}
    for cause in set(Cause) - wording_only:
        text = unknown_fix([(Why(cause, "S", (("event", "E"), ("kind", "K"), ("what", "W"))),)])
        assert text != UNKNOWN_FIX and "{" not in text, cause
