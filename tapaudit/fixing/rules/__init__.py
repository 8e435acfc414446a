"""Per-rule edit planners: how each rule's finding becomes operations on the template.

A rule without a planner here has no automatic fix; its findings are left, with that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tapaudit.fixing.plan import PlanContext, Planned
from tapaudit.fixing.rules import tap002, tap003, tap004, tap005, tap006
from tapaudit.rules.model import Rule

PLANNERS: dict[str, Callable[[PlanContext], Planned]] = {
    "TAP002": tap002.plan, "TAP003": tap003.plan, "TAP004": tap004.plan, "TAP005": tap005.plan,
    "TAP006": tap006.plan,
}
# Why a rule has no planner at all.
NO_PLANNER = {
    "TAP001": "the tag gate needs a classifier function that tags objects: code only you can write",
}
# `[rules.ID.fix]` settings: checked, with documented defaults.
SETTINGS: dict[str, Callable[[Rule, dict[str, Any]], dict[str, Any]]] = {"TAP006": tap006.settings}
