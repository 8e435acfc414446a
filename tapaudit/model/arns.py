"""Render ARN-shaped values (literals, Ref, GetAtt, Join, Sub) into comparable pattern strings.

Resources of the template render to sample ARNs built from their physical name (the name property
when it is a literal, the logical id otherwise) and fixed pseudo-parameter samples, so a policy's
`{"Fn::Join": ["", [{"Fn::GetAtt": ["T", "Arn"]}, "/index/*"]]}` and a probe ARN of table T compare.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from tapaudit.model.template import PSEUDO_SAMPLES, Template
from tapaudit.model.values import Unknown, intrinsic

_REGION = PSEUDO_SAMPLES["AWS::Region"]
_ACCOUNT = PSEUDO_SAMPLES["AWS::AccountId"]

NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Events::Rule": "Name",
}

_ARN_FORMAT = {
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{_REGION}:{_ACCOUNT}:table/{{name}}",
    "AWS::DynamoDB::GlobalTable": f"arn:aws:dynamodb:{_REGION}:{_ACCOUNT}:table/{{name}}",
    "AWS::SQS::Queue": f"arn:aws:sqs:{_REGION}:{_ACCOUNT}:{{name}}",
    "AWS::Lambda::Function": f"arn:aws:lambda:{_REGION}:{_ACCOUNT}:function:{{name}}",
    "AWS::IAM::Role": f"arn:aws:iam::{_ACCOUNT}:role/{{name}}",
    "AWS::Events::Rule": f"arn:aws:events:{_REGION}:{_ACCOUNT}:rule/{{name}}",
}

_SUB_PART = re.compile(r"\$\{([^}]*)\}")


def physical_name(template: Template, logical_id: str) -> str:
    prop = NAME_PROPERTY.get(template.type_of(logical_id) or "")
    name = template.properties(logical_id).get(prop) if prop else None
    return name if isinstance(name, str) else logical_id


def arn_of(template: Template, logical_id: str) -> str:
    fmt = _ARN_FORMAT.get(template.type_of(logical_id) or "",
                          f"arn:aws:cloudformation:{_REGION}:{_ACCOUNT}:{{name}}")
    return fmt.format(name=physical_name(template, logical_id))


def render(template: Template, value: Any) -> str | Unknown:
    """The string a value will become, with resources as sample ARNs; Unknown if it cannot be told."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return Unknown("not a string")
    if isinstance(value, int | float):
        return str(value)
    fn = intrinsic(value)
    if not fn:
        return Unknown("not a string")
    name, arg = fn
    if name == "Ref" and isinstance(arg, str):
        return _render_name(template, arg, None)
    if name == "Fn::GetAtt":
        parts = arg.split(".", 1) if isinstance(arg, str) else arg
        if isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts):
            return _render_name(template, parts[0], parts[1])
        return Unknown("malformed Fn::GetAtt")
    if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
        delimiter = arg[0] if isinstance(arg[0], str) else ""
        rendered = [render(template, part) for part in arg[1]]
        for part in rendered:
            if isinstance(part, Unknown):
                return part
        return delimiter.join(rendered)  # type: ignore[arg-type]
    if name == "Fn::Sub":
        return _render_sub(template, arg)
    return Unknown(f"{name} cannot be resolved before deployment")


def _render_name(template: Template, name: str, attribute: str | None) -> str | Unknown:
    if attribute is None:
        if name in PSEUDO_SAMPLES:
            return PSEUDO_SAMPLES[name]
        if name in template.parameters:
            resolved = template.resolve({"Ref": name})
            return resolved if isinstance(resolved, Unknown) else render(template, resolved)
        if name in template.resources:
            return physical_name(template, name)
        return Unknown(f"Ref to undefined {name}")
    if name not in template.resources:
        return Unknown(f"Fn::GetAtt of undefined {name}")
    if attribute == "Arn":
        return arn_of(template, name)
    if attribute in ("QueueName", "Name", "TableName", "BucketName"):
        return physical_name(template, name)
    return Unknown(f"attribute {attribute} of {name}")


def _render_sub(template: Template, arg: Any) -> str | Unknown:
    if isinstance(arg, str):
        text, variables = arg, {}
    elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
        text, variables = arg
    else:
        return Unknown("malformed Fn::Sub")
    failure: list[Unknown] = []

    def substitute(match: re.Match) -> str:
        body = match.group(1)
        if body.startswith("!"):
            return "${" + body[1:] + "}"
        if body in variables:
            rendered = render(template, variables[body])
        elif "." in body:
            resource, attribute = body.split(".", 1)
            rendered = _render_name(template, resource, attribute)
        else:
            rendered = _render_name(template, body, None)
        if isinstance(rendered, Unknown):
            failure.append(rendered)
            return ""
        return rendered

    result = _SUB_PART.sub(substitute, text)
    return failure[0] if failure else result


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, text: str, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: `*` any run of characters (slashes included), `?` one character."""
    return _glob(pattern, ignore_case).fullmatch(text) is not None
