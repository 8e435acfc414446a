"""Map a path inside a parsed template back to a 1-based line and column in the source text.

For JSON, the offsets of the top two levels (sections, resources) are recorded while the text is
decoded, or, when the text was decoded without them, by the lookups; deeper ones only when a
finding asks for them.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Sequence
from json.decoder import scanstring
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from tapaudit.loading.cfn_tags import short_form_name
from tapaudit.loading.json_checks import DuplicateKey, check_surrogates

if TYPE_CHECKING:
    import yaml

Path = Sequence[str | int]

_SPACE = re.compile(r"[ \t\n\r]*")
# Between a member's key and its value, and after its value (one match each, not three).
_AFTER_KEY = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_AFTER_VALUE = re.compile(r"[ \t\n\r]*([,}\]])[ \t\n\r]*")
_DECODER = json.JSONDecoder()
# A container's members as their raw text: skipped by msgspec, never built as Python values.
_RAW_MEMBERS = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
_RAW_ELEMENTS = msgspec.json.Decoder(list[msgspec.Raw]).decode


class SourceMap(Protocol):
    def locate(self, path: Path) -> tuple[int, int]:
        """Line and column (both 1-based) of the deepest element of `path` present in the source."""
        ...


class _LineIndex:
    """Line and column of offsets, counted from the nearest offset already placed (C-speed
    counting; building a table of every line start would cost more than a scan's findings)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._known = [(0, 1)]  # sorted (offset, line)

    def line_col(self, offset: int) -> tuple[int, int]:
        text, known = self._text, self._known
        index = bisect.bisect_right(known, (offset, float("inf"))) - 1
        start, line = known[index]
        line += text.count("\n", start, offset)
        known.insert(index + 1, (offset, line))
        return line, offset - text.rfind("\n", 0, offset)


class _Malformed(ValueError):
    """Not the JSON the member walk expects; the decoder itself then says what is wrong."""


class JsonSourceMap:
    """Finds a path by walking only the containers on it.

    Each container on the way is read once, member by member, with each member's offset; the
    values are read by the C decoder, so nothing is tokenized in Python. `parse` does this while
    decoding for the top levels (the template's sections and each resource), which every finding
    crosses; deeper containers are read the first time a finding asks for one. Text decoded
    without offsets (by msgspec) is skimmed instead, where it is ASCII: msgspec skips each member
    without building it, and its raw length says where the next one starts.
    """

    def __init__(self, text: str) -> None:
        """The map of `text`, JSON already decoded (and checked) some other way: nothing is read
        until the first `locate`."""
        self._text = text
        self._members: dict[int, dict] = {}  # container offset -> {key or index: (where, value)}
        self._ends: dict[int, int] = {}  # container offset -> its end, where `_skim` can read it
        self._lines: _LineIndex | None = None

    @classmethod
    def parse(cls, text: str, decoder: json.JSONDecoder, levels: int = 2) -> tuple[Any, JsonSourceMap]:
        """`decoder.decode(text)` and the map of `text`, in one pass. The containers of the top
        `levels` levels are built here as dicts and lists (a repeated key raises DuplicateKey,
        as `no_duplicates` does); invalid text raises what `decoder.decode` raises."""
        source_map = cls(text)
        try:
            data, end = source_map._walk(_SPACE.match(text).end(), decoder, levels)
            if _SPACE.match(text, end).end() != len(text):
                raise _Malformed
        except (_Malformed, json.JSONDecodeError):
            if text.startswith("\ufeff"):  # json.loads refuses a BOM first; the decoder does not
                raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0) from None
            data, source_map = decoder.decode(text), cls(text)  # raises the decoder's own error
        check_surrogates(text)
        return data, source_map

    def _walk(self, start: int, decoder: json.JSONDecoder, levels: int) -> tuple[Any, int]:
        text = self._text
        if levels == 0 or not text.startswith(("{", "["), start):
            return decoder.raw_decode(text, start)
        if levels == 1:  # the members' values are read by the C scanner itself, with no frame between
            return self._read(start, decoder.scan_once)
        return self._read(start, lambda text, at: self._walk(at, decoder, levels - 1))

    def _read(self, start: int, value_at: Callable[[str, int], tuple[Any, int]]) -> tuple[Any, int]:
        """The container at `start` as data, and where it ends; its members' offsets are kept.
        `value_at(text, offset)` reads one member's value and says where it ends (a decoder's
        `scan_once`: StopIteration when no value starts there)."""
        text = self._text
        try:
            return self._members_of(start, value_at)
        except StopIteration as err:
            raise json.JSONDecodeError("Expecting value", text, err.value) from None

    def _members_of(self, start: int, value_at: Callable[[str, int], tuple[Any, int]]) -> tuple[Any, int]:
        text = self._text
        is_object = text[start] == "{"
        close = "}" if is_object else "]"
        data: Any = {} if is_object else []
        members: dict[str | int, tuple[int, int]] = {}
        repeated: str | None = None  # raised when the object closes, as object_pairs_hook would
        pos = _SPACE.match(text, start + 1).end()
        if text.startswith(close, pos):
            self._members[start] = members
            return data, pos + 1
        after_key, after_value = _AFTER_KEY.match, _AFTER_VALUE.match
        while True:
            where = pos
            if is_object:
                if not text.startswith('"', pos):
                    raise _Malformed
                key, pos = scanstring(text, pos + 1)
                colon = after_key(text, pos)
                if colon is None:
                    raise _Malformed
                pos = colon.end()
                if repeated is None and key in data:
                    repeated = key
                data[key], end = value_at(text, pos)
            else:
                key = len(data)
                value, end = value_at(text, pos)
                data.append(value)
            members[key] = (where, pos)
            separator = after_value(text, end)
            if separator is None:
                raise _Malformed
            if separator.group(1) == ",":
                pos = separator.end()
            elif separator.group(1) == close:
                if repeated is not None:
                    raise DuplicateKey(repeated)
                self._members[start] = members
                return data, separator.end(1)
            else:
                raise _Malformed

    def _members_at(self, start: int) -> dict:
        members = self._members.get(start)
        if members is None:
            end = self._ends.get(start)
            if end is None or not self._skim(start, end):
                self._read(start, _DECODER.scan_once)
            members = self._members[start]
        return members

    def _skim(self, start: int, end: int) -> bool:
        """Read the members of the container in `text[start:end]` without building their values:
        msgspec gives each one's raw text, whose length says where it ends (in bytes, so ASCII
        text only). False, having kept nothing, when the keys do not line up."""
        text = self._text
        chunk = text if start == 0 and end == len(text) else text[start:end]
        is_object = text[start] == "{"
        try:
            raws = _RAW_MEMBERS(chunk) if is_object else dict(enumerate(_RAW_ELEMENTS(chunk)))
        except (msgspec.DecodeError, RecursionError):  # nesting deeper than this call has room for
            return False
        members: dict[str | int, tuple[int, int]] = {}
        ends: dict[int, int] = {}
        after_key, after_value = _AFTER_KEY.match, _AFTER_VALUE.match
        pos = _SPACE.match(text, start + 1).end()
        for key, raw in raws.items():
            where = pos
            if is_object:
                name, pos = scanstring(text, pos + 1)
                if name != key:  # a repeated key, which the text was checked not to hold
                    return False
                pos = after_key(text, pos).end()  # type: ignore[union-attr]
            value_end = pos + len(raw)
            members[key] = (where, pos)
            if text[pos] in "{[":
                ends[pos] = value_end
            pos = after_value(text, value_end).end()  # type: ignore[union-attr]
        self._members[start] = members
        self._ends.update(ends)
        return True

    def locate(self, path: Path) -> tuple[int, int]:
        text = self._text
        offset = _SPACE.match(text).end()
        if not self._members and text.startswith(("{", "["), offset):
            # Decoded without offsets (by msgspec), so the text is valid JSON: in ASCII, each level
            # a finding crosses is skimmed; otherwise the top two levels, which every finding
            # crosses, are read in one pass, as `parse` reads them.
            if text.isascii():
                self._ends[offset] = len(text.rstrip(" \t\n\r"))
            else:
                self._walk(offset, _DECODER, 2)
        best: int | None = None
        for element in path:
            if offset >= len(text) or text[offset] not in "{[":
                break
            hit = self._members_at(offset).get(element)
            if hit is None:
                break
            best, offset = hit
        if best is None:
            return 1, 1
        if self._lines is None:
            self._lines = _LineIndex(text)
        return self._lines.line_col(best)


class YamlSourceMap:
    """Walks the composed YAML node graph, which keeps every node's start mark. Each mapping on
    a path is indexed by key the first time a lookup crosses it, so locating every resource of
    a large template costs one pass over its keys, not one pass per resource."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._root = root
        self._keys: dict[int, dict[Any, tuple[yaml.Node, Any]]] = {}  # id(mapping) -> key -> (value, mark)

    def _index(self, mapping: yaml.MappingNode) -> dict[Any, tuple[yaml.Node, Any]]:
        index = self._keys.get(id(mapping))
        if index is None:
            index = {}
            for key_node, value_node in mapping.value:  # the last of repeated keys wins, as before
                index[getattr(key_node, "value", None)] = (value_node, key_node.start_mark)
            self._keys[id(mapping)] = index
        return index

    def locate(self, path: Path) -> tuple[int, int]:
        import yaml  # loaded already: this map exists only for a YAML document

        node = self._root
        best = (1, 1)
        if node is None:
            return best
        for element in path:
            # A short-form tag (!If, !GetAtt) is one node standing for {"Fn::If": [...]}.
            if isinstance(element, str) and short_form_name(node.tag) == element:
                continue
            hit = None
            if isinstance(node, yaml.MappingNode):
                hit = self._index(node).get(element) if isinstance(element, str) else None
            elif (isinstance(node, yaml.SequenceNode) and isinstance(element, int)
                  and 0 <= element < len(node.value)):
                hit = (node.value[element], node.value[element].start_mark)
            if hit is None:
                break
            node, mark = hit
            best = (mark.line + 1, mark.column + 1)
        return best
