"""A rule as loaded from its data file: metadata beside the declarative check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from msgspec import Struct, field

from tapaudit.findings import Severity
from tapaudit.rules.selectors import Step


class Check(Struct, frozen=True):
    """Select values of a resource, run a predicate on each; `missing` says what absence means."""

    id: str
    predicate: str
    steps: tuple[Step, ...] = ()
    args: dict[str, Any] = field(default_factory=dict)
    missing: str | None = None  # message when the selection is absent; None: absence passes


class FixVariant(Struct, frozen=True):
    """One way to say the fix: used when every `when` fact has one of the listed values."""

    when: dict[str, tuple[str, ...]]
    text: str
    once: str = ""  # said once after the texts of all subjects (e.g. how to make the queue)


class Fix(Struct, frozen=True):
    summary: str
    snippet: str
    cdk_python: str
    cdk_typescript: str
    cloudformation: str = ""  # the long example for `tapaudit explain`
    # Per-finding fixes (tapaudit/rules/fixes.py): the first variant that fits the input wins.
    variants: tuple[FixVariant, ...] = ()
    # Fix each failing entry of a list apart: {element: Targets, ref: Arn, name: Id}.
    subject: dict[str, str] = field(default_factory=dict)
    # Placeholder -> (fact, value per fact value), e.g. target_class: (target, {queue: SqsQueue}).
    tables: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    # The rule's (configured) parameters as dotted names, `partition_key.name` -> "status": facts
    # for `tables` and values for placeholders, so a fix follows the project's configuration.
    parameters: dict[str, str] = field(default_factory=dict)
    # A `fix_values` provider of the rule's predicate module: what the resource already has.
    values_from: str = ""
    # The rule's parameters as loaded (tables included), for the provider.
    parameter_tables: dict[str, Any] = field(default_factory=dict)


class Rule(Struct, frozen=True):
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
    # Scope from the project's configuration: cdk_path or logical id globs, and where they come from.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    scope_source: str = ""

    def help_markdown(self) -> str:
        return (
            f"**{self.title}** ({self.severity.label})\n\n{self.rationale.strip()}\n\n"
            f"Passes: {self.passes.strip()}\n\nFails: {self.fails.strip()}\n\n"
            f"Fix: {self.fix.summary}\n\n```python\n{self.fix.cdk_python.strip()}\n```\n\n"
            f"```typescript\n{self.fix.cdk_typescript.strip()}\n```\n\n"
            f"From the failure analysis: {self.analysis_item}"
        )
