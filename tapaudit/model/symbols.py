"""Symbolic values: what a string will be, with deploy-time parts kept as named placeholders.

A rendered value is a plain `str` in which each part the template cannot fix (a pseudo parameter,
the generated name of a resource, an attribute only CloudFormation knows) is one private-use
character. The characters compare exactly (the same placeholder is the same value), an IAM `*`
matches them like any text, and `display()` turns them back into `${AWS::AccountId}`-style text
for messages, so no account id or region is ever invented.
"""

from __future__ import annotations

import re

from tapaudit.model.wildcards import compiled, wildcard_match

_FIRST = 0xF0000  # Supplementary Private Use Area-A: never in a real template value
_LAST = 0xFFFFD
_TOKEN = re.compile("[\U000f0000-\U0010ffff]")  # any character from _FIRST up: found in C, not per character

PARTITION = "AWS::Partition"
URL_SUFFIX = "AWS::URLSuffix"
# Placeholders that stand for one deploy-time value which may well equal a literal of the template
# (an account id, a region): a literal compared with them gives "maybe", not "no".
OPEN_PSEUDO = ("AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId", PARTITION,
               URL_SUFFIX)

URL_SUFFIXES = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com",
                "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov", "aws-iso-e": "cloud.adc-e.uk",
                "aws-iso-f": "csp.hci.ic.gov", "aws-eusc": "amazonaws.eu"}


class Symbols:
    """The placeholders of one template, and the partition its verdicts assume."""

    def __init__(self, partition: str | None = "aws") -> None:
        self.partition = partition if partition in URL_SUFFIXES else None
        self._chars: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._opens = ("", 0)  # the open placeholders as one string, and how many tokens then existed

    def token(self, name: str) -> str:
        """The placeholder for `name` (shown as `${name}`)."""
        char = self._chars.get(name)
        if char is None:
            code = _FIRST + len(self._chars)
            if code > _LAST:
                raise RecursionError("too many symbolic values")  # reported as a clean error
            char = chr(code)
            self._chars[name] = char
            self._names[char] = name
        return char

    def display(self, text: str) -> str:
        """`text` for a message: placeholders become `${Name}` (also where repr() escaped them)."""
        if "\\U000f" in text:
            text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
        if not _TOKEN.search(text):
            return text
        return "".join("${" + self._names[c] + "}" if c in self._names else c for c in text)

    def concrete(self, text: str) -> str:
        """`text` as compared: the configured partition and its URL suffix are filled in."""
        if self.partition is None:
            return text
        for name, value in ((PARTITION, self.partition), (URL_SUFFIX, URL_SUFFIXES[self.partition])):
            char = self._chars.get(name)
            if char and char in text:
                text = text.replace(char, value)
        return text

    def splittable(self, text: str, delimiter: str) -> bool:
        """Can `text` be split on `delimiter` now? Only if no placeholder in it may hold one:
        names, ids, regions and accounts never contain ':' '/' '|' or ','; a stack id does."""
        tokens = _TOKEN.findall(text)
        if not tokens:
            return True
        if any(self._names.get(c) == "AWS::StackId" for c in tokens):
            return False
        return all(d in ":/|," for d in delimiter)

    def has_tokens(self, text: str) -> bool:
        return _TOKEN.search(text) is not None

    def has_closed_tokens(self, text: str) -> bool:
        """Does `text` hold a placeholder that is not open (a generated name, an attribute only
        CloudFormation knows)? No literal text is known to equal such a value."""
        opens = self._open_chars()
        return any(c not in opens for c in _TOKEN.findall(text))

    def open_tokens(self) -> set[str]:
        return {self._chars[n] for n in OPEN_PSEUDO if n in self._chars}

    def _open_chars(self) -> str:
        """`open_tokens()` as one string, rebuilt only when a placeholder has been added since."""
        chars, made_at = self._opens
        if made_at != len(self._chars):
            chars = "".join(sorted(self.open_tokens()))
            self._opens = (chars, len(self._chars))
        return chars

    def compare(self, pattern: str, text: str, wildcards: bool = True) -> bool | None:
        """Does `pattern` (IAM wildcards when `wildcards`) match `text`? True, False, or None when
        it depends on a deploy-time value (a literal account id against `${AWS::AccountId}`)."""
        pattern, text = self.concrete(pattern), self.concrete(text)
        if pattern == text:
            return True
        globbing = wildcards and ("*" in pattern or "?" in pattern)
        opens = self._open_chars()
        open_in_pattern = any(c in pattern for c in opens)
        open_in_text = not globbing and any(c in text for c in opens)
        if not (globbing or open_in_pattern or open_in_text):
            return False  # no wildcard, and no placeholder that may take the other side's text
        if _literal_ends_differ(pattern, text, wildcards):
            return False  # cheap, and most comparisons end here
        if globbing and wildcard_match(pattern, text):
            return True
        if not (open_in_pattern or open_in_text):
            return False
        if not globbing and _NOT_SEPARATOR.sub("", pattern) != _NOT_SEPARATOR.sub("", text):
            return False  # an open placeholder never stands for ':' or '/', so those must line up
        # The pattern's open placeholders may take the text's literal values, or the other way round.
        if open_in_pattern and compiled(pattern, wildcards, opens).fullmatch(text):
            return None
        if open_in_text and compiled(text, False, opens).fullmatch(pattern):
            return None
        return False


_SPECIAL = {True: re.compile("[*?\U000f0000-\U000ffffd]"), False: re.compile("[\U000f0000-\U000ffffd]")}


def _literal_ends_differ(pattern: str, text: str, wildcards: bool) -> bool:
    """True when `pattern` cannot match `text` whatever its wildcards and either side's placeholders
    stand for: up to the first special character of either side (a wildcard, a placeholder) and
    from the last one on, both are plain text and must agree."""
    special = _SPECIAL[wildcards]
    first_p, first_t = special.search(pattern), special.search(text)
    if first_p is None and first_t is None:
        return pattern != text
    head = min(first_p.start() if first_p else len(pattern), first_t.start() if first_t else len(text))
    if pattern[:head] != text[:head]:
        return True
    last_p = _last(special, pattern)
    last_t = _last(special, text)
    tail = min(len(pattern) - last_p - 1, len(text) - last_t - 1)
    return tail > 0 and pattern[len(pattern) - tail:] != text[len(text) - tail:]


def _last(special: re.Pattern, value: str) -> int:
    """Index of the last special character of `value`, -1 without one."""
    found = -1
    for match in special.finditer(value):
        found = match.start()
    return found


_NOT_SEPARATOR = re.compile("[^:/]+")
_ESCAPED = re.compile(r"\\U(000f[0-9a-f]{4})")
