"""The verdict of one predicate on one value."""

from __future__ import annotations

from enum import Enum

from msgspec import Struct
from msgspec.structs import replace

from tapaudit.model.values import Branch, Conditions, Malformed, Path, Unknown, Why, wrong_shape


class Status(Enum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    EXEMPT = "exempt"  # out of the rule's scope on purpose; `detail` says why
    INVALID = "invalid"  # a value of the wrong JSON type: the resource is invalid, not judged


class Outcome(Struct, frozen=True):
    status: Status
    detail: str = ""
    path: Path = ()
    conditions: Conditions = ()
    # Asides said after the detail, each in parentheses ("role R", a note on the source type).
    # Kept apart so a message can say an aside shared by all its details once, at the end.
    notes: tuple[str, ...] = ()
    shape: Malformed | None = None  # set on INVALID: what was expected where, what was found
    # The kind of failure (e.g. `not-arn`), a fact the rule's fix variants test as `problem`, so
    # each failing check carries its own fix.
    problem: str = ""
    # UNKNOWN: the typed causes the detail mentions (what would make it checkable), in its order.
    why: tuple[Why, ...] = ()

    @classmethod
    def ok(cls, branch: Branch | None = None, because: str = "") -> Outcome:
        return cls(Status.PASS, because, branch.path if branch else (),
                   branch.conditions if branch else ())

    @classmethod
    def exempt(cls, reason: str, branch: Branch) -> Outcome:
        return cls(Status.EXEMPT, reason, branch.path, branch.conditions)

    @classmethod
    def of_value(cls, branch: Branch, what: str = "") -> Outcome | None:
        """Invalid for a wrongly shaped value, unknown for an unknowable one, None otherwise."""
        if not isinstance(branch.value, Malformed | Unknown):
            return None
        reason = branch.value.reason
        # A shape problem already names where it is (`Properties.X is a list, ...`).
        if what and not branch.value.placed:
            reason = f"{what}: {reason}"
        if isinstance(branch.value, Malformed):
            return cls(Status.INVALID, reason, branch.path, branch.conditions, shape=branch.value)
        return cls.unknown(reason, branch, branch.value.why)

    @classmethod
    def wrong_shape(cls, branch: Branch, expected: str) -> Outcome:
        """The value a rule reads is not of the JSON type `expected` ("a mapping", "a list")."""
        return cls.of_value(Branch(wrong_shape(branch.value, expected, branch.path), branch.path,
                                   branch.conditions))  # type: ignore[return-value]

    def within(self, conditions: Conditions) -> Outcome:
        """The same outcome, holding only under more Fn::If conditions."""
        merged = self.conditions + tuple(c for c in conditions if c not in self.conditions)
        return replace(self, conditions=merged)

    def because(self, problem: str) -> Outcome:
        """The same outcome, with the kind of failure its fix depends on."""
        return replace(self, problem=problem)

    def noted(self, note: str) -> Outcome:
        """The same outcome with one more aside after its detail."""
        return replace(self, notes=(*self.notes, note))

    @classmethod
    def fail(cls, detail: str, branch: Branch) -> Outcome:
        return cls(Status.FAIL, detail, branch.path, branch.conditions)

    @classmethod
    def unknown(cls, detail: str, branch: Branch, why: tuple[Why, ...] = ()) -> Outcome:
        """`detail` for people; `why`, the typed causes it mentions, for the remedy."""
        return cls(Status.UNKNOWN, detail, branch.path, branch.conditions, why=why)
