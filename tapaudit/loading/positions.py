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

# Strings and structural characters are all a JSON path needs; numbers and literals are skipped.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')
_SPACE = re.compile(r"\s*")


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
    """Indexes every key and array element of a JSON text on first use."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._offsets: dict[tuple, int] | None = None
        self._lines: _LineIndex | None = None

    def _build(self) -> dict[tuple, int]:
        offsets: dict[tuple, int] = {}
        text = self._text
        # Each frame: [path, is_object, current key or index, expecting_key]
        stack: list[list] = []
        for match in _JSON_TOKEN.finditer(text):
            tok = match.group()
            start = match.start()
            if tok in "{[":
                if stack:
                    frame = stack[-1]
                    path = (*frame[0], frame[2])
                else:
                    path = ()
                is_object = tok == "{"
                stack.append([path, is_object, None if is_object else 0, is_object])
                if not is_object:
                    offsets[(*path, 0)] = _SPACE.match(text, match.end()).end()
            elif tok in "}]":
                if stack:
                    stack.pop()
            elif tok == ",":
                if stack:
                    frame = stack[-1]
                    if frame[1]:
                        frame[3] = True
                    else:
                        frame[2] += 1
                        offsets[(*frame[0], frame[2])] = _SPACE.match(text, match.end()).end()
            elif tok == ":":
                if stack:
                    stack[-1][3] = False
            elif stack and stack[-1][1] and stack[-1][3]:
                frame = stack[-1]
                key = json.loads(tok) if "\\" in tok else tok[1:-1]
                frame[2] = key
                offsets[(*frame[0], key)] = start
        return offsets

    def locate(self, path: Path) -> tuple[int, int]:
        if self._offsets is None:
            self._offsets = self._build()
            self._lines = _LineIndex(self._text)
        assert self._lines is not None
        for depth in range(len(path), 0, -1):
            offset = self._offsets.get(tuple(path[:depth]))
            if offset is not None:
                return self._lines.line_col(offset)
        return 1, 1


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

