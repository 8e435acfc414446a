"""A rule as loaded from its data file: metadata beside the declarative check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tapaudit.findings import Severity
from tapaudit.rules.selectors import Step


@dataclass(frozen=True)
class Check:
    """Select values of a resource, run a predicate on each; `missing` says what absence means."""

    id: str
    predicate: str
    steps: tuple[Step, ...] = ()
    args: dict[str, Any] = field(default_factory=dict)
    missing: str | None = None  # message when the selection is absent; None: absence passes


@dataclass(frozen=True)
class Fix:
    summary: str
    snippet: str
    cdk_python: str
    cdk_typescript: str


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: str
    severity: Severity
    analysis_item: str
    rationale: str
    why: str
    help_uri: str
    tags: tuple[str, ...]
    resource_types: tuple[str, ...]
    parameters: dict[str, Any]
    fix: Fix
    passes: str
    fails: str
    checks: tuple[Check, ...]
    applies_if: Check | None = None
    skip_if: Check | tuple[Check, ...] | None = None  # a list: the resource is skipped if any holds
    source: Path | None = None

    def help_markdown(self) -> str:
        return (
            f"**{self.title}** ({self.severity.label})\n\n{self.rationale.strip()}\n\n"
            f"Passes: {self.passes.strip()}\n\nFails: {self.fails.strip()}\n\n"
            f"Fix: {self.fix.summary}\n\n```python\n{self.fix.cdk_python.strip()}\n```\n\n"
            f"```typescript\n{self.fix.cdk_typescript.strip()}\n```\n\n"
            f"From the failure analysis: {self.analysis_item}"
        )
