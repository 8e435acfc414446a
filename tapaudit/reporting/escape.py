"""Text that came from the input (ids, paths, descriptions, messages that quote them) made safe for
the place it is written: a terminal or CI log, a GitHub workflow command, Markdown, XML.

`printable` is the base of every writer: no control character, bidi override or lone surrogate
from a template reaches a report raw, so no line can be forged, no terminal driven, and no writer
fails to encode its output.
"""

from __future__ import annotations

import re

# C0 (tab and newline included), DEL, C1; bidi marks, embeddings, overrides and isolates (the
# "Trojan source" characters); Unicode line and paragraph separators; lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """One line of plain text: every unsafe character written as its escape (`\\n`, `\\x1b`,
    `\\u202e`, `\\ud800`), everything else as it was."""
    return _UNSAFE.sub(_visible, text)


def github_data(text: str) -> str:
    """The message of a workflow command, as the Actions toolkit escapes it (`%`, CR, LF): the
    structural line breaks of our own text become line breaks in the annotation."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property value of a workflow command (`file=`, `title=`): also `:` and `,`."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


# Every character with a meaning in CommonMark or GitHub's extensions, wherever it stands inline:
# emphasis, code, links and images, HTML and entities, headings, tables, strikethrough.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()!<>#|~&])")


def markdown(text: str) -> str:
    """Input text rendered as the same text in Markdown, on one line."""
    return _MARKDOWN.sub(r"\\\1", printable(text))


# Characters XML 1.0 cannot carry at all (an XML writer would write them and break the file).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text for an XML document: what XML 1.0 cannot carry, escaped; line breaks kept (an
    attribute or element text of ours may span lines; input text is `printable` already)."""
    return _NOT_XML.sub(_visible, text)
