"""The execution role SAM generates for a function: from `Policies` (AWS managed policy names
and ARNs, inline statements, SAM policy templates with their parameters) and from the features
that add permissions (tracing, VPC, dead-letter queue, stream and queue event sources)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from tapaudit.model.values import Cause, Unknown, intrinsic

LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}}]}

# Event sources whose pollers run under the function's role, and the managed policy SAM adds.
EVENT_MANAGED_POLICIES = {
    "SQS": "AWSLambdaSQSQueueExecutionRole",
    "Kinesis": "AWSLambdaKinesisExecutionRole",
    "DynamoDB": "AWSLambdaDynamoDBExecutionRole",
    "MSK": "AWSLambdaMSKExecutionRole",
}
_ARN_INTRINSICS = {"Ref", "Fn::Sub", "Fn::GetAtt", "Fn::ImportValue", "Fn::Join", "Fn::FindInMap",
                   "Fn::Select"}


@cache
def sam_data(name: str) -> dict:
    text = resources.files("tapaudit.transforms.sam").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


def policy_templates() -> dict[str, dict]:
    return sam_data("policy_templates.json")["templates"]


def managed_policy_arn(name: str) -> Any:
    """An AWS managed policy named as SAM accepts it (a name, or an ARN as is)."""
    if name.startswith("arn:"):
        return name
    path = sam_data("managed_policies.json")["paths"].get(name, name)
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{path}"}


def _substitute(value: Any, parameters: dict) -> Any:
    """A policy template's definition with `{"Ref": <parameter>}` replaced by the given value."""
    if isinstance(value, dict):
        ref = value.get("Ref") if len(value) == 1 else None
        if isinstance(ref, str) and ref in parameters:
            return parameters[ref]
        return {key: _substitute(item, parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, parameters) for item in value]
    return value


def policy_template_document(name: str, parameters: Any) -> dict | Unknown:
    """The policy document of a SAM policy template, or why it cannot be built."""
    template = policy_templates().get(name)
    if template is None:
        return Unknown.because(f"SAM policy template {name} is unknown to tapaudit",
                               Cause.SAM_POLICY_TEMPLATE, name)
    given = parameters if isinstance(parameters, dict) else {}
    missing = [p for p in template["Parameters"] if p not in given]
    if missing:
        return Unknown.because(f"SAM policy template {name} lacks parameter {', '.join(missing)}",
                               Cause.SAM_POLICY_TEMPLATE, name)
    return _substitute(template["Definition"], given)


def role_properties(function_id: str, props: dict, event_types: list[str]) -> dict:
    """Properties of the `<Function>Role` SAM writes when the function sets no `Role`."""
    managed: list[Any] = [managed_policy_arn("AWSLambdaBasicExecutionRole")]
    inline: list[dict] = []
    if props.get("Tracing") == "Active":
        managed.append(managed_policy_arn("AWSXrayWriteOnlyAccess"))
    if props.get("VpcConfig") is not None:
        managed.append(managed_policy_arn("AWSLambdaVPCAccessExecutionRole"))
    policies = props.get("Policies")
    if policies is not None and not isinstance(policies, list):
        policies = [policies]
    for index, policy in enumerate(policies or []):
        _add_policy(function_id, index, policy, managed, inline)
    dlq = props.get("DeadLetterQueue")
    if isinstance(dlq, dict) and dlq.get("Type") in ("SQS", "SNS"):
        action = "sqs:SendMessage" if dlq["Type"] == "SQS" else "sns:Publish"
        inline.append({"PolicyName": f"{function_id}RoleDeadLetterQueuePolicy", "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": action, "Resource": dlq.get("TargetArn"), "Effect": "Allow"}]}})
    for event_type in event_types:
        name = EVENT_MANAGED_POLICIES.get(event_type)
        if name and managed_policy_arn(name) not in managed:
            managed.append(managed_policy_arn(name))
    role: dict[str, Any] = {"AssumeRolePolicyDocument": props.get("AssumeRolePolicyDocument", LAMBDA_TRUST),
                            "ManagedPolicyArns": managed}
    if inline:
        role["Policies"] = inline
    if props.get("PermissionsBoundary") is not None:
        role["PermissionsBoundary"] = props["PermissionsBoundary"]
    return role


def _add_policy(function_id: str, index: int, policy: Any, managed: list, inline: list) -> None:
    name = f"{function_id}RolePolicy{index}"
    fn = intrinsic(policy)
    if isinstance(policy, str) or (fn and fn[0] in _ARN_INTRINSICS):
        managed.append(managed_policy_arn(policy) if isinstance(policy, str) else policy)
    elif fn and fn[0] == "Fn::If" and isinstance(fn[1], list) and len(fn[1]) == 3:
        # A conditional policy: each branch becomes the document under that condition.
        documents = [_document(branch) for branch in fn[1][1:]]
        inline.append({"PolicyName": name, "PolicyDocument": {"Fn::If": [fn[1][0], *documents]}})
    elif isinstance(policy, dict):
        inline.append({"PolicyName": name, "PolicyDocument": _document(policy)})


def _document(policy: Any) -> dict | Unknown:
    """The policy document SAM writes; Unknown (which the IAM evaluator lists as unverifiable, so
    the role's answers become unknown) for a policy tapaudit cannot read."""
    if isinstance(policy, dict) and intrinsic(policy) and policy.get("Ref") == "AWS::NoValue":
        return policy
    if isinstance(policy, dict) and "Statement" in policy:
        return policy
    if isinstance(policy, dict) and len(policy) == 1:
        name, parameters = next(iter(policy.items()))
        return policy_template_document(str(name), parameters)
    return Unknown("a SAM policy tapaudit cannot read")
