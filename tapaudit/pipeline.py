"""The whole scan as a library call: configuration -> rules -> discovery -> scan -> triage.

The CLI and the CDK validation plugin both go through `run`, so a project's configuration,
suppressions and baseline mean the same thing wherever tapaudit runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct, field
from msgspec.structs import replace

from tapaudit.config import Config, ConfigError, path_excluded, resolve_path
from tapaudit.findings import ScanError, ScanResult, Skipped
from tapaudit.reporting.formats import RunRecord
from tapaudit.rules.model import Rule

if TYPE_CHECKING:
    from tapaudit.loading.discovery import TemplateSource


class UsageError(Exception):
    """The configuration or the command line is wrong: exit 2, one line for the user."""


class ScanOutcome(Struct):
    result: ScanResult
    rules: list[Rule]
    sources: list = field(default_factory=list)  # the TemplateSources scanned
    record: RunRecord = field(default_factory=RunRecord)  # what shaped the run, for the reports
    # Set when `exclude` removed every input and nothing else was there: the scan checked nothing
    # because of the configuration. One line naming the globs and the inputs.
    everything_excluded: str | None = None

    @property
    def origins(self) -> dict:
        """Report name -> baseline.Origin, to write a baseline."""
        from tapaudit.triage import baseline

        return {s.display: baseline.Origin(s.path, s.stack) for s in self.sources}


def load_all_rules(config: Config) -> list[Rule]:
    """Every rule, run or not, with the configuration's per-rule settings applied."""
    from tapaudit.rules import RuleFileError, load_rules

    try:
        return load_rules([Path(resolve_path(config, d, "rules_dirs")) for d in config.rules_dirs],
                          config)
    except (RuleFileError, ConfigError) as exc:
        raise UsageError(str(exc)) from None


def load_configured_rules(config: Config, rules: list[Rule] | None = None) -> list[Rule]:
    """The rules this run uses: `rules`/`skip_rules` applied to every loaded rule."""
    rules = rules if rules is not None else load_all_rules(config)
    known = {rule.id for rule in rules}
    unknown = sorted({r.upper() for r in [*config.rules, *config.skip_rules]} - known)
    if unknown:
        raise UsageError(f"unknown rule id {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    wanted = {r.upper() for r in config.rules}
    dropped = {r.upper() for r in config.skip_rules}
    return [r for r in rules if (not wanted or r.id in wanted) and r.id not in dropped]


def run_record(config: Config, every_rule: Sequence[Rule], rules: Sequence[Rule]) -> RunRecord:
    """What shaped a run under `config`, in the words of the configuration and the command line."""
    from tapaudit.config import COMMAND_LINE
    from tapaudit.loading.discovery import display_name

    def by(key: str, option: str) -> str:
        origin = config.origin(key)
        return option if origin == COMMAND_LINE else f"{key} in {origin}"

    running = {rule.id for rule in rules}
    dropped = {r.upper() for r in config.skip_rules}
    skipped = tuple((rule.id, f"skipped by {by('skip_rules', '--skip-rule')}" if rule.id in dropped
                     else f"not selected by {by('rules', '--rule')}")
                    for rule in every_rule if rule.id not in running)
    baseline = (display_name(Path(resolve_path(config, config.baseline, "baseline")))
                if config.baseline else None)
    return RunRecord(config_file=config.file_name if config.source else None,
                     fail_on=config.fail_on, strict_suppressions=config.strict_suppressions,
                     rules_run=tuple(rule.id for rule in rules), rules_skipped=skipped,
                     exclude=tuple(config.exclude), baseline=baseline,
                     config_not_applied=tuple((n.file, n.reason) for n in config.not_applied))


def run(paths: Sequence[str], config: Config | None = None, *, jobs: int = 0, debug: bool = False,
        on_error: Callable[[ScanError], None] | None = None,
        on_skipped: Callable[[Skipped], None] | None = None,
        start_progress: Callable[[int], Callable[[], None] | None] | None = None,
        allow_no_templates: bool = False, offer_fixes: bool = False) -> ScanOutcome:
    """Scan `paths` under `config`. Inputs that cannot be scanned land in `result.errors` (and are
    passed to `on_error` as they happen); `start_progress(total)` may return a per-input tick.
    `allow_no_templates` (hooks): named files that cannot be parsed and never mention a template
    section are skipped, not errors. `offer_fixes` (JSON and SARIF reports): plan `tapaudit fix`'s
    edits in memory and put them on `result.fix_offers`."""
    from tapaudit.loading.discovery import discover
    from tapaudit.scan import ScanOptions, SourceReport, scan_sources
    config = config or Config()
    every_rule = load_all_rules(config)
    rules = load_configured_rules(config, every_rule)
    if offer_fixes:
        _check_fix_tables(config, rules)
    baseline_file = Path(resolve_path(config, config.baseline, "baseline")) if config.baseline else None
    baseline_rows = _read_baseline(baseline_file) if baseline_file else None
    sources, discovery_errors = discover(paths)
    sources, excluded = _exclude(sources, config)
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

    options = ScanOptions(cdk_language=config.cdk_language, partition=config.partition,
                          known_rule_ids=tuple(rule.id for rule in every_rule),
                          unparsable_non_templates_ok=allow_no_templates)
    result = scan_sources(sources, rules, jobs=jobs, debug=debug, progress=each, options=options)
    result.errors.extend(discovery_errors)
    from tapaudit.triage import acknowledgments

    acknowledgments.apply(result, sources)  # CDK's, from the cloud assembly, as at synth
    result.skipped.extend(skipped for skipped, _ in excluded)
    outcome = ScanOutcome(result, rules, sources, run_record(config, every_rule, rules))
    if excluded and not sources and not discovery_errors:
        outcome.everything_excluded = _everything_excluded(excluded, config)
        outcome.record = replace(outcome.record, notes=(outcome.everything_excluded,))
    if baseline_file and baseline_rows is not None:
        from tapaudit.triage import baseline

        baseline.apply(result, baseline_rows, outcome.origins, baseline_file.parent,
                       [rule.id for rule in rules])
    result.sort()
    if offer_fixes and _may_fix(result, sources):  # only a run with a fix to offer pays for them
        fix_settings = _fix_settings(config, rules)
        if fix_settings is not None:
            from tapaudit.fixing.batch import fix_offers

            result.fix_offers = fix_offers(result, sources, rules, fix_settings, config.partition)
    return outcome


def _may_fix(result: ScanResult, sources: Sequence[TemplateSource]) -> bool:
    """Is a finding in a file `tapaudit fix` may edit (one not known to be CDK output)?"""
    from tapaudit.fixing import editable, findings_by_file

    return bool(editable(sources, findings_by_file(result.findings)))


def _check_fix_tables(config: Config, rules: Sequence[Rule]) -> None:
    """`[rules.ID.fix]` checked before the scan, as `tapaudit fix` checks it: a wrong value the
    configuration wrote is a configuration error."""
    written = [rule for rule in rules
               if (table := config.rule_settings.get(rule.id)) is not None and table.fix]
    if not written:
        return  # nothing to refuse; a run with no finding to offer a fix for never loads `fixing`
    from tapaudit.fixing.batch import fix_settings
    from tapaudit.fixing.plan import SettingsError

    try:
        fix_settings(config, written)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def _fix_settings(config: Config, rules: Sequence[Rule]) -> dict[str, dict] | None:
    """Every rule's fix settings, defaults included. None when only a default is unusable under
    the rule's parameters (TAP006's reserved_concurrency below a higher `minimum`): `tapaudit fix`
    would refuse to run, so nothing is fixable, and the scan itself is not failed for it."""
    from tapaudit.fixing.batch import fix_settings
    from tapaudit.fixing.plan import SettingsError

    try:
        return fix_settings(config, rules)
    except SettingsError:
        return None


def _read_baseline(path: Path) -> list[dict]:
    from tapaudit.triage import baseline  # only a run with a baseline pays for its code

    try:
        return baseline.read(path)
    except baseline.BaselineError as exc:
        raise UsageError(str(exc)) from None


def _exclude(sources: list, config: Config) -> tuple[list, list[tuple[Skipped, str]]]:
    """Drop the sources the configuration's `exclude` globs name; they are listed as skipped,
    each with the glob that matched it."""
    kept, skipped = [], []
    for source in sources:
        pattern = path_excluded(source.path, config) if source.path else None
        if pattern is None:
            kept.append(source)
        else:
            skipped.append((Skipped(source.display, f"excluded by exclude {pattern!r} in "
                                                    f"{config.file_name}"), pattern))
    return kept, skipped


_NAMED_AT_MOST = 5  # inputs named in the one line; the rest are counted (all are in `skipped`)


def _everything_excluded(excluded: list[tuple[Skipped, str]], config: Config) -> str:
    globs = ", ".join(repr(g) for g in dict.fromkeys(pattern for _, pattern in excluded))
    names = [skipped.file for skipped, _ in excluded]
    shown = ", ".join(names[:_NAMED_AT_MOST])
    if len(names) > _NAMED_AT_MOST:
        shown += f" and {len(names) - _NAMED_AT_MOST} more"
    return (f"every input is excluded by exclude {globs} in {config.file_name}, nothing was "
            f"scanned: {shown}")
