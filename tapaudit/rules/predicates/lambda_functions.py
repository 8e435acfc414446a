"""Predicates about Lambda functions: which ones are in scope, and what a function's role allows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tapaudit.model.arns import arn_of
from tapaudit.model.iam import Access, Decision, evaluate, execution_role, role_policies
from tapaudit.model.invocation import deployment_only
from tapaudit.model.references import reference_graph
from tapaudit.model.template import Template
from tapaudit.model.values import Branch, Unknown
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.patterns import first_match
from tapaudit.rules.predicates.registry import Context, fix_values, predicate

# The kinds of failure of `role_allows` (its outcomes' `problem`): the fix and its planner test them.
DENIED = "denied"  # an explicit Deny: only the user may lift it
NOT_ALLOWED = "not-allowed"  # no statement allows it: a statement can be added

_INDEX_ARN = re.compile(r"^arn:[^:]+:dynamodb:[^:]*:[^:]*:table/[^/]+/index/.+$")
_PROBE_TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/probe-table"  # never shown


@predicate("cdk_framework_function", regex_args=("path_patterns", "logical_id_patterns"))
def cdk_framework_function(ctx: Context, branch: Branch, path_patterns: list[str],
                           logical_id_patterns: list[str]) -> Outcome:
    """Passes for functions CDK adds on its own (custom resource providers, log retention...)."""
    path = ctx.template.cdk_path(ctx.logical_id)
    if path is not None:
        hit = first_match(path_patterns, path)
        how = f"aws:cdk:path {path}"
    else:
        hit = first_match(logical_id_patterns, ctx.logical_id)
        how = f"logical id {ctx.logical_id}"
    if hit is None:
        return Outcome.fail("written by the user", branch)
    return Outcome.ok(branch, f"CDK framework function (recognised by its {how})")


@predicate("custom_resource_handler")
def custom_resource_handler(ctx: Context, branch: Branch) -> Outcome:
    """Passes for functions whose only callers are CloudFormation custom resources."""
    reason = deployment_only(ctx.template, ctx.logical_id)
    if reason is None:
        return Outcome.fail("has callers other than custom resources", branch)
    return Outcome.ok(branch, f"{reason}; it runs only during deployments")


def covers_everything(pattern: str) -> bool:
    return pattern.strip("*") == ""


def covers_dynamodb_index(template: Template, pattern: str) -> bool | None:
    """Does a resource pattern grant access to some DynamoDB index (`<table arn>/index/<name>`)?"""
    if _INDEX_ARN.match(template.symbols.concrete(pattern)):
        return True
    verdicts = [template.symbols.compare(pattern, probe) for probe in _index_probes(template)]
    return True if True in verdicts else None if None in verdicts else False


def _index_probes(template: Template) -> list[str]:
    """An index ARN of every table of the template, and of a table outside it (built once)."""
    probes = template.memo.dynamodb_index_probes
    if probes is None:
        tables = [*template.by_type.get("AWS::DynamoDB::Table", ()),
                  *template.by_type.get("AWS::DynamoDB::GlobalTable", ())]
        probes = [arn_of(template, t) + "/index/probe-index" for t in tables]
        probes.append(_PROBE_TABLE + "/index/probe-index")
        template.memo.dynamodb_index_probes = probes
    return probes


@predicate("role_allows")
def role_allows(ctx: Context, branch: Branch, action: str, scope: str, what: str,
                message: str) -> list[Outcome]:
    """The function's execution role may do `action` on `scope` (all_resources | dynamodb_index)."""
    template = ctx.template
    role = execution_role(template, ctx.logical_id)
    if isinstance(role, Unknown):
        return [Outcome.unknown(role.reason, branch, role.why)]  # the same for every action: said once
    requests: tuple[str, ...] = ()
    if scope == "all_resources":
        def covers(pattern: str) -> bool | None:
            return covers_everything(pattern)
    elif scope == "dynamodb_index":
        def covers(pattern: str) -> bool | None:
            return covers_dynamodb_index(template, pattern)
        # What a NotResource must leave out: an index of a table of the template (of a table
        # outside it only when the template has none).
        probes = _index_probes(template)
        requests = tuple(probes[:-1] or probes)
    else:
        raise ValueError(f"role_allows: unknown scope {scope!r}")
    decisions = evaluate(template, role_policies(template, role), action, covers, what,
                         requests=requests)
    role_branch = Branch(branch.value, ("Resources", role), branch.conditions)
    outcomes = []
    for decision in decisions:
        if decision.access is Access.UNKNOWN:
            outcome = Outcome.unknown(_unreadable(role, decision), role_branch, decision.why)
        elif decision.access is Access.ALLOWED:
            outcome = Outcome.ok(branch)
        else:
            detail = message if decision.access is Access.NOT_ALLOWED else decision.detail
            snapshot = f", {decision.note}" if decision.note else ""
            outcome = Outcome.fail(detail, branch).noted(f"role {role}{snapshot}")
            outcome = outcome.because(DENIED if decision.access is Access.DENIED else NOT_ALLOWED)
        outcomes.append(outcome.within(decision.conditions))
    return outcomes


def _unreadable(role: str, decision: Decision) -> str:
    """An unknown decision as a message says it: a policy that cannot be read is named once for
    the role, whichever action was asked for."""
    if decision.unreadable:
        policies = "; ".join(policy.reason for policy in decision.unreadable)
        return f"role {role}'s permissions are not all known: {policies}"
    return f"role {role}: {decision.detail}"


_TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


@fix_values("health_check")
def health_check_fix_values(template: Template, logical_id: str,
                            params: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The table the function works with, when the template says which: the only DynamoDB table
    its properties (e.g. its environment) or its role's policies refer to."""
    role = execution_role(template, logical_id)
    sources = [logical_id]
    if isinstance(role, str):
        sources += [role, *_policies_of(template, role)]
    graph = reference_graph(template)
    tables = {name for source in sources if template.properties(source)  # a mapping, as written
              for name in graph.named_in_properties(source) if template.type_of(name) in _TABLES}
    if len(tables) != 1:
        return {"table": "unknown"}, {}
    return {"table": "known"}, {"table_resource": tables.pop()}


def _policies_of(template: Template, role: str) -> Iterator[str]:
    """The policies attached to `role` by `Roles: [{Ref: role}]`: among those that refer to it, so
    the cost does not grow with the template for each function."""
    for name in reference_graph(template).referrers(role):
        if template.type_of(name) in _POLICIES:
            roles = template.properties(name).get("Roles")
            if isinstance(roles, list) and {"Ref": role} in roles:
                yield name
