"""Map a path inside a parsed template back to a 1-based line and column in the source text.

Positions are computed only when a finding asks for one, so a clean template pays nothing.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from typing import Protocol

import yaml

from tapaudit.loading.cfn_tags import short_form_name

Path = Sequence[str | int]

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class SourceMap(Protocol):
    def locate(self, path: Path) -> tuple[int, int]:
        """Line and column (both 1-based) of the deepest element of `path` present in the source."""
        ...


class _LineIndex:
    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


class JsonSourceMap:
    """Finds a path by walking only the containers on it.

    Each container on the way is read once (its keys or elements, with their offsets); the values
    in between are skipped by the C decoder, so a path costs about one C parse of the containers
    it crosses and nothing is tokenized in Python. The text was already parsed, so it is valid.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._members: dict[int, dict] = {}  # container offset -> {key or index: (where, value)}
        self._lines: _LineIndex | None = None

    def _read(self, start: int) -> dict:
        members = self._members.get(start)
        if members is not None:
            return members
        text = self._text
        members = {}
        is_object = text[start] == "{"
        pos = _SPACE.match(text, start + 1).end()
        index = 0
        while pos < len(text) and text[pos] not in "}]":
            if is_object:
                token = _STRING.match(text, pos)
                if token is None:
                    break
                raw = token.group()
                key: str | int = json.loads(raw) if "\\" in raw else raw[1:-1]
                where = pos
                pos = _SPACE.match(text, token.end()).end() + 1  # past the colon
                pos = _SPACE.match(text, pos).end()
            else:
                key, where = index, pos
                index += 1
            members.setdefault(key, (where, pos))
            _, end = _DECODER.raw_decode(text, pos)
            pos = _SPACE.match(text, end).end()
            if pos < len(text) and text[pos] == ",":
                pos = _SPACE.match(text, pos + 1).end()
        self._members[start] = members
        return members

    def locate(self, path: Path) -> tuple[int, int]:
        text = self._text
        offset = _SPACE.match(text).end()
        best: int | None = None
        for element in path:
            if offset >= len(text) or text[offset] not in "{[":
                break
            hit = self._read(offset).get(element)
            if hit is None:
                break
            best, offset = hit
        if best is None:
            return 1, 1
        if self._lines is None:
            self._lines = _LineIndex(text)
        return self._lines.line_col(best)


class YamlSourceMap:
    """Walks the composed YAML node graph, which keeps every node's start mark."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._root = root

    def locate(self, path: Path) -> tuple[int, int]:
        node = self._root
        best = (1, 1)
        if node is None:
            return best
        for element in path:
            # A short-form tag (!If, !GetAtt) is one node standing for {"Fn::If": [...]}.
            if isinstance(element, str) and short_form_name(node.tag) == element:
                continue
            nxt = None
            mark = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if getattr(key_node, "value", None) == element:
                        nxt, mark = value_node, key_node.start_mark
            elif (isinstance(node, yaml.SequenceNode) and isinstance(element, int)
                  and 0 <= element < len(node.value)):
                nxt = node.value[element]
                mark = nxt.start_mark
            if nxt is None:
                break
            best = (mark.line + 1, mark.column + 1)
            node = nxt
        return best

