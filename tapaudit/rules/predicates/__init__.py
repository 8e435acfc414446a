"""Named predicates that rule files call. Each takes the context and one selected value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tapaudit.model.template import Template
from tapaudit.model.values import Branch
from tapaudit.rules.outcome import Outcome

Predicate = Callable[..., "Outcome | list[Outcome]"]
PREDICATES: dict[str, Predicate] = {}
# Arguments that are regular expressions, by predicate: the loader compiles them, so a bad pattern
# (in a rule file or the configuration) is a clear error before any template is scanned.
REGEX_ARGS: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Context:
    template: Template
    logical_id: str


def predicate(name: str, regex_args: tuple[str, ...] = ()) -> Callable[[Predicate], Predicate]:
    def register(fn: Predicate) -> Predicate:
        PREDICATES[name] = fn
        REGEX_ARGS[name] = regex_args
        return fn

    return register


def run(name: str, ctx: Context, branch: Branch, args: dict[str, Any]) -> list[Outcome]:
    result = PREDICATES[name](ctx, branch, **args)
    return result if isinstance(result, list) else [result]


# Registration happens on import.
from tapaudit.rules.predicates import (  # noqa: E402
    cloudfront,
    dynamodb,
    events,
    lambda_functions,
    s3,
    scheduler,
    values,
)

__all__ = ["PREDICATES", "REGEX_ARGS", "Context", "cloudfront", "dynamodb", "events", "lambda_functions",
           "predicate", "run", "s3", "scheduler", "values"]
