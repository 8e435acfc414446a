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

from tapaudit.model.values import Unknown, intrinsic
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
            _grant(ctx, f"{source}{connector_id}", source, spec_props, (*path, connector_id))


def connector(ctx: SamContext, name: str, props: Any) -> None:
    if not isinstance(props, dict):
        ctx.not_checked(name, f"not checked: connector {name} has no Properties mapping")
        return
    source = props.get("Source")
    source_id = source.get("Id") if isinstance(source, dict) else None
    ctx.resources[name] = {"Type": "AWS::Serverless::Connector", "Properties": props}
    if isinstance(source_id, str):
        _grant(ctx, name, source_id, props, ("Resources", name))


def _grant(ctx: SamContext, connector_id: str, source: str, props: dict, path: tuple) -> None:
    if ctx.source_types.get(source, _type_of(ctx, source)) not in (FUNCTION, LAMBDA_FUNCTION):
        return  # only a function's role is something a rule looks at
    role = _role_of(ctx, source)
    if role is None:
        return  # a role outside the template: the rules already report it as unknown
    destinations = props.get("Destination")
    destinations = destinations if isinstance(destinations, list) else [destinations]
    permissions = props.get("Permissions")
    statements: list[dict | Unknown] = []
    problems: list[str] = []
    for destination in destinations:
        found = _statements(ctx, destination, permissions)
        (statements.extend if isinstance(found, list) else problems.append)(found)
    # What cannot be evaluated is a statement the IAM evaluator cannot read: the role's answers
    # become unknown, naming the connector.
    statements += [Unknown(f"permissions of SAM connector {connector_id} are not evaluated ({problem})")
                   for problem in problems]
    if statements:
        ctx.add(f"{connector_id}Policy", {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            "Roles": [{"Ref": role}]}}, source, path, f"connector {connector_id}")


def _role_of(ctx: SamContext, function_id: str) -> str | None:
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
        return "destination is not a mapping"
    target = destination.get("Id")
    if isinstance(target, str):
        kind = ctx.source_types.get(target) or _type_of(ctx, target)
        kind = _DEPLOYED_TYPE.get(kind, kind)
    else:
        kind = destination.get("Type")
    profiles = sam_data("connector_profiles.json")
    categories = profiles["from_function"].get(kind) if isinstance(kind, str) else None
    if categories is None:
        return f"destination type {kind} is not evaluated"
    if not isinstance(permissions, list) or not all(p in categories for p in permissions):
        return f"permissions {permissions} are not evaluated"
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
