"""Generic predicates on one property value: the building blocks of simple property rules.

Each value is resolved the way CloudFormation would (parameter defaults, mappings, Join, Sub,
Select, nested Fn::If): every alternative is judged, and a verdict that holds only in one Fn::If
branch names its condition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tapaudit.model.intrinsics import resolve_all
from tapaudit.model.values import MISSING, Branch, Unknown
from tapaudit.rules.outcome import Outcome, Status
from tapaudit.rules.patterns import compile_pattern
from tapaudit.rules.predicates.registry import Context, predicate


def _judge_each(ctx: Context, branch: Branch, judge: Callable[[Any, Branch], Outcome]) -> list[Outcome]:
    shape = Outcome.of_value(branch)
    if shape:
        return [shape]
    outcomes = []
    for value, conditions in resolve_all(ctx.template, branch.value):
        if isinstance(value, Unknown):
            outcome = Outcome.unknown(value.reason, branch, value.why)
        elif value is MISSING:
            outcome = Outcome.ok(branch)
        else:
            outcome = judge(value, branch)
        outcomes.append(outcome.within(conditions))
    return outcomes


def _shown(ctx: Context, value: Any) -> Any:
    return ctx.template.display(value) if isinstance(value, str) else value


@predicate("exists")
def exists(ctx: Context, branch: Branch, message: str = "is missing") -> Outcome:
    return Outcome.ok(branch) if branch.value is not MISSING else Outcome.fail(message, branch)


@predicate("one_of")
def one_of(ctx: Context, branch: Branch, values: list, message: str = "is {value}",
           valid: list | None = None, name: str = "the value") -> list[Outcome]:
    """Passes for `values`; a value outside `valid` (the property's enumeration) is called invalid."""
    def judge(value: Any, where: Branch) -> Outcome:
        if value in values:
            return Outcome.ok(where)
        if valid is not None and value not in valid:
            return Outcome.fail(f"{name} {_shown(ctx, value)!r} is invalid (valid: "
                                f"{', '.join(map(str, valid))}): CloudFormation rejects it", where)
        return Outcome.fail(message.format(value=_shown(ctx, value),
                                           values=", ".join(map(str, values))), where)

    return _judge_each(ctx, branch, judge)


@predicate("equals")
def equals(ctx: Context, branch: Branch, value: Any, message: str = "is {value}") -> list[Outcome]:
    return one_of(ctx, branch, [value], message)


@predicate("at_least")
def at_least(ctx: Context, branch: Branch, minimum: float,
             message: str = "is {value}, below {minimum}") -> list[Outcome]:
    def judge(value: Any, where: Branch) -> Outcome:
        number: float | int | None
        try:
            # An integer is compared as it is: float() of a huge one overflows.
            number = None if isinstance(value, bool) else value if isinstance(value, int) else float(value)
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is None:
            return Outcome.fail(f"is {_shown(ctx, value)!r}, not a number", where)
        if number >= minimum:
            return Outcome.ok(where)
        shown = number if isinstance(number, int) or not number.is_integer() else int(number)
        return Outcome.fail(message.format(value=shown, minimum=minimum), where)

    return _judge_each(ctx, branch, judge)


@predicate("name_matches", regex_args=("pattern",))
def name_matches(ctx: Context, branch: Branch, pattern: str,
                 fields: list[str] = ("logical_id",)) -> Outcome:
    """Does the resource's logical id or one of the named properties match `pattern`, ignoring
    case? The pattern is RE2 syntax, matched in linear time (see rules/patterns.py). Values are
    resolved; one that cannot be known (a parameter without default) makes the answer unknown."""
    regex = compile_pattern(str(pattern), ignore_case=True)
    props = ctx.template.properties(ctx.logical_id)
    unknown = None
    for name in fields:
        if name == "logical_id":
            alternatives = [(ctx.logical_id, ())]
        else:
            alternatives = resolve_all(ctx.template, props.get(name, MISSING))
        for value, _ in alternatives:
            if isinstance(value, str) and regex.search(value):
                return Outcome.ok(branch)
            if isinstance(value, Unknown) and unknown is None:
                unknown = Outcome(Status.UNKNOWN, f"{name} is unknown: {value.reason}",
                                  ("Resources", ctx.logical_id, "Properties", name), why=value.why)
    return unknown or Outcome.fail("does not match", branch)
