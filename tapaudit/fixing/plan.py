"""What a rule's planner gets and gives: the failing checks of one resource in, operations out.

Planners (one module per rule under `tapaudit/fixing/rules/`) hold the rule knowledge of how to
fix; they read the rule's parameters from the loaded Rule. They never touch text: the edit
engine places their operations in the file.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

from tapaudit.fixing.edits import Operation
from tapaudit.model.names import Names
from tapaudit.model.template import Template
from tapaudit.rules.model import Rule
from tapaudit.rules.outcome import Outcome


class SettingsError(Exception):
    """A `[rules.ID.fix]` value is wrong: exit 2, one line."""


class Planned(Struct):
    operations: list[Operation] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # why a failing part has no automatic fix
    notes: list[str] = field(default_factory=list)  # what the user should review

    def leave(self, reason: str) -> Planned:
        if reason not in self.left:
            self.left.append(reason)
        return self


class PlanContext(Struct):
    rule: Rule
    template: Template  # as tapaudit analyses it: SAM expanded
    data: dict[str, Any]  # the document as written
    logical_id: str
    failures: list[tuple[str, Outcome]]
    settings: dict[str, Any]  # the rule's [rules.ID.fix] settings, checked, with defaults
    logical_ids: Names  # shared by every planner of the file

    @property
    def resource(self) -> dict[str, Any]:
        resource = self.data.get("Resources", {}).get(self.logical_id)
        return resource if isinstance(resource, dict) else {}

    @property
    def properties(self) -> dict[str, Any]:
        props = self.resource.get("Properties")
        return props if isinstance(props, dict) else {}

    def written(self, path: tuple[str | int, ...]) -> Any:
        """The value at `path` of the document as written, or None."""
        value: Any = self.data
        for step in path:
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    def check_args(self, check_id: str) -> dict[str, Any]:
        for check in self.rule.checks:
            if check.id == check_id:
                return check.args
        return {}


def is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and \
        next(iter(value)).startswith(("Fn::", "Ref", "Condition"))
