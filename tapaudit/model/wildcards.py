"""IAM wildcards in a policy's actions and resources, matched in time linear in the text.

The template writes both sides: the patterns (a statement's `Action`, `Resource`) and much of the
texts (the ARNs rendered from its names). Python's backtracking `re` takes time exponential in the
stars: `arn:aws:s3:::*?*?*?*?*?*?*?*?*?*?*Z*t` against a 50-character ARN took 35 s, and two more
`*?` pairs took minutes. So nothing here backtracks:
- `*` alone: each piece between stars is placed as far left as it fits, the last one at the end.
  That is exact: a piece placed further left leaves more room for the pieces after it.
- `?`, a case-insensitive non-ASCII side, or a placeholder that stands for one name (an account
  id, `[^:/]+`): compiled by RE2 (google-re2, as rule patterns are), which never backtracks.
  A pattern over RE2's memory budget makes the template an input error, as the other limits of
  `budget.py` do.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from tapaudit.model.budget import BudgetExceeded

# What an open placeholder may stand for: one name, never a separator or white space (RE2's `\s`
# is ASCII's less the vertical tab; with the rest it is Python's `str.isspace()`).
NAME = r"[^:/\s\x0b\x1c-\x1f\x85\pZ]+"


def wildcard_match(pattern: str, text: str, ignore_case: bool = False) -> bool:
    """Does `pattern` match all of `text`? `*` any run of characters (slashes included), `?` one
    character; IAM compares actions without regard to case (`ignore_case`)."""
    if ignore_case:
        if not (pattern.isascii() and text.isascii()):  # Unicode case folding: RE2's
            return compiled(pattern, ignore_case=True).fullmatch(text) is not None
        pattern, text = pattern.lower(), text.lower()
    if "?" in pattern:
        return compiled(pattern).fullmatch(text) is not None
    if "*" not in pattern:
        return pattern == text
    first, *middle, last = pattern.split("*")
    if len(first) + len(last) > len(text) or not (text.startswith(first) and text.endswith(last)):
        return False
    at, end = len(first), len(text) - len(last)
    for piece in middle:
        found = text.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def translate(pattern: str, wildcards: bool = True, opens: str = "") -> str:
    """`pattern` as a regular expression: IAM wildcards (when `wildcards`), and each character of
    `opens` (open placeholders) as one name; every other character stands for itself."""
    parts = []
    for char in pattern:
        if wildcards and char == "*":
            parts.append(".*")
        elif wildcards and char == "?":
            parts.append(".")
        elif char in opens:
            parts.append(NAME)
        else:
            parts.append(re.escape(char))
    return "".join(parts)


@lru_cache(maxsize=4096)
def compiled(pattern: str, wildcards: bool = True, opens: str = "", ignore_case: bool = False) -> Any:
    """`translate(pattern, wildcards, opens)` compiled by RE2: its `fullmatch` is linear in the
    text. BudgetExceeded when RE2 refuses it: `translate` writes only what RE2 reads, so only its
    memory budget can."""
    import re2  # imported here: most templates never need it (their patterns have only stars)

    options = re2.Options()
    options.log_errors = False  # RE2 would write its own line to stderr
    options.dot_nl = True
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(translate(pattern, wildcards, opens), options)
    except re2.error:
        raise BudgetExceeded("a policy pattern is too large to match (over RE2's memory "
                             "budget)") from None
