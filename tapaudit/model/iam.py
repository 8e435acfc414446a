"""What an IAM role (or a service, through a resource policy) is allowed to do, evaluated like IAM.

Sources: the role's inline `Policies`, `AWS::IAM::Policy` / `AWS::IAM::RolePolicy` /
`AWS::IAM::ManagedPolicy` resources attached through `Roles` or `RoleName` (by Ref or by literal
name), and `ManagedPolicyArns` (managed policies of the template, AWS managed policies from the
dated snapshot). Statements under Fn::If (whole, or their Action/Resource) are evaluated per
branch; `NotAction`, `NotResource` and wildcards count; an explicit Deny wins, with its conditions;
conditions on the request context (aws:SourceArn, aws:SourceAccount, aws:SecureTransport) are
evaluated; anything the template cannot show makes the answer unknown, not a failure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from tapaudit.model import managed_policies
from tapaudit.model.arns import shown
from tapaudit.model.derived import RolePolicies, Statement
from tapaudit.model.intrinsics import merge, product, strings
from tapaudit.model.lookup import denoted, naming_index
from tapaudit.model.symbols import URL_SUFFIXES
from tapaudit.model.template import Template
from tapaudit.model.values import (
    MISSING,
    Branch,
    Cause,
    Conditions,
    Malformed,
    Unknown,
    Why,
    as_list,
    branches,
    causes_of,
    child,
    items,
    shape_of,
)
from tapaudit.model.wildcards import wildcard_match

POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")
_MAX_SCENARIO_CONDITIONS = 6

# Covers: does a rendered Resource pattern cover what is asked? True, False, or None (unknown).
Covers = Callable[[str], "bool | None"]


class Access(Enum):
    ALLOWED = "allowed"
    NOT_ALLOWED = "not allowed"
    DENIED = "denied"
    UNKNOWN = "unknown"


class Decision(Struct, frozen=True):
    access: Access
    detail: str = ""
    conditions: Conditions = ()  # the Fn::If branch this decision holds in (empty: every branch)
    note: str = ""  # which dated managed-policy snapshot the decision relied on, if any
    why: tuple[Why, ...] = ()  # UNKNOWN: the typed causes `detail` mentions
    # UNKNOWN because attached policies cannot be read: those policies (the same for every action).
    unreadable: tuple[Unknown, ...] = ()


class RequestContext(Struct, frozen=True):
    """What IAM knows about the request. `caller_chooses`: keys not listed here are the caller's
    to satisfy (a function choosing its metric namespace), so an Allow conditioned on them counts;
    without it (a service acting for someone) such a condition cannot be decided."""

    values: dict[str, tuple[str, ...]]
    caller_chooses: bool = True


IDENTITY = RequestContext({"aws:securetransport": ("true",)})


def service_context(template: Template, source_arn: str | None) -> RequestContext:
    """A service principal acting for a resource of this template (EventBridge for a rule)."""
    values = {"aws:securetransport": ("true",),
              "aws:sourceaccount": (template.symbols.token("AWS::AccountId"),)}
    if source_arn is not None:
        values["aws:sourcearn"] = (source_arn,)
    return RequestContext(values, caller_chooses=False)


def role_policies(template: Template, role_id: str) -> RolePolicies:
    """Everything that grants or denies the role anything (built once per template and role;
    callers read it, never change it)."""
    memo = template.memo.role_policies
    if role_id not in memo:
        memo[role_id] = _role_policies(template, role_id)
    return memo[role_id]


def _role_policies(template: Template, role_id: str) -> RolePolicies:
    policies = RolePolicies([], [])
    attached = set(_attachments(template).get(role_id, ()))
    root = Branch(template.resources[role_id], ("Resources", role_id))
    for props in child(root, "Properties"):
        for inline in child(props, "Policies"):
            for policy in items(inline):
                for document in child(policy, "PolicyDocument"):
                    policies.statements.extend(statements_of(
                        template, document, f"inline policy of role {role_id}", policies.unverifiable))
        for arns in child(props, "ManagedPolicyArns"):
            for arn in items(arns):
                found = denoted(template, arn.value, ("AWS::IAM::ManagedPolicy",))
                if isinstance(found, list) and found:
                    attached.update(d.logical_id for d in found)
                else:
                    _managed(template, arn, policies)
    for policy_id in sorted(attached):
        path = ("Resources", policy_id, "Properties", "PolicyDocument")
        document = template.properties(policy_id).get("PolicyDocument", MISSING)
        for doc in branches(document, path):
            policies.statements.extend(statements_of(
                template, doc, f"{template.type_of(policy_id)} {policy_id}", policies.unverifiable))
    return policies


def _attachments(template: Template) -> dict[str, set[str]]:
    """Role -> the policy resources attached to it through Roles or RoleName."""
    return naming_index(template, POLICY_TYPES, ("Roles", "RoleName"), ("AWS::IAM::Role",))


def _managed(template: Template, arn: Branch, policies: RolePolicies) -> None:
    for rendered, conds in strings(template, arn.value):
        conditions = merge(arn.conditions, conds)
        if conditions is None:
            continue  # a rendering that contradicts the branch the ARN sits in
        if isinstance(rendered, Unknown):
            if not rendered.is_no_value:
                policies.unverifiable.append(rendered.reworded(f"a managed policy that {rendered.reason}"))
            continue
        concrete = template.symbols.concrete(rendered)
        marker = ":iam::aws:policy/"
        if concrete.startswith("arn:") and marker in concrete:
            name = concrete.split(marker, 1)[1]
            document = managed_policies.document(name)
            if document is None:
                policies.unverifiable.append(Unknown.because(
                    f"policy {name} is not in the managed-policy snapshot (as of "
                    f"{managed_policies.snapshot_date()})", Cause.MANAGED_POLICY_NOT_IN_SNAPSHOT, name))
                continue
            policies.snapshot.append(name)
            policies.statements.extend(_managed_statements(template, name, document, conditions))
        else:
            policies.unverifiable.append(Unknown(f"managed policy {template.display(rendered)}, which "
                                                 "is defined outside the template"))


def _managed_statements(template: Template, name: str, document: dict,
                        conditions: Conditions) -> list[Statement]:
    """An AWS managed policy's statements, read once per template (CDK attaches the same one,
    AWSLambdaBasicExecutionRole, to every function's role)."""
    memo = template.memo.managed_statements
    found = memo.get((name, conditions))
    if found is None:
        origin = f"AWS managed policy {name} (as of {managed_policies.snapshot_date()})"
        found = memo[name, conditions] = list(
            statements_of(template, Branch(document, (), conditions), origin))
    return found


def statements_of(template: Template, document: Branch, origin: str,
                  unverifiable: list[Unknown] | None = None) -> Iterator[Statement]:
    """The statements of one policy document (a single statement object counts too), one per
    Fn::If branch of the statement, its Effect, Action, Resource and their elements. A document
    or statement that cannot be read (a macro's output, an import) is added to `unverifiable`."""
    for listed in child(document, "Statement"):
        entries = items(listed) if isinstance(listed.value, list) else iter([listed])
        for entry in entries:
            if isinstance(entry.value, dict):
                yield from _expand(template, entry.value, entry.conditions, origin)
            elif isinstance(entry.value, Unknown) and unverifiable is not None:
                # A connector's grant is named by the connector alone.
                connector = entry.value.cause is Cause.CONNECTOR
                unverifiable.append(entry.value if connector else
                                    entry.value.reworded(f"{origin}: {entry.value.reason}"))
            elif isinstance(entry.value, Malformed) and unverifiable is not None:
                unverifiable.append(Unknown(f"{origin}: {entry.value.reason}"))


def _expand(template: Template, value: dict, conditions: Conditions, origin: str) -> Iterator[Statement]:
    not_action = "NotAction" in value
    not_resource = "NotResource" in value
    effects = [(b.value, b.conditions) for b in branches(value.get("Effect", ""), ())]
    actions = _listed(template, value.get("NotAction" if not_action else "Action", MISSING), True)
    resources = _listed(template, value.get("NotResource" if not_resource else "Resource", MISSING),
                        True)
    combos = product([effects, actions, resources])
    if len(combos) == 1 and len(combos[0][0]) == 1 and isinstance(combos[0][0][0], Unknown):
        # Too many Fn::If combinations: the statement is kept, its actions and resources unknown,
        # so a Deny (or Allow) the model cannot read makes the answer unknown, never dropped.
        unknown = combos[0][0][0]
        combos = [([effect, (unknown,), (unknown,)], conds) for effect, conds in effects]
    for chosen, conds in combos:
        merged = merge(conditions, conds)
        if merged is None or len(chosen) != 3 or chosen[0] is MISSING:
            continue
        effect, actions_, resources_ = chosen
        yield Statement(
            effect=str(effect),
            actions=tuple(_action(template, a) for a in actions_),
            not_action=not_action,
            resources=tuple(resources_),
            not_resource=not_resource,
            branch_conditions=merged,
            condition=value.get("Condition"),
            origin=origin,
            principal=value.get("NotPrincipal", value.get("Principal")),
            not_principal="NotPrincipal" in value,
        )


def _action(template: Template, rendered: Any) -> str | Unknown:
    """A rendered action pattern, or Unknown when it is only known at deploy time."""
    if isinstance(rendered, str) and template.symbols.has_tokens(rendered):
        return Unknown.because(f"its action {template.display(rendered)} is only known at deploy time",
                               Cause.ACTION)
    if isinstance(rendered, str | Unknown):
        return rendered
    return Unknown.because(f"its action is {shape_of(rendered)}, not a string", Cause.ACTION)


def _listed(template: Template, value: Any, render: bool) -> list[tuple[tuple, Conditions]]:
    """Alternatives of an IAM string-or-list field, elements rendered when `render`."""
    found: list[tuple[tuple, Conditions]] = []
    for top in branches(value, ()):
        if top.value is MISSING:
            found.append(((), top.conditions))
            continue
        elements = top.value if isinstance(top.value, list) else [top.value]
        if render and all(type(e) is str and not e.startswith("{{resolve:") for e in elements):
            found.append((tuple(elements), top.conditions))  # literals (most actions): as written
            continue
        parts = []
        for element in elements:
            if render:
                parts.append(list(strings(template, element)))
            else:
                parts.append([(b.value, b.conditions) for b in branches(element, ())])
        for values, conds in product(parts):
            merged = merge(top.conditions, conds)
            if merged is not None:
                kept = tuple(v for v in values if v is not MISSING
                             and not (isinstance(v, Unknown) and v.is_no_value))
                found.append((kept, merged))
    return found


def _action_covered(statement: Statement, action: str) -> tuple[bool | None, Unknown | None]:
    """True/False, or None (with the reason) when an action of the statement cannot be read."""
    hit = any(isinstance(pattern, str) and wildcard_match(pattern, action, ignore_case=True)
              for pattern in statement.actions)
    unknown = next((p for p in statement.actions if isinstance(p, Unknown)), None)
    if unknown is not None and not hit:
        if unknown.cause is Cause.ACTION:
            return None, unknown
        return None, unknown.reworded(f"its action cannot be read: {unknown.reason}")
    return (not hit if statement.not_action else hit), None


def _resource_covered(template: Template, statement: Statement, covers: Covers,
                      requests: tuple[str, ...]) -> tuple[bool | None, Unknown | None]:
    """True/False, or None (with the reason) when a resource cannot be rendered or compared."""
    if statement.not_resource and requests:
        return _left_out(template, statement, requests)
    reason: Unknown | None = None
    hit = False
    for resource in statement.resources:
        if isinstance(resource, Unknown):
            reason = reason or resource
            continue
        verdict = covers(resource)
        if verdict is True:
            hit = True
        elif verdict is None:
            reason = reason or Unknown("its resource may or may not be the one asked for (it depends "
                                       "on the account or region the stack is deployed to)")
    if statement.not_resource:
        return (None, reason) if reason and not hit else (not hit, None)
    if hit:
        return True, None
    return (None, reason) if reason else (False, None)


def _left_out(template: Template, statement: Statement,
              requests: tuple[str, ...]) -> tuple[bool | None, Unknown | None]:
    """NotResource: the statement covers the question when one of the resources asked about is
    matched by none of its patterns (`NotResource: [table, table/index/*]` still grants another
    table's index)."""
    reason: Unknown | None = None
    for request in requests:
        verdicts = [None if isinstance(pattern, Unknown) else template.symbols.compare(pattern, request)
                    for pattern in statement.resources]
        if True in verdicts:
            continue
        if None not in verdicts:
            return True, None
        reason = reason or next((p for p in statement.resources if isinstance(p, Unknown)),
                                Unknown("its NotResource may or may not leave out the resource asked "
                                        "for (it depends on the account or region the stack is "
                                        "deployed to)"))
    return (None, reason) if reason else (False, None)


def _principal_covered(template: Template, statement: Statement, service: str) -> bool | None:
    if statement.not_principal:
        return None
    principal = statement.principal
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in as_list(principal.get("AWS")):
        return True
    verdict: bool | None = False
    for entry in as_list(principal.get("Service")):
        for rendered, _ in strings(template, entry):
            if isinstance(rendered, Unknown):
                verdict = None
                continue
            # The partition's own suffix counts only when the partition is known.
            partition = template.partition
            names = [service] + ([service.replace("amazonaws.com", URL_SUFFIXES[partition])]
                                 if partition else [])
            for name in names:
                match = template.symbols.compare(rendered, name, wildcards=False)
                if match is True:
                    return True
                if match is None:
                    verdict = None
    return verdict


def condition_holds(template: Template, condition: Any, context: RequestContext,
                    effect: str) -> tuple[bool | None, Unknown | None]:
    """Does a statement's Condition block hold for the request? (verdict, why it is unknown)"""
    if condition is None:
        return True, None
    if not isinstance(condition, dict):
        return None, Unknown("its Condition block cannot be read")
    verdict: bool | None = True
    reason: Unknown | None = None
    for operator, tests in condition.items():
        if not isinstance(tests, dict):
            return None, Unknown(f"its {operator} condition cannot be read")
        for key, expected in tests.items():
            key = str(key)
            result = _test(template, str(operator), key, expected, context, effect)
            if result is False:
                return False, None
            if result is None:
                verdict = None
                reason = reason or _undecided_condition(f"{operator} {key}", key.lower() in context.values)
    return verdict, reason


def _undecided_condition(test: str, deploy_time: bool) -> Unknown:
    """Why a condition test (`StringEquals aws:SourceAccount`) cannot be decided."""
    if deploy_time:  # a key the request carries, whose value depends on where the stack goes
        return Unknown.because(f"its condition {test} is only known at deploy time",
                               Cause.DEPLOY_TIME_CONDITION, test)
    return Unknown(f"its condition {test} cannot be evaluated from the template")


_STRING_OPS = {"StringEquals": False, "StringLike": True, "ArnEquals": True, "ArnLike": True,
               "StringEqualsIgnoreCase": False, "Bool": False}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike",
            "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
            "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase"}


def _test(template: Template, operator: str, key: str, expected: Any, context: RequestContext,
          effect: str) -> bool | None:
    # With the key present, an IfExists operator tests it like the plain one.
    base = operator.removesuffix("IfExists")
    negated = base in _NEGATED
    base = _NEGATED.get(base, base)
    present = context.values.get(key.lower())
    if present is None:
        # A key this request does not carry: the caller's to choose, or unknown.
        if context.caller_chooses and effect.lower() == "allow":
            return True
        return None
    if ":" in base or base not in _STRING_OPS:
        return None  # ForAnyValue:/ForAllValues:, numeric, date, IP: not about these keys
    wildcards = _STRING_OPS[base]
    ignore_case = base.endswith("IgnoreCase") or base == "Bool"
    result: bool | None = False
    for value in as_list(expected):
        rendered_all = strings(template, value)
        if len(rendered_all) != 1 or isinstance(rendered_all[0][0], Unknown):
            result = None if result is False else result
            continue
        rendered = rendered_all[0][0]
        for actual in present:
            left, right = (rendered.lower(), actual.lower()) if ignore_case else (rendered, actual)
            match = template.symbols.compare(left, right, wildcards=wildcards)
            if match is True:
                result = True
                break
            if match is None and result is False:
                result = None
        if result is True:
            break
    if negated and result is not None:
        return not result
    return result


def evaluate(template: Template, policies: RolePolicies, action: str, covers: Covers, what: str,
             service: str | None = None, context: RequestContext | None = None,
             requests: tuple[str, ...] = ()) -> list[Decision]:
    """May the role (or, with `service`, that service principal) do `action` on what `covers`
    accepts? One decision per Fn::If scenario that changes the answer (one when none does).
    `requests`: resource ARNs that stand for what is asked (any one will do); a NotResource
    statement covers the question when it leaves one of them out."""
    context = context or (IDENTITY if service is None else service_context(template, None))
    names = list(dict.fromkeys(n for s in policies.statements for n, _ in s.branch_conditions))
    if len(names) > _MAX_SCENARIO_CONDITIONS:
        return [Decision(Access.UNKNOWN, f"{action} on {what} depends on more than "
                                         f"{_MAX_SCENARIO_CONDITIONS} conditions")]
    scenarios = [tuple(zip(names, flags, strict=True))
                 for flags in itertools.product((True, False), repeat=len(names))]
    decisions = []
    for scenario in scenarios:
        chosen = dict(scenario)
        active = [s for s in policies.statements
                  if all(chosen.get(n) == flag for n, flag in s.branch_conditions)]
        decisions.append(_decide(template, active, policies, action, covers, what, service,
                                 context, scenario, requests))
    if len({d.access for d in decisions}) == 1:
        return [replace(decisions[0], conditions=())]
    return decisions


def _decide(template: Template, statements: list[Statement], policies: RolePolicies, action: str,
            covers: Covers, what: str, service: str | None, context: RequestContext,
            scenario: Conditions, requests: tuple[str, ...] = ()) -> Decision:
    allowed_by = None
    maybe_allow: list[Unknown] = []
    maybe_deny: list[Unknown] = []
    for statement in statements:
        action_covered, action_reason = _action_covered(statement, action)
        if action_covered is False:
            continue
        if service is not None:
            principal = _principal_covered(template, statement, service)
            if principal is False:
                continue
            if principal is None:
                (maybe_deny if statement.effect.lower() == "deny" else maybe_allow).append(
                    Unknown(f"a statement in {statement.origin} whose principal cannot be evaluated"))
                continue
        covered, resource_reason = _resource_covered(template, statement, covers, requests)
        if covered is False:
            continue
        effect = statement.effect.lower()
        holds, condition_reason = condition_holds(template, statement.condition, context, effect)
        if holds is False:
            continue
        if covered and holds and action_covered:
            if effect == "deny":
                return Decision(Access.DENIED, f"{action} on {what} is explicitly denied by "
                                               f"{statement.origin}", scenario)
            if effect == "allow":
                allowed_by = allowed_by or statement
            continue
        why = action_reason or resource_reason or condition_reason or Unknown("")
        if effect == "deny":
            maybe_deny.append(why.reworded(f"a Deny in {statement.origin} ({why.reason})"))
        elif effect == "allow":
            maybe_allow.append(why.reworded(f"an Allow in {statement.origin} ({why.reason})"))
    if allowed_by and not maybe_deny:
        return Decision(Access.ALLOWED, f"allowed by {allowed_by.origin}", scenario)
    if allowed_by or maybe_allow:
        depends = maybe_deny + ([] if allowed_by else maybe_allow)
        return Decision(Access.UNKNOWN, f"{action} on {what} depends on "
                        + "; ".join(u.reason for u in depends), scenario, why=causes_of(depends))
    if policies.unverifiable:
        unreadable = tuple(policies.unverifiable)
        return Decision(Access.UNKNOWN, f"{action} on {what} may come from a policy whose content "
                                        f"is not known: {'; '.join(u.reason for u in unreadable)}",
                        scenario, why=causes_of(unreadable), unreadable=unreadable)
    note = ""
    if policies.snapshot:
        names = ", ".join(name.rsplit("/", 1)[-1] for name in policies.snapshot)
        note = f"with {names} as of {managed_policies.snapshot_date()}"
    detail = f"does not allow {action} on {what}" + (f" ({note})" if note else "")
    return Decision(Access.NOT_ALLOWED, detail, scenario, note)


def execution_role(template: Template, function_id: str) -> str | Unknown:
    """The in-template role of a Lambda function, or Unknown (with why) when it is not here."""
    role = template.properties(function_id).get("Role", MISSING)
    if role is MISSING:
        return Unknown(f"function {function_id} has no Role")
    found = denoted(template, role, ("AWS::IAM::Role",))
    if isinstance(found, Unknown):
        return found.reworded(f"execution role {found.reason}")
    if found:
        return found[0].logical_id
    return Unknown(f"execution role {shown(template, role)} is defined outside the template")
