"""The whole scan as a library call: configuration -> rules -> discovery -> scan -> triage.

The CLI and the CDK validation plugin both go through `run`, so a project's configuration,
suppressions and baseline mean the same thing wherever tapaudit runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tapaudit.config import Config
from tapaudit.findings import ScanError, ScanResult, Skipped
from tapaudit.rules.model import Rule


class UsageError(Exception):
    """The configuration or the command line is wrong: exit 2, one line for the user."""


@dataclass
class ScanOutcome:
    result: ScanResult
    rules: list[Rule]


def load_configured_rules(config: Config) -> list[Rule]:
    from tapaudit.rules import RuleFileError, load_rules

    try:
        rules = load_rules([Path(d) for d in config.rules_dirs])
    except RuleFileError as exc:
        raise UsageError(str(exc)) from None
    known = {rule.id for rule in rules}
    unknown = sorted({r.upper() for r in [*config.rules, *config.skip_rules]} - known)
    if unknown:
        raise UsageError(f"unknown rule id {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    wanted = {r.upper() for r in config.rules}
    dropped = {r.upper() for r in config.skip_rules}
    return [r for r in rules if (not wanted or r.id in wanted) and r.id not in dropped]


def run(paths: Sequence[str], config: Config | None = None, *, jobs: int = 0, debug: bool = False,
        on_error: Callable[[ScanError], None] | None = None,
        on_skipped: Callable[[Skipped], None] | None = None,
        start_progress: Callable[[int], Callable[[], None] | None] | None = None) -> ScanOutcome:
    """Scan `paths` under `config`. Inputs that cannot be scanned land in `result.errors` (and are
    passed to `on_error` as they happen); `start_progress(total)` may return a per-input tick."""
    from tapaudit.loading.discovery import discover
    from tapaudit.scan import ScanOptions, SourceReport, scan_sources

    config = config or Config()
    rules = load_configured_rules(config)
    sources, discovery_errors = discover(paths)
    for error in discovery_errors:
        if on_error:
            on_error(error)
    tick = start_progress(len(sources)) if start_progress else None

    def each(report: SourceReport) -> None:
        if report.error is not None and on_error:
            on_error(report.error)
        if report.skipped is not None and on_skipped:
            on_skipped(report.skipped)
        if tick:
            tick()

    options = ScanOptions(cdk_language=config.cdk_language, partition=config.partition)
    result = scan_sources(sources, rules, jobs=jobs, debug=debug, progress=each, options=options)
    result.errors.extend(discovery_errors)
    result.sort()
    return ScanOutcome(result, rules)
