"""Property-based tests (issues 10 and 16): generated templates and mutations of real ones get
what they deserve. A mutation that breaks the document gives exit 2 with one one-line error naming
the file; a well-formed template (its resources mappings with a string Type) is scanned: exit 0 or
1, no error; every exit code agrees with the report, JSON and SARIF are always valid, no
"internal error", and scanning the same input twice gives the same report.

The budget is fixed (derandomized, a set number of examples) so CI time stays put. Inputs that
once failed are kept as explicit examples (`REGRESSIONS`) and run every time.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tapaudit.findings import ScanResult
from tapaudit.gate import decide
from tapaudit.loading.discovery import TemplateSource
from tapaudit.loading.quoting import excerpt
from tapaudit.reporting import json_report, sarif
from tapaudit.rules import load_rules
from tapaudit.scan import _collect, scan_source
from tests.conftest import FIXTURES, SARIF_SCHEMA

pytestmark = pytest.mark.slow

BUDGET = settings(max_examples=400, derandomize=True, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

RULE_TYPES = ["AWS::Lambda::Function", "AWS::Events::Rule", "AWS::Scheduler::Schedule",
              "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket",
              "AWS::CloudFront::Distribution", "AWS::IAM::Role", "AWS::IAM::Policy",
              "AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "Custom::S3BucketNotifications",
              "AWS::Serverless::Function", "AWS::Serverless::StateMachine",
              "AWS::Serverless::SimpleTable", "AWS::Serverless::Connector", "AWS::Serverless::Api"]
PROPERTY_NAMES = ["ReservedConcurrentExecutions", "Role", "Policies", "Events", "Targets", "Target",
                  "DeadLetterConfig", "Arn", "RoleArn", "PolicyDocument", "Statement", "Roles",
                  "ManagedPolicyArns", "GlobalSecondaryIndexes", "KeySchema", "ReplicationConfiguration",
                  "NotificationConfiguration", "DistributionConfig", "FunctionName", "Type",
                  "Properties", "Schedule", "Pattern", "Source", "Destination", "Permissions",
                  "Connectors", "PrimaryKey", "Queues", "Effect", "Action", "Resource", "Condition",
                  "TableName", "CodeUri", "Filter", "Rules", "Status", "Fn::ForEach::Loop"]
INTRINSICS = ["Ref", "Fn::GetAtt", "Fn::If", "Fn::Sub", "Fn::Join", "Fn::ImportValue", "Fn::Select",
              "Fn::FindInMap", "Fn::Transform", "Fn::Length", "Fn::ToJsonString", "Condition",
              "Fn::GetStackOutput", "Fn::Base64"]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["*", "AWS::NoValue", "arn:aws:sqs:us-east-1:1:q", "Fn", "Role", "health",
                     "SQS", "rate(1 day)", "${Fn.Arn}", "{{resolve:ssm:x}}", "AWS::AccountId"]),
)
keys = st.one_of(st.sampled_from(PROPERTY_NAMES), st.text(min_size=1, max_size=8))


def _with_intrinsics(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
        st.builds(lambda name, arg: {name: arg}, st.sampled_from(INTRINSICS), children),
        st.builds(lambda c, a, b: {"Fn::If": [c, a, b]}, st.text(max_size=4), children,
                  st.sampled_from([{"Ref": "AWS::NoValue"}, None, 0])),
    )


values = st.recursive(scalars, _with_intrinsics, max_leaves=25)
resources = st.fixed_dictionaries(
    {"Type": st.one_of(st.sampled_from(RULE_TYPES), values)},
    optional={"Properties": st.one_of(st.dictionaries(keys, values, max_size=6), values),
              "Metadata": values, "Condition": values})
templates = st.fixed_dictionaries(
    {"Resources": st.dictionaries(st.text(min_size=1, max_size=10), st.one_of(resources, values),
                                  min_size=1, max_size=6)},
    optional={"Transform": st.one_of(
                  st.sampled_from(["AWS::Serverless-2016-10-31", "AWS::LanguageExtensions",
                                   "AWS::Include", "Custom"]),
                  st.lists(st.sampled_from(["AWS::Serverless-2016-10-31", "AWS::LanguageExtensions",
                                            "Macro"]), max_size=3), values),
              "Globals": st.one_of(st.fixed_dictionaries({"Function": st.dictionaries(keys, values)}),
                                   values),
              "Parameters": st.dictionaries(st.sampled_from(["Slots", "Role", "Names"]),
                                            st.one_of(st.fixed_dictionaries({"Default": values}), values)),
              "Conditions": st.dictionaries(st.text(max_size=4), values, max_size=2)})


SAM_EVENT_TYPES = ["Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent", "S3", "SQS", "Api",
                   "Kinesis", "Unknown"]
sam_events = st.dictionaries(st.text(min_size=1, max_size=6), st.one_of(
    st.fixed_dictionaries({"Type": st.sampled_from(SAM_EVENT_TYPES)}, optional={"Properties": st.one_of(
        st.fixed_dictionaries({}, optional={
            "DeadLetterConfig": st.one_of(st.fixed_dictionaries({"Type": st.sampled_from(["SQS", "SNS"])}),
                                          st.fixed_dictionaries({"Arn": values}), values),
            "Schedule": values, "ScheduleExpression": values, "Pattern": values, "RoleArn": values,
            "Bucket": st.one_of(st.just({"Ref": "B"}), values), "Events": values, "Target": values}),
        values)}),
    values), max_size=3)
sam_policies = st.lists(st.one_of(
    st.sampled_from(["AWSLambdaBasicExecutionRole", "AmazonS3ReadOnlyAccess", "arn:aws:iam::1:policy/p"]),
    st.builds(lambda name, params: {name: params},
              st.sampled_from(["CloudWatchPutMetricPolicy", "DynamoDBReadPolicy", "DynamoDBCrudPolicy",
                               "S3CrudPolicy", "S3WritePolicy", "SQSSendMessagePolicy", "NoSuchPolicy"]),
              st.one_of(st.dictionaries(st.sampled_from(["TableName", "BucketName", "QueueName"]), values),
                        values)),
    st.fixed_dictionaries({"Statement": values}), values), max_size=4)
sam_function = st.fixed_dictionaries({"Type": st.just("AWS::Serverless::Function")}, optional={
    "Properties": st.fixed_dictionaries({}, optional={
        "Events": st.one_of(sam_events, values), "Policies": st.one_of(sam_policies, values),
        "Role": values, "ReservedConcurrentExecutions": values, "FunctionName": values,
        "Connectors": st.dictionaries(st.text(min_size=1, max_size=4), st.fixed_dictionaries(
            {"Properties": st.fixed_dictionaries({"Destination": values, "Permissions": values})})),
        "DeadLetterQueue": values, "Tracing": values, "VpcConfig": values})})
sam_shaped = st.fixed_dictionaries({
    "Transform": st.sampled_from(["AWS::Serverless-2016-10-31",
                                  ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]]),
    "Resources": st.dictionaries(st.sampled_from(["HealthFn", "Fn", "B", "T", "Sm", "Conn"]), st.one_of(
        sam_function,
        st.just({"Type": "AWS::S3::Bucket"}),
        st.fixed_dictionaries({"Type": st.sampled_from(["AWS::Serverless::SimpleTable",
                                                        "AWS::Serverless::StateMachine",
                                                        "AWS::Serverless::Connector"])},
                              optional={"Properties": st.dictionaries(keys, values, max_size=4)})),
        min_size=1, max_size=4)},
    optional={"Globals": st.one_of(st.fixed_dictionaries({"Function": st.dictionaries(keys, values)}),
                                   values)})


def _real_templates() -> list[dict]:
    paths = [*sorted(FIXTURES.glob("TAP*/*.yaml")), *sorted(FIXTURES.glob("TAP*/cdk-*.json"))]
    found = []
    for path in paths:
        if path.name == "cases.yaml":
            continue
        from tapaudit.loading.parse import parse_document

        found.append(parse_document(path.read_text()).data)
    return found


REAL = _real_templates()


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def mutated(draw):
    """A real fixture with up to three values replaced: wrong types, intrinsics, nulls, numbers."""
    template = copy.deepcopy(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(template) if p]
        path = draw(st.sampled_from(paths))
        parent = template
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = copy.deepcopy(draw(values))  # later mutations may go inside it
    return template


# Module-level, not fixtures: hypothesis prints a failing example's arguments, and these are huge.
RULES = load_rules()
SARIF = jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text()))


def _scan(text: str) -> tuple[dict, dict, int]:
    rules = RULES
    result = ScanResult()
    # debug=True: an internal error raises here instead of becoming an "internal error" line.
    _collect(result, scan_source(TemplateSource("fuzz.template", text=text), rules, debug=True), None)
    result.sort()
    code, _ = decide(result, "low")
    return json_report.as_dict(result), sarif.as_dict(result, rules), code


def _well_formed(template: object) -> bool:
    """Resources a mapping of resources, each a mapping with a string Type and, if any,
    Properties that are a mapping: nothing here is for the loader or the gate to refuse."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    return isinstance(resources, dict) and bool(resources) and all(
        isinstance(body, dict) and isinstance(body.get("Type"), str)
        and isinstance(body.get("Properties", {}), dict) for body in resources.values())


def _check(text: str, template: object = None) -> tuple[dict, int]:
    """Scan `text` (the document of `template`, when given) and assert what every input deserves."""
    report, sarif_report, code = _scan(text)
    for error in report["errors"]:
        assert error["file"] == "fuzz.template"
        assert "\n" not in error["message"] and "internal error" not in error["message"]
    expected = (2 if report["errors"] or report["invalid"] or not report["templates"]
                else 1 if report["findings"] else 0)
    assert code == expected, (code, report["errors"], report["invalid"])
    if template is not None and _well_formed(template):
        assert report["errors"] == [] and (code in (0, 1) or report["invalid"])
    if isinstance(template, dict) and template.get("Resources") is not None \
            and not isinstance(template["Resources"], dict):
        assert code == 2 and len(report["errors"]) == 1
    assert json.loads(json.dumps(report)) == report  # plain JSON values only
    SARIF.validate(json.loads(json.dumps(sarif_report)))
    assert _scan(text)[0] == report  # the same input, the same report
    return report, code


def _refused(text: str) -> str:
    """The one error of an input that deserves exit 2."""
    report, code = _check(text)
    assert code == 2 and len(report["errors"]) == 1 and not report["templates"], report["errors"]
    return report["errors"][0]["message"]


# Inputs that once broke a property, kept as regressions.
REGRESSIONS = [
    # Found by test_mutated_real_templates_never_break_a_scan: a KeySchema element whose KeyType
    # is a list made the TAP003 predicate raise TypeError (unhashable type: 'list').
    {"Resources": {"Table": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {
        "AttributeDefinitions": [], "GlobalSecondaryIndexes": [{"KeySchema": [{"KeyType": []}]}]}}}},
    # Found by test_mutated_real_templates_never_break_a_scan: a Fn::GetAtt whose logical id is a
    # list made Template.referenced_resource raise TypeError (unhashable type: 'list').
    {"Resources": {"Site": {"Type": "AWS::CloudFront::Distribution", "Properties": {
        "DistributionConfig": {"DefaultCacheBehavior": {
            "ResponseHeadersPolicyId": {"Fn::GetAtt": [[], "Id"]}}}}}}},
]


@BUDGET
@given(templates)
def test_generated_templates_never_break_a_scan(template):
    _check(json.dumps(template), template)


@BUDGET
@given(mutated())
@example(REGRESSIONS[0])
@example(REGRESSIONS[1])
def test_mutated_real_templates_never_break_a_scan(template):
    _check(json.dumps(template), template)


@settings(BUDGET, max_examples=300)
@given(sam_shaped)
def test_sam_shaped_templates_never_break_a_scan(template):
    _check(json.dumps(template), template)


@settings(BUDGET, max_examples=120)
@given(templates)
def test_the_same_templates_as_yaml(template):
    _check(yaml.safe_dump(template, allow_unicode=True), template)


@settings(BUDGET, max_examples=40)
@given(st.integers(min_value=1, max_value=700), st.sampled_from(["[", '{"a":', "- ", "a:\n "]))
def test_deep_nesting_near_the_limits(depth, opener):
    closer = {"[": "]", '{"a":': "}", "- ": "", "a:\n ": ""}[opener]
    if opener in ("- ", "a:\n "):
        text = "Resources:\n  A:\n    Properties:\n" + "".join(
            "    " + " " * i + ("- " if opener == "- " else "a:\n") for i in range(depth)) + "  1\n"
    else:
        text = '{"Resources": {"A": {"Type": "AWS::Lambda::Function", "Properties": {"X": ' + \
               opener * depth + "1" + closer * depth + "}}}}"
    _check(text)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _string_starts(text: str) -> list[int]:
    """Offsets just inside each string of JSON text."""
    return [m.start() + 1 for m in _JSON_STRING.finditer(text)]


# --- mutations that break the document: exit 2, one one-line error naming the file -------------

@st.composite
def broken_documents(draw) -> tuple[str, str]:
    """A real fixture as compact JSON, broken: cut short, a key repeated, a raw control character
    or an unpaired surrogate escape put inside a string; and what the error must say."""
    text = json.dumps(draw(st.sampled_from(REAL)), separators=(",", ":"))
    how = draw(st.sampled_from(["cut", "repeat", "control", "surrogate"]))
    if how == "cut":
        return text[:draw(st.integers(1, len(text) - 1))], "invalid JSON: "
    if how == "repeat":
        return '{"Resources":{},' + text[1:], "duplicate key 'Resources'"
    at = draw(st.sampled_from(_string_starts(text)))
    if how == "control":
        inserted = draw(st.sampled_from([chr(c) for c in range(32) if chr(c) not in "\t\n\r"]))
        return text[:at] + inserted + text[at:], "invalid JSON: Invalid control character"
    inserted = draw(st.sampled_from(["\\ud800", "\\udfff", "\\udbff"]))
    return text[:at] + inserted + text[at:], f"lone surrogate {inserted} at line 1"


@settings(BUDGET, max_examples=150)
@given(broken_documents())
def test_broken_documents_are_one_clear_error(case):
    text, message = case
    assert _refused(text).startswith(message)


@settings(BUDGET, max_examples=60)
@given(mutated(), st.sampled_from(["\ud800", "\udc00"]), st.data())
def test_lone_surrogate_in_any_string_is_refused(template, surrogate, data):
    """JSON can spell an unpaired surrogate (`"\\ud800"`); no report could encode it."""
    text = json.dumps(template)
    at = data.draw(st.sampled_from(_string_starts(text)))
    text = text[:at] + json.dumps(surrogate)[1:-1] + text[at:]
    assert _refused(text).startswith("lone surrogate \\ud")


@settings(BUDGET, max_examples=60)
@given(mutated(), st.sampled_from([chr(c) for c in range(32)] + ["\x7f", "\x1b[31m", "\u2028"]))
def test_escaped_control_characters_are_scanned(template, control):
    """A control character escaped in a JSON string is valid text: scanned, never refused."""
    resources = template.get("Resources")
    if isinstance(resources, dict) and resources:
        first = next(iter(resources))
        resources[first + control] = resources.pop(first)
    _check(json.dumps(template), template)


# --- integer and boolean keys: CloudFormation's keys are the text written -----------------------

def _yaml_key_text(key: object) -> str:
    return yaml.safe_dump(key).removesuffix("\n...\n").strip()


@settings(BUDGET, max_examples=80)
@given(mutated(), st.one_of(st.integers(-5, 3000), st.booleans(), st.none()), st.data())
def test_integer_and_boolean_keys_are_read_as_written(template, new_key, data):
    mappings = [p for p in _paths(template) if p and isinstance(_at(template, p), dict) and _at(template, p)]
    path = data.draw(st.sampled_from(mappings or [("Resources",)]))
    mapping = _at(template, path)
    if not isinstance(mapping, dict) or not mapping:
        return
    old = data.draw(st.sampled_from(sorted(mapping, key=str)))
    text_key = _yaml_key_text(new_key)
    clash = text_key in mapping and text_key != old
    mapping[new_key] = mapping.pop(old)
    text = yaml.safe_dump(template, sort_keys=False)
    if clash:
        assert _refused(text).startswith(f"duplicate key {text_key!r}")
        return
    mapping[text_key] = mapping.pop(new_key)  # the template as CloudFormation reads it
    _check(text, template)


def _at(value, path):
    for step in path:
        value = value[step]
    return value


# --- Type given as a mapping, number, null, !Ref or list -----------------------------------------

TYPE_SHAPES = {
    "mapping": '{"Resources": {"Weird": {"Type": {"Name": "AWS::SQS::Queue"}}, '
               '"Queue": {"Type": "AWS::SQS::Queue"}}}',
    "number": '{"Resources": {"Weird": {"Type": 5}, "Queue": {"Type": "AWS::SQS::Queue"}}}',
    "null": '{"Resources": {"Weird": {"Type": null}, "Queue": {"Type": "AWS::SQS::Queue"}}}',
    "ref": "Resources:\n  Weird:\n    Type: !Ref T\n  Queue:\n    Type: AWS::SQS::Queue\n",
    "list": '{"Resources": {"Weird": {"Type": ["AWS::SQS::Queue"]}, "Queue": {"Type": "AWS::SQS::Queue"}}}',
}


@pytest.mark.parametrize("shape", sorted(TYPE_SHAPES))
def test_type_shapes_never_break_a_scan(shape):
    _check(TYPE_SHAPES[shape])


@pytest.mark.parametrize("shape", sorted(TYPE_SHAPES))
def test_type_shapes_are_invalid_naming_the_resource(shape):
    report, code = _check(TYPE_SHAPES[shape])
    assert code == 2 and report["errors"] == []
    assert [(entry["resource"], entry["path"]) for entry in report["invalid"]] == [("Weird", "Type")]


# --- Fn::ForEach generating an id the template already has ---------------------------------------

@st.composite
def foreach_collisions(draw) -> tuple[dict, str]:
    template = copy.deepcopy(draw(st.sampled_from([t for t in REAL if isinstance(t.get("Resources"), dict)
                                                   and t["Resources"]])))
    taken = draw(st.sampled_from(sorted(template["Resources"])))
    cut = draw(st.integers(0, len(taken) - 1))  # the loop writes the id's head, its item the rest
    loop = ["Item", [taken[cut:]], {taken[:cut] + "${Item}": {"Type": "AWS::SQS::Queue"}}]
    template["Resources"]["Fn::ForEach::Clash"] = loop
    transform = template.get("Transform")
    template["Transform"] = ["AWS::LanguageExtensions", *(
        transform if isinstance(transform, list) else [transform] if transform else [])]
    return template, taken


@settings(BUDGET, max_examples=40)
@given(foreach_collisions())
def test_foreach_id_collision_is_refused_naming_the_id(case):
    template, taken = case
    assert _refused(json.dumps(template)) == (f"'Fn::ForEach::Clash' generates {excerpt(taken)}, "
                                              f"which the template already defines")


def test_fuzz_inputs_exist():
    assert len(REAL) > 40 and Path(SARIF_SCHEMA).is_file()
