"""Parse template text (JSON or CloudFormation YAML) safely, keeping a way back to source lines.

Safety rules: YAML is read with the safe loader (no Python objects are ever constructed, so
`!!python/...` tags are refused), alias expansion is bounded, nesting depth is bounded before the
C composer sees the text (deep flow nesting crashes it), and nothing in a template is executed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml
from cfn_tools.yaml_loader import FN_PREFIX, UNCONVERTED_SUFFIXES, construct_getatt

from tapaudit.errors import InputError
from tapaudit.loading.positions import JsonSourceMap, SourceMap, YamlSourceMap

MAX_NESTING = 200
MAX_EXPANDED_NODES = 1_000_000

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class ParsedDocument:
    data: Any
    source_map: SourceMap
    format: str  # "json" or "yaml"


class CfnLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """cfn-flip's reading of CloudFormation short-form tags, on the C safe loader."""


def _construct_short_form(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict:
    # Same mapping as cfn-flip: !Ref and !Condition keep their names, the rest become Fn::X.
    name = suffix if suffix in UNCONVERTED_SUFFIXES else f"{FN_PREFIX}{suffix}"
    if name == "Fn::GetAtt":
        if isinstance(node, yaml.SequenceNode):
            return {name: [loader.construct_object(n, deep=True) for n in node.value]}
        return {name: construct_getatt(node)}
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}


def _construct_timestamp_as_text(loader: CfnLoader, node: yaml.Node) -> str:
    # CloudFormation reads `2010-09-09` as the string it is, not a date.
    return loader.construct_scalar(node)


CfnLoader.add_multi_constructor("!", _construct_short_form)
CfnLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


def parse_document(text: str, *, prefer_json: bool | None = None) -> ParsedDocument:
    """Parse `text`; raise InputError with a one-line reason when it is not JSON or YAML."""
    stripped = text.lstrip()
    looks_json = stripped.startswith(("{", "[")) if prefer_json is None else prefer_json
    if looks_json:
        try:
            return ParsedDocument(json.loads(text), JsonSourceMap(text), "json")
        except json.JSONDecodeError as exc:
            json_error = exc
        except RecursionError:
            raise InputError("nesting deeper than the JSON parser can follow") from None
        try:
            return _parse_yaml(text)
        except InputError:
            raise InputError(
                f"invalid JSON: {json_error.msg} at line {json_error.lineno} column {json_error.colno}"
            ) from None
    return _parse_yaml(text)


def _parse_yaml(text: str) -> ParsedDocument:
    _guard_nesting(text)
    loader = CfnLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None and "&" in text:
            _guard_aliases(root)
        data = loader.construct_document(root) if root is not None else None
    except yaml.constructor.ConstructorError as exc:
        refused = "constructor for the tag" in str(exc)
        raise InputError(_yaml_message("refused YAML tag" if refused else "invalid YAML", exc)) from None
    except yaml.YAMLError as exc:
        raise InputError(_yaml_message("invalid YAML", exc)) from None
    except RecursionError:
        raise InputError(f"nesting deeper than {MAX_NESTING} levels") from None
    finally:
        loader.dispose()
    return ParsedDocument(data, YamlSourceMap(root), "yaml")


def _yaml_message(prefix: str, exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
    return f"{prefix}: {problem}{where}"


def _guard_nesting(text: str) -> None:
    """Refuse documents nested deeper than MAX_NESTING without recursing into them."""
    # Cheap upper bound first: flow nesting needs brackets, block nesting needs line width.
    longest_line = max((len(line) for line in text.splitlines()), default=0)
    if text.count("[") + text.count("{") + longest_line < MAX_NESTING:
        return
    if text.count("[") + text.count("{") < MAX_NESTING and longest_line < 4 * MAX_NESTING:
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    raise InputError(f"nesting deeper than {MAX_NESTING} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise InputError(_yaml_message("invalid YAML", exc)) from None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _guard_aliases(root: yaml.Node) -> None:
    """Refuse alias bombs and recursive aliases before anything walks the expanded tree."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        nid = id(node)
        if finished:
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > MAX_EXPANDED_NODES:
                raise InputError(
                    f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (alias bomb?)"
                )
            sizes[nid] = total
            open_nodes.discard(nid)
            continue
        if nid in sizes:
            continue
        open_nodes.add(nid)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                raise InputError("recursive YAML alias")
            if id(child) not in sizes:
                stack.append((child, False))
