"""What the JSON decoder would let through silently: repeated keys, NaN/Infinity, numbers out of range.

The decoder hooks only raise; finding the line is done afterwards on the text, so a valid
template pays nothing for positions.
"""

from __future__ import annotations

import json
import math
import re

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|-?[0-9][0-9.eE+-]*|NaN|-?Infinity')
_SURROGATE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")
_INT_DIGIT_LIMIT = 4300  # Python refuses to convert longer integer strings (sys.int_info)


class NumberRefused(ValueError):
    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


class LoneSurrogate(ValueError):
    """A `\\ud800`-style escape that is not half of a pair: not Unicode text, and no report
    could encode a string holding it."""

    def __init__(self, escape: str, offset: int) -> None:
        super().__init__(escape)
        self.escape, self.offset = escape, offset


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    """object_pairs_hook: a mapping with a repeated key is refused (CloudFormation refuses it)."""
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return mapping


def has_unicode_escape(text: str) -> bool:
    """Does JSON text hold a `\\u` escape (or a backslash then `u`)? A backslash alone is looked
    for first: one character is found at memchr speed, most templates have none."""
    return "\\" in text and "\\u" in text


def may_escape_a_colon(text: str) -> bool:
    """Could JSON text spell a colon as an escape (`\\u003a`)? Looked for as `\\u003`, which
    any such escape starts with: a longer needle than `\\u`, so the search skips faster."""
    return "\\" in text and "\\u003" in text


def check_surrogates(text: str) -> None:
    """Raise LoneSurrogate for the first unpaired surrogate escape of JSON text. A backslash
    occurs only inside JSON strings, so the escapes are found on the text, without the data."""
    if not has_unicode_escape(text):
        return
    pending: tuple[str, int, int] | None = None  # a high half waiting for its low half
    for match in _SURROGATE.finditer(text):
        if len(match.group(1)) % 2 == 0:
            continue  # an escaped backslash, then a plain "u"
        start = match.end(1) - 1
        is_low = match.group(2)[1] in "cdefCDEF"
        if pending is not None:
            if is_low and start == pending[2]:
                pending = None
                continue
            raise LoneSurrogate(*pending[:2])
        if is_low:
            raise LoneSurrogate(text[start:match.end()], start)
        pending = (text[start:match.end()], start, match.end())
    if pending is not None:
        raise LoneSurrogate(*pending[:2])


def check_json_number(literal: str) -> float:
    """parse_constant / parse_float: NaN, Infinity and floats that overflow to infinity are refused."""
    if literal in ("NaN", "Infinity", "-Infinity"):
        raise NumberRefused(literal)
    value = float(literal)
    if not math.isfinite(value):
        raise NumberRefused(literal)
    return value


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def json_problem(text: str, exc: ValueError) -> str:
    """One line for the user: what was refused and where."""
    if isinstance(exc, LoneSurrogate):
        return f"lone surrogate {exc.escape} at line {_line(text, exc.offset)}: not Unicode text"
    if isinstance(exc, DuplicateKey):
        lines = _duplicate_lines(text, exc.key)
        where = f" at line {lines[1]} (first at line {lines[0]})" if lines else ""
        return f"duplicate key {exc.key!r}{where}"
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        bad = (token == exc.literal if isinstance(exc, NumberRefused)
               else len(token.lstrip("-").split(".")[0]) > _INT_DIGIT_LIMIT)
        if bad:
            line = _line(text, match.start())
            if isinstance(exc, NumberRefused):
                return f"{token[:40]} is not a number CloudFormation accepts at line {line}"
            return f"number too long to convert ({len(token)} digits) at line {line}"
    return f"invalid JSON value: {str(exc)[:120]}"


def _duplicate_lines(text: str, key: str) -> tuple[int, int] | None:
    """Lines of the first pair of equal keys in one object, found by a token walk."""
    stack: list[dict[str, int] | None] = []  # per open container: key -> offset (None for arrays)
    expecting_key = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            stack.append({} if token == "{" else None)
            expecting_key = token == "{"
        elif token in "}]":
            if stack:
                stack.pop()
            expecting_key = False
        elif token == ",":
            expecting_key = bool(stack) and stack[-1] is not None
        elif token == ":":
            expecting_key = False
        elif expecting_key and token[0] == '"' and stack and stack[-1] is not None:
            name = json.loads(token)
            keys = stack[-1]
            if name in keys and name == key:
                return _line(text, keys[name]), _line(text, match.start())
            keys[name] = match.start()
    return None
