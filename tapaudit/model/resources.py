"""What `Ref` and `Fn::GetAtt` return for each resource type, as CloudFormation documents it.

Formats use `{name}` (the physical name: the name property when the template sets it, otherwise a
placeholder for the generated one), `{P}` partition, `{R}` region, `{A}` account, `{S}` URL suffix,
`{path}` (IAM path). An attribute not listed here is a placeholder of its own: a fixed value the
template cannot show, equal only to itself.
"""

from __future__ import annotations

import re

from msgspec import Struct, field


class Kind(Struct, frozen=True):
    name_property: str | None
    ref: str  # what Ref returns
    attributes: dict[str, str] = field(default_factory=dict)
    name_attribute: str | None = None  # how the generated name is shown: ${Logical.<this>}


_TABLE = Kind("TableName", "{name}", {"Arn": "arn:{P}:dynamodb:{R}:{A}:table/{name}",
                                      "TableName": "{name}"}, "TableName")
_QUEUE_URL = "https://sqs.{R}.{S}/{A}/{name}"
_FUNCTION_ARN = "arn:{P}:lambda:{R}:{A}:function:{name}"
_STATE_MACHINE_ARN = "arn:{P}:states:{R}:{A}:stateMachine:{name}"

KINDS: dict[str, Kind] = {
    "AWS::S3::Bucket": Kind("BucketName", "{name}", {
        "Arn": "arn:{P}:s3:::{name}", "DomainName": "{name}.s3.{S}",
        "RegionalDomainName": "{name}.s3.{R}.{S}", "DualStackDomainName": "{name}.s3.dualstack.{R}.{S}",
        "WebsiteURL": "http://{name}.s3-website-{R}.{S}"}),
    "AWS::SQS::Queue": Kind("QueueName", _QUEUE_URL, {
        "Arn": "arn:{P}:sqs:{R}:{A}:{name}", "QueueName": "{name}", "QueueUrl": _QUEUE_URL},
        "QueueName"),
    "AWS::SNS::Topic": Kind("TopicName", "arn:{P}:sns:{R}:{A}:{name}", {
        "TopicArn": "arn:{P}:sns:{R}:{A}:{name}", "TopicName": "{name}"}, "TopicName"),
    "AWS::Lambda::Function": Kind("FunctionName", "{name}", {"Arn": _FUNCTION_ARN}),
    "AWS::IAM::Role": Kind("RoleName", "{name}", {"Arn": "arn:{P}:iam::{A}:role{path}{name}"}),
    "AWS::IAM::User": Kind("UserName", "{name}", {"Arn": "arn:{P}:iam::{A}:user{path}{name}"}),
    "AWS::IAM::Group": Kind("GroupName", "{name}", {"Arn": "arn:{P}:iam::{A}:group{path}{name}"}),
    "AWS::IAM::ManagedPolicy": Kind("ManagedPolicyName", "arn:{P}:iam::{A}:policy{path}{name}", {
        "PolicyArn": "arn:{P}:iam::{A}:policy{path}{name}"}),
    "AWS::IAM::InstanceProfile": Kind("InstanceProfileName", "{name}", {
        "Arn": "arn:{P}:iam::{A}:instance-profile{path}{name}"}),
    "AWS::DynamoDB::Table": _TABLE,
    "AWS::DynamoDB::GlobalTable": _TABLE,
    "AWS::Events::Rule": Kind("Name", "{name}", {"Arn": "arn:{P}:events:{R}:{A}:rule/{name}"}),
    "AWS::Events::EventBus": Kind("Name", "{name}", {
        "Arn": "arn:{P}:events:{R}:{A}:event-bus/{name}", "Name": "{name}"}),
    "AWS::Scheduler::Schedule": Kind("Name", "{name}", {
        "Arn": "arn:{P}:scheduler:{R}:{A}:schedule/default/{name}"}),
    "AWS::StepFunctions::StateMachine": Kind("StateMachineName", _STATE_MACHINE_ARN, {
        "Arn": _STATE_MACHINE_ARN, "Name": "{name}"}),
    "AWS::Logs::LogGroup": Kind("LogGroupName", "{name}", {
        "Arn": "arn:{P}:logs:{R}:{A}:log-group:{name}:*"}),
    "AWS::Kinesis::Stream": Kind("Name", "{name}", {"Arn": "arn:{P}:kinesis:{R}:{A}:stream/{name}"}),
    "AWS::KMS::Key": Kind(None, "{name}", {"Arn": "arn:{P}:kms:{R}:{A}:key/{name}",
                                           "KeyId": "{name}"}),
    "AWS::SecretsManager::Secret": Kind(None, "arn:{P}:secretsmanager:{R}:{A}:secret:{name}", {}),
    "AWS::CloudFront::Distribution": Kind(None, "{name}", {"Id": "{name}"}),
    "AWS::CloudFront::ResponseHeadersPolicy": Kind(None, "{name}", {"Id": "{name}"}),
    "AWS::CloudFront::Function": Kind("Name", "arn:{P}:cloudfront::{A}:function/{name}", {
        "FunctionARN": "arn:{P}:cloudfront::{A}:function/{name}"}),
}


def _deploy_time_parts(fmt: str) -> set[str]:
    """The parts of a format that may stand for a value no literal is known to equal."""
    return set(re.findall(r"\{(\w+)\}", fmt)) - {"P", "R", "A", "S"}  # those are open


# Types each of whose forms holds every such part of what Ref returns (the name, an IAM path): one
# whose Ref holds a closed placeholder (a generated name) has no form a literal text can name.
REF_PARTS_IN_EVERY_FORM = frozenset(
    kind for kind, spec in KINDS.items()
    if all(_deploy_time_parts(spec.ref) <= _deploy_time_parts(fmt) for fmt in spec.attributes.values()))

# Lambda aliases and versions return ARNs built on their function's ARN.
VERSIONED = ("AWS::Lambda::Alias", "AWS::Lambda::Version")


def is_custom_resource(kind: str | None) -> bool:
    return bool(kind) and (kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource")
