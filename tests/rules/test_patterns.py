"""Issue 16: what a rule file or the configuration asks tapaudit to match is bounded. Selectors
have at most MAX_SELECTOR_STEPS steps; regular expressions and globs match in linear time."""

from __future__ import annotations

import pytest

from tapaudit.model.budget import MAX_SELECTOR_STEPS
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
