"""Issue 16: what a rule file or the configuration asks tapaudit to match is bounded. Selectors
have at most MAX_SELECTOR_STEPS steps; regular expressions and globs match in linear time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tapaudit.config import compile_glob, glob_matches, glob_problem
from tapaudit.model.budget import MAX_SELECTOR_STEPS
from tapaudit.rules.patterns import PatternError, compile_pattern, first_match, search
from tapaudit.rules.selectors import SelectorError, compile_selector
from tests.conftest import FIXTURES, run_cli

GOOD = FIXTURES / "TAP006" / "cdk-fail-no-reserved.json"

RULE = """\
id: ORG001
title: A custom rule from the repository under review
severity: low
rationale: Rule files are untrusted input.
why: A reviewer must see what shaped the run.
resource_types: [AWS::SQS::Queue]
fix:
  summary: none
checks:
  - id: check
    select: "{select}"
    predicate: {predicate}
    args: {args}
"""


def write_rule(folder, select: str = "$.Properties", predicate: str = "exists",
               args: str = "{}") -> None:
    (folder / "ORG001.yaml").write_text(RULE.format(select=select, predicate=predicate, args=args))


@pytest.mark.parametrize("step", [".a", "['a']", "[0]"])
def test_a_selector_of_20000_steps_is_a_clear_error(tmp_path, step):
    # `['a']` goes to jsonpath-ng, whose tree of 20,000 steps overflowed Python's recursion.
    write_rule(tmp_path, "$" + step * 20_000)
    proc = run_cli("scan", str(GOOD), "--rules-dir", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "ORG001.yaml" in line and f"has more than {MAX_SELECTOR_STEPS} steps" in line
    assert len(line) < 300  # the selector is cut, not quoted whole


def test_selectors_up_to_the_limit_still_compile():
    assert len(compile_selector("$" + ".a" * MAX_SELECTOR_STEPS)) == MAX_SELECTOR_STEPS
    assert len(compile_selector("$" + "['a']" * 50)) == 50
    with pytest.raises(SelectorError):
        compile_selector("$" + ".a" * (MAX_SELECTOR_STEPS + 1))


# Regular expressions: RE2, linear in the text. Each case hung Python's backtracking `re`.

def lambda_function(logical_id: str, **properties: str) -> str:
    return json.dumps({"Resources": {logical_id: {"Type": "AWS::Lambda::Function", "Properties": {
        "Role": "arn:aws:iam::123456789012:role/r", "Runtime": "python3.12", "Handler": "i.h",
        "Code": {"ZipFile": "x"}, "ReservedConcurrentExecutions": 1, **properties}}}})


def test_a_rule_pattern_with_nested_quantifiers_matches_in_linear_time(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    write_rule(rules, "$", "name_matches", '{pattern: "^(a+)+$"}')
    queue = tmp_path / "queue.json"
    queue.write_text(json.dumps({"Resources": {"a" * 40 + "Q": {"Type": "AWS::SQS::Queue"}}}))
    proc = run_cli("scan", str(queue), "--rules-dir", str(rules), "--rule", "ORG001", "-f", "json")
    findings = json.loads(proc.stdout)["findings"]
    assert proc.returncode == 0 and [f["rule_id"] for f in findings] == ["ORG001"], proc.stderr


def test_a_configured_name_pattern_over_a_600_kb_description(tmp_path):
    function = tmp_path / "function.json"
    function.write_text(lambda_function("Worker", Description="health" + "x" * 600_000))
    matched = tmp_path / "matched.json"
    matched.write_text(lambda_function("Probe", Description="HEALTH" + "x" * 600_000 + "Check"))
    config = tmp_path / ".tapaudit.toml"
    config.write_text('[rules.TAP002.parameters]\nname_pattern = "health.*check"\n')
    proc = run_cli("scan", str(function), str(matched), "--config", str(config), "-f", "json")
    report = json.loads(proc.stdout)
    assert report["errors"] == [], proc.stderr
    # Only the function whose Description matches (case-insensitive) is a health check.
    assert {(u["rule_id"], u["resource"]) for u in [*report["findings"], *report["unknown"]]
            if u["rule_id"] == "TAP002"} == {("TAP002", "Probe")}


@pytest.mark.parametrize(("pattern", "said"), [("(a)\\\\1", "invalid escape sequence"),
                                               ("(?=a)", "invalid perl operator"),
                                               ("(a{1000}){1000}", "invalid repetition size")])
def test_patterns_re2_cannot_match_in_linear_time_are_refused_when_the_rule_loads(
        tmp_path, pattern, said):
    write_rule(tmp_path, "$", "name_matches", f'{{pattern: "{pattern}"}}')
    proc = run_cli("scan", str(GOOD), "--rules-dir", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "ORG001.yaml" in line and "is not a regular expression" in line and said in line


def test_patterns_match_as_they_did():
    assert search("HEALTH", "myHealthCheck", ignore_case=True)
    assert not search("HEALTH", "myHealthCheck")
    assert search("^Custom[A-Za-z0-9]+ProviderHandler[0-9A-F]{8}$", "CustomXProviderHandler0A1B2C3D")
    with pytest.raises(PatternError):
        compile_pattern("[z-a]")


def test_first_match_is_the_first_pattern_in_order_that_matches():
    patterns = ["^Log", "(?i)handler", "Handler[0-9]$", "a|^Custom"]
    assert first_match(patterns, "CustomHandler1") == "(?i)handler"
    assert first_match(patterns, "LogRetention") == "^Log"
    assert first_match(patterns, "XCustom") is None  # `^` stays in its own pattern's group
    assert first_match(patterns[2:], "HANDLER1") is None  # (?i) stays in its own pattern too
    assert first_match(patterns, "data") == "a|^Custom"
    assert first_match([], "anything") is None


def test_first_match_searches_patterns_one_by_one_when_re2_refuses_them_together():
    patterns = [f"x{n}\\pL{{440}}" for n in range(3)]  # each under RE2's memory budget, not two
    for pattern in patterns:
        compile_pattern(pattern)
    with pytest.raises(PatternError):
        compile_pattern("|".join(f"(?:{p})" for p in patterns))
    assert first_match(patterns, "x2" + "é" * 440) == patterns[2]
    assert first_match(patterns, "x2" + "é" * 439) is None


# Globs: our own matcher, which goes back only to the last star.

def test_an_exclude_glob_of_many_stars_does_not_backtrack(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    kept = folder / ("a" * 60 + ".json")
    kept.write_text((FIXTURES / "TAP006" / "cdk-fail-no-reserved.json").read_text())
    dropped = folder / ("a" * 30 + "b.json")
    dropped.write_text(kept.read_text())
    # 60 a's and no b: a backtracking matcher tries every way to place 30 a's among 60.
    (tmp_path / ".tapaudit.toml").write_text('exclude = ["d/' + "*a" * 30 + '*b*"]\n')
    proc = run_cli("scan", str(folder), "-f", "json", cwd=tmp_path)
    report = json.loads(proc.stdout)
    assert [Path(t).name for t in report["templates"]] == [kept.name]
    assert [Path(s["file"]).name for s in report["skipped"]] == [dropped.name]


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("test/**", "test/a/b.json", True), ("test/**", "test", False), ("**", "x/y", True),
    ("a/**/b.json", "a/b.json", True), ("a/**/b.json", "a/x/y/b.json", True),
    ("*.json", "a/b.json", False), ("[!a]?.json", "bc.json", True), ("[!a]?.json", "ac.json", False),
    ("x[a-c]", "xb", True), ("x[a-c]", "xd", False), ("x*", "x/y", False), ("a.b", "axb", False),
])
def test_globs_keep_their_meaning(pattern, path, expected):
    assert glob_matches(compile_glob(pattern), path) is expected


@pytest.mark.parametrize(("pattern", "problem"), [("x[z-a]", "bad character range z-a"),
                                                  ("x[!]", "empty [ ]"), ("a**", "whole path segment")])
def test_bad_globs_say_why(pattern, problem):
    assert problem in (glob_problem(pattern) or "")
