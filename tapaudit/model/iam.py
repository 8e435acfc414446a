"""What an IAM role is allowed to do, from the policies the template attaches to it.

Sources: the role's inline `Policies`, `AWS::IAM::Policy` / `AWS::IAM::RolePolicy` /
`AWS::IAM::ManagedPolicy` resources attached through `Roles` or `RoleName`, and `ManagedPolicyArns`
(managed policies of the template, and a few AWS-managed ones whose content is fixed and known).
An explicit Deny wins; anything the template cannot show makes the answer unknown, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tapaudit.model.arns import glob_match, render
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Conditions, Unknown, as_list, branches, child, items

POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")

# AWS-managed policies CDK attaches to Lambda roles; their grants are fixed, so they can be judged.
_KNOWN_MANAGED = {
    "service-role/AWSLambdaBasicExecutionRole": (
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], ["*"]),
    "service-role/AWSLambdaVPCAccessExecutionRole": (
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
         "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
         "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
         "ec2:UnassignPrivateIpAddresses"], ["*"]),
    "AWSXRayDaemonWriteAccess": (
        ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
         "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"], ["*"]),
}


class Access(Enum):
    ALLOWED = "allowed"
    NOT_ALLOWED = "not allowed"
    DENIED = "denied"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Decision:
    access: Access
    detail: str = ""


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[Any, ...]
    not_resource: bool
    branch_conditions: Conditions
    origin: str
    condition: Any = None  # the statement's Condition block, None when it has none
    principal: Any = None  # resource policies only
    not_principal: bool = False


@dataclass
class RolePolicies:
    statements: list[Statement]
    unverifiable: list[str]  # managed policies whose content the template does not show


def role_policies(template: Template, role_id: str) -> RolePolicies:
    statements: list[Statement] = []
    unverifiable: list[str] = []
    attached = {policy_id for policy_id in
                template.references.referrers(role_id, template, POLICY_TYPES)
                if _attaches(template, policy_id, role_id)}
    root = Branch(template.resources[role_id], ("Resources", role_id))
    for props in child(root, "Properties"):
        for policies in child(props, "Policies"):
            for policy in items(policies):
                for document in child(policy, "PolicyDocument"):
                    statements.extend(statements_of(document, f"inline policy of role {role_id}"))
        for arns in child(props, "ManagedPolicyArns"):
            for arn in items(arns):
                ref = template.referenced_resource(arn.value)
                if ref and template.type_of(ref[0]) == "AWS::IAM::ManagedPolicy":
                    attached.add(ref[0])
                else:
                    _managed(template, arn, statements, unverifiable)
    for policy_id in sorted(attached):
        path = ("Resources", policy_id, "Properties", "PolicyDocument")
        document = template.properties(policy_id).get("PolicyDocument", MISSING)
        for doc in branches(document, path):
            statements.extend(statements_of(doc, f"{template.type_of(policy_id)} {policy_id}"))
    return RolePolicies(statements, unverifiable)


def _attaches(template: Template, policy_id: str, role_id: str) -> bool:
    props = template.properties(policy_id)
    targets = as_list(props.get("Roles")) + as_list(props.get("RoleName"))
    return any(template.referenced_resource(target) == (role_id, None) for target in targets)


def _managed(template: Template, arn: Branch, statements: list[Statement],
             unverifiable: list[str]) -> None:
    rendered = render(template, arn.value)
    if isinstance(rendered, str) and ":iam::aws:policy/" in rendered:
        known = _KNOWN_MANAGED.get(rendered.split(":iam::aws:policy/", 1)[1])
        if known:
            statements.append(Statement("Allow", tuple(known[0]), False, tuple(known[1]), False,
                                        arn.conditions, rendered))
            return
    unverifiable.append(rendered if isinstance(rendered, str) else f"({rendered.reason})")


def statements_of(document: Branch, origin: str) -> Iterator[Statement]:
    """The statements of one policy document (a single statement object counts too)."""
    for listed in child(document, "Statement"):
        entries = items(listed) if isinstance(listed.value, list) else iter([listed])
        for entry in entries:
            value = entry.value
            if not isinstance(value, dict):
                continue
            not_action = "NotAction" in value
            not_resource = "NotResource" in value
            actions = as_list(value.get("NotAction" if not_action else "Action"))
            resources = as_list(value.get("NotResource" if not_resource else "Resource"))
            yield Statement(
                effect=str(value.get("Effect", "")),
                actions=tuple(a for a in actions if isinstance(a, str)),
                not_action=not_action,
                resources=tuple(resources),
                not_resource=not_resource,
                branch_conditions=entry.conditions,
                condition=value.get("Condition"),
                origin=origin,
                principal=value.get("NotPrincipal", value.get("Principal")),
                not_principal="NotPrincipal" in value,
            )


def _action_covered(statement: Statement, action: str) -> bool:
    hit = any(glob_match(pattern, action, ignore_case=True) for pattern in statement.actions)
    return not hit if statement.not_action else hit


def _resource_covered(template: Template, statement: Statement,
                      covers: Callable[[str], bool]) -> bool | None:
    """True/False, or None when a resource expression cannot be rendered."""
    unknown = False
    hit = False
    for resource in statement.resources:
        for branch in branches(resource, ()):
            rendered = render(template, branch.value)
            if isinstance(rendered, Unknown):
                unknown = True
            elif covers(rendered):
                hit = True
    if statement.not_resource:
        return None if unknown and not hit else not hit
    if hit:
        return True
    return None if unknown else False


def _principal_covered(statement: Statement, service: str) -> bool | None:
    if statement.not_principal:
        return None
    principal = statement.principal
    if principal == "*":
        return True
    if isinstance(principal, dict):
        if "*" in as_list(principal.get("AWS")):
            return True
        return service in as_list(principal.get("Service"))
    return False


def _only_denies_plain_http(condition: Any) -> bool:
    """The `enforce_ssl` pattern: Deny when {"Bool": {"aws:SecureTransport": "false"}}."""
    if not isinstance(condition, dict) or list(condition) != ["Bool"]:
        return False
    test = condition["Bool"]
    return (isinstance(test, dict) and list(test) == ["aws:SecureTransport"]
            and str(test["aws:SecureTransport"]).lower() == "false")


def evaluate(template: Template, policies: RolePolicies, action: str,
             covers: Callable[[str], bool], what: str, service: str | None = None) -> Decision:
    """May the role (or, with `service`, that service principal) do `action` on what `covers`
    accepts? An unconditional explicit Deny wins; anything unprovable makes the answer unknown."""
    allowed_by = None
    maybe = []
    for statement in policies.statements:
        if not _action_covered(statement, action):
            continue
        if service is not None:
            principal = _principal_covered(statement, service)
            if principal is False:
                continue
            if principal is None:
                maybe.append(f"a NotPrincipal statement in {statement.origin}")
                continue
        covered = _resource_covered(template, statement, covers)
        if covered is False:
            continue
        effect = statement.effect.lower()
        if effect == "deny" and _only_denies_plain_http(statement.condition):
            continue  # AWS services and SDKs call over TLS: an insecure-transport Deny never applies
        if effect == "deny":
            if covered and statement.condition is None and not statement.branch_conditions:
                return Decision(Access.DENIED, f"{action} on {what} is explicitly denied by "
                                                f"{statement.origin}")
            maybe.append(f"a conditional Deny in {statement.origin}")
        elif effect == "allow":
            if covered and not statement.branch_conditions:
                allowed_by = statement
            elif covered:
                names = ", ".join(n for n, _ in statement.branch_conditions)
                maybe.append(f"an Allow in {statement.origin} that exists only under {names}")
            else:
                maybe.append(f"an Allow in {statement.origin} whose resource cannot be resolved")
    if allowed_by and not maybe:
        return Decision(Access.ALLOWED, f"allowed by {allowed_by.origin}")
    if allowed_by or maybe:
        return Decision(Access.UNKNOWN, f"{action} on {what} depends on " + "; ".join(maybe))
    if policies.unverifiable:
        return Decision(Access.UNKNOWN, f"{action} on {what} may come from managed policies the "
                                         f"template does not show: {', '.join(policies.unverifiable)}")
    return Decision(Access.NOT_ALLOWED, f"does not allow {action} on {what}")


def execution_role(template: Template, function_id: str) -> str | Unknown:
    """The in-template role of a Lambda function, or Unknown when it is defined elsewhere."""
    role = template.properties(function_id).get("Role", MISSING)
    ref = template.referenced_resource(role)
    if ref and template.type_of(ref[0]) == "AWS::IAM::Role":
        return ref[0]
    if role is MISSING:
        return Unknown(f"function {function_id} has no Role")
    rendered = render(template, role)
    shown = rendered if isinstance(rendered, str) else rendered.reason
    return Unknown(f"execution role {shown} is defined outside the template")
