"""Project configuration: `[tool.tapaudit]` in pyproject.toml or `.tapaudit.toml`.

The effective configuration is defaults, then the file, then the command line; `origins` records
where each value came from, for `tapaudit config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RuleSettings:
    """Per-rule settings: `[tool.tapaudit.rules.TAP003]`."""

    severity: str | None = None
    include: list[str] = field(default_factory=list)  # cdk_path or logical id globs
    exclude: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    fail_on: str = "high"
    rules: list[str] = field(default_factory=list)
    skip_rules: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    baseline: str | None = None
    strict_suppressions: bool = False
    rules_dirs: list[str] = field(default_factory=list)
    cdk_language: str = "typescript"  # typescript | python: the language of CDK fixes
    partition: str = "aws"  # where a verdict depends on AWS::Partition / AWS::URLSuffix
    rule_settings: dict[str, RuleSettings] = field(default_factory=dict)
    source: Path | None = None  # the file it was read from, if any
    origins: dict[str, str] = field(default_factory=dict)  # key -> "default" | file | "command line"
