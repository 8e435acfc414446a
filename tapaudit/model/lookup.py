"""Which resource of the template a value names: through Ref/GetAtt, or by its literal name or ARN.

`Roles: [my-role]`, `arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${RoleName}` and
`{"Ref": "Role"}` all name the same role. A denotation also says which of the resource's forms the
value is (`Ref`, `Arn`, `QueueUrl`, ...): a queue's `Ref` is its URL, not its ARN.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tapaudit.model.derived import Denotation
from tapaudit.model.intrinsics import returned_strings, strings
from tapaudit.model.resources import KINDS, REF_PARTS_IN_EVERY_FORM, VERSIONED
from tapaudit.model.template import Template
from tapaudit.model.values import Unknown

REF = "Ref"


def forms(template: Template, logical_id: str) -> dict[str, str]:
    """Every rendered form of a resource: what Ref and each modelled attribute return."""
    cache = template.memo.forms
    found = cache.get(logical_id)
    if found is None:
        kind = template.type_of(logical_id) or ""
        names = [REF, *KINDS[kind].attributes] if kind in KINDS else [REF]
        if kind in VERSIONED:
            names = [REF]
        found = {}
        for name in names:
            rendered = returned_strings(template, logical_id, None if name == REF else name)
            if len(rendered) == 1 and isinstance(rendered[0][0], str):
                found[name] = rendered[0][0]
        cache[logical_id] = found
    return found


def denoted(template: Template, value: Any, types: tuple[str, ...] = ()) -> list[Denotation] | Unknown:
    """The resources (of `types`, if given) that `value` names, one per Fn::If alternative that
    names one; Unknown when the value cannot be known."""
    direct = _direct(template, value, types)
    if direct is not None:
        return [direct]
    if isinstance(value, str | int | float | bool) or value is None:
        key: Any = (value, types)
    else:
        key = (_memo_key(value), types)
    memo = template.memo.denoted
    if key not in memo:
        memo[key] = _denoted(template, value, types)
    return memo[key]


# Canonical (keys sorted) and typed: a string, its bytes (YAML's !!binary) and a float that
# equals an integer each encode differently, so no two values share a key.
_ENCODE_KEY = msgspec.msgpack.Encoder(order="sorted").encode


def _memo_key(value: Any) -> bytes | tuple[str, str]:
    """A mapping or list as a memo key: its canonical encoding. Anything else (an unknown value),
    or what that cannot encode (a key that is not a string, an integer beyond 64 bits, a lone
    surrogate), by its type and repr, in a tuple: never equal to a string's key or an encoding."""
    if type(value) is dict or type(value) is list:
        try:
            return _ENCODE_KEY(value)
        except (TypeError, ValueError, OverflowError):  # UnicodeEncodeError is a ValueError
            pass
    return type(value).__name__, repr(value)


def _denoted(template: Template, value: Any, types: tuple[str, ...]) -> list[Denotation] | Unknown:
    found: list[Denotation] = []
    unknown: Unknown | None = None
    kinds = types or tuple(template.by_type)
    for rendered, conds in strings(template, value):
        if isinstance(rendered, Unknown):
            unknown = unknown or rendered
            continue
        match = _by_text(template, rendered, kinds)
        if match:
            found.append(Denotation(match[0], match[1], match[2], conds))
    if not found and unknown:
        return unknown
    return found


def denoted_one(template: Template, value: Any, types: tuple[str, ...] = ()) -> Denotation | Unknown | None:
    found = denoted(template, value, types)
    if isinstance(found, Unknown):
        return found
    return found[0] if found else None


def _direct(template: Template, value: Any, types: tuple[str, ...]) -> Denotation | None:
    ref = template.referenced_resource(value)
    if ref and (not types or template.type_of(ref[0]) in types):
        return Denotation(ref[0], ref[1] or REF)
    return None


def _exact(template: Template, kind: str, literal: bool) -> dict[str, tuple[str, str]]:
    """Every rendered form of the resources of one type that a text may name, by its text (built
    once per type, and for texts with and without placeholders)."""
    indexes = template.memo.exact
    index = indexes.get((kind, literal))
    if index is None:
        index = {}
        for name in _nameable(template, kind, literal):
            for form, rendered in forms(template, name).items():
                index.setdefault(template.symbols.concrete(rendered), (name, form))
        indexes[kind, literal] = index
    return index


def _nameable(template: Template, kind: str, literal: bool) -> list[str]:
    """The resources of `kind` a text may name. A `literal` text (one without placeholders)
    names none whose Ref holds a closed placeholder (a generated name) when every other form
    holds it too: their other forms are never rendered for it. Decided once per template."""
    memo = template.memo.nameable
    kept = memo.get((kind, literal))
    if kept is None:
        names = template.by_type.get(kind, ())
        if not literal or not (kind in REF_PARTS_IN_EVERY_FORM or kind in VERSIONED or kind not in KINDS):
            kept = list(names)
        else:
            symbols = template.symbols
            kept = []
            for name in names:
                ref = returned_strings(template, name, None)
                if not (len(ref) == 1 and isinstance(ref[0][0], str)
                        and symbols.has_closed_tokens(ref[0][0])):
                    kept.append(name)
        memo[kind, literal] = kept
    return kept


def _by_text(template: Template, text: str, kinds: tuple[str, ...]) -> tuple[str, str, bool] | None:
    concrete = template.symbols.concrete(text)
    literal = not template.symbols.has_tokens(concrete)
    for kind in kinds:
        hit = _exact(template, kind, literal).get(concrete)
        if hit:
            return hit[0], hit[1], True
    candidates = [name for kind in kinds for name in _nameable(template, kind, literal)]
    for name in candidates:
        for form, rendered in forms(template, name).items():
            if template.symbols.compare(rendered, text, wildcards=False) is None:
                return name, form, False  # the same name; account or region may differ
    return None


def naming_index(template: Template, sources: tuple[str, ...], properties: tuple[str, ...],
                 targets: tuple[str, ...]) -> dict[str, set[str]]:
    """Target resource -> the resources of `sources` types whose `properties` (a value or a list)
    name it: policies by the roles or queues they cover. Built once per template and question."""
    memo = template.memo.naming
    key = (sources, properties, targets)
    if key not in memo:
        index: dict[str, set[str]] = {}
        for kind in sources:
            for name in template.by_type.get(kind, ()):
                props = template.properties(name)
                for prop in properties:
                    value = props.get(prop)
                    for element in value if isinstance(value, list) else [value] if value else []:
                        found = denoted(template, element, targets)
                        for denotation in found if isinstance(found, list) else ():
                            index.setdefault(denotation.logical_id, set()).add(name)
        memo[key] = index
    return memo[key]
