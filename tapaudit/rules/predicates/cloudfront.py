"""TAP005: CloudFront security headers and viewer TLS."""

from __future__ import annotations

from tapaudit.model.arns import shown
from tapaudit.model.intrinsics import resolve
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Cause, Unknown, as_list, child
from tapaudit.rules.outcome import Outcome, Status
from tapaudit.rules.predicates.registry import Context, predicate, remedy

# Where code may add response headers: CloudFront Functions on viewer-response, Lambda@Edge on
# viewer-response or origin-response (the response it returns is what viewers get).
_HEADER_HOOKS = (("FunctionAssociations", "FunctionARN", ("viewer-response",), "CloudFront Function"),
                 ("LambdaFunctionAssociations", "LambdaFunctionARN",
                  ("viewer-response", "origin-response"), "Lambda@Edge function"))
# What would make such an unknown checkable (the fix of an unknown, by its cause).
remedy(Cause.HEADERS_FROM_CODE, "Headers set in code by the {event} {kind} cannot be read: declare "
                                "them in a response headers policy instead, or check the responses "
                                "by hand.")


def behavior_name(branch: Branch) -> str:
    if "DefaultCacheBehavior" in branch.path:
        return "the default behavior"
    pattern = branch.value.get("PathPattern") if isinstance(branch.value, dict) else None
    return f"behavior '{pattern}'" if isinstance(pattern, str) else f"behavior #{branch.path[-1]}"


def header_code(template: Template, behavior: Branch) -> Unknown | None:
    """Why this behavior's headers are unknown when a function handles its responses in code."""
    value = behavior.value if isinstance(behavior.value, dict) else {}
    for key, arn_key, events, label in _HEADER_HOOKS:
        for association in as_list(value.get(key)):
            if isinstance(association, dict) and association.get("EventType") in events:
                function = _short(shown(template, association.get(arn_key)))
                event = association["EventType"]
                return Unknown.because(
                    f"{behavior_name(behavior)} may get its headers from the {event} {label} {function}",
                    Cause.HEADERS_FROM_CODE, function, event=event, kind=label)
    return None


def _short(arn: str) -> str:
    """A function named by its name, not its whole ARN (the ARN is in the template)."""
    for marker in (":function/", ":function:"):
        if marker in arn:
            return arn.split(marker, 1)[1]
    return arn


@predicate("security_headers_policy")
def security_headers_policy(ctx: Context, branch: Branch, managed_ids: list[str],
                            known_without_headers: list[str], required: list[str]) -> Outcome:
    """`branch` is a cache behavior. A failure becomes unknown when a function handles the
    behavior's responses: it may set the headers in code."""
    problem = Outcome.of_value(branch, behavior_name(branch))
    if problem:
        return problem
    if not isinstance(branch.value, dict):
        return Outcome.wrong_shape(branch, "a mapping")
    outcome = _headers_policy(ctx, branch, managed_ids, known_without_headers, required)
    code = header_code(ctx.template, branch) if outcome.status is Status.FAIL else None
    if code:
        return Outcome.unknown(code.reason, branch, code.why)
    return outcome


def _headers_policy(ctx: Context, branch: Branch, managed_ids: list[str],
                    known_without_headers: list[str], required: list[str]) -> Outcome:
    template = ctx.template
    name = behavior_name(branch)
    for policy in child(branch, "ResponseHeadersPolicyId"):
        if policy.value is MISSING:
            return Outcome.fail(f"{name} has no response headers policy", branch)
        ref = template.referenced_resource(policy.value)
        if ref:
            if template.type_of(ref[0]) != "AWS::CloudFront::ResponseHeadersPolicy":
                return Outcome.unknown(f"{name}: response headers policy {ref[0]} is a "
                                       f"{template.type_of(ref[0])}", policy)
            return _custom_policy(template, ref[0], name, required, policy)
        value = resolve(template, policy.value)
        if isinstance(value, Unknown):
            return Outcome.unknown(f"{name}: response headers policy {value.reason}", policy, value.why)
        if value in managed_ids:
            return Outcome.ok(policy)
        if value in known_without_headers:
            return Outcome.fail(f"{name} uses managed response headers policy {value}, which adds "
                                "no security headers", policy)
        return Outcome.unknown(f"{name}: response headers policy {value} is not defined in the "
                               "template", policy)
    return Outcome.ok(branch)


def _custom_policy(template, policy_id: str, name: str, required: list[str],
                   where: Branch) -> Outcome:
    config = template.properties(policy_id).get("ResponseHeadersPolicyConfig")
    headers = config.get("SecurityHeadersConfig") if isinstance(config, dict) else None
    present = set(headers) if isinstance(headers, dict) else set()
    missing = [header for header in required if header not in present]
    if not missing:
        return Outcome.ok(where)
    return Outcome.fail(f"{name} uses response headers policy {policy_id}, whose "
                        f"SecurityHeadersConfig lacks {', '.join(missing)}", where)


@predicate("viewer_certificate")
def viewer_certificate(ctx: Context, branch: Branch, minimum: str, order: list[str]) -> Outcome:
    """`branch` is DistributionConfig.ViewerCertificate (its absence is the rule file's `missing`)."""
    cert = branch.value
    default_note = "which accepts TLSv1"
    problem = Outcome.of_value(branch, "ViewerCertificate")
    if problem:
        return problem
    if not isinstance(cert, dict):
        return Outcome.wrong_shape(branch, "a mapping")
    default = resolve(ctx.template, cert.get("CloudFrontDefaultCertificate"))
    if default in (True, "true", "True") or not ({"AcmCertificateArn", "IamCertificateId"} & set(cert)):
        return Outcome.fail(f"uses the CloudFront default certificate, {default_note}", branch)
    for version in child(branch, "MinimumProtocolVersion"):
        if version.value is MISSING:
            return Outcome.fail("sets no MinimumProtocolVersion, so viewers may connect with TLSv1",
                                branch)
        value = resolve(ctx.template, version.value)
        if isinstance(value, Unknown):
            return Outcome.unknown(f"MinimumProtocolVersion: {value.reason}", version, value.why)
        if value not in order:
            return Outcome.fail(f"has MinimumProtocolVersion '{value}', which CloudFormation rejects "
                                f"(valid: {order[0]} to {order[-1]})", version)
        if order.index(value) < order.index(minimum):
            return Outcome.fail(f"allows viewers {value}, older than {minimum}", version)
    return Outcome.ok(branch)
