"""Pick the fix that fits a finding: the input (CDK output, SAM, plain CloudFormation), the CDK
language, the construct level (L2 such as Table/TableV2, L1 such as CfnGlobalTable), and the
kind of thing a failing element points at (a queue, a bus, a Lambda alias, ...).

Rule files hold the texts as data (`fix.variants`, each with `when` conditions and `{placeholders}`);
this module only computes the facts and fills in the first variant that fits. A variant fits when
its conditions hold and every placeholder it uses has a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tapaudit.model.arns import render
from tapaudit.model.graph import ReferenceGraph
from tapaudit.model.template import Template
from tapaudit.model.values import Unknown, intrinsic
from tapaudit.rules.model import Fix, FixVariant

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_PLACEHOLDER = re.compile(r"\{(\w+(?:\.\w+)*)\}")

# What a reference points at, in the words a reader uses (TAP004 names the target kind).
KIND_OF_TYPE = {
    "AWS::Lambda::Function": "function",
    "AWS::Lambda::Alias": "alias",
    "AWS::Lambda::Version": "function",
    "AWS::SQS::Queue": "queue",
    "AWS::SNS::Topic": "topic",
    "AWS::Events::EventBus": "bus",
    "AWS::Logs::LogGroup": "log group",
    "AWS::StepFunctions::StateMachine": "state machine",
    "AWS::Kinesis::Stream": "stream",
    "AWS::KinesisFirehose::DeliveryStream": "delivery stream",
    "AWS::ECS::Cluster": "ECS task",
    "AWS::CodeBuild::Project": "CodeBuild project",
    "AWS::CodePipeline::Pipeline": "pipeline",
    "AWS::ApiGateway::RestApi": "API",
    "AWS::Events::ApiDestination": "API destination",
    "AWS::Batch::JobQueue": "job queue",
}
# Literal ARNs: (service, resource prefix) -> kind; the longest matching prefix wins.
_KIND_OF_ARN = [
    ("lambda", "function:", "function"), ("sqs", "", "queue"), ("sns", "", "topic"),
    ("events", "event-bus/", "bus"), ("events", "api-destination/", "API destination"),
    ("logs", "log-group:", "log group"), ("states", "stateMachine:", "state machine"),
    ("kinesis", "stream/", "stream"), ("firehose", "deliverystream/", "delivery stream"),
    ("ecs", "cluster/", "ECS task"), ("codebuild", "project/", "CodeBuild project"),
    ("codepipeline", "", "pipeline"), ("execute-api", "", "API"), ("batch", "job-queue/", "job queue"),
]


@dataclass(frozen=True)
class Subject:
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


def is_cdk_output(template: Template) -> bool:
    return bool(template.by_type.get("AWS::CDK::Metadata")) or "BootstrapVersion" in template.parameters


_HASHED = re.compile(r"^([A-Za-z0-9]+?)([0-9A-F]{8})$")


def construct_level(template: Template, logical_id: str) -> str:
    """l2 when CDK's `Resource` child (Table, TableV2, Function...), l1 for Cfn* constructs.

    Without construct paths, CDK's 8-hex hash on the logical id tells an L2's resource from an
    L1 declared at the stack's root."""
    path = template.cdk_path(logical_id)
    if path:
        return "l2" if path.endswith("/Resource") else "l1"
    return "l2" if _HASHED.match(logical_id) else "l1"


def construct_id(template: Template, logical_id: str) -> str:
    """The construct's own id: `Stack/Table/Resource` -> `Table`; the logical id without CDK."""
    path = template.cdk_path(logical_id)
    if not path:
        hashed = _HASHED.match(logical_id) if is_cdk_output(template) else None
        return hashed.group(1) if hashed else logical_id
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[-1] == "Resource":
        return parts[-2]
    return parts[-1] if parts else logical_id


def variable(name: str, language: str) -> str:
    """A variable name for a construct id in the fix's language: TransactionTable -> transactionTable."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name) or [name]
    if language == "python":
        return "_".join(w.lower() for w in words)
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])


def kind_of(template: Template, value: Any) -> tuple[str | None, str | None]:
    """(kind, logical id if in this template) of what an ARN-valued property points at."""
    refs = ReferenceGraph.mentioned(value) & template.resources.keys()
    if len(refs) == 1:
        (ref,) = refs
        kind = KIND_OF_TYPE.get(template.type_of(ref) or "")
        if kind:
            return kind, ref
    fn = intrinsic(value)
    if fn and fn[0] == "Fn::ImportValue":
        return None, None
    rendered = render(template, value)
    if isinstance(rendered, Unknown) or not rendered.startswith("arn:"):
        return None, None
    parts = rendered.split(":", 5)
    if len(parts) < 6:
        return None, None
    service, resource = parts[2], parts[5]
    matches = [(len(prefix), kind) for svc, prefix, kind in _KIND_OF_ARN
               if svc == service and resource.startswith(prefix)]
    if service == "lambda" and resource.count(":") == 2 and not resource.split(":")[2].isdigit():
        return "alias", None  # function:name:alias
    return (max(matches)[1] if matches else None), None


def _element(resource: Mapping, path: Sequence[str | int], element: str) -> tuple[Any, str | None]:
    """The entry of list `element` (e.g. Targets) that `path` runs through, and its position."""
    value: Any = resource
    for i, step in enumerate(path):
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None, None
        if step == element:
            rest = list(path[i + 1:])
            while rest[:1] == ["Fn::If"] and len(rest) >= 2:
                value, rest = value["Fn::If"][rest[1]], rest[2:]
            if rest and isinstance(rest[0], int) and isinstance(value, list) and rest[0] < len(value):
                return value[rest[0]], f"#{rest[0]}"
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


def subjects(fix: Fix, template: Template, logical_id: str, language: str,
             failing: Sequence[tuple[str, Sequence[str | int]]]) -> list[Subject]:
    """What to fix, with the facts the variants test: the resource once, or (with `fix.subject`)
    each failing check (`per: check`) or each failing entry of a list (`element`, `ref`, `name`)."""
    kind = input_kind(template, logical_id)
    construct = construct_id(template, logical_id)
    lang = language if kind == "cdk" else ""
    facts = {**fix.parameters, "input": kind, "type": template.type_of(logical_id) or "", "language": lang,
             "construct": construct_level(template, logical_id) if kind == "cdk" else "",
             "check": failing[0][0] if failing else ""}
    resource = template.resources.get(logical_id, {})
    facts["value"] = "set" if failing and _is_set(resource, failing[0][1][2:]) else "missing"
    values = {**fix.parameters, "resource": logical_id, "construct_id": construct,
              "var": variable(construct, lang) if lang else logical_id}
    spec = fix.subject
    if spec.get("per") == "check":
        return [Subject({**facts, "check": check}, values)
                for check in dict.fromkeys(check for check, _ in failing)]
    if not spec:
        return [Subject(facts, values)]
    found: dict[str, Subject] = {}
    for _, where in failing:
        entry, position = _element(resource, where[2:], spec["element"])
        if not isinstance(entry, dict):
            continue
        name = entry.get(spec.get("name", ""))
        name = name if isinstance(name, str) else position or "?"
        target_kind, target_id = kind_of(template, entry.get(spec["ref"]))
        more = {"name": name}
        if target_id:
            more["target_resource"] = target_id
            more["target_var"] = variable(construct_id(template, target_id), lang) if lang else target_id
        found.setdefault(name, Subject({**facts, "target": target_kind or "",
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
               failing: Iterable[tuple[str, Sequence[str | int]]]) -> str:
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
