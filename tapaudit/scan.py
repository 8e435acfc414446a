"""Scan orchestration: read and parse each source, run the rules, collect findings and errors.

One bad input never stops the others. Large batches fan out over all cores.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from msgspec import Struct, field

from tapaudit.errors import InputError, InstallError, interrupted
from tapaudit.findings import (
    Checked,
    Exemption,
    Finding,
    Invalid,
    NotChecked,
    ScanError,
    ScanResult,
    Skipped,
    SuppressionProblem,
)
from tapaudit.loading.discovery import TemplateSource, read_text
from tapaudit.loading.parse import parse_document
from tapaudit.model.template import Template
from tapaudit.rules.engine import Verdict, evaluate_rule, to_finding, to_invalid
from tapaudit.rules.model import Rule
from tapaudit.transforms import expand, might_transform
from tapaudit.triage import has_suppressions

PARALLEL_MIN_SOURCES = 8
_TEMPLATE_HINTS = ("AWSTemplateFormatVersion", "Resources")


class ScanOptions(Struct, frozen=True):
    """Settings that shape verdicts and messages, the same in every worker process."""

    cdk_language: str = "typescript"  # the language of CDK fixes
    partition: str = "aws"
    today: date = field(default_factory=date.today)  # when suppressions expire
    known_rule_ids: tuple[str, ...] = ()  # every loaded rule, run or not: suppressions may name them
    # For hooks (--allow-no-templates): a named file that cannot be parsed and never mentions a
    # template section (a Helm chart, multi-document YAML) is skipped with a note, not an error.
    unparsable_non_templates_ok: bool = False


class SourceReport(Struct):
    display: str
    is_template: bool = False
    findings: list[Finding] = field(default_factory=list)
    unknown: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    suppression_problems: list[SuppressionProblem] = field(default_factory=list)
    exempt: list[Exemption] = field(default_factory=list)
    skipped: Skipped | None = None
    not_checked: list[NotChecked] = field(default_factory=list)
    error: ScanError | None = None
    checked: list[Checked] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)


def scan_template(template: Template, rules: Sequence[Rule], display: str, source_map,
                  options: ScanOptions | None = None) -> SourceReport:
    """Run every rule on one template: findings, unknowns and exemptions for `display`."""
    report = SourceReport(display, is_template=True)
    report.not_checked = _not_checked(template, display, {t for rule in rules for t in rule.resource_types})
    for rule in rules:
        for result in evaluate_rule(rule, template):
            if result.exempt_reason is not None:
                report.exempt.append(Exemption(rule.id, display, result.logical_id, result.resource_type,
                                               template.cdk_path(result.logical_id),
                                               result.exempt_reason))
            if result.verdict is not Verdict.NOT_APPLICABLE:
                report.checked.append(Checked(rule.id, display, result.logical_id, result.resource_type,
                                              template.cdk_path(result.logical_id)))
            finding = to_finding(result, template, display, source_map,
                                 (options or ScanOptions()).cdk_language)
            if finding is not None:
                (report.unknown if finding.unknown else report.findings).append(finding)
    _set_invalid_apart(report, template, source_map)
    return report


def _set_invalid_apart(report: SourceReport, template: Template, source_map) -> None:
    """Resources with a shape problem, once each; what rules said on them before a later rule's
    read found the problem is dropped: the rules report nothing on an invalid resource."""
    invalid: dict[str, Invalid] = {}
    for logical_id in template.shape_problems:
        entry = to_invalid(template, logical_id, report.display, source_map)
        invalid.setdefault(entry.resource, entry)
    if not invalid:
        return
    report.invalid = list(invalid.values())
    report.findings = [f for f in report.findings if f.resource not in invalid]
    report.unknown = [f for f in report.unknown if f.resource not in invalid]
    report.exempt = [e for e in report.exempt if e.resource not in invalid]
    report.checked = [c for c in report.checked if c.resource not in invalid]
    report.not_checked = [n for n in report.not_checked if n.resource not in invalid]


def _not_checked(template: Template, display: str, read: set[str]) -> list[NotChecked]:
    """What transforms left unchecked, once per resource the user wrote: where a rule reads the
    resource (`read`: the rules' types), or what it becomes is unknown (a macro rewrites the whole
    template, a loop that cannot be expanded, a SAM type tapaudit does not expand)."""
    provenance = template.provenance
    found: dict[str, str] = {}
    for logical_id, unchecked in provenance.unchecked.items():
        kind = template.type_of(logical_id)
        if not (provenance.whole_template or kind is None or kind in read
                or kind.startswith("AWS::Serverless::")):
            continue
        origin = provenance.origin(logical_id)
        found.setdefault(origin.logical_id if origin else logical_id, unchecked.reason)
    return [NotChecked(display, resource, reason) for resource, reason in found.items()]


def scan_source(source: TemplateSource, rules: Sequence[Rule], debug: bool = False,
                options: ScanOptions | None = None) -> SourceReport:
    # A template's scan keeps what it builds (the parsed document, the model) to its end and
    # leaves no garbage cycles: the cycle collector would walk that growing graph again and again
    # to find nothing (a hundred times, once over every object, in a 450-resource YAML template:
    # a sixth of its scan). It runs between templates, on whatever a hostile one may have left.
    if not gc.isenabled():
        return _scan_source(source, rules, debug, options)
    gc.disable()
    try:
        return _scan_source(source, rules, debug, options)
    finally:
        gc.enable()


def _scan_source(source: TemplateSource, rules: Sequence[Rule], debug: bool,
                 options: ScanOptions | None) -> SourceReport:
    report = SourceReport(source.display)
    text = None
    try:
        text = read_text(source)
        document = parse_document(text)
        data = document.data
        if not isinstance(data, dict) or not any(key in data for key in _TEMPLATE_HINTS):
            # e.g. package.json handed over by a pre-commit hook, a Helm chart in a folder: listed
            report.skipped = Skipped(source.display, "not a CloudFormation template (no "
                                                     "Resources or AWSTemplateFormatVersion)")
            return report
        if data.get("Resources") is not None and not isinstance(data["Resources"], dict):
            raise InputError("Resources is not a mapping")
        expansion = expand(data) if might_transform(text) else None
        template = Template(expansion.data if expansion else data, dict(source.cdk_paths),
                            (options or ScanOptions()).partition)
        if expansion:
            template.provenance = expansion.provenance
        report = scan_template(template, rules, source.display, document.source_map, options)
        # Metadata of the document as written (and of what only a transform writes).
        if has_suppressions(data) or (expansion and has_suppressions(expansion.data)):
            _apply_suppressions(report, data, rules, options or ScanOptions(),
                                expansion.data if expansion else None)
    except InputError as exc:
        # A candidate that cannot be read or decoded is an error wherever it was found; in a folder
        # walk, text that does not even mention a template section is not ours (listed as skipped).
        mentions_template = text is not None and any(h in text for h in _TEMPLATE_HINTS)
        if text is None or mentions_template or (source.explicit and not (
                options and options.unparsable_non_templates_ok)):
            report.error = ScanError(source.display, str(exc))
        else:
            report.skipped = Skipped(source.display, f"not a CloudFormation template ({exc})")
    except InstallError as exc:  # e.g. a damaged managed-policy snapshot: not a pass, not a crash
        report.error = ScanError(source.display, str(exc))
    except RecursionError:
        report.error = ScanError(source.display, "nesting too deep to scan")
    except Exception as exc:  # the last guard: a scanner bug must not hide other inputs
        if interrupted(exc):  # a Ctrl-C that landed here wrapped: the run ends, as for any other
            raise KeyboardInterrupt from exc
        if debug:
            raise
        report.error = ScanError(source.display, f"internal error while scanning ({type(exc).__name__}:"
                                                 f" {exc}); rerun with --debug for details")
    return report


def _apply_suppressions(report: SourceReport, document: Mapping[str, Any], rules: Sequence[Rule],
                        options: ScanOptions, expanded: Mapping[str, Any] | None) -> None:
    """Apply one template's suppressions to its report, in place."""
    # Imported here: most templates carry no suppressions and never pay for the module.
    from tapaudit.triage.suppressions import apply

    active = [rule.id for rule in rules]
    report.findings, report.unknown, suppressed, problems = apply(
        report.findings, report.unknown, document, report.display,
        options.known_rule_ids or active, active, options.today, expanded)
    report.suppressed.extend(suppressed)
    report.suppression_problems.extend(problems)


# Worker state: set before the pool forks, so rules are loaded once, not pickled per task.
_WORKER_RULES: Sequence[Rule] = ()
_WORKER_OPTIONS: ScanOptions | None = None


def _scan_in_worker(source: TemplateSource) -> SourceReport:
    return scan_source(source, _WORKER_RULES, options=_WORKER_OPTIONS)


def scan_sources(sources: Sequence[TemplateSource], rules: Sequence[Rule], *, jobs: int = 0,
                 debug: bool = False, progress: Callable[[SourceReport], None] | None = None,
                 options: ScanOptions | None = None) -> ScanResult:
    result = ScanResult()
    workers = jobs or os.cpu_count() or 1
    if workers > 1 and len(sources) >= PARALLEL_MIN_SOURCES and not debug and _can_fork():
        # Imported here: a single template never pays for the process pool's imports (~10 ms).
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        global _WORKER_RULES, _WORKER_OPTIONS
        _WORKER_RULES, _WORKER_OPTIONS = rules, options
        # What the workers inherit (modules, rules) lives as long as they do: frozen, it is never
        # walked by their cycle collector, nor are its pages touched (and so copied) by it.
        gc.freeze()
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=min(workers, len(sources)), mp_context=context) as pool:
                # Small chunks: the workers finish together (a chunk of 6 stacks left one worker
                # ~0.1 s behind on a 50-stack assembly), for ~0.1 ms per chunk sent.
                chunk = max(1, len(sources) // (workers * 16))
                reports = pool.map(_scan_in_worker, sources, chunksize=chunk)
                for report in reports:
                    _collect(result, report, progress)
        finally:
            gc.unfreeze()  # the caller's own objects are collected as before (a test session's)
    else:
        for source in sources:
            _collect(result, scan_source(source, rules, debug, options), progress)
    return result  # unsorted: pipeline.run sorts once, after discovery errors and the baseline


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _collect(result: ScanResult, report: SourceReport,
             progress: Callable[[SourceReport], None] | None) -> None:
    if report.is_template:
        result.templates.append(report.display)
    result.findings.extend(report.findings)
    result.unknown.extend(report.unknown)
    result.suppressed.extend(report.suppressed)
    result.suppression_problems.extend(report.suppression_problems)
    result.exempt.extend(report.exempt)
    result.checked.extend(report.checked)
    result.invalid.extend(report.invalid)
    if report.skipped:
        result.skipped.append(report.skipped)
    result.not_checked.extend(report.not_checked)
    if report.error:
        result.errors.append(report.error)
    if progress:
        progress(report)
