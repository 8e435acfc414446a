"""Evaluate intrinsic functions the way CloudFormation does, without deploying anything.

`alternatives(template, value)` gives every value an expression can take, each with the Fn::If
conditions that lead to it: Ref (parameters and their defaults, pseudo parameters, what each
resource type returns), Fn::GetAtt, Fn::Join, Fn::Sub (both forms), Fn::Select, Fn::Split,
Fn::FindInMap, Fn::If, Fn::Base64, Fn::Length, nested in any combination. Strings keep deploy-time
parts as placeholders (see symbols.py). What cannot be known becomes `Unknown` with the exact reason.
Every function evaluated and every string rendered counts against the template's budget
(budget.py): a template that asks for more is refused, never left to hang the run.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tapaudit.model.budget import MAX_BRANCHES, MAX_INTRINSIC_DEPTH
from tapaudit.model.resources import KINDS, VERSIONED, is_custom_resource
from tapaudit.model.values import (
    MISSING,
    NO_VALUE,
    Cause,
    Conditions,
    Malformed,
    Unknown,
    intrinsic,
    shape_of,
)

if TYPE_CHECKING:
    from tapaudit.model.template import Template

Alternative = tuple[Any, Conditions]
_SUB = re.compile(r"\$\{([^}]*)\}")
_PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName",
           "AWS::StackId"}
_LIST_PARAMETER = re.compile(r"^(CommaDelimitedList|List<.*>)$")


def merge(left: Conditions, right: Conditions) -> Conditions | None:
    """Both sets of conditions at once, or None when they contradict each other."""
    if not right:  # most values sit under no Fn::If
        return left
    merged = dict(left)
    for name, flag in right:
        if merged.setdefault(name, flag) != flag:
            return None
    return left + tuple(c for c in right if c not in left)


def _consistent(conds: Conditions, found: list[Alternative]) -> list[Alternative]:
    """The alternatives that can hold together with `conds`, each with both sets of conditions."""
    result = []
    for value, inner in found:
        merged = merge(conds, inner)
        if merged is not None:
            result.append((value, merged))
    return result


def product(parts: list[list[Alternative]]) -> list[tuple[list[Any], Conditions]]:
    """Every consistent combination of the parts' alternatives (at most MAX_BRANCHES).

    Built one part at a time: contradictory combinations are dropped as soon as they appear, and
    the answer is unknown as soon as the consistent ones outnumber MAX_BRANCHES, so the work stays
    bounded however many parts there are."""
    combos: list[tuple[list[Any], Conditions]] = [([], ())]
    for part in parts:
        grown: list[tuple[list[Any], Conditions]] = []
        for values, conditions in combos:
            for value, conds in part:
                merged = merge(conditions, conds)
                if merged is None:
                    continue
                grown.append(([*values, value], merged))
                if len(grown) > MAX_BRANCHES:
                    return [([Unknown(f"more than {MAX_BRANCHES} Fn::If combinations")], ())]
        combos = grown
    return combos


def _pairs(first: list[Alternative], second: list[Alternative]) -> Iterator[tuple[Any, Any, Conditions]]:
    """`product` of two parts, as (value of the first, value of the second, conditions). Past
    MAX_BRANCHES, one pair whose two sides are the Unknown that says so."""
    for values, conds in product([first, second]):
        yield (values[0], values[1], conds) if len(values) == 2 else (values[0], values[0], conds)


def resolve_all(template: Template, value: Any) -> list[Alternative]:
    """Every value `value` can take (parameters, mappings, pseudo parameters, Join, Sub, Select,
    Split, FindInMap, nested Fn::If), with the conditions that choose it."""
    return alternatives(template, value)


def resolve(template: Template, value: Any) -> Any:
    """The one value `value` takes; Unknown when it cannot be known or depends on a condition.

    A string with deploy-time parts keeps them as placeholders (see `Template.display`).
    """
    if isinstance(value, Malformed):
        return value
    found = alternatives(template, value)
    first = found[0][0]
    if all(v == first for v, _ in found[1:]):
        return first
    names = ", ".join(dict.fromkeys(n for _, conds in found for n, _ in conds))
    return Unknown(f"depends on condition {names}")


def alternatives(template: Template, value: Any, depth: int = 0) -> list[Alternative]:
    if depth > MAX_INTRINSIC_DEPTH:
        return [(Unknown("intrinsic functions nested too deep"), ())]
    fn = intrinsic(value)
    if not fn:
        if isinstance(value, str) and value.startswith("{{resolve:"):
            kind = value[10:].split(":", 1)[0]
            return [(Unknown(f"dynamic reference {value} ({kind} value read at deploy time)"), ())]
        return [(value, ())]
    name, arg = fn
    template.memo.budget.step(len(template.resources))
    handler = _HANDLERS.get(name)
    if handler is None:
        return [(unknown_function(name, arg), ())]
    return handler(template, arg, depth + 1)


def unknown_function(name: str, arg: Any) -> Unknown:
    """Why the value of an intrinsic the model cannot evaluate is unknown."""
    if name == "Fn::ImportValue":
        shown = arg if isinstance(arg, str) else "(computed name)"
        return Unknown.because(f"comes from Fn::ImportValue '{shown}' (another stack)",
                               Cause.IMPORT_VALUE, shown)
    if name == "Fn::GetStackOutput":
        stack = arg.get("StackName") if isinstance(arg, dict) else None
        output = arg.get("OutputName") if isinstance(arg, dict) else None
        return Unknown(f"comes from Fn::GetStackOutput '{output}' of stack '{stack}' (another stack)")
    if name == "Fn::GetAZs":
        return Unknown("comes from Fn::GetAZs (the region's availability zones, known at deploy time)")
    reason = f"comes from {name}, which tapaudit does not evaluate"
    return Unknown.because(reason, Cause.MACRO) if name == "Fn::Transform" else Unknown(reason)


def strings(template: Template, value: Any, depth: int = 0) -> list[tuple[str | Unknown, Conditions]]:
    """Every string a value can become (numbers as CloudFormation writes them)."""
    found: list[tuple[str | Unknown, Conditions]] = []
    for result, conds in alternatives(template, value, depth):
        found.append((_as_text(result), conds))
    return found


def returned_strings(template: Template, logical_id: str,
                     attribute: str | None) -> list[tuple[str | Unknown, Conditions]]:
    """Every string that Ref (attribute None) or Fn::GetAtt returns for a resource the template
    defines: `strings` of `{"Ref": logical_id}` or `{"Fn::GetAtt": [logical_id, attribute]}`,
    without reading such a value first."""
    return [(_as_text(value), conds) for value, conds in _returned(template, logical_id, attribute, 0)]


def _as_text(value: Any) -> str | Unknown:
    if isinstance(value, Unknown | str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is MISSING:
        return NO_VALUE
    return Unknown(f"is {shape_of(value)}, not a string")


def _if(template: Template, arg: Any, depth: int) -> list[Alternative]:
    if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
        return [(Unknown("malformed Fn::If"), ())]
    found = []
    for flag, branch in ((True, arg[1]), (False, arg[2])):
        for value, conds in alternatives(template, branch, depth):
            merged = merge(((arg[0], flag),), conds)
            if merged is not None:
                found.append((value, merged))
    return found


def _ref(template: Template, arg: Any, depth: int) -> list[Alternative]:
    if not isinstance(arg, str):
        return [(Unknown("malformed Ref"), ())]
    if arg == "AWS::NoValue":
        return [(MISSING, ())]
    if arg in template.parameters:
        return _parameter(template, arg)
    if arg in _PSEUDO:
        return [(template.symbols.token(arg), ())]
    if arg.startswith("AWS::"):
        return [(Unknown(f"pseudo parameter {arg} is only known at deploy time"), ())]
    if arg in template.resources:
        return _returned(template, arg, None, depth)
    return [(Unknown(f"Ref to {arg}, which the template does not define"), ())]


def _parameter(template: Template, name: str) -> list[Alternative]:
    param = template.parameters[name]
    if not isinstance(param, dict) or "Default" not in param:
        return [(Unknown.because(f"parameter {name} has no default (its value is given at deploy time)",
                                 Cause.PARAMETER_WITHOUT_DEFAULT, name), ())]
    default = param["Default"]
    kind = param.get("Type")
    if isinstance(kind, str) and kind.startswith("AWS::SSM::Parameter::Value"):
        return [(Unknown(f"parameter {name} is read from SSM parameter {default} at deploy time"), ())]
    if isinstance(kind, str) and _LIST_PARAMETER.match(kind) and isinstance(default, str):
        return [([part.strip() for part in default.split(",")], ())]
    return [(default, ())]


def _getatt(template: Template, arg: Any, depth: int) -> list[Alternative]:
    parts = arg.split(".", 1) if isinstance(arg, str) else arg
    if not (isinstance(parts, list) and len(parts) == 2 and isinstance(parts[0], str)):
        return [(Unknown("malformed Fn::GetAtt"), ())]
    resource, attribute = parts
    if not isinstance(attribute, str):
        found = []
        for value, conds in alternatives(template, attribute, depth):
            if isinstance(value, str):
                found.extend(_consistent(conds, _getatt(template, [resource, value], depth)))
            else:
                found.append((Unknown("Fn::GetAtt attribute cannot be evaluated"), conds))
        return found
    if resource not in template.resources:
        return [(Unknown(f"Fn::GetAtt of {resource}, which the template does not define"), ())]
    return _returned(template, resource, attribute, depth)


def _returned(template: Template, logical_id: str, attribute: str | None,
              depth: int) -> list[Alternative]:
    """What Ref (attribute None) or Fn::GetAtt returns for a resource of the template."""
    template.memo.budget.step(len(template.resources))  # also reached from Fn::Sub without `alternatives`
    # Known in full, it is the same wherever the evaluation came from (as `_physical_names`):
    # kept, it is not filled in again for each of the many values that name the resource. Not
    # with a Path: one that cannot be evaluated where it is asked (past the depth limit) is
    # filled in as "/", which would then be kept.
    returned = template.memo.returned
    known = returned.get((logical_id, attribute))
    if known is not None:
        return list(known)
    found = _returned_of(template, logical_id, attribute, depth)
    if "Path" not in template.properties(logical_id) and all(isinstance(v, str) for v, _ in found):
        returned[logical_id, attribute] = found
        return list(found)
    return found


def _returned_of(template: Template, logical_id: str, attribute: str | None,
                 depth: int) -> list[Alternative]:
    kind = template.type_of(logical_id)
    symbols = template.symbols
    if attribute is not None and is_custom_resource(kind):
        return [(Unknown(f"attribute {attribute} of custom resource {logical_id} is set by its "
                         "handler during deployment"), ())]
    if attribute is not None and kind == "AWS::CloudFormation::Stack":
        return [(Unknown(f"{attribute} of nested stack {logical_id} comes from that stack"), ())]
    if kind in VERSIONED:
        return _versioned(template, logical_id, attribute, depth)
    spec = KINDS.get(kind or "")
    if spec is None:
        label = logical_id if attribute is None else f"{logical_id}.{attribute}"
        return [(symbols.token(label), ())]
    fmt = spec.ref if attribute is None else spec.attributes.get(attribute)
    if fmt is None:
        return [(symbols.token(f"{logical_id}.{attribute}"), ())]
    found = []
    for name, conds in _physical_names(template, logical_id, spec, depth):
        path = "/"
        props = template.properties(logical_id)
        if "{path}" in fmt and "Path" in props:
            resolved = alternatives(template, props["Path"], depth)[0][0]
            path = resolved if isinstance(resolved, str) else path
        if isinstance(name, Unknown):
            found.append((name, conds))
            continue
        found.append((_fill(template, fmt, name, path), conds))
    if kind == "AWS::Events::Rule" and attribute == "Arn":
        return _on_custom_bus(template, logical_id, found, depth)
    return found


def _fill(template: Template, fmt: str, name: str, path: str) -> str:
    s = template.symbols
    filled = (fmt.replace("{P}", s.token("AWS::Partition")).replace("{R}", s.token("AWS::Region"))
              .replace("{A}", s.token("AWS::AccountId")).replace("{S}", s.token("AWS::URLSuffix"))
              .replace("{path}", path).replace("{name}", name))
    return template.memo.budget.render(filled)


def _physical_names(template: Template, logical_id: str, spec: Any,
                    depth: int) -> list[tuple[str | Unknown, Conditions]]:
    """The resource's name, one per alternative: its name property rendered, or a placeholder.
    Every Ref and attribute of the resource starts from it; a name known in full is kept for them
    (one with an Unknown is not: why it is unknown can depend on where the evaluation came from)."""
    memo = template.memo.physical_names
    known = memo.get(logical_id)
    if known is None:
        names = _physical_names_of(template, logical_id, spec, depth)
        if not any(isinstance(name, Unknown) for name, _ in names):
            memo[logical_id] = names  # type: ignore[assignment]
        return names
    return known  # type: ignore[return-value]


def _physical_names_of(template: Template, logical_id: str, spec: Any,
                       depth: int) -> list[tuple[str | Unknown, Conditions]]:
    prop = spec.name_property
    props = template.properties(logical_id)
    if prop and prop in props:
        with _resolving(template, logical_id) as cycle:
            if cycle:
                return [(Unknown(f"the name of {logical_id} refers to itself"), ())]
            named = [(value, conds) for value, conds in strings(template, props[prop], depth)
                     if not (isinstance(value, Unknown) and value.is_no_value)]
        if named:
            return named  # type: ignore[return-value]
    label = f"{logical_id}.{spec.name_attribute}" if spec.name_attribute else logical_id
    return [(template.symbols.token(label), ())]


@contextmanager
def _resolving(template: Template, logical_id: str) -> Iterator[bool]:
    """Marks a resource whose physical name is being evaluated; yields True when it already is
    (its name refers, directly or through other resources, to itself)."""
    active = template.memo.resolving
    if logical_id in active:
        yield True
        return
    active.add(logical_id)
    try:
        yield False
    finally:
        active.discard(logical_id)


def _on_custom_bus(template: Template, rule: str, found: list[Alternative],
                   depth: int) -> list[Alternative]:
    bus = template.properties(rule).get("EventBusName")
    if bus is None:
        return found
    result = []
    for arn, name, merged in _pairs(found, strings(template, bus, depth)):
        if isinstance(name, Unknown) or isinstance(arn, Unknown):
            result.append((name if isinstance(name, Unknown) else arn, merged))
        elif name == "default" or name.startswith("arn:"):
            result.append((arn, merged))
        else:
            head, _, tail = arn.rpartition("rule/")
            result.append((f"{head}rule/{name}/{tail}", merged))
    return result


def _versioned(template: Template, logical_id: str, attribute: str | None,
               depth: int) -> list[Alternative]:
    props = template.properties(logical_id)
    kind = template.type_of(logical_id)
    if attribute not in (None, "Arn", "AliasArn"):
        return [(template.symbols.token(f"{logical_id}.{attribute}"), ())]
    suffix = props.get("Name") if kind == "AWS::Lambda::Alias" else None
    with _resolving(template, logical_id) as cycle:
        if cycle:
            return [(Unknown(f"the function name of {logical_id} refers to itself"), ())]
        functions = strings(template, props.get("FunctionName", MISSING), depth)
    found = []
    for function, conds in functions:
        if isinstance(function, Unknown):
            found.append((function, conds))
            continue
        arn = function if function.startswith("arn:") else \
            _fill(template, "arn:{P}:lambda:{R}:{A}:function:{name}", function, "/")
        tail = suffix if isinstance(suffix, str) else template.symbols.token(f"{logical_id}.Version")
        found.append((f"{arn}:{tail}", conds))
    return found


def _join(template: Template, arg: Any, depth: int) -> list[Alternative]:
    if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
        return [(Unknown("malformed Fn::Join"), ())]
    found = []
    for listed, conds in _list(template, arg[1], depth):
        if isinstance(listed, Unknown):
            found.append((listed, conds))
            continue
        # An element that is AWS::NoValue (in some branch) drops out of the list.
        parts = [[(v if v is MISSING else _as_text(v), c) for v, c in alternatives(template, item, depth)]
                 for item in listed]
        for values, inner in product(parts):
            merged = merge(conds, inner)
            if merged is None:
                continue
            kept = [v for v in values if v is not MISSING]
            bad = next((v for v in kept if isinstance(v, Unknown)), None)
            found.append((bad if bad else template.memo.budget.join(arg[0], kept), merged))
    return found


def _list(template: Template, value: Any, depth: int) -> list[Alternative]:
    """A list argument: literal (elements left to the caller) or computed (Split, a list parameter)."""
    if isinstance(value, list):
        return [([v for v in value if intrinsic(v) != ("Ref", "AWS::NoValue")], ())]
    found = []
    for result, conds in alternatives(template, value, depth):
        if isinstance(result, list | Unknown):
            found.append((result, conds))
        else:
            found.append((Unknown("expected a list"), conds))
    return found


def _sub(template: Template, arg: Any, depth: int) -> list[Alternative]:
    if isinstance(arg, str):
        text, variables = arg, {}
    elif (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)
          and isinstance(arg[1], dict)):
        text, variables = arg
    else:
        return [(Unknown("malformed Fn::Sub"), ())]
    pieces: list[list[Alternative]] = []
    last = 0
    for match in _SUB.finditer(text):
        pieces.append([(text[last:match.start()], ())])
        last = match.end()
        body = match.group(1)
        if body.startswith("!"):
            pieces.append([("${" + body[1:] + "}", ())])
        elif body in variables:
            pieces.append([(_as_text(v), c) for v, c in alternatives(template, variables[body], depth)])
        elif "." in body and body.split(".", 1)[0] in template.resources:
            pieces.append([(_as_text(v), c) for v, c in _getatt(template, body, depth)])
        else:
            pieces.append([(_as_text(v), c) for v, c in _ref(template, body, depth)])
    pieces.append([(text[last:], ())])
    found = []
    for values, conds in product(pieces):
        bad = next((v for v in values if isinstance(v, Unknown)), None)
        found.append((bad if bad else template.memo.budget.join("", values), conds))
    return found


def _select(template: Template, arg: Any, depth: int) -> list[Alternative]:
    if not (isinstance(arg, list) and len(arg) == 2):
        return [(Unknown("malformed Fn::Select"), ())]
    found = []
    for index, listed, conds in _pairs(alternatives(template, arg[0], depth), _list(template, arg[1], depth)):
        if isinstance(index, Unknown) or isinstance(listed, Unknown):
            found.append((index if isinstance(index, Unknown) else listed, conds))
            continue
        try:
            position = int(index)
        except (TypeError, ValueError):
            found.append((Unknown(f"Fn::Select index {index!r} is not a number"), conds))
            continue
        if not 0 <= position < len(listed):
            found.append((Unknown(f"Fn::Select index {position} is out of range"), conds))
            continue
        found.extend(_consistent(conds, alternatives(template, listed[position], depth)))
    return found


def _split(template: Template, arg: Any, depth: int) -> list[Alternative]:
    if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]):
        return [(Unknown("malformed Fn::Split"), ())]
    found = []
    for value, conds in strings(template, arg[1], depth):
        if isinstance(value, str) and not template.symbols.splittable(value, arg[0]):
            value = Unknown(f"Fn::Split on {arg[0]!r} of {template.display(value)}, whose deploy-time "
                            "parts may contain the delimiter")
        found.append((value if isinstance(value, Unknown) else
                      template.memo.budget.render(value).split(arg[0]), conds))  # a copy, in parts
    return found


def _find_in_map(template: Template, arg: Any, depth: int) -> list[Alternative]:
    if not (isinstance(arg, list) and len(arg) in (3, 4) and isinstance(arg[0], str)):
        return [(Unknown("malformed Fn::FindInMap"), ())]
    mapping = template.mappings.get(arg[0])
    if not isinstance(mapping, dict):
        return [(Unknown(f"Fn::FindInMap: mapping {arg[0]} is not defined"), ())]
    default = arg[3].get("DefaultValue", MISSING) if len(arg) == 4 and isinstance(arg[3], dict) else MISSING
    found = []
    for top, second, conds in _pairs(strings(template, arg[1], depth), strings(template, arg[2], depth)):
        if isinstance(second, Unknown):
            found.append((second, conds))
            continue
        if isinstance(top, Unknown) or template.symbols.has_tokens(top):
            found.append((_across_keys(mapping, arg[0], top, second), conds))
            continue
        entry = _entry(mapping, top)
        value = _entry(entry, second) if isinstance(entry, dict) else MISSING
        if value is MISSING:
            value = default
        if value is MISSING:
            found.append((Unknown(f"Fn::FindInMap: {arg[0]} has no {top}/{second}"), conds))
            continue
        found.extend(_consistent(conds, alternatives(template, value, depth)))
    return found


def _entry(mapping: dict, key: str) -> Any:
    """`mapping[key]`, MISSING when absent. CloudFormation reads every key of Mappings as a string:
    YAML's `1:` or `true:` is the key "1" or "true", whether FindInMap names it 1 or "1"."""
    if key in mapping:
        return mapping[key]
    return next((value for name, value in mapping.items()
                 if not isinstance(name, str) and _as_text(name) == key), MISSING)


def _across_keys(mapping: dict, name: str, top: Any, second: str) -> Any:
    """A top-level key known only at deploy time (often the region): the value when every entry
    agrees, unknown otherwise."""
    values = [_entry(entry, second) for entry in mapping.values() if isinstance(entry, dict)]
    if values and all(v == values[0] for v in values) and values[0] is not MISSING:
        return values[0]
    return Unknown.because(f"comes from Fn::FindInMap {name}, whose entries differ and whose "
                           "top-level key is only known at deploy time", Cause.MAPPING_ENTRIES_DIFFER, name)


def _base64(template: Template, arg: Any, depth: int) -> list[Alternative]:
    found = []
    for value, conds in strings(template, arg, depth):
        if isinstance(value, Unknown) or template.symbols.has_tokens(value):
            found.append((value if isinstance(value, Unknown) else
                          Unknown("Fn::Base64 of a value known only at deploy time"), conds))
        else:
            encoded = base64.b64encode(value.encode("utf-8", "surrogatepass")).decode()
            found.append((template.memo.budget.render(encoded), conds))
    return found


def _length(template: Template, arg: Any, depth: int) -> list[Alternative]:
    return [(value if isinstance(value, Unknown) else len(value), conds)
            for value, conds in _list(template, arg, depth)]


_HANDLERS = {"Fn::If": _if, "Ref": _ref, "Fn::GetAtt": _getatt, "Fn::Join": _join, "Fn::Sub": _sub,
             "Fn::Select": _select, "Fn::Split": _split, "Fn::FindInMap": _find_in_map,
             "Fn::Base64": _base64, "Fn::Length": _length}

