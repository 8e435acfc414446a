"""TAP006: set ReservedConcurrentExecutions, sized from `[rules.TAP006.fix] reserved_concurrency`."""

from __future__ import annotations

from typing import Any

from tapaudit.fixing.edits import SetValue
from tapaudit.fixing.plan import PlanContext, Planned, SettingsError, is_intrinsic
from tapaudit.rules.model import Rule

PROPERTY = "ReservedConcurrentExecutions"
NO_VALUE = {"Ref": "AWS::NoValue"}  # an Fn::If branch that drops the property: replaced
# The documented default: enough for a small service; the diff marks it for review.
DEFAULT_RESERVED_CONCURRENCY = 10


def settings(rule: Rule, table: dict[str, Any]) -> dict[str, Any]:
    unknown = set(table) - {"reserved_concurrency"}
    if unknown:
        raise SettingsError(f"unknown key {sorted(unknown)[0]!r} (known: reserved_concurrency)")
    value = table.get("reserved_concurrency", DEFAULT_RESERVED_CONCURRENCY)
    minimum = int(rule.parameters.get("minimum", 1))
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingsError(f"reserved_concurrency: expected a whole number of at least {minimum}, "
                            f"got {value!r}")
    return {"reserved_concurrency": value}


def plan(ctx: PlanContext) -> Planned:
    planned = Planned()
    value = ctx.settings["reserved_concurrency"]
    own = ("Resources", ctx.logical_id, "Properties")
    for _, outcome in ctx.failures:
        path = tuple(outcome.path)
        if path[:3] != own:  # e.g. SAM Globals: set it on this function, which overrides them
            path = (*own, PROPERTY)
        written = ctx.written(path)
        if is_intrinsic(written) and written != NO_VALUE:
            planned.leave(f"{PROPERTY} is computed ({next(iter(written))}): change it where its value "
                          "comes from")
            continue
        planned.operations.append(SetValue(path, value, review=True))
    if planned.operations:
        planned.notes.append(f"{PROPERTY}: {value} is tapaudit's default (set "
                             "[rules.TAP006.fix] reserved_concurrency): size it to the function's peak")
    return planned
