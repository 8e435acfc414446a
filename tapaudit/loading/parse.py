"""Parse template text (JSON or CloudFormation YAML) safely, keeping a way back to source lines.

Safety rules: YAML is read with the safe loader (no Python objects are ever constructed, so
`!!python/...` tags are refused), alias expansion is bounded, nesting depth is bounded before the
C composer sees the text (deep flow nesting crashes it), and nothing in a template is executed.
The YAML reader lives in `yaml_parse` and is imported only for YAML text: PyYAML's import alone
costs more than parsing a large JSON template.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import msgspec
from msgspec import Struct

from tapaudit.errors import InputError
from tapaudit.loading.json_checks import (
    NumberRefused,
    check_json_number,
    json_problem,
    may_escape_a_colon,
    no_duplicates,
)
from tapaudit.loading.limits import MAX_NESTING, recursion_limit
from tapaudit.loading.positions import JsonSourceMap, SourceMap

# What CloudFormation refuses is refused: repeated keys, NaN, Infinity, floats out of range.
_JSON = json.JSONDecoder(object_pairs_hook=no_duplicates, parse_constant=check_json_number,
                         parse_float=check_json_number)


# The fast way in, for text it can vouch for (`_decode_vouched`); anything else takes `_JSON`.
_DECODE_FAST = msgspec.json.Decoder().decode
_ENCODE_FAST = msgspec.json.Encoder().encode


def _decode_vouched(text: str) -> tuple[Any] | None:
    """`(data,)` when msgspec reads `text` to exactly what `_JSON` would, else None (`_JSON` then
    says what is wrong). msgspec refuses what `_JSON` refuses (NaN, Infinity, numbers out of
    range, a BOM) except a repeated key, whose last value it keeps. A pair dropped so is seen in
    the colons: each pair has one outside strings, and the strings kept hold the same colons in
    the text as in the compact re-encoding, unless an escape spells one (`\\u003a`). Other `\\u`
    escapes decode as `_JSON` decodes them; a lone surrogate, which `_JSON` reads and
    `check_surrogates` then refuses, msgspec refuses."""
    if may_escape_a_colon(text):
        return None
    try:
        # Recursion room of MAX_NESTING above this call, wherever it is on the stack: msgspec
        # refuses deeper text, far less deep than `_JSON` can read, so it never reads nesting
        # that `_JSON` refuses (whose limit is whatever room the stack has left).
        with recursion_limit(_stack_depth() + MAX_NESTING):
            data = _DECODE_FAST(text)
        if _ENCODE_FAST(data).count(b":") != text.count(":"):
            return None  # a repeated key
    except (msgspec.MsgspecError, ValueError, RecursionError):  # a lone surrogate: ValueError
        return None
    return (data,)


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


class ParsedDocument(Struct):
    data: Any
    source_map: SourceMap
    format: str  # "json" or "yaml"


def parse_document(text: str, *, prefer_json: bool | None = None) -> ParsedDocument:
    """Parse `text`; raise InputError with a one-line reason when it is not JSON or YAML."""
    stripped = text.lstrip()
    looks_json = stripped.startswith(("{", "[")) if prefer_json is None else prefer_json
    if looks_json:
        checked = _decode_vouched(text)
        if checked is not None:
            return ParsedDocument(checked[0], JsonSourceMap(text), "json")
        try:
            data, source_map = JsonSourceMap.parse(text, _JSON)
            return ParsedDocument(data, source_map, "json")
        except json.JSONDecodeError as exc:
            json_error = exc
        except RecursionError:
            raise InputError("nesting deeper than the JSON parser can follow") from None
        except (NumberRefused, ValueError) as exc:  # a duplicate key, NaN, or an over-long number
            raise InputError(json_problem(text, exc)) from None
        try:
            return _parse_yaml(text)
        except InputError:
            raise InputError(
                f"invalid JSON: {json_error.msg} at line {json_error.lineno} column {json_error.colno}"
            ) from None
    return _parse_yaml(text)


def _parse_yaml(text: str) -> ParsedDocument:
    from tapaudit.loading import yaml_parse

    data, source_map = yaml_parse.parse_yaml(text)
    return ParsedDocument(data, source_map, "yaml")
