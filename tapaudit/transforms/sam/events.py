"""SAM event sources that create resources the rules check: EventBridge rules (`Schedule`,
`EventBridgeRule`, `CloudWatchEvent`), EventBridge Scheduler schedules (`ScheduleV2`), and S3
notifications on a bucket of the template."""

from __future__ import annotations

import copy
from typing import Any

from tapaudit.transforms.sam.context import SamContext

RULE_EVENTS = ("Schedule", "EventBridgeRule", "CloudWatchEvent")


def _target(source_id: str, event_id: str, target_arn: Any, suffix: str, role: Any | None,
            dead_letter: dict | None, props: dict) -> dict:
    target_props = props.get("Target") if isinstance(props.get("Target"), dict) else {}
    target: dict[str, Any] = {"Arn": target_arn,
                              "Id": target_props.get("Id", f"{source_id}{event_id}{suffix}")}
    if role is not None:
        target["RoleArn"] = role
    if dead_letter is not None:
        target["DeadLetterConfig"] = dead_letter
    if props.get("RetryPolicy") is not None:
        target["RetryPolicy"] = props["RetryPolicy"]
    return target


def _dead_letter(ctx: SamContext, source: str, event_id: str, props: dict, queue_base: str,
                 queue_policy: bool) -> dict | None:
    """`DeadLetterConfig: {Arn}` is used as is; `{Type: SQS}` makes SAM create the queue (and,
    for EventBridge rules, the queue policy letting events.amazonaws.com send to it)."""
    config = props.get("DeadLetterConfig")
    if not isinstance(config, dict):
        return None
    if "Arn" in config:
        return {"Arn": config["Arn"]}
    if config.get("Type") != "SQS":
        return None
    queue = config.get("QueueLogicalId") if isinstance(config.get("QueueLogicalId"), str) else None
    queue = queue or f"{queue_base}Queue"
    where = (*ctx.event_path(source, event_id), "Properties", "DeadLetterConfig")
    ctx.add(queue, {"Type": "AWS::SQS::Queue", "Properties": {}}, source, where,
            f"event {event_id}")
    if queue_policy:
        rule_arn = {"Fn::GetAtt": [queue_base, "Arn"]}
        ctx.add(f"{queue_base}QueuePolicy", {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "sqs:SendMessage", "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Resource": {"Fn::GetAtt": [queue, "Arn"]},
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]},
            "Queues": [{"Ref": queue}]}}, source, where, f"event {event_id}")
    return {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}


def events_rule(ctx: SamContext, source: str, event_id: str, event_type: str, props: dict,
                target_arn: Any, suffix: str, role: Any | None) -> None:
    rule_id = f"{source}{event_id}"
    rule: dict[str, Any] = {}
    if event_type == "Schedule":
        rule["ScheduleExpression"] = props.get("Schedule")
    else:
        rule["EventPattern"] = props.get("Pattern")
        if props.get("EventBusName") is not None:
            rule["EventBusName"] = props["EventBusName"]
    for key in ("Name", "Description", "State"):
        if props.get(key) is not None:
            rule[key] = props[key]
    dead_letter = _dead_letter(ctx, source, event_id, props, rule_id, queue_policy=True)
    rule["Targets"] = [_target(source, event_id, target_arn, suffix, role, dead_letter, props)]
    path = ctx.event_path(source, event_id)
    if dead_letter is not None:
        path = (*path, "Properties", "DeadLetterConfig")
    ctx.add(rule_id, {"Type": "AWS::Events::Rule", "Properties": rule}, source, path, f"event {event_id}")


def schedule_v2(ctx: SamContext, source: str, event_id: str, props: dict, target_arn: Any,
                invoke_action: str) -> None:
    """An EventBridge Scheduler schedule; its role (yours in `RoleArn`, or one SAM writes) is what
    Scheduler uses to invoke the target and to deliver dead letters."""
    schedule_id = f"{source}{event_id}"
    dead_letter = _dead_letter(ctx, source, event_id, props, schedule_id, queue_policy=False)
    path = ctx.event_path(source, event_id)
    role = props.get("RoleArn")
    if role is None:
        role_id = f"{schedule_id}Role"
        statements = [{"Action": invoke_action, "Effect": "Allow", "Resource": target_arn}]
        if dead_letter is not None:
            statements.append({"Action": "sqs:SendMessage", "Effect": "Allow",
                               "Resource": dead_letter["Arn"]})
        ctx.add(role_id, {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": ["sts:AssumeRole"], "Effect": "Allow",
                "Principal": {"Service": ["scheduler.amazonaws.com"]}}]},
            "Policies": [{"PolicyName": f"{schedule_id}Policy",
                          "PolicyDocument": {"Statement": statements}}]}},
            source, path, f"event {event_id}")
        role = {"Fn::GetAtt": [role_id, "Arn"]}
    target: dict[str, Any] = {"Arn": target_arn, "RoleArn": role}
    if dead_letter is not None:
        target["DeadLetterConfig"] = dead_letter
        path = (*path, "Properties", "DeadLetterConfig")
    schedule = {"ScheduleExpression": props.get("ScheduleExpression"),
                "FlexibleTimeWindow": props.get("FlexibleTimeWindow", {"Mode": "OFF"}),
                "Name": props.get("Name", schedule_id), "Target": target}
    ctx.add(schedule_id, {"Type": "AWS::Scheduler::Schedule", "Properties": schedule}, source, path,
            f"event {event_id}")


def s3_notification(ctx: SamContext, function_id: str, event_id: str, props: dict) -> None:
    """S3 events become the bucket's NotificationConfiguration (the bucket must be in the template)."""
    bucket = props.get("Bucket")
    bucket_id = bucket.get("Ref") if isinstance(bucket, dict) and len(bucket) == 1 else None
    body = ctx.resources.get(bucket_id) if isinstance(bucket_id, str) else None
    if not isinstance(body, dict) or body.get("Type") != "AWS::S3::Bucket":
        ctx.not_checked(function_id, f"not checked: S3 event {event_id} names no bucket of the template")
        return
    body = ctx.resources[bucket_id] = copy.deepcopy(body)
    bucket_props = body.setdefault("Properties", {})
    if not isinstance(bucket_props, dict):
        return
    notifications = bucket_props.setdefault("NotificationConfiguration", {})
    if not isinstance(notifications, dict):
        return
    configurations = notifications.setdefault("LambdaConfigurations", [])
    if not isinstance(configurations, list):
        return
    names = props.get("Events")
    for name in names if isinstance(names, list) else [names]:
        entry: dict[str, Any] = {"Event": name, "Function": {"Fn::GetAtt": [function_id, "Arn"]}}
        if props.get("Filter") is not None:
            entry["Filter"] = props["Filter"]
        configurations.append(entry)
