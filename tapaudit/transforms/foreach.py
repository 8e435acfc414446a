"""`Transform: AWS::LanguageExtensions`: Fn::ForEach loops, Fn::Length and Fn::ToJsonString.

Loops are expanded before the rules run, so each generated resource is checked under its
generated logical id; its findings point at the loop's fragment in the source. A loop whose
collection cannot be known (a parameter without default, an intrinsic) generates resources
nobody can name: it is listed as not checked, never silently dropped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tapaudit.errors import InputError
from tapaudit.loading.quoting import excerpt
from tapaudit.model.provenance import Origin, Provenance
from tapaudit.model.values import Cause, Unknown, Why, intrinsic

PREFIX = "Fn::ForEach::"
MAX_GENERATED = 10_000  # a loop nest that generates more is refused, like a YAML alias bomb
MAX_GENERATED_SIZE = 20_000_000  # characters of JSON a section's loops may generate
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


class _Unresolved(Exception):
    """A loop that cannot be expanded before deployment; `why` its typed causes."""

    def __init__(self, reason: str, why: tuple[Why, ...] = ()) -> None:
        super().__init__(reason)
        self.why = why


class _TooMany(_Unresolved):
    """A loop nest generates more than MAX_GENERATED entries: the template is refused."""


class _TooBig(_Unresolved):
    """A section's loops generate more than MAX_GENERATED_SIZE characters: the template is refused."""


class _Size:
    """What the loops of one section have generated so far, in characters of JSON, checked
    before each copy (9,000 copies of a 2 MB fragment would exhaust memory before being counted)."""

    def __init__(self) -> None:
        self.total = 0

    def add(self, body: Any, identifier: str, item: str) -> None:
        text = json.dumps(body, default=str, skipkeys=True)
        # Each mention of the identifier may become the item: an upper bound of the copy's size.
        self.total += len(text) + len(item) * text.count(identifier)
        if self.total > MAX_GENERATED_SIZE:
            raise _TooBig(f"generates more than {MAX_GENERATED_SIZE:,} characters of entries")


def expand_language_extensions(data: dict, provenance: Provenance) -> dict:
    parameters = data.get("Parameters") if isinstance(data.get("Parameters"), dict) else {}
    out = dict(data)
    for section in ("Resources", "Outputs", "Conditions"):
        body = data.get(section)
        if isinstance(body, dict) and any(isinstance(k, str) and k.startswith(PREFIX) for k in body):
            out[section] = _expand_mapping(body, parameters, provenance,
                                           (section,) if section == "Resources" else None)
    return _functions(out, parameters)


def _expand_mapping(mapping: dict, parameters: dict, provenance: Provenance,
                    source: tuple | None) -> dict:
    """`mapping` with its loops expanded; `source` is the path of `mapping` (Resources only)."""
    size = _Size()  # shared by the section's loops
    result: dict = {}
    written = {key for key in mapping if not (isinstance(key, str) and key.startswith(PREFIX))}
    for key, value in mapping.items():
        if key in written:
            result[key] = value
            continue
        loop_path = (*source, key) if source else None
        try:
            generated = _loop(value, parameters, size=size)
        except _TooBig as exc:
            raise InputError(f"{key} {exc}") from None
        except _TooMany:
            raise InputError(f"{key} generates more than {MAX_GENERATED} entries") from None
        except _Unresolved as exc:
            if source is not None:
                provenance.unchecked[key] = Unknown(f"not checked: {key} cannot be expanded ({exc})",
                                                    exc.why)
            continue
        for name, body, fragment_path in generated:
            if name in written or name in result:
                # CloudFormation refuses the template; the last writer would hide the other.
                clash = "the template already defines" if name in written else "is generated twice"
                raise InputError(f"{excerpt(key)} generates {excerpt(name)}, which {clash}")
            result[name] = body
            if loop_path is not None and isinstance(body, dict):
                kind = body.get("Type") if isinstance(body.get("Type"), str) else "resource"
                provenance.origins[name] = Origin(name, kind, (*loop_path, *fragment_path), mirror=True)
        if len(result) > MAX_GENERATED:
            raise InputError(f"Fn::ForEach generates more than {MAX_GENERATED} entries")
    return result


def _loop(value: Any, parameters: dict, written: Any = None,
          budget: int = MAX_GENERATED, size: _Size | None = None) -> list[tuple[str, Any, tuple]]:
    """[(generated key, body, path of its fragment inside the loop)] for one Fn::ForEach.
    `written` is the loop as the source has it, when `value` has outer identifiers substituted;
    `budget` is how many entries it may still generate, counted across the whole loop nest, and
    `size` what the nest has generated so far."""
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and isinstance(value[2], dict)):
        raise _Unresolved("Fn::ForEach takes [identifier, collection, fragment]")
    identifier, collection, fragment = value
    source_fragment = written[2] if isinstance(written, list) and len(written) == 3 else fragment
    source_keys = [str(key) for key in source_fragment]  # substitution keeps the order of keys
    items = _collection(collection, parameters)
    size = size if size is not None else _Size()
    generated = []
    for item in items:
        for position, (fragment_key, body) in enumerate(fragment.items()):
            size.add(body, identifier, item)
            if isinstance(fragment_key, str) and fragment_key.startswith(PREFIX):
                inner = _loop(_substitute(body, identifier, item), parameters,
                              source_fragment.get(source_keys[position]), budget - len(generated), size)
                generated.extend((name, inner_body, (2, source_keys[position], *inner_path))
                                 for name, inner_body, inner_path in inner)
                if len(generated) > budget:
                    raise _TooMany(f"more than {MAX_GENERATED} generated entries")
                continue
            name = str(fragment_key).replace("${" + identifier + "}", item)
            name = name.replace("&{" + identifier + "}", _NOT_ALNUM.sub("", item))
            generated.append((name, _substitute(body, identifier, item), (2, source_keys[position])))
            if len(generated) > budget:
                raise _TooMany(f"more than {MAX_GENERATED} generated entries")
    return generated


def _collection(collection: Any, parameters: dict) -> list[str]:
    if isinstance(collection, list) and all(isinstance(i, str | int | float) for i in collection):
        return [str(i) for i in collection]
    fn = intrinsic(collection)
    if fn and fn[0] == "Ref" and isinstance(fn[1], str):
        parameter = parameters.get(fn[1])
        default = parameter.get("Default") if isinstance(parameter, dict) else None
        if isinstance(default, str):
            return [part.strip() for part in default.split(",")]
        if isinstance(default, list):
            return [str(part) for part in default]
        raise _Unresolved(f"parameter {fn[1]} has no default",
                          (Why(Cause.PARAMETER_WITHOUT_DEFAULT, str(fn[1])),))
    raise _Unresolved("its collection is only known at deploy time")


def _substitute(value: Any, identifier: str, item: str) -> Any:
    """Ref to the identifier -> the item; ${identifier} in Fn::Sub strings -> the item."""
    if isinstance(value, dict):
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Ref" and arg == identifier:
                return item
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return {key: arg.replace("${" + identifier + "}", item)}
                if isinstance(arg, list) and arg and isinstance(arg[0], str):
                    return {key: [arg[0].replace("${" + identifier + "}", item),
                                  *(_substitute(a, identifier, item) for a in arg[1:])]}
        result = {}
        for key, inner in value.items():
            if isinstance(key, str):
                key = key.replace("${" + identifier + "}", item).replace(
                    "&{" + identifier + "}", _NOT_ALNUM.sub("", item))
            result[key] = _substitute(inner, identifier, item)
        return result
    if isinstance(value, list):
        return [_substitute(inner, identifier, item) for inner in value]
    return value


def _functions(value: Any, parameters: dict) -> Any:
    """Fn::Length of a literal list (or a list parameter's default) and Fn::ToJsonString of a
    value without intrinsics become the values CloudFormation computes; others stay as they are."""
    if isinstance(value, dict):
        fn = intrinsic(value)
        if fn and fn[0] in ("Fn::Length", "Fn::ToJsonString"):
            arg = _functions(fn[1], parameters)
            if fn[0] == "Fn::Length":
                try:
                    return len(arg) if isinstance(arg, list) else len(_collection(arg, parameters))
                except _Unresolved:
                    return {fn[0]: arg}
            if not _has_intrinsic(arg):
                return json.dumps(arg, separators=(",", ":"))
            return {fn[0]: arg}
        return {key: _functions(inner, parameters) for key, inner in value.items()}
    if isinstance(value, list):
        return [_functions(inner, parameters) for inner in value]
    return value


def _has_intrinsic(value: Any) -> bool:
    if isinstance(value, dict):
        return intrinsic(value) is not None or any(_has_intrinsic(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_intrinsic(v) for v in value)
    return False
