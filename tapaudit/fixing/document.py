"""A template's text with the spans of its nodes: where a value starts and ends, how it is written.

Both formats answer the same question, `node(path)`: the span (character offsets into the text) of
the value at `path`, its kind (mapping, sequence, scalar), whether it is written inline (a JSON
object on one line, a YAML flow collection) and, for containers, its members. Short-form YAML
tags (`!If [...]`) stand for `{"Fn::If": [...]}`: the `Fn::If` step of a path is taken in place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from json.decoder import scanstring
from typing import Any

from msgspec import Struct, field

from tapaudit.loading.cfn_tags import short_form_name

Path = Sequence[str | int]
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class Node(Struct):
    kind: str  # mapping | sequence | scalar
    start: int
    end: int
    inline: bool = False  # a YAML flow collection, or a JSON container on one line
    tag: str | None = None  # a YAML short-form tag (!Ref, !If ...)
    # mapping: key -> (offset of the key, value node); sequence: [node]; filled on demand
    members: dict[Any, tuple[int, Node]] = field(default_factory=dict)
    items: list[Node] = field(default_factory=list)
    raw: Any = None  # the YAML node, or None for JSON


class Document:
    """The text of one template and a way to its nodes. `newline` is the file's line ending."""

    def __init__(self, text: str, fmt: str) -> None:
        self.text = text
        self.format = fmt
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self._root: Node | None = None

    # ---- lines -------------------------------------------------------------------------------
    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def line_end(self, offset: int) -> int:
        """The offset just after the newline of the line holding `offset` (or the text's end)."""
        found = self.text.find("\n", offset)
        return len(self.text) if found < 0 else found + 1

    def column(self, offset: int) -> int:
        return offset - self.line_start(offset)

    def indent_of(self, offset: int) -> str:
        """The leading whitespace of the line holding `offset`."""
        start = self.line_start(offset)
        line = self.text[start:offset]
        return line[: len(line) - len(line.lstrip(" \t"))]

    # ---- nodes -------------------------------------------------------------------------------
    @property
    def root(self) -> Node:
        if self._root is None:
            self._root = self._yaml_root() if self.format == "yaml" else self._json_node(
                _SPACE.match(self.text).end())
        return self._root

    def walk(self, path: Path) -> list[Node]:
        """The nodes along `path` from the root, as far as they exist (the root first)."""
        node = self.root
        found = [node]
        for step in path:
            if isinstance(step, str) and node.tag is not None and short_form_name(node.tag) == step:
                continue  # `!If [...]` is the Fn::If mapping and its list at once
            nxt = self.child(node, step)
            if nxt is None:
                break
            node = nxt
            found.append(node)
        return found

    def node(self, path: Path) -> Node | None:
        found = self.walk(path)
        return found[-1] if len(found) == len(self.steps(path)) + 1 else None

    def steps(self, path: Path) -> list[str | int]:
        """The path without the steps a short-form tag takes in place."""
        node, steps = self.root, []
        for step in path:
            if isinstance(step, str) and node is not None and node.tag is not None \
                    and short_form_name(node.tag) == step:
                continue
            steps.append(step)
            node = self.child(node, step) if node is not None else None
        return steps

    def child(self, node: Node, step: str | int) -> Node | None:
        self.fill(node)
        if node.kind == "mapping" and node.tag is None:
            hit = node.members.get(step)
            return hit[1] if hit else None
        if node.kind == "sequence" and isinstance(step, int) and 0 <= step < len(node.items):
            return node.items[step]
        return None

    def key_offset(self, mapping: Node, key: str) -> int:
        self.fill(mapping)
        return mapping.members[key][0]

    def fill(self, node: Node) -> None:
        if node.raw is not None:
            self._fill_yaml(node)
        elif node.kind != "scalar" and not node.members and not node.items:
            self._fill_json(node)

    # ---- YAML --------------------------------------------------------------------------------
    def _yaml_root(self) -> Node:
        import yaml

        from tapaudit.loading.yaml_parse import CfnLoader

        # The text was parsed (bounded, safe) before a Document is made: composing is safe here.
        composed = yaml.compose(self.text, Loader=CfnLoader)
        return self._yaml_node(composed)

    def _yaml_node(self, raw: Any) -> Node:
        import yaml

        kind = ("mapping" if isinstance(raw, yaml.MappingNode) else
                "sequence" if isinstance(raw, yaml.SequenceNode) else "scalar")
        tag = raw.tag if raw.tag and raw.tag.startswith("!") and not raw.tag.startswith("!!") else None
        inline = bool(getattr(raw, "flow_style", False))
        return Node(kind, raw.start_mark.index, raw.end_mark.index, inline, tag, raw=raw)

    def _fill_yaml(self, node: Node) -> None:
        if node.members or node.items or node.kind == "scalar":
            return
        raw = node.raw
        if node.kind == "mapping":
            for key, value in raw.value:
                node.members.setdefault(key.value, (key.start_mark.index, self._yaml_node(value)))
        else:
            node.items = [self._yaml_node(item) for item in raw.value]

    # ---- JSON --------------------------------------------------------------------------------
    def _json_node(self, start: int) -> Node:
        text = self.text
        char = text[start] if start < len(text) else ""
        if char in "{[":
            end = _DECODER.raw_decode(text, start)[1]
            kind = "mapping" if char == "{" else "sequence"
            return Node(kind, start, end, inline="\n" not in text[start:end])
        return Node("scalar", start, _DECODER.raw_decode(text, start)[1])

    def _fill_json(self, node: Node) -> None:
        text = self.text
        pos = _SPACE.match(text, node.start + 1).end()
        closing = "}" if node.kind == "mapping" else "]"
        while not text.startswith(closing, pos):
            if node.kind == "mapping":
                key_at = pos
                key, pos = scanstring(text, pos + 1)
                pos = _SPACE.match(text, pos).end() + 1  # the colon
                pos = _SPACE.match(text, pos).end()
                value = self._json_node(pos)
                node.members.setdefault(key, (key_at, value))
            else:
                value = self._json_node(pos)
                node.items.append(value)
            pos = _SPACE.match(text, value.end).end()
            if text.startswith(",", pos):
                pos = _SPACE.match(text, pos + 1).end()

    def last_member_end(self, node: Node) -> int | None:
        """Where the last member's value ends (None for an empty container)."""
        self.fill(node)
        if node.kind == "mapping":
            return max((v.end for _, v in node.members.values()), default=None)
        return node.items[-1].end if node.items else None

    def first_member_start(self, node: Node) -> int | None:
        self.fill(node)
        if node.kind == "mapping":
            return min((k for k, _ in node.members.values()), default=None)
        return node.items[0].start if node.items else None
