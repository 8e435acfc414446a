"""Run rules over a template: select, apply predicates, fold outcomes into one result per resource."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from tapaudit.findings import Finding
from tapaudit.loading.positions import SourceMap
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Unknown
from tapaudit.rules.fixes import select_fix
from tapaudit.rules.model import Check, Rule
from tapaudit.rules.outcome import Outcome, Status
from tapaudit.rules.predicates import Context, run
from tapaudit.rules.selectors import select

if TYPE_CHECKING:
    from tapaudit.scan import ScanOptions


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
    for resource_type in rule.resource_types:
        for logical_id in template.by_type.get(resource_type, ()):
            yield evaluate_resource(rule, template, logical_id, resource_type)


def evaluate_resource(rule: Rule, template: Template, logical_id: str,
                      resource_type: str) -> ResourceResult:
    ctx = Context(template, logical_id)
    root = Branch(template.resources[logical_id], ("Resources", logical_id))
    result = ResourceResult(rule, logical_id, resource_type, Verdict.NOT_APPLICABLE)
    if rule.skip_if and _holds(rule.skip_if, ctx, root):
        return result
    if rule.applies_if and not _holds(rule.applies_if, ctx, root):
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


MAX_DETAILS = 3  # a message names this many problems, then counts the rest


def _join(details: list[str]) -> str:
    """Details joined by '; ', a parenthetical they all end with said once, at the end."""
    if len(details) > MAX_DETAILS:
        rest = len(details) - MAX_DETAILS
        return _join(details[:MAX_DETAILS]) + f"; and {rest} more problem{'s' if rest != 1 else ''}"
    last = details[-1]
    suffix = last[last.rfind(" ("):] if last.endswith(")") and " (" in last else ""
    if len(details) > 1 and suffix and all(d.endswith(suffix) for d in details):
        return "; ".join(d[: -len(suffix)] for d in details) + suffix
    return "; ".join(details)


UNKNOWN_FIX = ("check it by hand once deployed, or make the value visible in the template "
               "(a parameter default, a resource of this stack)")


def to_finding(result: ResourceResult, template: Template, file: str,
               source_map: SourceMap, options: ScanOptions | None = None) -> Finding | None:
    rule = result.rule
    entries = result.failures or result.unknowns
    if not entries:
        return None
    unknown = not result.failures
    details = _join(_unique(_describe(outcome) for _, outcome in entries))
    # One sentence on this resource; the rule's impact and the fix are fields of their own.
    if unknown:
        message = f"{result.logical_id} could not be verified: {details}."
        fix = UNKNOWN_FIX
    else:
        message = f"{result.logical_id}: {details}."
        fix = select_fix(rule.fix, template, result.logical_id,
                         options.cdk_language if options else "typescript",
                         [(check, outcome.path) for check, outcome in entries])
    path = entries[0][1].path or ("Resources", result.logical_id)
    line, column = source_map.locate(path)
    return Finding(
        rule_id=rule.id, severity=rule.severity, title=rule.title, message=message, file=file,
        line=line, column=column, resource=result.logical_id, resource_type=result.resource_type,
        cdk_path=template.cdk_path(result.logical_id), path=tuple(path),
        checks=tuple(_unique(check for check, _ in entries)), unknown=unknown,
        why=rule.why, fix=fix)
