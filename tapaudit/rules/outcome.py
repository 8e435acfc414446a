"""The verdict of one predicate on one value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tapaudit.model.values import Branch, Conditions, Path


class Status(Enum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Outcome:
    status: Status
    detail: str = ""
    path: Path = ()
    conditions: Conditions = ()

    @classmethod
    def ok(cls, branch: Branch | None = None) -> Outcome:
        return cls(Status.PASS, "", branch.path if branch else (), branch.conditions if branch else ())

    @classmethod
    def fail(cls, detail: str, branch: Branch) -> Outcome:
        return cls(Status.FAIL, detail, branch.path, branch.conditions)

    @classmethod
    def unknown(cls, detail: str, branch: Branch) -> Outcome:
        return cls(Status.UNKNOWN, detail, branch.path, branch.conditions)
