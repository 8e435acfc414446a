"""Text that came from the input (ids, paths, descriptions, messages that quote them) made safe for
the place it is written: a terminal or CI log, a GitHub workflow command, Markdown, XML.

`printable` is the base of every writer: no control character, bidi override or lone surrogate
from a template reaches a report raw, so no line can be forged, no terminal driven, and no writer
fails to encode its output.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

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


# The GitHub runner also reads the legacy form `##[command]data` anywhere in a line
# (actions/runner ActionCommand.TryParse: IndexOf, not StartsWith), `##[stop-commands]` included.
_LEGACY_COMMAND = "##["
_LEGACY_SHOWN = "#\\x23["


def printable(text: str) -> str:
    """One line of plain text: every unsafe character written as its escape (`\\n`, `\\x1b`,
    `\\u202e`, `\\ud800`), and `##[` as `#\\x23[`; everything else as it was."""
    return _UNSAFE.sub(_visible, text).replace(_LEGACY_COMMAND, _LEGACY_SHOWN)


def inert_line(line: str) -> str:
    """A whole line of a log-bound report that no CI runner takes for a command: the runner reads
    `::command::` at the start of a line after its leading spaces, so a line that would start
    there with `::` (input text that wrapping or a layout put first) gets its colon escaped."""
    line = line.replace(_LEGACY_COMMAND, _LEGACY_SHOWN)
    body = line.lstrip()
    if body.startswith("::"):
        return line[: len(line) - len(body)] + "\\x3a" + body[1:]
    return line


def json_text(document: Any) -> str:
    """JSON (indented, ASCII: a lone surrogate is written as its escape, never an encoding error)
    that a CI log can show: `##[` only occurs inside strings, where `#\\u0023[` is the same data."""
    # The same text as json.dumps(indent=2), whose encoder is pure Python once it indents: the C
    # encoder writes the document and msgspec indents it, a few times faster on a large report.
    compact = json.dumps(document, separators=(",", ":"))
    try:
        text = msgspec.json.format(compact, indent=2)
    except msgspec.DecodeError:  # what msgspec will not read back: a lone surrogate, NaN
        text = json.dumps(document, indent=2)
    return text.replace(_LEGACY_COMMAND, "#\\u0023[")


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
