"""The registries that rule files name: predicates, and the facts a rule's fix may ask about.

Predicate modules register here; the package imports them all, so nothing imports back up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from msgspec import Struct

from tapaudit.model.template import Template
from tapaudit.model.values import Branch, Cause
from tapaudit.rules.outcome import Outcome

Predicate = Callable[..., "Outcome | list[Outcome]"]
PREDICATES: dict[str, Predicate] = {}
# Arguments that are regular expressions, by predicate: the loader compiles them, so a bad pattern
# (in a rule file or the configuration) is a clear error before any template is scanned.
REGEX_ARGS: dict[str, tuple[str, ...]] = {}

# What a failing list entry points at, in the words of the rule that owns the question (TAP004: a
# target's kind): (template, the entry's `ref` value) -> (kind, its logical id when in the
# template). A rule's `fix.subject.kind` names one; fixes.py knows none of them.
SubjectKind = Callable[[Template, Any], "tuple[str | None, str | None]"]
SUBJECT_KINDS: dict[str, SubjectKind] = {}


# Facts and values a rule's fix needs from the resource (`fix.values` names one), so a fix never
# proposes what the resource already has: (template, logical id, parameters) -> (facts, values).
FixValues = Callable[[Template, str, dict[str, Any]], "tuple[dict[str, str], dict[str, str]]"]
FIX_VALUES: dict[str, FixValues] = {}

# Values for the fix of one failing list entry (`fix.subject.values` names one), e.g. the queue a
# TAP004 target already names: (template, logical id, the entry) -> values.
EntryValues = Callable[[Template, str, dict[str, Any]], "dict[str, str]"]
ENTRY_VALUES: dict[str, EntryValues] = {}


# What would make an unknown of a rule's own cause checkable (TAP005: headers set in code), as
# `str.format` text: `{subject}` and the cause's facts by name. fixes.py holds the generic ones.
UNKNOWN_REMEDIES: dict[Cause, str] = {}

_F = TypeVar("_F", bound=Callable[..., Any])


class Context(Struct, frozen=True):
    template: Template
    logical_id: str


def predicate(name: str, regex_args: tuple[str, ...] = ()) -> Callable[[Predicate], Predicate]:
    def register(fn: Predicate) -> Predicate:
        PREDICATES[name] = fn
        REGEX_ARGS[name] = regex_args
        return fn

    return register


def subject_kind(name: str) -> Callable[[SubjectKind], SubjectKind]:
    return _registered_in(SUBJECT_KINDS, name)


def _registered_in(table: dict[str, _F], name: str) -> Callable[[_F], _F]:
    """A decorator that files the function under `name` in `table`, unchanged."""
    def register(fn: _F) -> _F:
        table[name] = fn
        return fn

    return register


def run(name: str, ctx: Context, branch: Branch, args: dict[str, Any]) -> list[Outcome]:
    result = PREDICATES[name](ctx, branch, **args)
    return result if isinstance(result, list) else [result]


def remedy(cause: Cause, text: str) -> None:
    UNKNOWN_REMEDIES[cause] = text


def fix_values(name: str) -> Callable[[FixValues], FixValues]:
    return _registered_in(FIX_VALUES, name)


def entry_values(name: str) -> Callable[[EntryValues], EntryValues]:
    return _registered_in(ENTRY_VALUES, name)
