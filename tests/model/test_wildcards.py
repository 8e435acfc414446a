"""IAM wildcards are matched without backtracking, exactly as Python's `re` matches them (the
oracle, fine on strings this short); a pattern over RE2's memory budget is refused, not run."""

from __future__ import annotations

import random
import re

import pytest

from tapaudit.model.budget import BudgetExceeded
from tapaudit.model.wildcards import compiled, wildcard_match

PLACEHOLDER = "\U000f0002"


def oracle(pattern: str, text: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, text, flags) is not None


def test_wildcards_agree_with_python_regular_expressions():
    # Case-insensitive non-ASCII (the Kelvin sign folds to k, long s to s) takes RE2's folding.
    alphabet = [*"aAbBkKsS:/-*?\n", "é", "É", "\u212a", "\u017f", PLACEHOLDER]
    rng = random.Random(20261202)
    for _ in range(30000):
        pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7)))
        text = "".join(rng.choice(alphabet[:-1] if rng.random() < 0.5 else alphabet)
                       for _ in range(rng.randint(0, 9)))
        ignore_case = rng.random() < 0.5
        assert wildcard_match(pattern, text, ignore_case) is oracle(pattern, text, ignore_case), \
            (pattern, text, ignore_case)


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("*", "", True), ("", "", True), ("", "a", False), ("**", "x", True), ("a*", "a", True),
    ("*a*a", "a", False),  # the first and last pieces may not overlap
    ("ab*ba", "aba", False), ("ab*ba", "abba", True), ("S3:Get*", "s3:getobject", True),
    ("s3:*Object*", "s3:PutObjectTagging", True), ("s3:*Object", "s3:PutObjectTagging", False),
])
def test_stars_place_each_piece_leftmost(pattern, text, expected):
    assert wildcard_match(pattern, text, ignore_case=True) is expected


def test_patterns_that_backtrack_exponentially_in_python_are_matched_at_once():
    # Each took Python's `re` longer than the test suite: 10 `*?` pairs took 35 s on an ARN.
    arn = "arn:aws:s3:::my-bucket-name-that-is-long/probe-object" * 4
    assert wildcard_match("arn:aws:s3:::" + "*?" * 60 + "*Z*t", arn) is False
    assert wildcard_match("*a" * 60 + "*b", "a" * 500) is False
    assert wildcard_match("*?" * 60 + "*Z", "cloudwatch:PutMetricData", ignore_case=True) is False
    opens = PLACEHOLDER
    assert compiled("arn:" + "*?" * 60 + PLACEHOLDER + "*Z*t", True, opens).fullmatch(arn) is None


def test_a_pattern_over_re2s_memory_budget_is_refused():
    with pytest.raises(BudgetExceeded, match="too large to match"):
        wildcard_match("cloudwatch:" + "?" * 200_000, "cloudwatch:PutMetricData", ignore_case=True)
