"""Fix one template: its findings -> planned operations -> text edits -> the fixed text, checked.

The fixed text is evaluated again before anything is shown or written: a finding counts as fixed
only when its rule no longer fails on the resource, and edits that would make another rule fail
are not made. Below the gate and the pipeline (it acts on triaged findings): it runs the rules
itself rather than `scan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import Struct, field

from tapaudit.errors import InputError
from tapaudit.findings import Finding
from tapaudit.fixing import known_cdk_output
from tapaudit.fixing.document import Document
from tapaudit.fixing.edits import Conflict, Hunk, TextEdit, Unplaceable, apply, hunks, place
from tapaudit.fixing.plan import Names, PlanContext, Planned
from tapaudit.fixing.rules import NO_PLANNER, PLANNERS
from tapaudit.loading.discovery import TemplateSource
from tapaudit.loading.parse import parse_document
from tapaudit.model.names import taken_logical_ids
from tapaudit.model.template import Template
from tapaudit.rules.engine import Verdict, evaluate_rule
from tapaudit.rules.fixes import is_cdk_output
from tapaudit.rules.model import Rule
from tapaudit.transforms import expand, might_transform

CDK_REFUSAL = "CDK output is generated: tapaudit fix does not edit it; apply each finding's fix in the app"


class FindingFix(Struct):
    finding: Finding
    fixed: bool
    reasons: list[str] = field(default_factory=list)  # why (part of) it was not fixed
    notes: list[str] = field(default_factory=list)  # what to review in the edit


class FileFix(Struct):
    source: TemplateSource
    original: str
    fixed: str
    hunks: list[Hunk] = field(default_factory=list)
    results: list[FindingFix] = field(default_factory=list)
    refused: str | None = None  # CDK output

    @property
    def changed(self) -> bool:
        return self.fixed != self.original


def is_cdk(data: Any, findings: Sequence[Finding], source: TemplateSource) -> bool:
    if known_cdk_output(source, findings):
        return True
    resources = data.get("Resources") if isinstance(data, dict) else None
    if isinstance(resources, dict) and any(
            isinstance(r, dict) and isinstance(r.get("Metadata"), dict) and "aws:cdk:path" in r["Metadata"]
            for r in resources.values()):
        return True
    return isinstance(data, dict) and is_cdk_output(Template(data))


def analysed(data: dict, text: str, partition: str) -> Template:
    """The template as `scan` analyses it (SAM and ForEach expanded)."""
    expansion = expand(data) if might_transform(text) else None
    template = Template(expansion.data if expansion else data, {}, partition)
    if expansion:
        template.provenance = expansion.provenance
    return template


def fix_source(source: TemplateSource, text: str, findings: Sequence[Finding], rules: Sequence[Rule],
               settings: dict[str, dict[str, Any]], partition: str = "aws") -> FileFix:
    """Fix `findings` (those of `source` that count for the gate) in `text`, the file as written."""
    result = FileFix(source, text, text)
    document = parse_document(text)
    data = document.data
    if is_cdk(data, findings, source):
        result.refused = CDK_REFUSAL
        result.results = [FindingFix(f, False, [f"CDK output: {f.fix}"]) for f in findings]
        return result
    template = analysed(data, text, partition)
    by_id = {rule.id: rule for rule in rules}
    # Every rule on the template as written, in the scan's order: the failures each finding's plan
    # starts from, and those an edit must not add to (the text is not parsed again for them).
    evaluated = {rule.id: {r.logical_id: r for r in evaluate_rule(rule, template)} for rule in rules}
    before = {(rule_id, logical_id) for rule_id, results in evaluated.items()
              for logical_id, r in results.items() if r.verdict is Verdict.FAIL}
    logical_ids = Names([*(data.get("Resources") or {}), *taken_logical_ids(template)])
    plans: dict[str, tuple[FindingFix, Planned]] = {}
    for finding in findings:
        fix = FindingFix(finding, False)
        result.results.append(fix)
        rule = by_id.get(finding.rule_id)
        planner = PLANNERS.get(finding.rule_id)
        if finding.unknown or rule is None or planner is None:
            fix.reasons.append(NO_PLANNER.get(finding.rule_id, "no automatic fix for this rule"))
            continue
        outcome = evaluated[rule.id].get(finding.resource)
        failures = outcome.failures if outcome else []
        blocked = [o.detail for check, o in failures if check in ("resource-shape", "transform")]
        if not isinstance((data.get("Resources") or {}).get(finding.resource), dict):
            blocked.append(f"{finding.resource} is not written in the template (a transform such as "
                           "Fn::ForEach makes it): fix it where it is generated")
        if not failures or blocked:
            fix.reasons += blocked or ["its failures could not be traced in the template as written"]
            continue
        planned = planner(PlanContext(rule, template, data, finding.resource, failures,
                                      settings.get(rule.id, {}), logical_ids))
        fix.reasons += planned.left
        fix.notes += planned.notes
        if planned.operations:
            plans[finding.fingerprint] = (fix, planned)
    _apply(result, Document(text, document.format), plans, rules, partition, before)
    return result


def _apply(result: FileFix, doc: Document, plans: dict[str, tuple[FindingFix, Planned]],
           rules: Sequence[Rule], partition: str, before: set[tuple[str, str]]) -> None:
    """Place the planned operations, judge the outcome, keep what clears findings and adds none
    (`before`: the failures of the template as written)."""
    for owner, (fix, planned) in list(plans.items()):
        try:  # each finding's operations alone first: one that cannot be placed leaves only it
            place(doc, [(owner, op) for op in planned.operations])
        except Unplaceable as exc:
            fix.reasons.append(str(exc))
            del plans[owner]
    while plans:
        try:
            owned = [(owner, op) for owner, (_, p) in plans.items() for op in p.operations]
            edits: list[TextEdit] = place(doc, owned)
            parts = hunks(doc, edits)
        except (Unplaceable, Conflict) as exc:
            owner = exc.args[0] if isinstance(exc, Conflict) else next(iter(plans))
            plans[owner][0].reasons.append(f"its edit collides with another fix's ({exc})")
            del plans[owner]
            continue
        fixed_text = apply(doc.text, parts)
        after = _failing(fixed_text, rules, partition)
        if after is None or after - before:
            why = ("the edited template could not be read back (a tapaudit bug)" if after is None else
                   "the edits would bring new findings: " + "; ".join(
                       sorted(f"{rule} on {resource}" for rule, resource in after - before)))
            for fix, _ in plans.values():
                fix.reasons.append(why)
            return
        # Fully planned but still failing: not a fix. Drop it and try the others again.
        stuck = [o for o, (fix, _) in plans.items() if _key(fix.finding) in after and not fix.reasons]
        if stuck:
            for owner in stuck:
                plans[owner][0].reasons.append("the planned edit does not clear the finding")
                del plans[owner]
            continue
        for fix, _ in plans.values():
            fix.fixed = _key(fix.finding) not in after
        result.fixed, result.hunks = fixed_text, parts
        return


def _key(finding: Finding) -> tuple[str, str]:
    return finding.rule_id, finding.resource


def _failing(text: str, rules: Sequence[Rule], partition: str) -> set[tuple[str, str]] | None:
    """(rule, resource) of every failure in `text`, as `scan` would find them before triage;
    None when the text cannot be read back."""
    try:
        data = parse_document(text).data
        if not isinstance(data, dict):
            return None
        template = analysed(data, text, partition)
        return {(rule.id, result.logical_id) for rule in rules for result in evaluate_rule(rule, template)
                if result.verdict is Verdict.FAIL}
    except InputError:
        return None


def parse_error(text: str) -> str | None:
    try:
        parse_document(text)
    except InputError as exc:
        return str(exc)
    return None
