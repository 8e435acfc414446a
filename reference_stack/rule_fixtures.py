#!/usr/bin/env python3
"""Synthesize the CDK-shaped fixtures of each rule (fixtures/TAP00N/cdk-*.json) with real aws-cdk-lib.

Each case is a small stack that passes or fails one rule in one way. Hand-written YAML fixtures
beside them pin the edge cases CDK cannot produce.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synth import CLI_CONTEXT  # noqa: E402

ENV = cdk.Environment(account="111111111111", region="us-east-1")
CERT = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000"
CODE = lambda_.Code.from_inline("exports.handler = async () => ({ ok: true });")
TAG = s3.Tag(key="replication-eligible", value="true")
CASES: dict[str, Callable[[cdk.Stack], None]] = {}


def case(name: str) -> Callable:
    def register(build: Callable[[cdk.Stack], None]) -> Callable:
        CASES[name] = build
        return build
    return register


def function(stack: cdk.Stack, name: str, reserved: int | None = 5, **kwargs) -> lambda_.Function:
    return lambda_.Function(stack, name, runtime=lambda_.Runtime.NODEJS_22_X, handler="index.handler",
                            code=CODE, reserved_concurrent_executions=reserved, **kwargs)


# TAP001 ------------------------------------------------------------------------------------------
def replicated_bucket(stack: cdk.Stack, tags: list | None, **kwargs) -> s3.Bucket:
    replica = s3.Bucket.from_bucket_name(stack, "Replica", "replica-bucket-us-west-2")
    return s3.Bucket(stack, "Transactions", versioned=True, replication_rules=[s3.ReplicationRule(
        destination=replica, priority=1, delete_marker_replication=False,
        filter=s3.Filter(prefix="transactions/", tags=tags))], **kwargs)


def classifier(stack: cdk.Stack, bucket: s3.Bucket, can_tag: bool) -> lambda_.Function:
    fn = function(stack, "SizeClassifier")
    actions = ["s3:GetObjectTagging", "s3:PutObjectTagging"] if can_tag else ["s3:GetObjectTagging"]
    fn.add_to_role_policy(iam.PolicyStatement(actions=actions,
                                              resources=[bucket.arn_for_objects("transactions/*")]))
    return fn


@case("TAP001/cdk-pass-tag-gate-classifier")
def _(stack: cdk.Stack) -> None:
    bucket = replicated_bucket(stack, [TAG])
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED,
                                  s3n.LambdaDestination(classifier(stack, bucket, True)))


@case("TAP001/cdk-pass-eventbridge-classifier")
def _(stack: cdk.Stack) -> None:
    bucket = replicated_bucket(stack, [TAG], event_bridge_enabled=True)
    events.Rule(stack, "ObjectCreated", event_pattern=events.EventPattern(
        source=["aws.s3"], detail_type=["Object Created"],
        detail={"bucket": {"name": [bucket.bucket_name]}}),
        targets=[targets.LambdaFunction(classifier(stack, bucket, True),
                                        dead_letter_queue=sqs.Queue(stack, "DLQ"))])


@case("TAP001/cdk-fail-prefix-only")
def _(stack: cdk.Stack) -> None:
    replicated_bucket(stack, None)


@case("TAP001/cdk-fail-tag-gate-without-classifier")
def _(stack: cdk.Stack) -> None:
    replicated_bucket(stack, [TAG])


@case("TAP001/cdk-fail-classifier-cannot-tag")
def _(stack: cdk.Stack) -> None:
    bucket = replicated_bucket(stack, [TAG])
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED,
                                  s3n.LambdaDestination(classifier(stack, bucket, False)))


@case("TAP001/cdk-na-same-region-replication")
def _(stack: cdk.Stack) -> None:
    # The destination is a bucket of the same stack, hence of the same region: out of TAP001's scope.
    replica = s3.Bucket(stack, "SameRegionReplica", versioned=True)
    s3.Bucket(stack, "Transactions", versioned=True, replication_rules=[s3.ReplicationRule(
        destination=replica, priority=1, filter=s3.Filter(prefix="transactions/"))])


# TAP002 ------------------------------------------------------------------------------------------
def table(stack: cdk.Stack, with_index: bool) -> dynamodb.TableV2:
    indexes = [dynamodb.GlobalSecondaryIndexPropsV2(
        index_name="status-timestamp-index",
        partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.NUMBER))
    ] if with_index else None
    return dynamodb.TableV2(
        stack, "Transactions", global_secondary_indexes=indexes,
        partition_key=dynamodb.Attribute(name="transactionId", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.NUMBER))


@case("TAP002/cdk-pass-exact-statements")
def _(stack: cdk.Stack) -> None:
    tbl = table(stack, True)
    fn = function(stack, "HealthCheck")
    fn.add_to_role_policy(iam.PolicyStatement(
        actions=["dynamodb:Query"], resources=[f"{tbl.table_arn}/index/status-timestamp-index"]))
    fn.add_to_role_policy(iam.PolicyStatement(
        actions=["cloudwatch:PutMetricData"], resources=["*"],
        conditions={"StringEquals": {"cloudwatch:namespace": "TransactionMigration/HealthCheck"}}))


@case("TAP002/cdk-pass-grants")
def _(stack: cdk.Stack) -> None:
    tbl = table(stack, True)
    fn = function(stack, "RegionHealth")
    tbl.grant_read_data(fn)  # with indexes, CDK adds <table arn>/index/*
    cloudwatch.Metric.grant_put_metric_data(fn)


@case("TAP002/cdk-pass-aws-managed-policy")
def _(stack: cdk.Stack) -> None:
    # PutMetricData comes from the AWS managed CloudWatchAgentServerPolicy (the dated snapshot).
    tbl = table(stack, True)
    fn = function(stack, "HealthCheck")
    fn.role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(
        "CloudWatchAgentServerPolicy"))
    tbl.grant(fn, "dynamodb:Query")


@case("TAP002/cdk-fail-getitem-only")
def _(stack: cdk.Stack) -> None:
    tbl = table(stack, True)
    tbl.grant(function(stack, "HealthCheck"), "dynamodb:GetItem")


@case("TAP002/cdk-fail-table-without-index")
def _(stack: cdk.Stack) -> None:
    tbl = table(stack, False)
    fn = function(stack, "HealthCheck")
    tbl.grant_read_data(fn)  # no indexes: only the table ARN, so no Query on an index
    cloudwatch.Metric.grant_put_metric_data(fn)


# TAP003 ------------------------------------------------------------------------------------------
@case("TAP003/cdk-pass-tablev2")
def _(stack: cdk.Stack) -> None:
    table(stack, True)


@case("TAP003/cdk-pass-legacy-table")
def _(stack: cdk.Stack) -> None:
    tbl = dynamodb.Table(
        stack, "Transactions",
        partition_key=dynamodb.Attribute(name="transactionId", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.NUMBER))
    tbl.add_global_secondary_index(
        index_name="by-status",
        partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.NUMBER))


@case("TAP003/cdk-fail-no-index")
def _(stack: cdk.Stack) -> None:
    table(stack, False)


@case("TAP003/cdk-fail-keys-only")
def _(stack: cdk.Stack) -> None:
    dynamodb.TableV2(
        stack, "Transactions",
        partition_key=dynamodb.Attribute(name="transactionId", type=dynamodb.AttributeType.STRING),
        global_secondary_indexes=[dynamodb.GlobalSecondaryIndexPropsV2(
            index_name="status-timestamp-index",
            partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY)])


# TAP004 ------------------------------------------------------------------------------------------
def event_rule(stack: cdk.Stack, dlq: sqs.IQueue | None) -> None:
    rule = events.Rule(stack, "TransactionEvents", event_pattern=events.EventPattern(
        source=["transaction.migration"]))
    rule.add_target(targets.LambdaFunction(function(stack, "Processor"), retry_attempts=3,
                                           max_event_age=Duration.hours(2), dead_letter_queue=dlq))


@case("TAP004/cdk-pass-dlq")
def _(stack: cdk.Stack) -> None:
    event_rule(stack, sqs.Queue(stack, "EventDLQ", enforce_ssl=True))


@case("TAP004/cdk-pass-imported-dlq")
def _(stack: cdk.Stack) -> None:
    event_rule(stack, sqs.Queue.from_queue_arn(
        stack, "SharedDLQ", "arn:aws:sqs:us-east-1:111111111111:shared-dlq"))


@case("TAP004/cdk-fail-no-dlq")
def _(stack: cdk.Stack) -> None:
    event_rule(stack, None)


@case("TAP004/cdk-fail-beside-event-dlq")
def _(stack: cdk.Stack) -> None:
    # The fix's queue must not take the id of the stack's EventDLQ (issue 17).
    sqs.Queue(stack, "EventDLQ", enforce_ssl=True)
    event_rule(stack, None)


# TAP005 ------------------------------------------------------------------------------------------
def distribution(stack: cdk.Stack, secure: bool, **extra) -> None:
    site = s3.Bucket(stack, "SiteBucket")
    options = dict(
        origin=origins.S3BucketOrigin.with_origin_access_control(site),
        viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED)
    if secure:
        options["response_headers_policy"] = extra.pop(
            "headers", cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS)
        extra.update(http_version=cloudfront.HttpVersion.HTTP2_AND_3, domain_names=["app.example.com"],
                     certificate=acm.Certificate.from_certificate_arn(stack, "Cert", CERT))
        extra.setdefault("minimum_protocol_version", cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021)
    cloudfront.Distribution(stack, "SiteDistribution", default_behavior=cloudfront.BehaviorOptions(**options),
                            **extra)


@case("TAP005/cdk-pass-managed-headers")
def _(stack: cdk.Stack) -> None:
    distribution(stack, True)


@case("TAP005/cdk-pass-custom-headers-policy")
def _(stack: cdk.Stack) -> None:
    headers = cloudfront.ResponseHeadersPolicy(
        stack, "Headers", security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=Duration.days(365), include_subdomains=True, override=True),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption.DENY, override=True)))
    distribution(stack, True, headers=headers,
                 minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_3_2025)


@case("TAP005/cdk-fail-analysis-distribution")
def _(stack: cdk.Stack) -> None:
    distribution(stack, False, minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021)


@case("TAP005/cdk-fail-old-tls")
def _(stack: cdk.Stack) -> None:
    distribution(stack, True, minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2019)


@case("TAP005/cdk-unknown-viewer-response-function")
def _(stack: cdk.Stack) -> None:
    # No response headers policy, but a CloudFront Function on viewer-response may set them in code.
    site = s3.Bucket(stack, "SiteBucket")
    headers = cloudfront.Function(stack, "SecurityHeaders", code=cloudfront.FunctionCode.from_inline(
        "function handler(event) { var r = event.response; r.headers['x-frame-options'] = "
        "{value: 'DENY'}; return r; }"), runtime=cloudfront.FunctionRuntime.JS_2_0)
    cloudfront.Distribution(
        stack, "SiteDistribution", default_behavior=cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(site),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            function_associations=[cloudfront.FunctionAssociation(
                function=headers, event_type=cloudfront.FunctionEventType.VIEWER_RESPONSE)]),
        http_version=cloudfront.HttpVersion.HTTP2_AND_3, domain_names=["app.example.com"],
        certificate=acm.Certificate.from_certificate_arn(stack, "Cert", CERT),
        minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021)


# TAP006 ------------------------------------------------------------------------------------------
@case("TAP006/cdk-pass-reserved-and-framework")
def _(stack: cdk.Stack) -> None:
    fn = function(stack, "Processor", reserved=100)
    s3.Bucket(stack, "Uploads").add_event_notification(s3.EventType.OBJECT_CREATED,
                                                        s3n.LambdaDestination(fn))


@case("TAP006/cdk-pass-custom-resource-handlers")
def _(stack: cdk.Stack) -> None:
    # Handlers the user writes for custom resources run only during deployments: out of scope,
    # called directly (ServiceToken) or through CDK's provider framework.
    direct = function(stack, "DirectHandler", reserved=None)
    cdk.CustomResource(stack, "Direct", service_token=direct.function_arn)
    on_event = function(stack, "OnEventHandler", reserved=None)
    provider = cr.Provider(stack, "Provider", on_event_handler=on_event)
    cdk.CustomResource(stack, "ThroughProvider", service_token=provider.service_token)
    function(stack, "Processor", reserved=10)


@case("TAP006/cdk-fail-no-reserved")
def _(stack: cdk.Stack) -> None:
    function(stack, "Processor", reserved=None)


def synthesize(name: str, build: Callable[[cdk.Stack], None], with_paths: bool = True) -> dict:
    context = dict(CLI_CONTEXT) if with_paths else {"aws:cdk:version-reporting": False}
    app = cdk.App(context=context)
    stack = cdk.Stack(app, name.replace("/", "-"), env=ENV)
    build(stack)
    return app.synth().get_stack_by_name(stack.stack_name).template


def main(out: Path = HERE.parent / "fixtures") -> None:
    for name, build in CASES.items():
        target = out / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(synthesize(name, build), indent=1) + "\n")
        print(target)
    # Without the CLI's context there is no aws:cdk:path: framework functions are known by id.
    target = out / "TAP006" / "cdk-pass-framework-without-metadata.json"
    target.write_text(json.dumps(synthesize("TAP006/framework-without-metadata",
                                            CASES["TAP006/cdk-pass-reserved-and-framework"],
                                            with_paths=False), indent=1) + "\n")
    print(target)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "fixtures")
