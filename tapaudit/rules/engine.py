"""Run rules over a template: select, apply predicates, fold outcomes into one result per resource."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum
from fnmatch import fnmatchcase
from typing import TypeVar

from msgspec import Struct, field
from msgspec.structs import replace

from tapaudit.findings import Finding, Invalid
from tapaudit.loading.positions import SourceMap
from tapaudit.model.provenance import Origin, Provenance
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Malformed, Unknown, Why, where
from tapaudit.rules.fixes import select_fix, unknown_fix
from tapaudit.rules.model import Check, Rule
from tapaudit.rules.outcome import Outcome, Status
from tapaudit.rules.predicates import Context, run
from tapaudit.rules.selectors import select


class Verdict(Enum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


class ResourceResult(Struct):
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
        elif isinstance(selected.value, Unknown | Malformed):
            yield Outcome.of_value(selected)  # type: ignore[misc]
        else:
            yield from run(check.predicate, ctx, selected, check.args)


def _scope(check: Check | tuple[Check, ...], ctx: Context, root: Branch) -> tuple[str | None, Outcome | None]:
    """For applies_if / skip_if: (why the predicate holds on a value that is really there, or None;
    the first unknown outcome when it does not hold but depends on a value that cannot be known).
    Scope is decided like any other value: an unknown one leaves the resource undecided, never out."""
    undecided: Outcome | None = None
    for one in check if isinstance(check, tuple) else (check,):
        for selected in select(one.steps, root):
            if isinstance(selected.value, Malformed):
                ctx.template.note_shape(ctx.logical_id, selected.value)
                continue
            if selected.value is MISSING:
                continue
            if isinstance(selected.value, Unknown):
                undecided = undecided or Outcome.of_value(selected)
                continue
            for outcome in run(one.predicate, ctx, selected, one.args):
                if outcome.status is Status.PASS:
                    return outcome.detail or one.id, None
                if outcome.shape is not None:
                    ctx.template.note_shape(ctx.logical_id, outcome.shape)
                elif outcome.status is Status.UNKNOWN:
                    undecided = undecided or outcome
    return None, undecided


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
    if logical_id in template.shape_problems:  # invalid: reported as such, judged by no rule
        return result
    result.exempt_reason = out_of_scope(rule, logical_id, template.cdk_path(logical_id))
    if result.exempt_reason:
        return result
    undecided: Outcome | None = None  # whether the rule applies depends on an unknown value
    if rule.skip_if:
        result.exempt_reason, undecided = _scope(rule.skip_if, ctx, root)
    applies = True
    if not result.exempt_reason and rule.applies_if:
        reason, unknown_scope = _scope(rule.applies_if, ctx, root)
        applies = reason is not None or unknown_scope is not None
        undecided = undecided or unknown_scope
    if logical_id in template.shape_problems:  # what skip_if or applies_if read has a wrong shape
        result.exempt_reason = None
        return result
    if result.exempt_reason or not applies:
        return result
    not_checked = template.provenance.unchecked.get(logical_id)
    if not_checked is not None:  # a macro rewrites it at deploy time: never a pass
        result.unknowns.append(("transform", Outcome.unknown(not_checked.reason, root, not_checked.why)))
        result.verdict = Verdict.UNKNOWN
        return result
    exempt: list[str] = []
    judged = False
    for check in rule.checks:
        for outcome in run_check(check, ctx, root):
            if outcome.shape is not None:  # a read found a wrong JSON type: invalid, not judged
                template.note_shape(logical_id, outcome.shape)
                return ResourceResult(rule, logical_id, resource_type, Verdict.NOT_APPLICABLE)
            if outcome.status is Status.EXEMPT:
                exempt.append(outcome.detail)
                continue
            judged = True
            if outcome.status is Status.FAIL:
                result.failures.append((check.id, outcome))
            elif outcome.status is Status.UNKNOWN:
                result.unknowns.append((check.id, outcome))
    if exempt:
        result.exempt_reason = "; ".join(_unique(exempt))
        if not judged:  # everything the rule looked at is out of its scope
            return result
    result.verdict = (Verdict.FAIL if result.failures else
                      Verdict.UNKNOWN if result.unknowns else Verdict.PASS)
    if undecided is not None and result.verdict is not Verdict.PASS:
        _undecided_scope(result, undecided)
    return result


def _undecided_scope(result: ResourceResult, undecided: Outcome) -> None:
    """A resource that may be out of the rule's scope: what would fail is unknown, not a finding
    (it passes only when it passes whether or not the rule applies)."""
    scope = replace(undecided, detail=f"{undecided.detail}, so whether the rule applies is unknown")
    result.unknowns = [("scope", scope), *((check, replace(o, status=Status.UNKNOWN))
                                           for check, o in result.failures + result.unknowns)]
    result.failures = []
    result.verdict = Verdict.UNKNOWN


def out_of_scope(rule: Rule, logical_id: str, cdk_path: str | None) -> str | None:
    """Why the project's configuration leaves this resource out of the rule, or None."""
    names = [logical_id, *([cdk_path] if cdk_path else [])]

    def matches(pattern: str) -> bool:
        return any(fnmatchcase(name, pattern) for name in names)

    if rule.include and not any(matches(p) for p in rule.include):
        wanted = ", ".join(f"'{p}'" for p in rule.include)
        return f"out of scope: not matched by {rule.scope_source} include {wanted}"
    for pattern in rule.exclude:
        if matches(pattern):
            return f"out of scope: excluded by {rule.scope_source} exclude '{pattern}'"
    return None


# A detail as a message says it: its text, then its asides, each in parentheses.
Described = tuple[str, tuple[str, ...]]
Condition = tuple[tuple[str, bool], ...]


def _described(outcome: Outcome, template: Template) -> tuple[Described, Condition]:
    # display(): deploy-time values appear symbolically (${AWS::AccountId}), whatever a predicate wrote.
    return ((template.display(outcome.detail), tuple(template.display(n) for n in outcome.notes)),
            outcome.conditions)


def _when(conditions: list[Condition]) -> str:
    """The Fn::If branches a detail holds in, said once; nothing when they cover every branch."""
    said = [", ".join(f"{name} is {str(flag).lower()}" for name, flag in branch) for branch in conditions]
    if not all(said) or _every_branch(conditions):
        return ""
    return "when condition " + " or ".join(dict.fromkeys(said))


def _every_branch(conditions: list[Condition]) -> bool:
    """One condition, seen both true and false: the detail holds whatever it is."""
    single = {branch[0] for branch in conditions if len(branch) == 1}
    return any((name, not flag) in single for name, flag in single)


def _merged(entries: Iterable[tuple[Described, Condition]]) -> list[Described]:
    """Each detail once, with the branches it holds in as its last aside."""
    branches: dict[Described, list[Condition]] = {}
    for described, conditions in entries:
        branches.setdefault(described, []).append(conditions)
    merged = []
    for (text, notes), conditions in branches.items():
        when = _when(conditions)
        merged.append((text, (*notes, when) if when else notes))
    return merged


def _causes(entries: list[tuple[str, Outcome]], template: Template) -> list[tuple[Why, ...]]:
    """The typed causes of each detail, in the order `_merged` says the details."""
    found: dict[Described, tuple[Why, ...]] = {}
    for _, outcome in entries:
        described, _ = _described(outcome, template)
        found[described] = found.get(described, ()) + outcome.why
    return list(found.values())


def _said(text: str, notes: tuple[str, ...]) -> str:
    return text + "".join(f" ({note})" for note in notes)


_T = TypeVar("_T")


def _unique(details: Iterable[_T]) -> list[_T]:
    return list(dict.fromkeys(details))


MAX_MESSAGE = 200  # a message is one sentence a CI log line can hold


def _join(details: list[Described]) -> str:
    """Details joined by '; ', the asides they all end with said once, at the end."""
    shared: tuple[str, ...] = ()
    while len(details) > 1 and details[-1][1]:
        last = details[-1][1][-1]
        if not all(notes and notes[-1] == last for _, notes in details):
            break
        details = [(text, notes[:-1]) for text, notes in details]
        shared = (last, *shared)
    return _said("; ".join(_said(text, notes) for text, notes in details), shared)


def _sentence(opening: str, details: list[Described]) -> tuple[str, tuple[str, ...]]:
    """`opening` and as many details as fit in MAX_MESSAGE characters, counting the rest; and the
    rest, each as a sentence of its own (the finding's `more`)."""
    for said in range(len(details), 0, -1):
        rest = len(details) - said
        more = f"; and {rest} more problem{'s' if rest != 1 else ''}" if rest else ""
        message = f"{opening}{_join(details[:said])}{more}."
        if said == 1 and len(message) > MAX_MESSAGE:  # the rest are still named, in `more`
            message = f"{opening}{_join(details[:1])}."
        if len(message) <= MAX_MESSAGE or said == 1:
            return message, tuple(f"{_said(text, notes)}." for text, notes in details[said:])
    return f"{opening}.", ()


def to_finding(result: ResourceResult, template: Template, file: str,
               source_map: SourceMap, cdk_language: str = "typescript") -> Finding | None:
    rule = result.rule
    entries = result.failures or result.unknowns
    if not entries:
        return None
    unknown = not result.failures
    details = _merged(_described(outcome, template) for _, outcome in entries)
    # A failing resource still lists what could not be verified: unknowns are never hidden.
    unverified = () if unknown else tuple(_unique(
        f"{check}: {_said(*_merged([_described(outcome, template)])[0])}."
        for check, outcome in result.unknowns))
    # One sentence on this resource; the rule's impact and the fix are fields of their own.
    if unknown:
        message, more = _sentence(f"{result.logical_id} could not be verified: ", details)
        fix = unknown_fix(_causes(entries, template))
    else:
        message, more = _sentence(f"{result.logical_id}: ", details)
        fix = select_fix(rule.fix, template, result.logical_id, cdk_language,
                         [(check, outcome.path, outcome.problem) for check, outcome in entries])
    path = entries[0][1].path or ("Resources", result.logical_id)
    line, column = source_map.locate(path)
    return Finding(
        rule_id=rule.id, severity=rule.severity, title=rule.title, message=message, file=file,
        line=line, column=column, resource=result.logical_id, resource_type=result.resource_type,
        cdk_path=template.cdk_path(result.logical_id), path=tuple(path),
        checks=tuple(_unique(check for check, _ in entries)), unknown=unknown,
        why=rule.why, fix=fix, unverified=unverified, more=more)


def to_invalid(template: Template, logical_id: str, file: str, source_map: SourceMap) -> Invalid:
    """The report entry of a resource with a shape problem, on the resource the user wrote."""
    problem = template.shape_problems[logical_id]
    provenance = template.provenance
    origin = provenance.origin(logical_id)
    path = provenance.source_path(problem.at) if origin else problem.at
    line, column = source_map.locate(path)
    resource = origin.logical_id if origin else logical_id
    return Invalid(file=file, line=line, column=column, resource=resource,
                   resource_type=origin.resource_type if origin else template.type_of(logical_id),
                   path=where(_without_branches(path)), expected=problem.expected, found=problem.found,
                   cdk_path=template.cdk_path(resource))


def _without_branches(path: tuple) -> tuple:
    """The path without its `Fn::If` steps (the function and the branch index): the property."""
    kept: list = []
    for key in path:
        if kept and kept[-1] == "Fn::If" and isinstance(key, int):
            kept.pop()
        else:
            kept.append(key)
    return tuple(kept)


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
        into.failures += [(check, _moved(o, origin, provenance)) for check, o in result.failures]
        into.unknowns += [(check, _moved(o, origin, provenance)) for check, o in result.unknowns]
        into.verdict = min(into.verdict, result.verdict, key=_VERDICT_ORDER.index)
        if result.exempt_reason is None:
            into.exempt_reason = None
    yield from merged.values()


def _moved(outcome: Outcome, origin: Origin, provenance: Provenance) -> Outcome:
    detail = f"{origin.label}: {outcome.detail}" if origin.label else outcome.detail
    return replace(outcome, detail=detail, path=provenance.source_path(outcome.path))
