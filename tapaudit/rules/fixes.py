"""Pick the fix that fits a finding: the input (CDK output, SAM, plain CloudFormation), the CDK
language, the construct level (L2 such as Table/TableV2, L1 such as CfnGlobalTable), and the
kind of thing a failing element points at (a queue, a bus, a Lambda alias, ...), as the owning
rule's predicate module tells it (`fix.subject.kind` names a registered `subject_kind`).

Rule files hold the texts as data (`fix.variants`, each with `when` conditions and `{placeholders}`);
this module only computes the facts and fills in the first variant that fits. A variant fits when
its conditions hold and every placeholder it uses has a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from msgspec import Struct

from tapaudit.model.cdk_names import construct_id, construct_level, is_cdk_output
from tapaudit.model.template import Template
from tapaudit.model.values import Cause, Why, branches
from tapaudit.rules.model import Fix, FixVariant
from tapaudit.rules.predicates import ENTRY_VALUES, FIX_VALUES, SUBJECT_KINDS, UNKNOWN_REMEDIES

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_PLACEHOLDER = re.compile(r"\{(\w+(?:\.\w+)*)\}")

class Subject(Struct, frozen=True):
    """What a fix is about: the resource, or one failing element of it (a target)."""

    facts: Mapping[str, str]
    values: Mapping[str, str]


def input_kind(template: Template, logical_id: str) -> str:
    """cdk | sam | cloudformation: CDK output carries construct paths or CDK's own markers."""
    if template.cdk_path(logical_id) is not None or is_cdk_output(template):
        return "cdk"
    transform = template.data.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    return "sam" if SAM_TRANSFORM in transforms else "cloudformation"


def variable(name: str, language: str) -> str:
    """A variable name for a construct id in the fix's language: TransactionTable -> transactionTable."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name) or [name]
    if language == "python":
        return "_".join(w.lower() for w in words)
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])


def _element(resource: Mapping, path: Sequence[str | int], element: str) -> tuple[Any, str | None]:
    """The entry of list `element` (e.g. Targets) that `path` runs through, and its position."""
    value: Any = resource
    for i, step in enumerate(path):
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None, None
        if step == element:
            rest = tuple(path[i + 1:])
            for option in branches(value, ()):  # the list, or the Fn::If branch `rest` goes through
                at = len(option.path)
                index = rest[at] if rest[:at] == option.path and len(rest) > at else None
                if isinstance(index, int) and isinstance(option.value, list) and index < len(option.value):
                    return option.value[index], f"{element}[{index}]"  # as the message says it
            return None, None
    return None, None


def _is_set(resource: Mapping, path: Sequence[str | int]) -> bool:
    """Does the template hold a value at `path` (set but wrong), or is it missing?"""
    value: Any = resource
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return False
    return True


# A failure as a fix sees it: the check, the failing value's path, and the kind of problem.
Failing = tuple[str, Sequence[str | int], str]


def subjects(fix: Fix, template: Template, logical_id: str, language: str,
             failing: Sequence[Failing]) -> list[Subject]:
    """What to fix, with the facts the variants test: the resource once, or (with `fix.subject`)
    each failing check (`per: check`) or each failing entry of a list (`element`, `ref`, `name`)."""
    kind = input_kind(template, logical_id)
    construct = construct_id(template, logical_id)
    lang = language if kind == "cdk" else ""
    facts = {**fix.parameters, "input": kind, "type": template.type_of(logical_id) or "", "language": lang,
             "construct": construct_level(template, logical_id) if kind == "cdk" else "",
             "check": failing[0][0] if failing else "", "problem": failing[0][2] if failing else ""}
    resource = template.resources.get(logical_id, {})
    facts["value"] = "set" if failing and _is_set(resource, failing[0][1][2:]) else "missing"
    # Where the failing value is written: `Globals` when SAM's Globals section gave it.
    facts["section"] = str(failing[0][1][0]) if failing and failing[0][1] else ""
    values = {**fix.parameters, "resource": logical_id, "construct_id": construct,
              "var": variable(construct, lang) if lang else logical_id}
    if fix.values_from:
        more_facts, more_values = FIX_VALUES[fix.values_from](template, logical_id, fix.parameter_tables)
        facts.update(more_facts)
        values.update(more_values)
        for key, resource_id in more_values.items():  # a resource named as the app names it
            if key.endswith("_resource"):
                name = construct_id(template, resource_id)
                values[key.replace("_resource", "_var")] = variable(name, lang) if lang else resource_id
    spec = fix.subject
    if spec.get("per") == "check":
        problems = {check: problem for check, _, problem in reversed(failing)}  # each check's first
        return [Subject({**facts, "check": check, "problem": problems[check]}, values)
                for check in dict.fromkeys(check for check, _, _ in failing)]
    if not spec:  # the resource, once per kind of problem, in the order of the message
        problems = dict.fromkeys(problem for _, _, problem in failing) or {"": None}
        return [Subject({**facts, "problem": problem}, values) for problem in problems]
    found: dict[str, Subject] = {}
    for _, where, problem in failing:
        entry, position = _element(resource, where[2:], spec["element"])
        if not isinstance(entry, dict):
            continue
        name = entry.get(spec.get("name", ""))
        name = f"{spec.get('label', 'Entry')} '{name}'" if isinstance(name, str) else position or "?"
        kind_of = SUBJECT_KINDS.get(spec.get("kind", ""))
        target_kind, target_id = kind_of(template, entry.get(spec["ref"])) if kind_of else (None, None)
        entry_values = ENTRY_VALUES.get(spec.get("values", ""))
        more = {"name": name, **(entry_values(template, logical_id, entry) if entry_values else {})}
        if target_id:
            more["target_resource"] = target_id
            more["target_var"] = variable(construct_id(template, target_id), lang) if lang else target_id
        found.setdefault(name, Subject({**facts, "target": target_kind or "", "problem": problem,
                                        "value": "set" if _is_set(resource, where[2:]) else "missing"},
                                       {**values, **more}))
    return list(found.values()) or [Subject(facts, values)]


def _fits(variant: FixVariant, facts: Mapping[str, str]) -> bool:
    return all(facts.get(key, "") in allowed for key, allowed in variant.when.items())


def fill(text: str, values: Mapping[str, str]) -> str | None:
    """`text` with its placeholders filled; None when one has no value."""
    names = set(_PLACEHOLDER.findall(text))
    if not names <= set(values):
        return None
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def render_fix(fix: Fix, subject: Subject) -> tuple[str, str] | None:
    for variant in fix.variants:
        if not _fits(variant, subject.facts):
            continue
        values = {**subject.values, **{name: table[subject.facts.get(key, "")]
                                       for name, (key, table) in fix.tables.items()
                                       if subject.facts.get(key, "") in table}}
        text = fill(variant.text, values)
        if text is not None:
            return text, fill(variant.once, values) or ""
    return None


def select_fix(fix: Fix, template: Template, logical_id: str, language: str,
               failing: Iterable[Failing]) -> str:
    """The fix text for this resource (check id, path of each failure); the rule's summary when
    no variant fits."""
    found = subjects(fix, template, logical_id, language, list(failing))
    rendered = [r for r in (render_fix(fix, s) for s in found) if r]
    if rendered:
        return " ".join(dict.fromkeys([*(text for text, _ in rendered),
                                       *(once for _, once in rendered if once)]))
    if fix.snippet and found[0].facts["input"] == "cdk":
        return f"{fix.summary}: `{fix.snippet}`"
    return fix.summary


# What would make an unknown checkable, by its cause: `str.format` text, `{subject}` and the
# cause's facts by name. A rule's own causes register theirs with its predicates (UNKNOWN_REMEDIES).
_REMEDIES: dict[Cause, str] = {
    Cause.MACRO: "Scan the expanded template, the one CloudFormation shows after the transform "
                 "(`aws cloudformation get-template --template-stage Processed`).",
    Cause.SAM_POLICY_TEMPLATE: "Write the statements of SAM policy template {subject} as an inline "
                               "policy, or give the template every parameter it needs, so its "
                               "permissions can be read.",
    Cause.CONNECTOR: "Check by hand what SAM connector {subject} grants ({what}), or write its "
                     "permissions as a policy of the template.",
    Cause.MAPPING_ENTRIES_DIFFER: "Make the entries of mapping {subject} agree, or scan the template "
                                  "for one region with the value written out.",
    Cause.PARAMETER_WITHOUT_DEFAULT: "Give parameter {subject} a default, or scan a template where its "
                                     "value is written out.",
    Cause.IMPORT_VALUE: "The value is the export {subject} of another stack: scan the stacks together, "
                        "or check it by hand once deployed.",
    Cause.DEPLOY_TIME_CONDITION: "The condition {subject} depends on the account, region or partition "
                                 "the stack is deployed to: check it by hand once deployed.",
    Cause.MANAGED_POLICY_NOT_IN_SNAPSHOT: "Check by hand what managed policy {subject} grants, or grant "
                                          "the actions in a policy of the template.",
}
UNKNOWN_FIX = ("Check it by hand once deployed, or make the value visible in the template "
               "(a parameter default, a resource of this stack).")
_CAUSE_ORDER = {cause: rank for rank, cause in enumerate(Cause)}


def unknown_fix(details: Sequence[Sequence[Why]]) -> str:
    """For each detail of an unknown (the typed causes it mentions), what would make it checkable:
    the remedy of its cause that comes first in `Cause`'s order (the generic text without one)."""
    remedies = {**_REMEDIES, **UNKNOWN_REMEDIES}
    said = []
    for causes in details:
        known = [why for why in causes if why.cause in remedies]
        if not known:
            said.append(UNKNOWN_FIX)
            continue
        why = min(known, key=lambda w: _CAUSE_ORDER[w.cause])  # the first one said, among equals
        said.append(remedies[why.cause].format(subject=why.subject, **dict(why.facts)))
    return " ".join(dict.fromkeys(said))
