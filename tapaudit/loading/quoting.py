"""Values from the input, as messages may quote them: short, escaped, quoted."""

from __future__ import annotations

_EXCERPT = 60


def excerpt(value: object) -> str:
    """`value` as a quoted excerpt of at most 60 characters; repr escapes newlines, ESC and every
    other character that could forge a line or a terminal sequence."""
    text = str(value)
    return repr(text[:_EXCERPT]) + ("..." if len(text) > _EXCERPT else "")
