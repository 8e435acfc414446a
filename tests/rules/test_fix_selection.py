"""Each finding's fix fits the resource and the input: CloudFormation properties for hand-written
templates, the configured CDK language for CDK output, the construct kind (Table, TableV2, CfnTable,
CfnGlobalTable, Function, CfnFunction) and the kind of each target a rule really uses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tapaudit import pipeline
from tapaudit.config import Config
from tests.conftest import FIXTURES, ROOT, require_command, require_module, run_cli

FIXES = FIXTURES / "fixes"
TARGETS = FIXES / "cdk-every-target-kind.json"
TABLES = FIXES / "cdk-every-table-and-function-kind.json"
PYTHONIC = re.compile(r"\(self\b|\b[a-z]+_[a-z_]+[(=]")
CDK_WORDS = re.compile(r"new |targets\.|dynamodb\.|cloudfront\.|add[A-Z]|add_|Cfn")


def _fixes(path, language: str = "typescript") -> dict[str, str]:
    result = pipeline.run([str(path)], Config(cdk_language=language), jobs=1).result
    return {f.resource: f.fix for f in result.findings}


def _by_prefix(fixes: dict[str, str], prefix: str) -> str:
    return next(fix for resource, fix in fixes.items() if resource.startswith(prefix))


@pytest.mark.parametrize("language", ["typescript", "python"])
def test_each_target_kind_is_named_with_its_cdk_target_class(language):
    fixes = _fixes(TARGETS, language)
    orders, settlement = _by_prefix(fixes, "Orders"), _by_prefix(fixes, "Settlement")
    kwarg = "{ deadLetterQueue: dlq }" if language == "typescript" else "dead_letter_queue=dlq"
    new = "new targets." if language == "typescript" else "targets."
    for text, (kind, cls, var) in [
        (orders, ("SQS queue", "SqsQueue", "inbox")),
        (orders, ("event bus", "EventBus", "downstream")),
        (orders, ("log group", "CloudWatchLogGroup", "audit")),
        (orders, ("SNS topic", "SnsTopic", "alerts")),
        (settlement, ("Lambda function", "LambdaFunction", "processor")),
        (settlement, ("Lambda alias", "LambdaFunction", "aliaslive")),
        (settlement, ("state machine", "SfnStateMachine", "settle")),
    ]:
        assert f"(the {kind} `{var}`)" in text
        assert f"{new}{cls}({var}, {kwarg})" in text
    # The queue to create is said once per finding, not once per target.
    assert orders.count("EventDLQ") == 1 and "Lambda" not in orders


@pytest.mark.parametrize(("language", "l2_call"), [("typescript", "addGlobalSecondaryIndex({"),
                                                    ("python", "add_global_secondary_index(")])
def test_tables_and_functions_get_the_construct_kind_they_use(language, l2_call):
    fixes = _fixes(TABLES, language)
    assert _by_prefix(fixes, "Ledger").startswith(f"On the Table `ledger`: `ledger.{l2_call}")
    assert _by_prefix(fixes, "Payments").startswith(f"On the TableV2 `payments`: `payments.{l2_call}")
    assert "the CfnTable `RawLedger`" in fixes["RawLedger"]
    assert "the CfnGlobalTable `RawPayments`" in fixes["RawPayments"]
    assert "the CfnFunction `RawWorker`" in fixes["RawWorker"]
    worker = _by_prefix(fixes, "Worker")
    assert ("reservedConcurrentExecutions" if language == "typescript"
            else "reserved_concurrent_executions") in worker and "`Worker`" in worker


def test_typescript_is_the_default_and_python_is_pythonic():
    typescript = _fixes(FIXTURES / "flawed")
    python = _fixes(FIXTURES / "flawed", "python")
    assert typescript.keys() == python.keys() and len(typescript) == 6
    for resource in typescript:
        assert not PYTHONIC.search(typescript[resource]), typescript[resource]
        assert typescript[resource] != python[resource]
    assert any(PYTHONIC.search(fix) for fix in python.values())
    assert "new targets.LambdaFunction(liveAlias, { deadLetterQueue: dlq })" in \
        _by_prefix(typescript, "TransactionEventRule")


def test_cdk_output_without_construct_paths_is_still_cdk():
    """A plain `python app.py` writes no aws:cdk:path; the BootstrapVersion parameter remains."""
    template = json.loads(TABLES.read_text())
    for body in template["Resources"].values():
        body.pop("Metadata", None)
    proc = run_cli("scan", "-", "-f", "json", stdin=json.dumps(template))
    fixes = {f["resource"]: f["fix"] for f in json.loads(proc.stdout)["findings"]}
    assert _by_prefix(fixes, "Payments").startswith("On the TableV2 `payments`")
    assert "the CfnGlobalTable `RawPayments`" in fixes["RawPayments"]


@pytest.mark.parametrize("path", sorted(p for p in FIXTURES.glob("TAP00*/yaml-fail-*.yaml")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_hand_written_templates_get_cloudformation_properties(path):
    result = pipeline.run([str(path)], Config(), jobs=1).result
    assert result.findings
    for finding in result.findings:
        assert not CDK_WORDS.search(finding.fix), finding.fix
        # A CloudFormation property or resource type.
        assert re.search(r"`[A-Z][A-Za-z]+[.:` ]|AWS::\w+::\w+", finding.fix), finding.fix
        assert finding.resource in finding.fix or "Target" in finding.fix  # a target: by Id or position


def test_tap004_fix_follows_what_is_wrong_with_each_target():
    fix = _fixes(FIXTURES / "TAP004" / "yaml-fail-queue-without-policy.yaml")["Rule"]
    processor, audit = fix.split("Target 'Audit'")
    assert "Target 'Processor': let `events.amazonaws.com` `sqs:SendMessage` to its dead-letter queue, in " \
           "the queue's AWS::SQS::QueuePolicy" in processor
    assert "(a Lambda function): set `DeadLetterConfig" in audit


def test_tap005_fix_lists_only_what_fails():
    fix = _fixes(FIXTURES / "TAP005" / "yaml-fail-behavior-allows-http.yaml")["Site"]
    assert fix == "Set `ViewerProtocolPolicy: redirect-to-https` on every cache behavior of Site."


def test_sam_templates_get_sam_advice():
    fixes = _fixes(FIXES / "sam-function-and-table.yaml")
    assert "`Globals.Function`" in fixes["Worker"]
    assert "AWS::Serverless::SimpleTable cannot declare indexes" in fixes["Ledger"]


def test_unknowns_say_what_would_make_them_checkable():
    result = pipeline.run([str(FIXTURES / "TAP002" / "yaml-unknown-external-role.yaml")], Config(),
                          jobs=1).result
    (unknown,) = result.unknown
    assert unknown.message.startswith(f"{unknown.resource} could not be verified: ")
    assert "export shared-monitor-role-arn of another stack" in unknown.fix


@pytest.mark.parametrize(("fixture", "says"), [
    ("TAP002/yaml-unknown-policies-from-macro.yaml", "Scan the expanded template"),
    ("TAP005/yaml-unknown-viewer-response-function.yaml", "Headers set in code by the viewer-response"),
    ("TAP002/yaml-unknown-sam-policy-template-without-parameters.yaml",
     "SAM policy template DynamoDBReadPolicy"),
    ("TAP003/yaml-unknown-type-from-parameter.yaml", "Give parameter StatusType a default"),
    # Chosen by its typed cause: lost once to a rewording of the reason ("SAM connector X is not ...").
    ("TAP002/sam-unknown-connector-not-evaluated.yaml",
     "Check by hand what SAM connector HealthCheckStream grants (destination type AWS::Kinesis::Stream)"),
])
def test_each_cause_of_an_unknown_gets_its_own_remedy(fixture, says):
    result = pipeline.run([str(FIXTURES / fixture)], Config(), jobs=1).result
    assert any(says in unknown.fix for unknown in result.unknown), [u.fix for u in result.unknown]


def test_rule_files_with_the_simple_fix_shape_still_work(tmp_path):
    (tmp_path / "ORG002.yaml").write_text("""\
id: ORG002
title: Functions must encrypt their environment with a customer key
severity: high
rationale: Audits ask for customer-managed keys.
why: The environment is encrypted with an AWS managed key only.
resource_types: [AWS::Lambda::Function]
fix: {summary: set a KMS key, snippet: "lambda_.Function(..., environment_encryption=key)"}
checks:
  - {id: key, select: $.Properties.KmsKeyArn, predicate: exists, missing: sets no KmsKeyArn}
""")
    for path, expected in [(FIXTURES / "flawed", "set a KMS key: `lambda_.Function(..., "
                                                 "environment_encryption=key)`"),
                           (FIXES / "sam-function-and-table.yaml", "set a KMS key")]:
        proc = run_cli("scan", str(path), "--rules-dir", str(tmp_path), "--rule", "ORG002",
                       "-f", "json")
        findings = json.loads(proc.stdout)["findings"]
        assert findings and {f["fix"] for f in findings} == {expected}
        assert {f["why"] for f in findings} == {"The environment is encrypted with an AWS managed key only."}


def test_fix_fixtures_do_not_drift(tmp_path):
    require_module("aws_cdk")
    require_command("node")
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
           "CDK_VALIDATION": "false"}
    subprocess.run([sys.executable, str(ROOT / "reference_stack" / "fix_fixtures.py"), str(tmp_path)],
                   check=True, env=env, capture_output=True, timeout=600)
    for name in ("cdk-every-target-kind.json", "cdk-every-table-and-function-kind.json"):
        assert (tmp_path / name).read_text() == (FIXES / name).read_text(), f"{name} drifted"


def test_cdk_dead_letter_queue_without_policy_gets_a_policy_fix():
    """CDK output whose queue policy is gone (as with a queue CDK cannot write a policy for)."""
    template = json.loads((FIXTURES / "TAP004" / "cdk-pass-dlq.json").read_text())
    template["Resources"] = {name: body for name, body in template["Resources"].items()
                             if body["Type"] != "AWS::SQS::QueuePolicy"}
    proc = run_cli("scan", "-", "-f", "json", "--rule", "TAP004", stdin=json.dumps(template))
    (finding,) = json.loads(proc.stdout)["findings"]
    assert "no queue policy lets events.amazonaws.com" in finding["message"]
    assert "needs a policy that lets `events.amazonaws.com`" in finding["fix"]
    assert "new sqs.QueuePolicy(this, 'DlqPolicy', { queues: [dlq] })" in finding["fix"]


def test_a_message_names_the_problems_that_fit_and_the_fix_covers_all():
    targets = [{"Id": f"Job{i}", "Arn": f"arn:aws:lambda:us-east-1:111111111111:function:job{i}"}
               for i in range(1, 6)]
    template = {"Resources": {"Cron": {"Type": "AWS::Events::Rule", "Properties": {
        "ScheduleExpression": "rate(1 hour)", "Targets": targets}}}}
    proc = run_cli("scan", "-", "-f", "json", "--rule", "TAP004", stdin=json.dumps(template))
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["message"] == ("Cron: target 'Job1' has no dead-letter queue; target 'Job2' has "
                                  "no dead-letter queue; target 'Job3' has no dead-letter queue; "
                                  "target 'Job4' has no dead-letter queue; and 1 more problem.")
    assert all(f"Target 'Job{i}' (a Lambda function)" in finding["fix"] for i in range(1, 6))


def test_fixes_follow_the_configured_parameters(tmp_path):
    """A project whose status index is keyed on `state` gets a fix that says `state`."""
    config = tmp_path / ".tapaudit.toml"
    config.write_text('cdk_language = "python"\n[rules.TAP003.parameters]\n'
                      'partition_key = { name = "state" }\nsort_key = { name = "createdAt", type = "S" }\n')
    proc = run_cli("scan", str(FIXTURES / "flawed"), "--rule", "TAP003", "-f", "json",
                   "--config", str(config))
    [finding] = json.loads(proc.stdout)["findings"]
    assert 'partition_key=dynamodb.Attribute(name="state", type=dynamodb.AttributeType.STRING)' \
        in finding["fix"]
    assert 'sort_key=dynamodb.Attribute(name="createdAt", type=dynamodb.AttributeType.STRING)' \
        in finding["fix"]
    assert "status" not in finding["fix"].replace("status-timestamp-index", "")
    plain = run_cli("scan", str(FIXTURES / "TAP003" / "yaml-fail-no-sort-key.yaml"), "-f", "json",
                    "--config", str(config))
    assert "{AttributeName: state, KeyType: HASH}" in json.loads(plain.stdout)["findings"][0]["fix"]


def test_the_health_check_table_is_the_one_its_properties_and_policies_name():
    """TAP002's fix names the table when the function, its role and the role's policies name one
    through their properties: not one they only wait for (DependsOn), nor one in Properties that
    are not a mapping (that resource is invalid, and its properties are not read)."""
    from tapaudit.model.template import Template
    from tapaudit.rules.predicates.lambda_functions import health_check_fix_values

    def table_of(role_properties) -> dict:
        template = Template({"Resources": {
            "Named": {"Type": "AWS::DynamoDB::Table"}, "Waited": {"Type": "AWS::DynamoDB::Table"},
            "Listed": {"Type": "AWS::DynamoDB::Table"},
            "Role": {"Type": "AWS::IAM::Role", "Properties": role_properties},
            "Policy": {"Type": "AWS::IAM::Policy", "DependsOn": "Waited", "Properties": {
                "Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [{
                    "Effect": "Allow", "Action": "dynamodb:Query",
                    "Resource": {"Fn::GetAtt": ["Named", "Arn"]}}]}}},
            "HealthCheck": {"Type": "AWS::Lambda::Function", "DependsOn": ["Waited", "Role"],
                            "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}}}})
        return health_check_fix_values(template, "HealthCheck", {})[1]

    assert table_of({"Description": "health"}) == {"table_resource": "Named"}
    assert table_of([{"Ref": "Listed"}]) == {"table_resource": "Named"}
    assert table_of({"Tags": [{"Key": "t", "Value": {"Ref": "Listed"}}]}) == {}  # two tables named
