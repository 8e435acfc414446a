"""The transforms stage (issue 10): SAM findings reported on what the user wrote, Fn::ForEach
expanded before the rules, macros never passed."""

from __future__ import annotations

import json

from tapaudit.loading.discovery import TemplateSource
from tapaudit.loading.parse import parse_document
from tapaudit.scan import scan_source
from tapaudit.transforms import expand
from tests.conftest import FIXTURES, run_cli

SAM_GLOBALS = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    ReservedConcurrentExecutions: 0
Resources:
  Ingest:
    Type: AWS::Serverless::Function
    Metadata:
      owner: payments
    Properties:
      CodeUri: s3://artifacts/ingest.zip
      Handler: app.handler
  Report:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://artifacts/report.zip
      Handler: app.handler
      ReservedConcurrentExecutions: 1
"""


def _scan(tmp_path, name: str, text: str, rules):
    path = tmp_path / name
    path.write_text(text)
    return scan_source(TemplateSource(name, path=path), rules, debug=True)


def test_sam_findings_name_the_sam_resource_its_type_line_and_property_path(tmp_path, rules):
    report = _scan(tmp_path, "sam.yaml", SAM_GLOBALS, rules)
    assert report.error is None
    [finding] = [f for f in report.findings if f.rule_id == "TAP006"]
    assert (finding.resource, finding.resource_type) == ("Ingest", "AWS::Serverless::Function")
    # The zero comes from Globals: the finding points there, not at the function.
    assert finding.path == ("Globals", "Function", "ReservedConcurrentExecutions")
    assert finding.line == 5
    assert finding.message.startswith("Ingest: reserves 0")


def test_sam_keeps_metadata_on_what_it_generates_for_suppressions():
    data = expand(parse_document(SAM_GLOBALS).data).data
    assert data["Resources"]["Ingest"]["Type"] == "AWS::Lambda::Function"
    assert data["Resources"]["Ingest"]["Metadata"] == {"owner": "payments"}
    assert "Globals" not in data


def test_sam_event_type_it_does_not_know_is_not_checked(tmp_path, rules):
    text = SAM_GLOBALS.replace("      Handler: app.handler\n  Report:", """\
      Handler: app.handler
      Events:
        Future:
          Type: QuantumQueue
          Properties: {Queue: q}
  Report:""")
    report = _scan(tmp_path, "sam.yaml", text, rules)
    assert [(n.resource, n.reason) for n in report.not_checked] == [
        ("Ingest", "not checked: SAM event type QuantumQueue (Future) is not expanded by tapaudit")]
    assert {f.resource for f in report.unknown} == {"Ingest"}
    assert all(f.resource != "Ingest" for f in report.findings)


FOREACH = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::LanguageExtensions
Parameters:
  Tenants:
    Type: CommaDelimitedList
    Default: "acme, globex"
  Regions:
    Type: CommaDelimitedList
Resources:
  Fn::ForEach::Workers:
    - Name
    - [Orders, Refunds]
    - ${Name}Worker:
        Type: AWS::Lambda::Function
        Properties:
          FunctionName: !Sub "${Name}-worker"
          Role: arn:aws:iam::111111111111:role/worker
          Handler: index.handler
          Runtime: nodejs22.x
          Code: {ZipFile: "exports.handler = async () => ({});"}
          ReservedConcurrentExecutions: !Ref Slots
      ${Name}Queue:
        Type: AWS::SQS::Queue
  Fn::ForEach::PerTenant:
    - Tenant
    - !Ref Tenants
    - Fn::ForEach::PerStage:
        - Stage
        - [dev, prod]
        - "&{Tenant}${Stage}Table":
            Type: AWS::DynamoDB::Table
            Properties:
              KeySchema: [{AttributeName: id, KeyType: HASH}]
              AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
              BillingMode: PAY_PER_REQUEST
  Fn::ForEach::Unknowable:
    - Region
    - !Ref Regions
    - ${Region}Bucket:
        Type: AWS::S3::Bucket
"""


def test_foreach_resources_are_checked_under_their_generated_ids(tmp_path, rules):
    report = _scan(tmp_path, "loops.yaml", FOREACH.replace("!Ref Slots", "1"), rules)
    assert report.error is None
    tables = sorted(f.resource for f in report.findings if f.rule_id == "TAP003")
    assert tables == ["acmedevTable", "acmeprodTable", "globexdevTable", "globexprodTable"]
    table = next(f for f in report.findings if f.resource == "acmedevTable")
    assert table.resource_type == "AWS::DynamoDB::Table"
    assert table.path[:3] == ("Resources", "Fn::ForEach::PerTenant", 2)
    assert table.line == 32  # the Properties of the fragment in the source (no GSI there)
    assert not [f for f in report.findings if f.rule_id == "TAP006"]
    # A collection only known at deploy time: its resources are listed as not checked.
    assert [(n.resource, n.reason) for n in report.not_checked] == [
        ("Fn::ForEach::Unknowable", "not checked: Fn::ForEach::Unknowable cannot be expanded "
                                    "(parameter Regions has no default)")]


def test_foreach_generated_function_without_concurrency(tmp_path, rules):
    text = FOREACH.replace("          ReservedConcurrentExecutions: !Ref Slots\n", "")
    report = _scan(tmp_path, "loops.yaml", text, rules)
    workers = sorted(f.resource for f in report.findings if f.rule_id == "TAP006")
    assert workers == ["OrdersWorker", "RefundsWorker"]


def test_length_and_to_json_string_are_computed():
    data = expand(parse_document("""\
Transform: AWS::LanguageExtensions
Parameters:
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      ReservedConcurrentExecutions: !Length [x, y]
      MemorySize: {"Fn::Length": !Ref Names}
      Description: {"Fn::ToJsonString": {a: [1, 2]}}
""").data).data
    props = data["Resources"]["Fn"]["Properties"]
    assert (props["ReservedConcurrentExecutions"], props["MemorySize"]) == (2, 3)
    assert props["Description"] == '{"a":[1,2]}'


def test_sam_inside_foreach_points_into_the_loop(tmp_path, rules):
    text = """\
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Resources:
  Fn::ForEach::Jobs:
    - Job
    - [Nightly, Weekly]
    - ${Job}Job:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: s3://artifacts/job.zip
          Handler: app.handler
          Runtime: python3.12
"""
    report = _scan(tmp_path, "jobs.yaml", text, rules)
    found = sorted((f.resource, f.resource_type, f.line) for f in report.findings if f.rule_id == "TAP006")
    # Line 8: the fragment's Properties, where ReservedConcurrentExecutions is missing.
    assert found == [("NightlyJob", "AWS::Serverless::Function", 8),
                     ("WeeklyJob", "AWS::Serverless::Function", 8)]


MACRO_TEMPLATE = """\
Transform: [AWS::Include, AcmeTagger]
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws:iam::111111111111:role/r
      ReservedConcurrentExecutions: 0
  Queue:
    Type: AWS::SQS::Queue
"""


def test_template_level_macros_leave_every_resource_unknown_never_passed(tmp_path):
    (tmp_path / "macro.yaml").write_text(MACRO_TEMPLATE)
    proc = run_cli("scan", "macro.yaml", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    reason = "not checked: macro AWS::Include, AcmeTagger rewrites this template at deploy time"
    assert report["findings"] == []
    assert {(u["rule_id"], u["resource"]) for u in report["unknown"]} == {("TAP006", "Fn")}
    assert reason in report["unknown"][0]["message"]
    assert [(n["resource"], n["reason"]) for n in report["not_checked"]] == [("Fn", reason),
                                                                              ("Queue", reason)]
    console = run_cli("scan", "macro.yaml", cwd=tmp_path).stdout
    assert ("2 resources not checked (macro AWS::Include, AcmeTagger rewrites this template at "
            "deploy time)") in console


def test_fn_transform_in_a_resource_leaves_only_that_resource_unknown(tmp_path, rules):
    text = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws:iam::111111111111:role/r
      Fn::Transform: {Name: AcmeDefaults, Parameters: {tier: gold}}
  Other:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws:iam::111111111111:role/r
"""
    report = _scan(tmp_path, "partial.yaml", text, rules)
    assert [f.resource for f in report.unknown if f.rule_id == "TAP006"] == ["Fn"]
    assert [f.resource for f in report.findings if f.rule_id == "TAP006"] == ["Other"]
    assert "macro AcmeDefaults (Fn::Transform) rewrites this resource" in report.unknown[0].message
    text = "Resources:\n  Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/k}}\n"
    report = _scan(tmp_path, "include.yaml", text + "  Q:\n    Type: AWS::SQS::Queue\n", rules)
    assert [n.reason for n in report.not_checked] == [
        "not checked: macro AWS::Include adds resources at deploy time"]


def test_sam_fixture_console_output_names_the_sam_event():
    proc = run_cli("scan", str(FIXTURES / "TAP004" / "sam-fail-events-without-dlq.yaml"),
                   "--fail-on", "medium")
    assert proc.returncode == 1
    assert "Reconcile (AWS::Serverless::Function)" in proc.stdout
    assert "Reconcile: event Nightly: target" in proc.stdout


def test_a_generated_logical_id_that_the_template_already_uses_is_refused(tmp_path, rules):
    text = SAM_GLOBALS + """\
  IngestRole:
    Type: AWS::SQS::Queue
"""
    report = _scan(tmp_path, "clash.yaml", text, rules)
    assert report.error is not None
    assert report.error.message == ("SAM generates IngestRole for Ingest, but the template already "
                                    "defines a resource with that logical id")


def test_fn_transform_in_list_form_names_its_macro(tmp_path, rules):
    text = ("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
            "      Fn::Transform: [{Name: AcmeTagger}]\n      Runtime: nodejs22.x\n")
    report = _scan(tmp_path, "list-form.yaml", text, rules)
    assert report.not_checked and all("AcmeTagger" in n.reason for n in report.not_checked)


def test_a_sam_event_whose_type_is_not_a_string_is_not_checked(tmp_path, rules):
    """Found by tests/test_fuzz.py (mutated real template): a list as an event's Type crashed."""
    text = ("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
            "    Properties:\n      CodeUri: s3://b/k.zip\n      Handler: index.handler\n"
            "      Runtime: nodejs22.x\n      ReservedConcurrentExecutions: 1\n"
            "      Events:\n        Hourly:\n          Type: []\n")
    report = _scan(tmp_path, "event-type-list.yaml", text, rules)
    assert report.error is None
    assert [n.reason for n in report.not_checked] == [
        "not checked: SAM event type of list type (Hourly) is not expanded by tapaudit"]
