#!/usr/bin/env python3
"""Synthesize the CDK fixtures that pin fix selection (fixtures/fixes/cdk-*.json) with aws-cdk-lib.

Each stack fails a rule through a different construct or target kind, so the tests can check that
a finding's fix names what the app really uses: the queue, bus, log group, function, alias, state
machine or topic a target points at; Table, TableV2, CfnTable or CfnGlobalTable; Function or
CfnFunction.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_dynamodb as dynamodb  # noqa: E402
from aws_cdk import aws_events as events  # noqa: E402
from aws_cdk import aws_events_targets as targets  # noqa: E402
from aws_cdk import aws_iam as iam  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402
from aws_cdk import aws_logs as logs  # noqa: E402
from aws_cdk import aws_sns as sns  # noqa: E402
from aws_cdk import aws_sqs as sqs  # noqa: E402
from aws_cdk import aws_stepfunctions as sfn  # noqa: E402
from rule_fixtures import function, synthesize  # noqa: E402

KEY = dynamodb.Attribute(name="transactionId", type=dynamodb.AttributeType.STRING)


def every_target_kind(stack: cdk.Stack) -> None:
    """A target of each kind, none with a dead-letter queue (a rule takes at most five)."""
    orders = events.Rule(stack, "Orders", event_pattern=events.EventPattern(source=["app.orders"]))
    orders.add_target(targets.SqsQueue(sqs.Queue(stack, "Inbox")))
    orders.add_target(targets.EventBus(events.EventBus(stack, "Downstream")))
    orders.add_target(targets.CloudWatchLogGroup(logs.LogGroup(stack, "Audit")))
    orders.add_target(targets.SnsTopic(sns.Topic(stack, "Alerts")))
    processor = function(stack, "Processor")
    settle = events.Rule(stack, "Settlement", event_pattern=events.EventPattern(source=["app.settle"]))
    settle.add_target(targets.LambdaFunction(processor))
    settle.add_target(targets.LambdaFunction(processor.add_alias("live")))
    settle.add_target(targets.SfnStateMachine(sfn.StateMachine(
        stack, "Settle", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Done")))))


def every_table_and_function_kind(stack: cdk.Stack) -> None:
    """Tables without the status index, and a function without reserved concurrency, as L2 and L1."""
    dynamodb.Table(stack, "Ledger", partition_key=KEY)
    dynamodb.TableV2(stack, "Payments", partition_key=KEY)
    schema = [dynamodb.CfnTable.KeySchemaProperty(attribute_name="transactionId", key_type="HASH")]
    attributes = [dynamodb.CfnTable.AttributeDefinitionProperty(attribute_name="transactionId",
                                                                attribute_type="S")]
    dynamodb.CfnTable(stack, "RawLedger", key_schema=schema, attribute_definitions=attributes,
                      billing_mode="PAY_PER_REQUEST")
    dynamodb.CfnGlobalTable(
        stack, "RawPayments", billing_mode="PAY_PER_REQUEST",
        key_schema=[dynamodb.CfnGlobalTable.KeySchemaProperty(attribute_name="transactionId",
                                                              key_type="HASH")],
        attribute_definitions=[dynamodb.CfnGlobalTable.AttributeDefinitionProperty(
            attribute_name="transactionId", attribute_type="S")],
        replicas=[dynamodb.CfnGlobalTable.ReplicaSpecificationProperty(region="us-east-1")])
    role = iam.Role(stack, "RawWorkerRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    lambda_.CfnFunction(stack, "RawWorker", role=role.role_arn, runtime="nodejs22.x",
                        handler="index.handler", code=lambda_.CfnFunction.CodeProperty(
                            zip_file="exports.handler = async () => ({ ok: true });"))
    function(stack, "Worker", reserved=None)


CASES = {"cdk-every-target-kind": every_target_kind,
         "cdk-every-table-and-function-kind": every_table_and_function_kind}


def main(out: Path = HERE.parent / "fixtures" / "fixes") -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, build in CASES.items():
        target = out / f"{name}.json"
        target.write_text(json.dumps(synthesize(f"fixes/{name}", build), indent=1) + "\n")
        print(target)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "fixtures" / "fixes")
