"""Symbolic comparison: the cheap literal-ends rejection and the matching without backtracking
never change a verdict of Python's own regular expressions (fine on strings this short)."""

from __future__ import annotations

import random
import re

from tapaudit.model import wildcards
from tapaudit.model.symbols import Symbols


def _regex(pattern: str, wildcards: bool, opens: str) -> re.Pattern:
    """The pattern as Python's `re` reads it: the oracle."""
    parts = [".*" if wildcards and c == "*" else "." if wildcards and c == "?" else
             r"[^:/\s]+" if c in opens else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def _by_regex_only(sym: Symbols, pattern: str, text: str, wildcards: bool) -> bool | None:
    """The comparison without the shortcut: the three regular-expression checks alone."""
    pattern, text = sym.concrete(pattern), sym.concrete(text)
    if _regex(pattern, wildcards, "").fullmatch(text):
        return True
    opens = "".join(sorted(sym.open_tokens()))
    if any(c in pattern for c in opens) and _regex(pattern, wildcards, opens).fullmatch(text):
        return None
    if (any(c in text for c in opens) and not (wildcards and ("*" in pattern or "?" in pattern))
            and _regex(text, False, opens).fullmatch(pattern)):
        return None
    return False


def test_shortcut_agrees_with_the_full_match():
    sym = Symbols("aws")
    tokens = [sym.token(n) for n in ("AWS::Region", "AWS::AccountId", "Bucket", "AWS::Partition")]
    alphabet = [*"ab:/-*? \n\xa0", *tokens]
    rng = random.Random(20261129)
    for _ in range(20000):
        pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        wildcards = rng.random() < 0.7
        assert sym.compare(pattern, text, wildcards) == _by_regex_only(sym, pattern, text, wildcards), \
            (pattern, text, wildcards)


def test_arns_of_other_services_are_rejected_without_a_regex():
    sym = Symbols("aws")
    region, account = sym.token("AWS::Region"), sym.token("AWS::AccountId")
    before = wildcards.compiled.cache_info().currsize
    assert sym.compare(f"arn:aws:dynamodb:{region}:{account}:table/T/index/*",
                       f"arn:aws:sqs:{region}:{account}:queue") is False
    assert wildcards.compiled.cache_info().currsize == before


def test_a_placeholder_made_after_a_comparison_is_open_in_the_next():
    sym = Symbols("aws")
    bucket = sym.token("Bucket")
    assert sym.compare(f"arn:aws:s3:::{bucket}", "arn:aws:s3:::111111111111-b", False) is False
    account = sym.token("AWS::AccountId")  # open: it may be the literal account id
    assert sym.compare(f"arn:aws:s3:::{account}-b", "arn:aws:s3:::111111111111-b", False) is None
