"""Values as CloudFormation will see them: Fn::If branches, AWS::NoValue, parameter defaults.

A value the model cannot know before deployment (an import, a parameter without default, an
intrinsic it does not understand) becomes `Unknown`: never a violation, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from tapaudit.model.budget import MAX_BRANCHES

Path = tuple[str | int, ...]
Conditions = tuple[tuple[str, bool], ...]


class _Missing:
    """The property is absent (or `Ref: AWS::NoValue`) in this branch."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Cause(Enum):
    """Why a value is unknown, for code that decides by it (the reason is for people only).

    Listed in the order a remedy is chosen when one detail has several causes: a macro's output
    first (scanning the expanded template answers everything else too)."""

    MACRO = "macro"  # a macro (a Transform, Fn::Transform) writes the value at deploy time
    HEADERS_FROM_CODE = "headers from code"  # a CloudFront function may set the response headers
    SAM_POLICY_TEMPLATE = "SAM policy template"  # unknown to tapaudit, or lacking a parameter
    CONNECTOR = "connector"  # a SAM connector's grant; the reason names the connector, its origin
    UNDECLARED_ATTRIBUTE = "undeclared attribute"  # a key attribute not in AttributeDefinitions
    MAPPING_ENTRIES_DIFFER = "mapping entries differ"  # Fn::FindInMap on a deploy-time key
    PARAMETER_WITHOUT_DEFAULT = "parameter without default"
    IMPORT_VALUE = "import value"  # Fn::ImportValue: another stack's export
    DEPLOY_TIME_CONDITION = "deploy-time condition"  # an IAM condition on the account, region...
    MANAGED_POLICY_NOT_IN_SNAPSHOT = "managed policy not in snapshot"
    NO_VALUE = "no value"  # AWS::NoValue: the property or list element is absent in that branch
    ACTION = "action"  # an IAM action pattern; the reason already says so ("its action ...")
    OTHER = "other"


class Why(Struct, frozen=True):
    """One cause of an unknown, with the names a remedy speaks of: `subject` (the parameter, the
    mapping, the connector...) and, for causes that need more, `facts` (name -> value)."""

    cause: Cause
    subject: str = ""
    facts: tuple[tuple[str, str], ...] = ()


class Unknown(Struct, frozen=True):
    """A value that cannot be known from the template alone: `reason` says why to people, `why`
    to code (each typed cause the reason mentions, in the order it mentions them)."""

    reason: str
    why: tuple[Why, ...] = ()
    placed: bool = False  # the reason begins with where the value is (`Properties.X is ...`)

    @classmethod
    def because(cls, reason: str, cause: Cause, subject: str = "", **facts: str) -> Unknown:
        """An unknown of one typed cause, with the names its remedy needs."""
        return cls(reason, (Why(cause, subject, tuple(facts.items())),))

    @property
    def cause(self) -> Cause:
        """The first typed cause (OTHER when the reason has none)."""
        return self.why[0].cause if self.why else Cause.OTHER

    @property
    def is_no_value(self) -> bool:
        return self.cause is Cause.NO_VALUE

    def reworded(self, reason: str) -> Unknown:
        """The same unknown said in other words (within a longer sentence): its causes kept."""
        return replace(self, reason=reason, placed=False)


def causes_of(unknowns: Iterable[Unknown]) -> tuple[Why, ...]:
    """The typed causes of several unknowns said in one sentence, in the order it says them."""
    return tuple(why for unknown in unknowns for why in unknown.why)


# What AWS::NoValue renders to where a string is wanted.
NO_VALUE = Unknown.because("is AWS::NoValue", Cause.NO_VALUE)


class Malformed(Struct, frozen=True):
    """A value of the wrong shape (a list where CloudFormation wants a mapping, ...): never a pass."""

    reason: str
    placed: bool = False  # the reason begins with where the value is (`Properties.X is ...`)
    # Where the wrongly shaped value sits, the JSON type a reader wanted there and the one it found:
    # a resource CloudFormation rejects, reported as `invalid` (never a rule's finding).
    at: Path = ()
    expected: str = ""
    found: str = ""


def wrong_shape(value: Any, expected: str, path: Path) -> Malformed:
    """`value` at `path` is not of the JSON type `expected` ("a mapping", "a list", "a string")."""
    fn = intrinsic(value)
    found = "absent" if value is MISSING else f"{fn[0]} (an intrinsic function)" if fn else shape_of(value)
    return Malformed(f"{where(path)} is {found}, not {expected}: CloudFormation rejects that shape",
                     placed=_in_properties(path), at=path, expected=expected, found=found)


def shape_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else type(value).__name__


def where(path: Path) -> str:
    """`Properties.Targets[0].Arn` for a branch path (from the first property on)."""
    shown = ""
    for key in _shown_keys(path):
        shown += f"[{key}]" if isinstance(key, int) else (f".{key}" if shown else str(key))
    return shown or "the resource"


def _shown_keys(path: Path) -> list[Any]:
    return [key for key in (path[2:] if len(path) > 2 and path[0] == "Resources" else path)
            if key != "Fn::If"]


def _in_properties(path: Path) -> bool:
    """Does `where(path)` begin with `Properties`?"""
    keys = _shown_keys(path)
    return bool(keys) and keys[0] == "Properties"


class Branch(Struct, frozen=True):
    """One way a value can turn out: the value, where it sits, and the conditions that chose it."""

    value: Any
    path: Path
    conditions: Conditions = ()

    def describe_conditions(self) -> str:
        return ", ".join(f"{name} is {str(flag).lower()}" for name, flag in self.conditions)


def intrinsic(value: Any) -> tuple[str, Any] | None:
    """(function name, argument) when `value` is a one-key intrinsic like {"Ref": "X"}."""
    if type(value) is dict and len(value) == 1:  # parsed templates hold plain dicts only
        key = next(iter(value))
        if isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::")):
            return key, value[key]
    return None


def branches(value: Any, path: Path, conditions: Conditions = ()) -> Iterator[Branch]:
    """Every branch a value can take through (nested) Fn::If; AWS::NoValue becomes MISSING."""
    if type(value) is not dict or len(value) != 1:  # most values: no intrinsic, one branch
        yield Branch(value, path, conditions)
        return
    stack = [(value, path, conditions)]
    produced = 0
    while stack:
        current, where, conds = stack.pop()
        fn = intrinsic(current)
        if fn and fn[0] == "Fn::If" and isinstance(fn[1], list) and len(fn[1]) == 3:
            name = str(fn[1][0])
            chosen = dict(conds).get(name)
            # Pushed in reverse so the true branch comes first; a condition already chosen on the
            # way here picks its branch (the other one can never be taken).
            if chosen is not True:
                stack.append((fn[1][2], (*where, "Fn::If", 2),
                              conds if chosen is False else (*conds, (name, False))))
            if chosen is not False:
                stack.append((fn[1][1], (*where, "Fn::If", 1),
                              conds if chosen is True else (*conds, (name, True))))
            continue
        if fn and fn[0] == "Ref" and fn[1] == "AWS::NoValue":
            current = MISSING
        produced += 1
        if produced > MAX_BRANCHES:
            yield Branch(Unknown(f"more than {MAX_BRANCHES} Fn::If combinations"), where, conds)
            return
        yield Branch(current, where, conds)


def child(branch: Branch, key: str | int) -> Iterator[Branch]:
    """Branches of `branch.value[key]`; MISSING when the container lacks it, Malformed when the
    container is not a mapping (or list, for an index), Unknown when it is an opaque intrinsic."""
    value = branch.value
    if type(value) is dict and type(key) is str and (len(value) != 1 or intrinsic(value) is None):
        # Most reads: a key of a plain mapping (parsed templates hold plain dicts only).
        yield from branches(value.get(key, MISSING), (*branch.path, key), branch.conditions)
        return
    if isinstance(value, Unknown | Malformed):
        yield Branch(value, (*branch.path, key), branch.conditions)
        return
    wrong = _container_problem(value, list if isinstance(key, int) else dict, branch.path)
    if wrong is not None:
        yield Branch(wrong, (*branch.path, key), branch.conditions)
        return
    if isinstance(key, int):
        found = value[key] if isinstance(value, list) and -len(value) <= key < len(value) else MISSING
    else:
        found = value.get(key, MISSING) if isinstance(value, dict) else MISSING
    if found is MISSING:
        yield Branch(MISSING, (*branch.path, key), branch.conditions)
        return
    yield from branches(found, (*branch.path, key), branch.conditions)


def items(branch: Branch) -> Iterator[Branch]:
    """Branches of every element of a list value (none for MISSING or a non-list)."""
    value = branch.value
    if type(value) is list:  # most reads: a plain list
        path, conditions = branch.path, branch.conditions
        for index, element in enumerate(value):
            yield from branches(element, (*path, index), conditions)
        return
    if isinstance(value, Unknown | Malformed):
        yield branch
        return
    wrong = _container_problem(value, list, branch.path)
    if wrong is not None:
        yield Branch(wrong, branch.path, branch.conditions)
        return
    if not isinstance(value, list):
        return
    for index, element in enumerate(value):
        yield from branches(element, (*branch.path, index), branch.conditions)


def _container_problem(value: Any, wanted: type, path: Path) -> Malformed | Unknown | None:
    """Why `value` cannot be walked as `wanted` (None when it can, or when it is absent)."""
    if value is MISSING or value is None:
        return None
    fn = intrinsic(value)
    if not fn and isinstance(value, wanted):
        return None
    if fn:
        reason = f"{where(path)} is computed by {fn[0]}, which the model does not walk"
        why = (Why(Cause.MACRO),) if fn[0] == "Fn::Transform" else ()
        return Unknown(reason, why, placed=_in_properties(path))
    return wrong_shape(value, "a mapping" if wanted is dict else "a list", path)


def as_list(value: Any) -> list:
    """IAM-style fields are a string or a list of strings."""
    if value is MISSING or value is None:
        return []
    return value if isinstance(value, list) else [value]
