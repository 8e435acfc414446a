"""CloudFormation YAML -> plain data and a source map: PyYAML's C safe loader, bounded.

See `parse` for the safety rules; this module is imported only when a document is YAML.
"""

from __future__ import annotations

import math
import re
import sys
from typing import Any

import yaml

from tapaudit.errors import InputError
from tapaudit.loading.cfn_tags import KNOWN_FUNCTIONS, short_form_name
from tapaudit.loading.limits import MAX_EXPANDED_NODES, MAX_NESTING, recursion_limit
from tapaudit.loading.positions import YamlSourceMap
from tapaudit.loading.quoting import excerpt

# libyaml's C composer overflows the stack somewhere past 20,000 levels: text that could nest
# that deep is checked event by event before the composer sees it.
COMPOSER_SAFE_DEPTH = 10_000
# An anchor token as libyaml scans it; `&&` in inline code or `&` in URLs is not one.
_ANCHOR = re.compile(r"(?<![^\s\[{,:])&[0-9A-Za-z_-]")

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"


class CfnLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The C safe loader; the node graph it composes is converted by `_Converter`.

    No path resolvers are registered, so a node's tag depends on its own text alone: the composer
    asks for the tag of every scalar (and steps the path resolvers on every node) in Python, so
    a plain scalar's tag is resolved once per distinct text, and the path steps do nothing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._plain_tags: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:  # quoted, or a block scalar: a string
                return self.DEFAULT_SCALAR_TAG
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = self._plain_tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def _construct_timestamp_as_text(loader: CfnLoader, node: yaml.Node) -> str:
    # CloudFormation reads `2010-09-09` as the string it is, not a date.
    return loader.construct_scalar(node)


class _RefusedTag(yaml.constructor.ConstructorError):
    """A tag the safe loader has no constructor for (`!!python/object/apply`, ...): never run."""


def _refuse_tag(loader: CfnLoader, node: yaml.Node) -> None:
    # PyYAML's own wording, raised as a type of its own so parse_yaml need not read the message.
    raise _RefusedTag(None, None, f"could not determine a constructor for the tag {node.tag!r}",
                      node.start_mark)


CfnLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)
CfnLoader.add_constructor(None, _refuse_tag)


class _Converter:
    """Composed YAML nodes -> plain Python data, without PyYAML's generic constructor machinery.

    Plain strings, lists and mappings (nearly every node of a template) are built directly;
    every other scalar goes through the safe constructor, which refuses `!!python/...` tags.
    Shared (aliased) nodes stay shared when the document has anchors.
    """

    def __init__(self, loader: CfnLoader, has_anchors: bool) -> None:
        self.loader = loader
        self.memo: dict[int, Any] | None = {} if has_anchors else None

    def convert(self, node: yaml.Node, depth: int = 0) -> Any:
        if depth > MAX_NESTING:
            raise InputError(f"nesting deeper than {MAX_NESTING} levels")
        tag = node.tag
        if tag == _STR and node.__class__ is yaml.ScalarNode:  # most nodes: a plain string
            return node.value
        memo = self.memo
        if memo is not None and id(node) in memo:
            return memo[id(node)]
        name = short_form_name(tag)
        if name is not None:
            if name not in KNOWN_FUNCTIONS:  # `F: !Foo {...}` would leave a resource without a Type
                raise _unknown_tag(tag, node.start_mark.line + 1)
            value = self._short_form(name, node, depth)
        elif isinstance(node, yaml.ScalarNode):
            value = node.value if tag == _STR else self._scalar(node)
        elif tag == _SEQ and isinstance(node, yaml.SequenceNode):
            value = []
            if memo is not None:
                memo[id(node)] = value
            value.extend(self.convert(child, depth + 1) for child in node.value)
        elif tag == _MAP and isinstance(node, yaml.MappingNode):
            value = {}
            if memo is not None:
                memo[id(node)] = value
            self._fill_mapping(node, value, depth)
        else:  # !!set, !!omap, and any tag the safe constructor refuses
            value = self.loader.construct_object(node, deep=True)
        if memo is not None:
            memo[id(node)] = value
        return value

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except ValueError:  # an int past Python's digit limit
            raise InputError(f"number too long to convert at line {node.start_mark.line + 1}") from None
        if isinstance(value, float) and not math.isfinite(value):
            # CloudFormation has no NaN or Infinity; a rule comparing against one would be meaningless.
            raise InputError(f"{node.value} is not a number CloudFormation accepts at line "
                             f"{node.start_mark.line + 1}")
        return value

    def _fill_mapping(self, node: yaml.MappingNode, into: dict, depth: int) -> None:
        explicit = len(node.value)
        if any(key.tag == _MERGE for key, _ in node.value):
            explicit -= sum(1 for key, _ in node.value if key.tag == _MERGE)
            self.loader.flatten_mapping(node)  # merged pairs first, the explicit ones after
        first_explicit = len(node.value) - explicit
        seen: set = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = self._key(key_node, depth)
            try:
                if index >= first_explicit:
                    if key in seen:
                        self._duplicate(node, key, key_node, first_explicit)
                    seen.add(key)
                into[key] = self.convert(value_node, depth + 1)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "found unhashable key", key_node.start_mark) from None

    def _key(self, key_node: yaml.Node, depth: int) -> Any:
        """A scalar key is the text the user wrote: CloudFormation's logical ids and property
        names are strings, so `1:` is "1" and `true:` is "true" (and the two never collide)."""
        tag = key_node.tag
        if isinstance(key_node, yaml.ScalarNode) and (tag == _STR or short_form_name(tag) is None):
            return key_node.value
        return self.convert(key_node, depth + 1)

    def _duplicate(self, node: yaml.MappingNode, key: Any, second: yaml.Node,
                   first_explicit: int) -> None:
        """Refuse a repeated key, as CloudFormation does: the last value would hide the first."""
        first = next((k for k, _ in node.value[first_explicit:]
                      if k is not second and self._key(k, 0) == key), second)
        raise InputError(f"duplicate key {key!r} at line {second.start_mark.line + 1} "
                         f"(first at line {first.start_mark.line + 1})")

    def _short_form(self, name: str, node: yaml.Node, depth: int) -> dict:
        if isinstance(node, yaml.ScalarNode):
            if name == "Fn::GetAtt":  # `!GetAtt Res.Attr` -> [Res, Attr], as cfn-flip reads it
                return {name: node.value.split(".", 1)}
            return {name: node.value}
        if isinstance(node, yaml.SequenceNode):
            return {name: [self.convert(child, depth + 1) for child in node.value]}
        mapping: dict = {}
        self._fill_mapping(node, mapping, depth)
        return {name: mapping}


def _unknown_tag(tag: str, line: int) -> InputError:
    what = ("a Rain directive: scan the template `rain pkg` writes" if tag.startswith("!Rain::")
            else "not a CloudFormation function")
    return InputError(f"unknown YAML tag {excerpt(tag)} at line {line} ({what})")


def parse_yaml(text: str) -> tuple[Any, YamlSourceMap]:
    _guard_nesting(text)
    loader = CfnLoader(text)
    try:
        root = loader.get_single_node()
        has_anchors = "&" in text and bool(_ANCHOR.search(text))  # the `in` test runs at C speed
        if root is not None and has_anchors:
            _guard_aliases(root)
        # Room for the converter's frames: two per mapping level.
        with recursion_limit(sys.getrecursionlimit() + 4 * MAX_NESTING):
            data = _Converter(loader, has_anchors).convert(root) if root is not None else None
    except _RefusedTag as exc:
        raise InputError(_yaml_message("refused YAML tag", exc)) from None
    except yaml.YAMLError as exc:
        raise InputError(_yaml_message("invalid YAML", exc)) from None
    except RecursionError:
        raise InputError(f"nesting deeper than {MAX_NESTING} levels") from None
    finally:
        loader.dispose()
    return data, YamlSourceMap(root)


def _yaml_message(prefix: str, exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
    return f"{prefix}: {problem}{where}"


def _guard_nesting(text: str) -> None:
    """Refuse, before libyaml's recursive composer sees it, text nested deep enough to crash it."""
    # Cheap upper bound first: each flow level needs a bracket, each block level a column.
    longest_line = max(map(len, text.splitlines()), default=0)
    if text.count("[") + text.count("{") + longest_line < COMPOSER_SAFE_DEPTH:
        return
    depth = 0  # the exact depth, from the event stream (no recursion)
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
