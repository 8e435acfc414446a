"""The primary region: transactions bucket and table, processor, health check, events, front end.

Every `settings.reference` switch is one failure of the analysis: the flawed variant takes the
other side of each switch and nothing else changes.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from transaction_migration.settings import Settings

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
RUNTIME = lambda_.Runtime.NODEJS_22_X
STATUS_INDEX = "status-timestamp-index"
METRIC_NAMESPACE = "TransactionMigration/HealthCheck"
ELIGIBLE_TAG = s3.Tag(key="replication-eligible", value="true")
ONE_GIB = 1024 ** 3


def inline_code(name: str) -> lambda_.Code:
    # Inline code keeps the assembly free of asset folders and the fixtures byte-stable.
    return lambda_.Code.from_inline((FUNCTIONS / name).read_text(encoding="utf-8"))


class TransactionMigrationStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.table = self._transactions_table()
        self.bucket = self._transactions_bucket()
        self.processor_alias = self._transaction_processor()
        self._health_check()
        self._transaction_events()
        self._front_end()

    def _queue(self, construct_id: str) -> sqs.Queue:
        return sqs.Queue(self, construct_id, retention_period=Duration.days(14),
                         encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)

    def _transactions_table(self) -> dynamodb.TableV2:
        indexes = [dynamodb.GlobalSecondaryIndexPropsV2(
            index_name=STATUS_INDEX,
            partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.ALL,
        )] if self.settings.reference else None  # TAP003
        return dynamodb.TableV2(
            self, "TransactionTable",
            table_name=f"{self.settings.service_name}-transactions",
            partition_key=dynamodb.Attribute(name="transactionId", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.NUMBER),
            global_secondary_indexes=indexes,
            replicas=[dynamodb.ReplicaTableProps(region=self.settings.replica_region)],
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _transactions_bucket(self) -> s3.Bucket:
        settings = self.settings
        replica = s3.Bucket.from_bucket_name(self, "ReplicaBucket", settings.replica_bucket_name)
        # TAP001: replication filters take only prefix and tags, so size is gated by a tag.
        tags = [ELIGIBLE_TAG] if settings.reference else None
        bucket = s3.Bucket(
            self, "TransactionsBucket",
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30))],
            replication_rules=[s3.ReplicationRule(
                id="transactions-to-replica",
                destination=replica,
                priority=1,
                delete_marker_replication=False,  # S3 requires this for tag-filtered rules
                filter=s3.Filter(prefix="transactions/", tags=tags),
            )],
        )
        if settings.reference:
            self._size_classifier(bucket)
        return bucket

    def _size_classifier(self, bucket: s3.Bucket) -> None:
        classifier = lambda_.Function(
            self, "SizeClassifier",
            description="Tags transaction objects under 1 GiB as replication-eligible",
            runtime=RUNTIME, handler="index.handler", code=inline_code("size_classifier.js"),
            timeout=Duration.minutes(5), memory_size=256,
            reserved_concurrent_executions=10,
            environment={"TAG_KEY": ELIGIBLE_TAG.key, "TAG_VALUE": ELIGIBLE_TAG.value,
                         "SIZE_LIMIT_BYTES": str(ONE_GIB)},
        )
        classifier.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:GetObjectTagging", "s3:PutObjectTagging"],
            resources=[bucket.arn_for_objects("transactions/*")],
        ))
        bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(classifier),
                                      s3.NotificationKeyFilter(prefix="transactions/"))

    def _transaction_processor(self) -> lambda_.Alias:
        processor = lambda_.Function(
            self, "TransactionProcessor",
            function_name=f"{self.settings.service_name}-processor",
            runtime=RUNTIME, handler="index.handler", code=inline_code("transaction_processor.js"),
            timeout=Duration.seconds(30), memory_size=512,
            environment={"TABLE_NAME": self.table.table_name},
            # TAP006: the analysis's processor had no reserved concurrency.
            reserved_concurrent_executions=100 if self.settings.reference else None,
        )
        self.table.grant_write_data(processor)
        return lambda_.Alias(self, "LiveAlias", alias_name="live", version=processor.current_version)

    def _health_check(self) -> None:
        reference = self.settings.reference
        health_check = lambda_.Function(
            self, "HealthCheck",
            description="Queries the status index and publishes migration health metrics",
            runtime=RUNTIME, handler="index.handler",
            code=inline_code("health_check.js" if reference else "health_check_flawed.js"),
            timeout=Duration.seconds(30),
            reserved_concurrent_executions=1,
            environment={"TABLE_NAME": self.table.table_name, "INDEX_NAME": STATUS_INDEX,
                         "METRIC_NAMESPACE": METRIC_NAMESPACE},
        )
        if reference:  # TAP002: exactly what the health check needs, nothing more
            health_check.add_to_role_policy(iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[f"{self.table.table_arn}/index/{STATUS_INDEX}"],
            ))
            health_check.add_to_role_policy(iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"], resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
            ))
        else:
            self.table.grant(health_check, "dynamodb:GetItem")
        events.Rule(
            self, "HealthCheckSchedule",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(health_check, retry_attempts=2,
                                            max_event_age=Duration.minutes(5),
                                            dead_letter_queue=self._queue("HealthCheckDLQ"))],
        )

    def _transaction_events(self) -> None:
        rule = events.Rule(
            self, "TransactionEventRule",
            event_pattern=events.EventPattern(source=["transaction.migration"],
                                              detail_type=["Transaction Submitted"]),
        )
        # TAP004: the analysis's target had retries and a maximum age but no dead-letter queue.
        dlq = self._queue("EventDLQ") if self.settings.reference else None
        rule.add_target(targets.LambdaFunction(self.processor_alias, retry_attempts=3,
                                               max_event_age=Duration.hours(2),
                                               dead_letter_queue=dlq))

    def _front_end(self) -> None:
        settings = self.settings
        site_bucket = s3.Bucket(
            self, "SiteBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        behavior = dict(
            origin=origins.S3BucketOrigin.with_origin_access_control(site_bucket),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            origin_request_policy=cloudfront.OriginRequestPolicy.CORS_S3_ORIGIN,
        )
        if settings.reference:  # TAP005
            cloudfront.Distribution(
                self, "SiteDistribution",
                default_behavior=cloudfront.BehaviorOptions(
                    **behavior,
                    response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS),
                default_root_object="index.html",
                http_version=cloudfront.HttpVersion.HTTP2_AND_3,
                domain_names=[settings.domain_name],
                certificate=acm.Certificate.from_certificate_arn(
                    self, "SiteCertificate", settings.certificate_arn),
                minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            )
        else:
            # The analysis's distribution, with its own "fix" for TLS: without a certificate
            # CDK silently drops minimum_protocol_version.
            cloudfront.Distribution(
                self, "SiteDistribution",
                default_behavior=cloudfront.BehaviorOptions(**behavior),
                default_root_object="index.html",
                http_version=cloudfront.HttpVersion.HTTP2,
                minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            )
