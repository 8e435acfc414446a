"""Regular expressions that rule files and the configuration give (`name_matches` patterns, CDK
framework patterns, `name_pattern`), matched in time linear in the text.

A repository under review writes both the patterns (its rule folders, its configuration) and the
texts (its templates), so Python's backtracking `re` would let it hang a run: `^(a+)+$` takes
exponential time on 30 characters, `health.*check` quadratic time on a 600 KB Description.
Patterns are therefore compiled with RE2 (google-re2), which never backtracks. Its syntax is
Python's for everything a name pattern needs (classes, groups, alternation, anchors, `{m,n}`,
`(?i)`); what RE2 cannot do in linear time, backreferences (`\\1`) and look-around (`(?=`,
`(?!`, `(?<=`), is refused when the rule loads, as is a pattern whose compiled program exceeds
RE2's memory budget (8 MB: `(a{1000}){1000}` and the like).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any


class PatternError(ValueError):
    """Not a pattern RE2 accepts; the message says why."""


@cache  # one compiled program per pattern and flag, whatever the number of resources
def compile_pattern(pattern: str, ignore_case: bool = False) -> Any:
    """`pattern` compiled by RE2 (its `search` is linear in the text); PatternError if refused."""
    import re2  # imported here: only scans whose rules match names pay for loading it

    options = re2.Options()
    options.log_errors = False  # RE2 would write its own line to stderr for a bad pattern
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        raise PatternError(reason.decode("utf-8", "replace") if isinstance(reason, bytes)
                           else str(reason)) from None


def search(pattern: str, text: str, ignore_case: bool = False) -> bool:
    """Does `pattern` match anywhere in `text`?"""
    return compile_pattern(pattern, ignore_case).search(text) is not None


def first_match(patterns: Sequence[str], text: str) -> str | None:
    """The first of `patterns` that matches anywhere in `text`, or None. One search of all of them
    at once decides whether any does (a text usually matches none), then each in turn which."""
    if not patterns:
        return None
    union = _union(tuple(patterns))
    if union is not None and union.search(text) is None:
        return None
    return next((p for p in patterns if search(p, text)), None)


@cache
def _union(patterns: tuple[str, ...]) -> Any:
    """The patterns as one alternation; None when RE2 refuses it (over its memory budget), and
    then each is searched alone. Each stays in its own group, so a `(?i)` flag keeps to it."""
    try:
        return compile_pattern("|".join(f"(?:{p})" for p in patterns))
    except PatternError:
        return None
