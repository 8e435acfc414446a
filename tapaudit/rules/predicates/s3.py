"""TAP001's tag gate: replication rules that require an eligibility tag, and a classifier that sets it.

S3 replication filters accept only a prefix and tags (ObjectSize* exist for lifecycle rules), so
"replicate objects under 1 GiB" has to be a tag that a function sets on small objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tapaudit.model.arns import arn_of
from tapaudit.model.iam import Access, evaluate, execution_role, role_policies
from tapaudit.model.intrinsics import resolve
from tapaudit.model.lookup import denoted
from tapaudit.model.references import reference_graph
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Conditions, Unknown, as_list, branches, child, items
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates.registry import Context, predicate

OBJECT_CREATED = "s3:ObjectCreated"
STATUSES = ("Enabled", "Disabled")


@predicate("s3_replication_tag_gate")
def replication_tag_gate(ctx: Context, branch: Branch, tag_key: str, tag_value: str,
                         size_limit: str) -> list[Outcome]:
    """`size_limit`: the configured size bound as a message says it (1 GiB)."""
    template = ctx.template
    outcomes: list[Outcome] = []
    gated: list[tuple[Branch, str]] = []  # tag-gated rules and their key prefixes
    for config in child(branch, "ReplicationConfiguration"):
        for rules in child(config, "Rules"):
            for rule in items(rules):
                problem = Outcome.of_value(rule)
                if problem:
                    outcomes.append(problem)
                    continue
                outcomes.extend(_judge_rule(template, rule, tag_key, tag_value, gated, size_limit))
    if gated:
        outcomes.append(_judge_classifier(ctx, gated, tag_key, tag_value))
    return outcomes or [Outcome.ok(branch)]


def _rule_name(rule: Branch) -> str:
    name = rule.value.get("Id") if isinstance(rule.value, dict) else None
    return f"'{name}'" if isinstance(name, str) else f"Rules[{rule.path[-1]}] (no Id)"


def _judge_rule(template: Template, rule: Branch, key: str, value: str,
                gated: list[tuple[Branch, str]], size_limit: str) -> Iterator[Outcome]:
    if not isinstance(rule.value, dict):
        yield Outcome.wrong_shape(rule, "a mapping")
        return
    name = _rule_name(rule)
    for status in child(rule, "Status"):
        resolved = resolve(template, status.value)
        if isinstance(resolved, Unknown):
            yield Outcome.unknown(f"replication rule {name}: status {resolved.reason}", status, resolved.why)
            continue
        if resolved not in STATUSES:
            yield Outcome.fail(f"replication rule {name} has Status {resolved!r}, which is invalid "
                               f"(valid: {', '.join(STATUSES)}): CloudFormation rejects it", status)
            continue
        if resolved != "Enabled":
            continue
        same_region = _same_template_destination(template, rule)
        if same_region:
            yield Outcome.exempt(f"replication rule {name} replicates to bucket {same_region} of the "
                                 "same template, so within one region (TAP001 is about "
                                 "cross-region replication)", rule)
            continue
        for flt in child(rule, "Filter"):
            problem = Outcome.of_value(flt, f"replication rule {name}")
            if problem:
                yield problem
                continue
            yield from _judge_filter(template, rule, flt, name, key, value, gated, size_limit)


def _same_template_destination(template: Template, rule: Branch) -> str | None:
    """The destination bucket when it is defined in this template (hence in the same region)."""
    destination = rule.value.get("Destination")
    bucket = destination.get("Bucket") if isinstance(destination, dict) else None
    if bucket is None:
        return None
    found = denoted(template, bucket, ("AWS::S3::Bucket",))
    return found[0].logical_id if isinstance(found, list) and found else None


def _judge_filter(template: Template, rule: Branch, flt: Branch, name: str, key: str, value: str,
                  gated: list[tuple[Branch, str]], size_limit: str) -> Iterator[Outcome]:
    if flt.value is MISSING:
        legacy = rule.value.get("Prefix")
        what = f"only on prefix '{legacy}'" if isinstance(legacy, str) and legacy else "on nothing"
        yield Outcome.fail(f"replication rule {name} filters {what}, so objects of every size "
                           "replicate", rule).because("no-tag-gate")
        return
    size_keys = sorted(k for k in _filter_keys(flt) if k.startswith("ObjectSize"))
    if size_keys:
        yield Outcome.fail(
            f"replication rule {name} filters on {', '.join(size_keys)}, which CloudFormation "
            "rejects in a replication rule (cfn-lint E3002)",
            flt).because("size-filter")
        return
    tags = list(_tag_filters(flt))
    if any(resolve(template, t.get("Key")) == key and _tag_text(resolve(template, t.get("Value")))
           == str(value) for t in tags):
        gated.append((rule, _prefix(flt)))
        yield Outcome.ok(rule)
        return
    prefix = _prefix(flt)
    if tags:
        shown = ", ".join(f"{t.get('Key')}={t.get('Value')}" for t in tags)
        what = f"on tags {shown} but not on '{key}={value}'"
    elif prefix:
        what = f"only on prefix '{prefix}'"
    else:
        what = "on nothing"
    yield Outcome.fail(f"replication rule {name} filters {what}, so objects of {size_limit} and "
                       "more replicate", flt).because("no-tag-gate")


def _tag_text(value: Any) -> Any:
    """Tag values are case-sensitive strings; a YAML boolean becomes "true"/"false" in CloudFormation."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _filter_keys(flt: Branch) -> set[str]:
    keys = set(flt.value) if isinstance(flt.value, dict) else set()
    conj = flt.value.get("And") if isinstance(flt.value, dict) else None
    return keys | (set(conj) if isinstance(conj, dict) else set())


def _tag_filters(flt: Branch) -> Iterator[dict]:
    value = flt.value if isinstance(flt.value, dict) else {}
    if isinstance(value.get("TagFilter"), dict):
        yield value["TagFilter"]
    conj = value.get("And")
    if isinstance(conj, dict):
        yield from (t for t in as_list(conj.get("TagFilters")) if isinstance(t, dict))


def _prefix(flt: Branch) -> str:
    value = flt.value if isinstance(flt.value, dict) else {}
    conj = value.get("And") if isinstance(value.get("And"), dict) else {}
    prefix = value.get("Prefix", conj.get("Prefix"))
    return prefix if isinstance(prefix, str) else ""


def _judge_classifier(ctx: Context, gated: list[tuple[Branch, str]], key: str,
                      value: str) -> Outcome:
    """Some function must receive object-created events and be allowed to tag the objects that
    each gated rule replicates (a probe key under each rule's prefix)."""
    template, bucket = ctx.template, ctx.logical_id
    where = gated[0][0]
    classifiers = dict(object_created_functions(template, bucket))
    if not classifiers:
        return Outcome.fail(
            f"no function receives this bucket's object-created events to set the '{key}={value}' "
            "tag, so no object is ever tagged and the tag-gated rules replicate nothing",
            where).because("no-classifier")
    targets = [f"{arn_of(template, bucket)}/{prefix}probe-object" for _, prefix in gated]

    def covers(pattern: str) -> bool | None:
        verdicts = [template.symbols.compare(pattern, target) for target in targets]
        return False if False in verdicts else None if None in verdicts else True

    unknown: Unknown | None = None
    for function, _conditions in sorted(classifiers.items()):
        role = execution_role(template, function)
        if isinstance(role, Unknown):
            unknown = unknown or role
            continue
        decisions = evaluate(template, role_policies(template, role), "s3:PutObjectTagging", covers,
                             f"objects of bucket {bucket}")
        if all(d.access is Access.ALLOWED for d in decisions):
            return Outcome.ok(where)
        for decision in decisions:
            if decision.access is Access.UNKNOWN:
                unknown = unknown or Unknown(decision.detail, decision.why)
            elif decision.access is not Access.ALLOWED and decision.conditions:
                when = ", ".join(f"{n} is {str(f).lower()}" for n, f in decision.conditions)
                unknown = unknown or Unknown(f"{decision.detail} when condition {when}", decision.why)
    if unknown:
        return Outcome.unknown(f"cannot verify that the classifier can tag objects: {unknown.reason}",
                               where, unknown.why)
    names = ", ".join(sorted(classifiers))
    return Outcome.fail(f"classifier {names} cannot set the '{key}={value}' tag: its role does not "
                        "allow s3:PutObjectTagging on the bucket's objects", where).because("cannot-tag")


_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version")


def function_of(template: Template, value: Any, depth: int = 0) -> str | None:
    """The Lambda function a function ARN or name, alias or version (by Ref or literal) leads to."""
    found = denoted(template, value, _FUNCTION_TYPES)
    if not isinstance(found, list) or not found or depth > 3:
        return None
    name = found[0].logical_id
    if template.type_of(name) == "AWS::Lambda::Function":
        return name
    return function_of(template, template.properties(name).get("FunctionName"), depth + 1)


def object_created_functions(template: Template, bucket: str) -> Iterator[tuple[str, Conditions]]:
    """Functions that receive `bucket`'s object-created events, however they are wired."""
    root = Branch(template.resources[bucket], ("Resources", bucket))
    for props in child(root, "Properties"):
        for config in child(props, "NotificationConfiguration"):
            yield from _lambda_configs(template, config, "LambdaConfigurations", "Event", "Function")
    customs = _notification_resources(template, bucket)
    for custom in customs:
        config_branch = Branch(template.properties(custom).get("NotificationConfiguration", MISSING),
                               ("Resources", custom, "Properties", "NotificationConfiguration"))
        for config in branches(config_branch.value, config_branch.path):
            yield from _lambda_configs(template, config, "LambdaFunctionConfigurations", "Events",
                                       "LambdaFunctionArn")
    if _sends_to_eventbridge(template, bucket, customs):
        yield from _eventbridge_functions(template, bucket)


def _lambda_configs(template: Template, config: Branch, list_key: str, event_key: str,
                    function_key: str) -> Iterator[tuple[str, Conditions]]:
    for configs in child(config, list_key):
        for entry in items(configs):
            if not isinstance(entry.value, dict):
                continue
            events = as_list(entry.value.get(event_key))
            if not any(isinstance(e, str) and e.startswith(OBJECT_CREATED) for e in events):
                continue
            function = function_of(template, entry.value.get(function_key))
            if function:
                yield function, entry.conditions


def _notification_resources(template: Template, bucket: str) -> list[str]:
    """CDK's Custom::S3BucketNotifications resources that configure this bucket."""
    found = []
    for name in reference_graph(template).referrers(bucket):
        kind = template.type_of(name) or ""
        if kind.startswith("Custom::S3BucketNotifications") and \
                _names_bucket(template, template.properties(name).get("BucketName"), bucket):
            found.append(name)
    return found


def _names_bucket(template: Template, value: Any, bucket: str) -> bool:
    found = denoted(template, value, ("AWS::S3::Bucket",))
    return isinstance(found, list) and any(d.logical_id == bucket for d in found)


def _sends_to_eventbridge(template: Template, bucket: str, customs: list[str]) -> bool:
    """Does the bucket, or one of its notification resources (`customs`), send its events to
    EventBridge?"""
    own = template.properties(bucket).get("NotificationConfiguration")
    if isinstance(own, dict):
        bridge = own.get("EventBridgeConfiguration")
        if isinstance(bridge, dict) and bridge.get("EventBridgeEnabled") in (True, "true", "True"):
            return True
    for custom in customs:
        config = template.properties(custom).get("NotificationConfiguration")
        if isinstance(config, dict) and "EventBridgeConfiguration" in config:
            return True
    return False


def _eventbridge_functions(template: Template, bucket: str) -> Iterator[tuple[str, Conditions]]:
    for rule in template.by_type.get("AWS::Events::Rule", ()):
        props = template.properties(rule)
        pattern = props.get("EventPattern")
        if not isinstance(pattern, dict):
            continue
        if "aws.s3" not in as_list(pattern.get("source")):
            continue
        if "Object Created" not in as_list(pattern.get("detail-type")):
            continue
        detail = pattern.get("detail") if isinstance(pattern.get("detail"), dict) else {}
        bucket_filter = detail.get("bucket") if isinstance(detail.get("bucket"), dict) else {}
        names = as_list(bucket_filter.get("name"))
        if not any(_names_bucket(template, n, bucket) for n in names):
            continue
        for target in as_list(props.get("Targets")):
            function = function_of(template, target.get("Arn")) if isinstance(target, dict) else None
            if function:
                yield function, ()
