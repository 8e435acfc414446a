"""Expand `Transform: AWS::Serverless-2016-10-31` into the resources SAM deploys, for the rules.

What the built-in rules read is written in full: functions and their roles, EventBridge rules and
Scheduler schedules with their dead-letter queues and policies, S3 notifications, SimpleTables,
state machine events, connectors. Everything else SAM generates (APIs, stages, permissions, event
source mappings, versions, layers...) is written with the translator's ids and types and the
properties that carry over cheaply (generated.py), so a custom rule sees SAM as CloudFormation.
Every generated resource records the SAM resource it comes from (model/provenance.py), so findings
are reported on what the user wrote. A SAM feature this expansion does not know leaves the
resources it could change unchecked (unknown), never passed.
"""

from __future__ import annotations

from typing import Any

from tapaudit.errors import InputError
from tapaudit.model.provenance import Provenance
from tapaudit.model.values import intrinsic
from tapaudit.transforms.sam import connectors, events, generated, policies
from tapaudit.transforms.sam.context import SamContext
from tapaudit.transforms.sam.globals import merged_properties

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
FUNCTION = "AWS::Serverless::Function"
STATE_MACHINE = "AWS::Serverless::StateMachine"
SIMPLE_TABLE = "AWS::Serverless::SimpleTable"
CONNECTOR = "AWS::Serverless::Connector"
# Resource attributes SAM copies onto what it generates.
PASSTHROUGH = ("Condition", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy", "Metadata")
# Function properties SAM consumes itself; everything else goes to AWS::Lambda::Function.
_SAM_ONLY = {"CodeUri", "InlineCode", "Policies", "Events", "AutoPublishAlias", "AutoPublishCodeSha256",
             "AutoPublishAliasAllProperties", "DeploymentPreference", "Connectors", "FunctionUrlConfig",
             "ProvisionedConcurrencyConfig", "VersionDescription", "DeadLetterQueue",
             "EventInvokeConfig", "RolePath", "AssumeRolePolicyDocument", "PermissionsBoundary",
             "VersionDeletionPolicy", "CapacityProviderConfig", "FunctionScalingConfig",
             "PublishToLatestPublished"}
SIMPLE_TABLE_NOTE = ("an AWS::Serverless::SimpleTable cannot have a global secondary index: declare "
                     "the table as AWS::DynamoDB::Table")
_KEY_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


def expand_sam(data: dict, provenance: Provenance) -> dict:
    """The template as SAM would deploy it (for the rules); origins go into `provenance`."""
    resources = data.get("Resources")
    if not isinstance(resources, dict):
        return data
    out = {name: body for name, body in resources.items()
           if not (isinstance(body, dict) and _is_sam(body.get("Type")))}
    types = {name: body["Type"] for name, body in resources.items()
             if isinstance(body, dict) and _is_sam(body.get("Type"))}
    ctx = SamContext(out, types, data.get("Globals"), provenance,
                     sources={name: resources[name] for name in types})
    for name, kind in types.items():
        body = resources[name]
        if kind == CONNECTOR:
            continue  # after everything else: it changes the roles of other resources
        handler = _HANDLERS.get(kind)
        if handler is None:
            out[name] = body
            ctx.not_checked(name, f"not checked: SAM resource type {kind} is not expanded by tapaudit")
            continue
        props = body.get("Properties", {})
        if not isinstance(props, dict):
            raise InputError(f"Properties of {name} ({kind}) is not a mapping")
        handler(ctx, name, body, props)
    generated.implicit_apis(ctx)
    for name, kind in types.items():
        if kind == CONNECTOR:
            connectors.connector(ctx, name, resources[name].get("Properties"))
    for name, body in resources.items():  # embedded connectors: an attribute of any resource
        if isinstance(body, dict) and "Connectors" in body:
            connectors.embedded(ctx, name, body["Connectors"], ("Resources", name, "Connectors"))
            if isinstance(out.get(name), dict) and "Connectors" in out[name]:
                out[name] = {key: value for key, value in out[name].items() if key != "Connectors"}
    return {key: value for key, value in data.items() if key != "Globals"} | {"Resources": out}


def _is_sam(kind: Any) -> bool:
    return isinstance(kind, str) and kind.startswith("AWS::Serverless::")


def _passthrough(body: dict) -> dict:
    return {key: body[key] for key in PASSTHROUGH if key in body}


def _events(props: dict) -> dict[str, dict]:
    found = props.get("Events")
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, dict)}


def function(ctx: SamContext, name: str, body: dict, own: dict) -> None:
    props, from_globals = merged_properties(ctx.globals_section, "Function", own)
    lambda_props = {key: value for key, value in props.items() if key not in _SAM_ONLY}
    sam_events = _events(props)
    if props.get("Role") is None:  # SAM writes the role; with Role set it ignores Policies
        role_id = f"{name}Role"
        role = policies.role_properties(name, props, [str(e.get("Type")) for e in sam_events.values()])
        where = ("Resources", name, "Properties", "Policies") if "Policies" in own else ("Resources", name)
        ctx.add(role_id, {"Type": "AWS::IAM::Role", "Properties": role, **_passthrough(body)}, name,
                where, "generated role")
        lambda_props["Role"] = {"Fn::GetAtt": [role_id, "Arn"]}
    ctx.add(name, {"Type": "AWS::Lambda::Function", "Properties": lambda_props, **_passthrough(body)},
            name, ("Resources", name), mirror=True,
            moved={key: ("Globals", "Function", key) for key in from_globals})
    target = {"Fn::GetAtt": [name, "Arn"]}
    for event_id, event in sam_events.items():
        kind = _event_type(event)
        event_props = event.get("Properties") if isinstance(event.get("Properties"), dict) else {}
        if kind in events.RULE_EVENTS:
            events.events_rule(ctx, name, event_id, kind, event_props, target, "LambdaTarget", None)
        elif kind == "ScheduleV2":
            events.schedule_v2(ctx, name, event_id, event_props, target, "lambda:InvokeFunction")
        elif kind == "S3":
            events.s3_notification(ctx, name, event_id, event_props)
        elif kind not in generated.KNOWN_EVENTS:
            ctx.not_checked(name, f"not checked: SAM event type {kind} ({event_id}) is not expanded "
                                  "by tapaudit")
        generated.function_event(ctx, name, event_id, kind, event_props)
    generated.function_extras(ctx, name, props)
    # SAM refuses `Connectors` among the properties; read as the author means it all the same.
    connectors.embedded(ctx, name, props.get("Connectors"), ("Resources", name, "Properties", "Connectors"))


def _event_type(event: dict) -> str:
    """The event's Type; anything but a string is no event type SAM knows (not checked, below)."""
    kind = event.get("Type")
    return kind if isinstance(kind, str) else f"of {type(kind).__name__} type"


def state_machine(ctx: SamContext, name: str, body: dict, own: dict) -> None:
    props, _ = merged_properties(ctx.globals_section, "StateMachine", own)
    machine = {key: props[key] for key in ("Name", "Type", "Definition", "Role", "Tags") if key in props}
    ctx.add(name, {"Type": "AWS::StepFunctions::StateMachine", "Properties": machine,
                   **_passthrough(body)}, name, ("Resources", name), mirror=True)
    generated.state_machine_extras(ctx, name, props)
    target = {"Ref": name}
    for event_id, event in _events(props).items():
        kind = _event_type(event)
        event_props = event.get("Properties") if isinstance(event.get("Properties"), dict) else {}
        if kind in events.RULE_EVENTS:
            role_id = f"{name}{event_id}Role"
            ctx.add(role_id, {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Action": ["sts:AssumeRole"], "Effect": "Allow",
                    "Principal": {"Service": ["events.amazonaws.com"]}}]},
                "Policies": [{"PolicyName": f"{name}{event_id}RoleStartExecutionPolicy",
                              "PolicyDocument": {"Statement": [{"Action": "states:StartExecution",
                                                                "Effect": "Allow",
                                                                "Resource": target}]}}]}},
                name, ctx.event_path(name, event_id), f"event {event_id}")
            events.events_rule(ctx, name, event_id, kind, event_props, target, "StepFunctionsTarget",
                               {"Fn::GetAtt": [role_id, "Arn"]})
        elif kind == "ScheduleV2":
            events.schedule_v2(ctx, name, event_id, event_props, target, "states:StartExecution")
        elif kind == "Api":
            generated.state_machine_api_event(ctx, name, event_id, event_props)
        else:
            ctx.not_checked(name, f"not checked: SAM event type {kind} ({event_id}) is not expanded "
                                  "by tapaudit")


def simple_table(ctx: SamContext, name: str, body: dict, own: dict) -> None:
    props, _ = merged_properties(ctx.globals_section, "SimpleTable", own)
    key = props.get("PrimaryKey") if isinstance(props.get("PrimaryKey"), dict) else {}
    key_name = key.get("Name", "id")
    key_type = key.get("Type", "String")
    attribute_type = _KEY_TYPES.get(key_type, key_type) if isinstance(key_type, str) else key_type
    table: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": key_name, "AttributeType": attribute_type}],
        "KeySchema": [{"AttributeName": key_name, "KeyType": "HASH"}]}
    if props.get("ProvisionedThroughput") is not None:
        table["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    else:
        table["BillingMode"] = "PAY_PER_REQUEST"
    for copied in ("TableName", "SSESpecification", "PointInTimeRecoverySpecification"):
        if copied in props:
            table[copied] = props[copied]
    tags = props.get("Tags")
    if isinstance(tags, dict) and not intrinsic(tags):
        table["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    ctx.add(name, {"Type": "AWS::DynamoDB::Table", "Properties": table, **_passthrough(body)}, name,
            ("Resources", name), note=SIMPLE_TABLE_NOTE)


_HANDLERS = {FUNCTION: function, STATE_MACHINE: state_machine, SIMPLE_TABLE: simple_table,
             "AWS::Serverless::Api": generated.serverless_api,
             "AWS::Serverless::HttpApi": generated.serverless_http_api,
             "AWS::Serverless::WebSocketApi": generated.websocket_api,
             "AWS::Serverless::LayerVersion": generated.layer_version,
             "AWS::Serverless::Application": generated.application,
             "AWS::Serverless::CapacityProvider": generated.capacity_provider,
             "AWS::Serverless::GraphQLApi": generated.graphql_api}
