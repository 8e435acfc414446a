"""TAP001's tag gate: replication rules that require an eligibility tag, and a classifier that sets it.

S3 replication filters accept only a prefix and tags (ObjectSize* exist for lifecycle rules), so
"replicate objects under 1 GiB" has to be a tag that a function sets on small objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tapaudit.model.arns import glob_match, physical_name
from tapaudit.model.iam import Access, evaluate, execution_role, role_policies
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Conditions, Unknown, as_list, branches, child, items
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates import Context, predicate

OBJECT_CREATED = "s3:ObjectCreated"


@predicate("s3_replication_tag_gate")
def replication_tag_gate(ctx: Context, branch: Branch, tag_key: str, tag_value: str) -> list[Outcome]:
    template = ctx.template
    outcomes: list[Outcome] = []
    gated: list[tuple[Branch, str]] = []  # tag-gated rules and their key prefixes
    for config in child(branch, "ReplicationConfiguration"):
        for rules in child(config, "Rules"):
            for rule in items(rules):
                outcomes.extend(_judge_rule(template, rule, tag_key, tag_value, gated))
    if gated:
        outcomes.append(_judge_classifier(ctx, gated, tag_key, tag_value))
    return outcomes or [Outcome.ok(branch)]


def _rule_name(rule: Branch) -> str:
    name = rule.value.get("Id") if isinstance(rule.value, dict) else None
    return f"'{name}'" if isinstance(name, str) else f"#{rule.path[-1]}"


def _judge_rule(template: Template, rule: Branch, key: str, value: str,
                gated: list[tuple[Branch, str]]) -> Iterator[Outcome]:
    if not isinstance(rule.value, dict):
        return
    name = _rule_name(rule)
    for status in child(rule, "Status"):
        resolved = template.resolve(status.value)
        if isinstance(resolved, Unknown):
            yield Outcome.unknown(f"replication rule {name}: status {resolved.reason}", status)
            continue
        if resolved != "Enabled":
            continue
        for flt in child(rule, "Filter"):
            yield from _judge_filter(template, rule, flt, name, key, value, gated)


def _judge_filter(template: Template, rule: Branch, flt: Branch, name: str, key: str, value: str,
                  gated: list[tuple[Branch, str]]) -> Iterator[Outcome]:
    if flt.value is MISSING:
        legacy = rule.value.get("Prefix")
        what = f"only on prefix '{legacy}'" if isinstance(legacy, str) and legacy else "on nothing"
        yield Outcome.fail(f"replication rule {name} filters {what}, so objects of every size "
                           "replicate", rule)
        return
    size_keys = sorted(k for k in _filter_keys(flt) if k.startswith("ObjectSize"))
    if size_keys:
        yield Outcome.fail(
            f"replication rule {name} filters on {', '.join(size_keys)}, which only lifecycle "
            "rules accept: CloudFormation rejects it (cfn-lint E3002), the template will not deploy",
            flt)
        return
    tags = list(_tag_filters(flt))
    if any(template.resolve(t.get("Key")) == key and str(template.resolve(t.get("Value"))).lower()
           == str(value).lower() for t in tags):
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
    yield Outcome.fail(f"replication rule {name} filters {what}, so objects of 1 GiB and more "
                       "replicate", flt)


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
            "tag, so no object is ever tagged and the tag-gated rules replicate nothing", where)
    targets = [f"arn:aws:s3:::{physical_name(template, bucket)}/{prefix}probe-object"
               for _, prefix in gated]

    def covers(pattern: str) -> bool:
        return all(glob_match(pattern, target) for target in targets)

    unknown = None
    for function, _conditions in sorted(classifiers.items()):
        role = execution_role(template, function)
        if isinstance(role, Unknown):
            unknown = unknown or role.reason
            continue
        decision = evaluate(template, role_policies(template, role), "s3:PutObjectTagging", covers,
                            f"objects of bucket {bucket}")
        if decision.access is Access.ALLOWED:
            return Outcome.ok(where)
        if decision.access is Access.UNKNOWN:
            unknown = unknown or decision.detail
    if unknown:
        return Outcome.unknown(f"cannot verify that the classifier can tag objects: {unknown}", where)
    names = ", ".join(sorted(classifiers))
    return Outcome.fail(f"classifier {names} receives the object-created events but its role does "
                        f"not allow s3:PutObjectTagging on the bucket's objects, so it cannot set "
                        f"the '{key}={value}' tag", where)


def function_of(template: Template, value: Any) -> str | None:
    """The Lambda function a function ARN, alias or version reference leads to."""
    ref = template.referenced_resource(value)
    if not ref:
        return None
    kind = template.type_of(ref[0])
    if kind == "AWS::Lambda::Function":
        return ref[0]
    if kind in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        return function_of(template, template.properties(ref[0]).get("FunctionName"))
    return None


def object_created_functions(template: Template, bucket: str) -> Iterator[tuple[str, Conditions]]:
    """Functions that receive `bucket`'s object-created events, however they are wired."""
    root = Branch(template.resources[bucket], ("Resources", bucket))
    for props in child(root, "Properties"):
        for config in child(props, "NotificationConfiguration"):
            yield from _lambda_configs(template, config, "LambdaConfigurations", "Event", "Function")
    for custom in _notification_resources(template, bucket):
        config_branch = Branch(template.properties(custom).get("NotificationConfiguration", MISSING),
                               ("Resources", custom, "Properties", "NotificationConfiguration"))
        for config in branches(config_branch.value, config_branch.path):
            yield from _lambda_configs(template, config, "LambdaFunctionConfigurations", "Events",
                                       "LambdaFunctionArn")
    if _sends_to_eventbridge(template, bucket):
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
    for name in template.references.referrers(bucket):
        kind = template.type_of(name) or ""
        if kind.startswith("Custom::S3BucketNotifications"):
            target = template.properties(name).get("BucketName")
            if template.referenced_resource(target) == (bucket, None):
                found.append(name)
    return found


def _sends_to_eventbridge(template: Template, bucket: str) -> bool:
    own = template.properties(bucket).get("NotificationConfiguration")
    if isinstance(own, dict):
        bridge = own.get("EventBridgeConfiguration")
        if isinstance(bridge, dict) and bridge.get("EventBridgeEnabled") in (True, "true", "True"):
            return True
    for custom in _notification_resources(template, bucket):
        config = template.properties(custom).get("NotificationConfiguration")
        if isinstance(config, dict) and "EventBridgeConfiguration" in config:
            return True
    return False


def _eventbridge_functions(template: Template, bucket: str) -> Iterator[tuple[str, Conditions]]:
    name = physical_name(template, bucket)
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
        if not any(template.referenced_resource(n) == (bucket, None) or n == name for n in names):
            continue
        for target in as_list(props.get("Targets")):
            function = function_of(template, target.get("Arn")) if isinstance(target, dict) else None
            if function:
                yield function, ()
