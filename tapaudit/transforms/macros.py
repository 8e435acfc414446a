"""Macros tapaudit cannot run: `AWS::Include`, any other template-level `Transform`, `Fn::Transform`.

Their output exists only at deploy time, so the resources they may rewrite are marked not
checked, with the macro's name; the rules report them as unknown, never as a pass.
"""

from __future__ import annotations

from typing import Any

from tapaudit.model.values import Cause, Unknown

SAM = "AWS::Serverless-2016-10-31"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
EXPANDED = (SAM, LANGUAGE_EXTENSIONS)


def declared(data: dict) -> list[str]:
    """Names in the template's `Transform` (a name, a list, or macros as {Name, Parameters})."""
    value = data.get("Transform")
    names = []
    for entry in value if isinstance(value, list) else [value] if value is not None else []:
        name = entry.get("Name") if isinstance(entry, dict) else entry
        names.append(name if isinstance(name, str) else repr(name))
    return names


def macro_reasons(data: dict, names: list[str]) -> tuple[Unknown | None, dict[str, Unknown]]:
    """(reason for the whole template, or None; logical id -> reason for single resources)."""
    others = [name for name in names if name not in EXPANDED]
    if others:
        return _by_macro(f"not checked: macro {', '.join(others)} rewrites this template at deploy "
                         "time"), {}
    if "Fn::Transform" in data:
        return _by_macro(f"not checked: macro {_name(data['Fn::Transform'])} rewrites this template "
                         "at deploy time"), {}
    resources = data.get("Resources")
    if not isinstance(resources, dict):
        return None, {}
    if "Fn::Transform" in resources:
        return _by_macro(f"not checked: macro {_name(resources['Fn::Transform'])} adds resources at "
                         "deploy time"), {}
    reasons = {}
    for logical_id, body in resources.items():
        found = _find_transform(body)
        if found is not None:
            reasons[str(logical_id)] = _by_macro(f"not checked: macro {found} (Fn::Transform) rewrites "
                                                 "this resource at deploy time")
    return None, reasons


def _by_macro(reason: str) -> Unknown:
    return Unknown.because(reason, Cause.MACRO)


def _name(spec: Any) -> str:
    if isinstance(spec, list) and spec:  # `Fn::Transform: [{Name: ...}]`, as in AWS's examples
        spec = spec[0]
    name = spec.get("Name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) else "(unnamed)"


def _find_transform(body: Any) -> str | None:
    """The macro that may rewrite this resource beyond what the model sees, or None.

    A macro called through Fn::Transform replaces the mapping that holds it, siblings included.
    When that mapping is nothing but the call and is the value of one property of a
    CloudFormation resource (`KeySchema: {Fn::Transform: ...}`), only that value is the macro's:
    the model reads it as unknown where a rule needs it, and the rest of the resource is still
    checked (a table without any secondary index stays a failure). Anywhere else (beside other
    keys, deeper in a property, as the whole resource or its Properties, in a SAM resource, whose
    expansion reads its properties itself) the macro may rewrite what the rules would check: the
    resource is not checked."""
    sam = isinstance(body, dict) and str(body.get("Type", "")).startswith("AWS::Serverless::")
    stack: list[tuple[Any, tuple]] = [(body, ())]
    while stack:
        current, path = stack.pop()
        if isinstance(current, dict):
            if "Fn::Transform" in current:
                a_property = len(path) == 2 and path[0] == "Properties"
                if sam or len(current) > 1 or not a_property:
                    return _name(current["Fn::Transform"])
                continue  # the model reads this one value as unknown
            stack.extend((value, (*path, key)) for key, value in current.items())
        elif isinstance(current, list):
            stack.extend((value, (*path, index)) for index, value in enumerate(current))
    return None
