"""TAP005: response headers policy, HTTPS-only viewers, HTTP/2 and 3, and a minimum TLS version
where a certificate is already configured."""

from __future__ import annotations

from tapaudit.fixing.edits import SetValue
from tapaudit.fixing.plan import PlanContext, Planned, is_intrinsic

SECURITY_HEADERS_POLICY = "67f7725c-6f97-4210-82d7-5512b31e9d03"  # Managed-SecurityHeadersPolicy
# Managed CORS policies without security headers -> the managed policy with the same CORS and them.
WITH_SECURITY_HEADERS = {
    "60669652-455b-4ae9-85a4-c4c02393f86c": "e61eb60c-9c35-4d20-a928-2b84e02af89c",  # SimpleCORS
    "5cc3b908-e619-4b99-88e5-2cf7f45965bd": "eaab4381-ed33-4a86-88ca-d9558dc6cd63",  # CORS-With-Preflight
}
REDIRECT = "redirect-to-https"
HTTP_VERSION = "http2and3"
CUSTOM_CERTIFICATE = {"AcmCertificateArn", "IamCertificateId"}


def plan(ctx: PlanContext) -> Planned:
    planned = Planned()
    for check, outcome in ctx.failures:
        path = tuple(outcome.path)
        step = {"security-headers": _headers, "https-only": _https, "http3": _http3,
                "minimum-tls": _tls}.get(check)
        if step is None:
            planned.leave(outcome.detail)
            continue
        if step in (_headers, _https) and not isinstance(ctx.written(_behavior(path)), dict):
            # A cache behavior needs its origin (TargetOriginId), which only the user can name: a
            # behavior of two settings would be a new error, not a fix.
            planned.leave(f"{outcome.detail}: add the cache behavior with its TargetOriginId first "
                          "(only you can name its origin)")
            continue
        step(ctx, planned, path, outcome.detail)
    return planned


def _behavior(path: tuple) -> tuple:
    """The cache behavior a path points into (…DefaultCacheBehavior or …CacheBehaviors/i)."""
    for i, step in enumerate(path):
        if step == "DefaultCacheBehavior":
            return path[:i + 1]
        if step == "CacheBehaviors" and i + 1 < len(path):
            return path[:i + 2]
    return path


def _headers(ctx: PlanContext, planned: Planned, path: tuple, detail: str) -> None:
    behavior = _behavior(path)
    current = ctx.written((*behavior, "ResponseHeadersPolicyId"))
    if current is None:
        planned.operations.append(SetValue((*behavior, "ResponseHeadersPolicyId"), SECURITY_HEADERS_POLICY))
    elif isinstance(current, str) and current in WITH_SECURITY_HEADERS:
        planned.operations.append(SetValue((*behavior, "ResponseHeadersPolicyId"),
                                           WITH_SECURITY_HEADERS[current]))
    else:
        planned.leave(f"{detail}: add the missing headers to that policy's SecurityHeadersConfig (its "
                      "other settings are yours to keep)")


def _https(ctx: PlanContext, planned: Planned, path: tuple, detail: str) -> None:
    if path[-1] != "ViewerProtocolPolicy":
        path = (*_behavior(path), "ViewerProtocolPolicy")
    if is_intrinsic(ctx.written(path)):
        planned.leave(f"{detail}: the value is computed; change it where it comes from")
        return
    planned.operations.append(SetValue(path, REDIRECT))


def _http3(ctx: PlanContext, planned: Planned, path: tuple, detail: str) -> None:
    if is_intrinsic(ctx.written(path)):
        planned.leave(f"{detail}: the value is computed; change it where it comes from")
        return
    planned.operations.append(SetValue(path, HTTP_VERSION))


def _tls(ctx: PlanContext, planned: Planned, path: tuple, detail: str) -> None:
    certificate = ctx.written(path if path[-1] != "MinimumProtocolVersion" else path[:-1])
    custom = isinstance(certificate, dict) and bool(CUSTOM_CERTIFICATE & set(certificate))
    if not custom or certificate.get("CloudFrontDefaultCertificate") in (True, "true", "True"):
        planned.leave(f"{detail}: a minimum TLS version needs a custom certificate (ACM in us-east-1 or "
                      "IAM) and a domain name, which only you can choose")
        return
    target = path if path[-1] == "MinimumProtocolVersion" else (*path, "MinimumProtocolVersion")
    if is_intrinsic(ctx.written(target)):
        planned.leave(f"{detail}: the value is computed; change it where it comes from")
        return
    planned.operations.append(SetValue(target, ctx.check_args("minimum-tls").get(
        "minimum", ctx.rule.parameters["minimum_protocol_version"])))

