"""Generic predicates on one property value: the building blocks of simple property rules."""

from __future__ import annotations

import re
from typing import Any

from tapaudit.model.values import MISSING, Branch, Unknown
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates import Context, predicate


def _resolved(ctx: Context, branch: Branch) -> Any:
    return ctx.template.resolve(branch.value)


@predicate("exists")
def exists(ctx: Context, branch: Branch, message: str = "is missing") -> Outcome:
    return Outcome.ok(branch) if branch.value is not MISSING else Outcome.fail(message, branch)


@predicate("one_of")
def one_of(ctx: Context, branch: Branch, values: list, message: str = "is {value}") -> Outcome:
    value = _resolved(ctx, branch)
    if isinstance(value, Unknown):
        return Outcome.unknown(value.reason, branch)
    if value in values:
        return Outcome.ok(branch)
    return Outcome.fail(message.format(value=value, values=", ".join(map(str, values))), branch)


@predicate("equals")
def equals(ctx: Context, branch: Branch, value: Any, message: str = "is {value}") -> Outcome:
    return one_of(ctx, branch, [value], message)


@predicate("at_least")
def at_least(ctx: Context, branch: Branch, minimum: float,
             message: str = "is {value}, below {minimum}") -> Outcome:
    value = _resolved(ctx, branch)
    if isinstance(value, Unknown):
        return Outcome.unknown(value.reason, branch)
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None:
        return Outcome.fail(f"is {value!r}, not a number", branch)
    if number >= minimum:
        return Outcome.ok(branch)
    shown = int(number) if number.is_integer() else number
    return Outcome.fail(message.format(value=shown, minimum=minimum), branch)


@predicate("name_matches")
def name_matches(ctx: Context, branch: Branch, pattern: str,
                 fields: list[str] = ("logical_id",)) -> Outcome:
    """Does the resource's logical id or one of the named properties match `pattern`?"""
    regex = re.compile(pattern, re.IGNORECASE)
    props = ctx.template.properties(ctx.logical_id)
    for name in fields:
        value = ctx.logical_id if name == "logical_id" else props.get(name)
        if isinstance(value, str) and regex.search(value):
            return Outcome.ok(branch)
    return Outcome.fail("does not match", branch)
