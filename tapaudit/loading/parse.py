"""Parse template text (JSON or CloudFormation YAML) safely, keeping a way back to source lines.

Safety rules: YAML is read with the safe loader (no Python objects are ever constructed, so
`!!python/...` tags are refused), alias expansion is bounded, nesting depth is bounded before the
C composer sees the text (deep flow nesting crashes it), and nothing in a template is executed.
The YAML reader lives in `yaml_parse` and is imported only for YAML text: PyYAML's import alone
costs more than parsing a large JSON template.
"""

from __future__ import annotations

import json
from typing import Any

from msgspec import Struct

from tapaudit.errors import InputError
from tapaudit.loading.json_checks import NumberRefused, check_json_number, json_problem, no_duplicates
from tapaudit.loading.positions import JsonSourceMap, SourceMap

# What CloudFormation refuses is refused: repeated keys, NaN, Infinity, floats out of range.
_JSON = json.JSONDecoder(object_pairs_hook=no_duplicates, parse_constant=check_json_number,
                         parse_float=check_json_number)


class ParsedDocument(Struct):
    data: Any
    source_map: SourceMap
    format: str  # "json" or "yaml"


def parse_document(text: str, *, prefer_json: bool | None = None) -> ParsedDocument:
    """Parse `text`; raise InputError with a one-line reason when it is not JSON or YAML."""
    stripped = text.lstrip()
    looks_json = stripped.startswith(("{", "[")) if prefer_json is None else prefer_json
    if looks_json:
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
