"""SAM connectors (`AWS::Serverless::Connector` and the `Connectors` property) grant permissions.

A connector from a function adds a managed policy to the function's role, written from SAM's
connector profiles (`Read`/`Write` per destination type), so the rules count what it grants.
A connector tapaudit cannot evaluate (an unknown destination type or permission, a destination
given only as an ARN it cannot name) makes the role's answers unknown, never a finding.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from tapaudit.model.values import Cause, Unknown, intrinsic
from tapaudit.transforms.sam.context import SamContext
from tapaudit.transforms.sam.policies import sam_data

FUNCTION = "AWS::Serverless::Function"
LAMBDA_FUNCTION = "AWS::Lambda::Function"
# What a SAM resource is once deployed, for a connector's destination.
_DEPLOYED_TYPE = {FUNCTION: "AWS::Lambda::Function", "AWS::Serverless::SimpleTable": "AWS::DynamoDB::Table",
                  "AWS::Serverless::StateMachine": "AWS::StepFunctions::StateMachine",
                  "AWS::Serverless::Api": "AWS::ApiGateway::RestApi",
                  "AWS::Serverless::HttpApi": "AWS::ApiGatewayV2::Api"}
_PLACEHOLDER = re.compile(r"%\{Destination\.(\w+)\}")


def embedded(ctx: SamContext, source: str, found: Any, path: tuple) -> None:
    """The `Connectors` attribute of a resource (SAM's or CloudFormation's): source is that
    resource, each connector `<Source><ConnectorId>`."""
    for connector_id, spec in (found.items() if isinstance(found, dict) else ()):
        spec_props = spec.get("Properties") if isinstance(spec, dict) else None
        if isinstance(spec_props, dict):
            _connect(ctx, f"{source}{connector_id}", source, source, spec_props, (*path, connector_id))


def connector(ctx: SamContext, name: str, props: Any) -> None:
    if not isinstance(props, dict):
        ctx.not_checked(name, f"not checked: connector {name} has no Properties mapping")
        return
    source = props.get("Source")
    source_id = source.get("Id") if isinstance(source, dict) else None
    source_type = source.get("Type") if isinstance(source, dict) else None
    if isinstance(source_id, str) or isinstance(source_type, str):
        _connect(ctx, name, source_id if isinstance(source_id, str) else None, name, props,
                 ("Resources", name), source_type)


def _connect(ctx: SamContext, connector_id: str, source: str | None, owner: str, props: dict,
             path: tuple, source_type: Any = None) -> None:
    """What one connector writes, per destination: a managed policy on the source's role (what a
    function's role is granted is evaluated), or the destination's resource policy. `owner`: the
    resource findings on them go back to (the connector, or the resource that embeds it)."""
    kind = ctx.source_types.get(source) or _type_of(ctx, source) if source else source_type
    kind = _DEPLOYED_TYPE.get(kind, kind)
    destinations = props.get("Destination")
    destinations = destinations if isinstance(destinations, list) else [destinations]
    function_role = _role_of(ctx, source) if kind == LAMBDA_FUNCTION and source else None
    for index, destination in enumerate(destinations):
        suffix = "" if len(destinations) == 1 else f"Destination{index}"
        policy = _resource_policy(ctx, kind, destination, props.get("Permissions"))
        if policy is not None:
            ctx.extra(f"{connector_id}{policy[0]}{suffix}", {"Type": policy[1], "Properties": {}},
                      owner, path, f"connector {connector_id}")
        elif function_role is not None and source is not None:
            _grant(ctx, f"{connector_id}Policy{suffix}", connector_id, source, function_role, destination,
                   props.get("Permissions"), path)
        else:
            ctx.extra(f"{connector_id}Policy{suffix}", {"Type": "AWS::IAM::ManagedPolicy",
                                                         "Properties": {}},
                      owner, path, f"connector {connector_id}")


# Sources whose access is granted by the destination's resource policy, by destination type.
_RESOURCE_POLICY_SOURCES = {"AWS::SNS::Topic", "AWS::Events::Rule", "AWS::ApiGateway::RestApi",
                            "AWS::ApiGatewayV2::Api", "AWS::S3::Bucket"}
_RESOURCE_POLICIES = {LAMBDA_FUNCTION: ("LambdaPermission", "AWS::Lambda::Permission"),
                      "AWS::SQS::Queue": ("QueuePolicy", "AWS::SQS::QueuePolicy"),
                      "AWS::SNS::Topic": ("TopicPolicy", "AWS::SNS::TopicPolicy")}


def _resource_policy(ctx: SamContext, source_type: Any, destination: Any,
                     permissions: Any) -> tuple[str, str] | None:
    """(id suffix, type) of the resource policy a connector writes, None for a role policy."""
    if source_type not in _RESOURCE_POLICY_SOURCES or not isinstance(destination, dict):
        return None
    target = destination.get("Id")
    kind = ctx.source_types.get(target) or _type_of(ctx, target) if isinstance(target, str) \
        else destination.get("Type")
    found = _RESOURCE_POLICIES.get(_DEPLOYED_TYPE.get(kind, kind))
    if found is None:
        return None
    if found[1] == "AWS::Lambda::Permission":  # one per permission: <Connector>WriteLambdaPermission
        names = permissions if isinstance(permissions, list) else []
        return "".join(n for n in names if isinstance(n, str)) + found[0], found[1]
    return found


def _grant(ctx: SamContext, policy_id: str, connector_id: str, source: str, role: str,
           destination: Any, permissions: Any, path: tuple) -> None:
    """The managed policy a connector from a function writes on the function's role."""
    found = _statements(ctx, destination, permissions)
    # What cannot be evaluated is a statement the IAM evaluator cannot read: the role's answers
    # become unknown, naming the connector.
    statements = found if isinstance(found, list) else [
        Unknown.because(f"SAM connector {connector_id} is not evaluated ({found})", Cause.CONNECTOR,
                        connector_id, what=found)]
    ctx.add(policy_id, {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
        "Roles": [{"Ref": role}]}}, source, path, f"connector {connector_id}")


def _role_of(ctx: SamContext, function_id: str) -> str | None:
    """The function's role in the template (a role outside it: the rules already report the
    function as unknown)."""
    generated = f"{function_id}Role"
    origin = ctx.provenance.origin(generated)
    if origin is not None and origin.logical_id == function_id:
        return generated
    body = ctx.resources.get(function_id, {})
    role = body.get("Properties", {}).get("Role")
    fn = intrinsic(role)
    if fn and fn[0] == "Fn::GetAtt":
        parts = fn[1].split(".", 1) if isinstance(fn[1], str) else fn[1]
        target = parts[0] if isinstance(parts, list) and parts else None
        if isinstance(target, str) and _type_of(ctx, target) == "AWS::IAM::Role":
            return target
    return None


def _type_of(ctx: SamContext, logical_id: str) -> Any:
    body = ctx.resources.get(logical_id)
    return body.get("Type") if isinstance(body, dict) else None


def _statements(ctx: SamContext, destination: Any, permissions: Any) -> list[dict] | str:
    if not isinstance(destination, dict):
        return "its destination is not a mapping"
    target = destination.get("Id")
    if isinstance(target, str):
        kind = ctx.source_types.get(target) or _type_of(ctx, target)
        kind = _DEPLOYED_TYPE.get(kind, kind)
    else:
        kind = destination.get("Type")
    profiles = sam_data("connector_profiles.json")
    categories = profiles["from_function"].get(kind) if isinstance(kind, str) else None
    if categories is None:
        return f"destination type {kind}"
    if not isinstance(permissions, list) or not all(p in categories for p in permissions):
        listed = permissions if isinstance(permissions, list) else [permissions]
        return "permissions " + ", ".join(str(p) for p in listed)
    values: dict[str, Any] = {}
    if isinstance(target, str):
        for output, value in profiles["outputs"].get(kind, {}).items():
            values[output] = json.loads(json.dumps(value).replace("%{logicalId}", target))
    else:
        values.update({key: destination[key] for key in ("Arn", "Name") if key in destination})
    statements = []
    for permission in permissions:
        for statement in categories[permission]["Statement"]:
            filled = _fill(copy.deepcopy(statement), values)
            if isinstance(filled, str):
                return filled
            statements.append(filled)
    return statements


def _fill(value: Any, values: dict[str, Any]) -> Any:
    """Replace %{Destination.X} placeholders; a string with one inside text becomes Fn::Sub."""
    if isinstance(value, dict):
        filled = {}
        for key, item in value.items():
            result = _fill(item, values)
            if isinstance(result, _Missing):
                return result
            filled[key] = result
        return filled
    if isinstance(value, list):
        items = [_fill(item, values) for item in value]
        return next((i for i in items if isinstance(i, _Missing)), items)
    if isinstance(value, str) and "%{" in value:
        names = _PLACEHOLDER.findall(value)
        if not names or any(n not in values for n in names) or "%{Source" in value:
            return _Missing(f"placeholder in {value} cannot be filled")
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return values[whole.group(1)]
        variables = {n: values[n] for n in names}
        return {"Fn::Sub": [_PLACEHOLDER.sub(r"${\1}", value), variables]}
    return value


class _Missing(str):
    """A placeholder the connector does not give a value for."""
