"""Who calls a Lambda function: does it run only during deployments, as a custom-resource handler?

A function is deployment-only when CloudFormation custom resources are its only callers: its ARN
is a `ServiceToken`, directly, or through a provider framework (a deployment-only function or
state machine that refers to it, e.g. CDK's `framework-onEvent` with `USER_ON_EVENT_FUNCTION_ARN`).
References that grant or log (roles, policies, log groups) do not call it; anything else that
refers to it (an event rule, a subscription, a notification, a permission) is a caller.
"""

from __future__ import annotations

from tapaudit.model.lookup import denoted
from tapaudit.model.references import reference_graph
from tapaudit.model.resources import is_custom_resource
from tapaudit.model.template import Template

_NOT_CALLERS = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
                "AWS::IAM::RolePolicy", "AWS::Logs::LogGroup", "AWS::Logs::SubscriptionFilter",
                "AWS::CloudWatch::Alarm", "AWS::Lambda::EventInvokeConfig", "AWS::CDK::Metadata")
_HANDLER_TYPES = ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version")
_RELAYS = ("AWS::Lambda::Function", "AWS::StepFunctions::StateMachine", "AWS::Lambda::Alias",
           "AWS::Lambda::Version")


def deployment_only(template: Template, logical_id: str) -> str | None:
    """Why the resource runs only during deployments (None when something else may call it)."""
    return _deployment_only(template, logical_id, frozenset())


def _deployment_only(template: Template, logical_id: str, seen: frozenset[str]) -> str | None:
    if logical_id in seen:
        return None
    seen = seen | {logical_id}
    reasons: list[str] = []
    for caller in _callers(template, logical_id):
        kind = template.type_of(caller) or ""
        if is_custom_resource(kind):
            if caller in _service_tokens(template).get(logical_id, ()):
                reasons.append(f"its ARN is the ServiceToken of custom resource {caller}")
                continue
            return None  # named elsewhere in a custom resource: e.g. a notification target
        if kind in _NOT_CALLERS:
            continue
        if kind in _RELAYS and _deployment_only(template, caller, seen):
            reasons.append(f"only {caller}, itself a custom-resource handler, refers to it")
            continue
        return None
    return f"custom-resource handler: {reasons[0]}" if reasons else None


def _callers(template: Template, logical_id: str) -> list[str]:
    """Resources whose properties name `logical_id` (by Ref, GetAtt, Sub or literal name/ARN)."""
    found = set(reference_graph(template).referrers(logical_id, in_properties=True))
    found.update(_service_tokens(template).get(logical_id, ()))
    found.discard(logical_id)
    return sorted(found)


def _service_tokens(template: Template) -> dict[str, list[str]]:
    """Function (or alias) -> the custom resources whose ServiceToken names it (built once)."""
    index = template.memo.service_tokens
    if index is None:
        index = {}
        for name, body in template.resources.items():
            props = body.get("Properties")
            if not (is_custom_resource(template.type_of(name)) and isinstance(props, dict)):
                continue
            found = denoted(template, props.get("ServiceToken"), _HANDLER_TYPES)
            for denotation in found if isinstance(found, list) else ():
                index.setdefault(denotation.logical_id, []).append(name)
        template.memo.service_tokens = index
    return index
