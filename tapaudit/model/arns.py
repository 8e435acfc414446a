"""Render values (literals, Ref, GetAtt, Join, Sub, ...) into comparable strings.

A resource renders to what CloudFormation returns for it (see resources.py): a queue's `Ref` is
its URL, its `Arn` attribute its ARN. Deploy-time parts stay symbolic (see symbols.py), so a
policy's `{"Fn::Join": ["", [{"Fn::GetAtt": ["T", "Arn"]}, "/index/*"]]}` and a probe ARN of
table T compare, and messages never show an invented account id.
"""

from __future__ import annotations

from typing import Any

from tapaudit.model.intrinsics import strings
from tapaudit.model.template import Template
from tapaudit.model.values import Unknown


def render(template: Template, value: Any) -> str | Unknown:
    """The one string `value` becomes; Unknown when it cannot be told or depends on a condition."""
    found = strings(template, value)
    first = found[0][0]
    if all(v == first for v, _ in found[1:]):
        return first
    names = ", ".join(dict.fromkeys(n for _, conds in found for n, _ in conds))
    return Unknown(f"depends on condition {names}")


def arn_of(template: Template, logical_id: str) -> str:
    """The ARN of a resource of the template (its `Arn` attribute, or what Ref returns)."""
    for attribute in ("Arn", "TopicArn", "PolicyArn"):
        rendered = render(template, {"Fn::GetAtt": [logical_id, attribute]})
        if isinstance(rendered, str) and rendered.startswith("arn:"):
            return rendered
    rendered = render(template, {"Ref": logical_id})
    return rendered if isinstance(rendered, str) else template.symbols.token(f"{logical_id}.Arn")


def physical_name(template: Template, logical_id: str) -> str:
    rendered = render(template, {"Ref": logical_id})
    return rendered if isinstance(rendered, str) else template.symbols.token(logical_id)


def shown(template: Template, value: Any) -> str:
    """A value as a message shows it: rendered and symbolic, or why it cannot be."""
    rendered = render(template, value)
    return template.display(rendered) if isinstance(rendered, str) else f"({rendered.reason})"
