"""Run rules over a template: select, apply predicates, fold outcomes into one result per resource."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum

from tapaudit.findings import Finding
from tapaudit.loading.positions import SourceMap
from tapaudit.model.provenance import Origin, Provenance
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Unknown
from tapaudit.rules.model import Check, Rule
from tapaudit.rules.outcome import Outcome, Status
from tapaudit.rules.predicates import Context, run
from tapaudit.rules.selectors import select


class Verdict(Enum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


@dataclass
class ResourceResult:
    rule: Rule
    logical_id: str
    resource_type: str
    verdict: Verdict
    failures: list[tuple[str, Outcome]] = field(default_factory=list)
    unknowns: list[tuple[str, Outcome]] = field(default_factory=list)
    # Set when the rule leaves this resource out on purpose (listed in the report's `exempt`).
    exempt_reason: str | None = None


def run_check(check: Check, ctx: Context, root: Branch) -> Iterator[Outcome]:
    for selected in select(check.steps, root):
        if selected.value is MISSING:
            if check.missing:
                yield Outcome.fail(check.missing, selected)
            else:
                yield Outcome.ok(selected)
        elif isinstance(selected.value, Unknown):
            yield Outcome.unknown(selected.value.reason, selected)
        else:
            yield from run(check.predicate, ctx, selected, check.args)


def _holds(check: Check, ctx: Context, root: Branch) -> bool:
    """For applies_if / skip_if: the predicate passes on a value that is really there."""
    for selected in select(check.steps, root):
        if selected.value is MISSING or isinstance(selected.value, Unknown):
            continue
        if any(o.status is Status.PASS for o in run(check.predicate, ctx, selected, check.args)):
            return True
    return False


def evaluate_rule(rule: Rule, template: Template) -> Iterator[ResourceResult]:
    results = (evaluate_resource(rule, template, logical_id, resource_type)
               for resource_type in rule.resource_types
               for logical_id in template.by_type.get(resource_type, ()))
    if template.provenance.origins:
        yield from _on_sources(results, template)
    else:
        yield from results


def evaluate_resource(rule: Rule, template: Template, logical_id: str,
                      resource_type: str) -> ResourceResult:
    ctx = Context(template, logical_id)
    root = Branch(template.resources[logical_id], ("Resources", logical_id))
    result = ResourceResult(rule, logical_id, resource_type, Verdict.NOT_APPLICABLE)
    if rule.skip_if and _holds(rule.skip_if, ctx, root):
        return result
    if rule.applies_if and not _holds(rule.applies_if, ctx, root):
        return result
    not_checked = template.provenance.unchecked.get(logical_id)
    if not_checked is not None:  # a macro rewrites it at deploy time: never a pass
        result.unknowns.append(("transform", Outcome.unknown(not_checked, root)))
        result.verdict = Verdict.UNKNOWN
        return result
    for check in rule.checks:
        for outcome in run_check(check, ctx, root):
            if outcome.status is Status.FAIL:
                result.failures.append((check.id, outcome))
            elif outcome.status is Status.UNKNOWN:
                result.unknowns.append((check.id, outcome))
    result.verdict = (Verdict.FAIL if result.failures else
                      Verdict.UNKNOWN if result.unknowns else Verdict.PASS)
    return result


def _describe(outcome: Outcome) -> str:
    if not outcome.conditions:
        return outcome.detail
    when = ", ".join(f"{name} is {str(flag).lower()}" for name, flag in outcome.conditions)
    return f"{outcome.detail} (when condition {when})"


def _unique(details: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(details))


def to_finding(result: ResourceResult, template: Template, file: str,
               source_map: SourceMap) -> Finding | None:
    rule = result.rule
    entries = result.failures or result.unknowns
    if not entries:
        return None
    unknown = not result.failures
    details = "; ".join(_unique(_describe(outcome) for _, outcome in entries))
    fix = f"{rule.fix.summary} (CDK: `{rule.fix.snippet}`)" if rule.fix.snippet else rule.fix.summary
    if unknown:
        message = (f"{result.logical_id} ({result.resource_type}) could not be verified: "
                   f"{details}. The value is only known at deploy time; check it by hand.")
    else:
        message = f"{result.logical_id} ({result.resource_type}) {details}. {rule.why} Fix: {fix}"
    path = entries[0][1].path or ("Resources", result.logical_id)
    line, column = source_map.locate(path)
    return Finding(
        rule_id=rule.id, severity=rule.severity, title=rule.title, message=message, file=file,
        line=line, column=column, resource=result.logical_id, resource_type=result.resource_type,
        cdk_path=template.cdk_path(result.logical_id), path=tuple(path),
        checks=tuple(_unique(check for check, _ in entries)), unknown=unknown)


_VERDICT_ORDER = (Verdict.FAIL, Verdict.UNKNOWN, Verdict.PASS, Verdict.NOT_APPLICABLE)


def _on_sources(results: Iterable[ResourceResult], template: Template) -> Iterator[ResourceResult]:
    """Results on generated resources, moved to the resource the user wrote (e.g. a SAM function
    and the role, rules and queues SAM makes for it): one result per rule and source resource."""
    provenance = template.provenance
    merged: dict[str, ResourceResult] = {}
    for result in results:
        origin = provenance.origin(result.logical_id)
        if origin is None:
            merged.setdefault(result.logical_id, result)
            continue

        into = merged.setdefault(origin.logical_id, ResourceResult(
            result.rule, origin.logical_id, origin.resource_type, Verdict.NOT_APPLICABLE,
            exempt_reason=result.exempt_reason))
        into.failures += [(check, _moved(o, origin, provenance, True)) for check, o in result.failures]
        into.unknowns += [(check, _moved(o, origin, provenance, False)) for check, o in result.unknowns]
        into.verdict = min(into.verdict, result.verdict, key=_VERDICT_ORDER.index)
        if result.exempt_reason is None:
            into.exempt_reason = None
    yield from merged.values()


def _moved(outcome: Outcome, origin: Origin, provenance: Provenance, is_failure: bool) -> Outcome:
    detail = f"{origin.label}: {outcome.detail}" if origin.label else outcome.detail
    if is_failure and origin.note:
        detail = f"{detail} ({origin.note})"
    return replace(outcome, detail=detail, path=provenance.source_path(outcome.path))
