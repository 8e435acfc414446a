"""TAP005: CloudFront security headers and viewer TLS."""

from __future__ import annotations

from tapaudit.model.values import MISSING, Branch, Unknown, child
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates import Context, predicate


def behavior_name(branch: Branch) -> str:
    if "DefaultCacheBehavior" in branch.path:
        return "the default behavior"
    pattern = branch.value.get("PathPattern") if isinstance(branch.value, dict) else None
    return f"behavior '{pattern}'" if isinstance(pattern, str) else f"behavior #{branch.path[-1]}"


@predicate("security_headers_policy")
def security_headers_policy(ctx: Context, branch: Branch, managed_ids: list[str],
                            known_without_headers: list[str], required: list[str]) -> Outcome:
    """`branch` is a cache behavior."""
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
        value = template.resolve(policy.value)
        if isinstance(value, Unknown):
            return Outcome.unknown(f"{name}: response headers policy {value.reason}", policy)
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
    if not isinstance(cert, dict):
        return Outcome.unknown("ViewerCertificate cannot be read", branch)
    default = ctx.template.resolve(cert.get("CloudFrontDefaultCertificate"))
    if default in (True, "true", "True") or not ({"AcmCertificateArn", "IamCertificateId"} & set(cert)):
        return Outcome.fail(f"uses the CloudFront default certificate, {default_note}", branch)
    for version in child(branch, "MinimumProtocolVersion"):
        if version.value is MISSING:
            return Outcome.fail("sets no MinimumProtocolVersion, so viewers may connect with TLSv1",
                                branch)
        value = ctx.template.resolve(version.value)
        if isinstance(value, Unknown):
            return Outcome.unknown(f"MinimumProtocolVersion: {value.reason}", version)
        if value not in order:
            return Outcome.unknown(f"MinimumProtocolVersion {value} is not a known security policy",
                                   version)
        if order.index(value) < order.index(minimum):
            return Outcome.fail(f"allows viewers {value}, older than {minimum}", version)
    return Outcome.ok(branch)
