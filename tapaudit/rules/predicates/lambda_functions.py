"""Predicates about Lambda functions: CDK framework functions, and what a function's role allows."""

from __future__ import annotations

import re

from tapaudit.model.arns import arn_of, glob_match
from tapaudit.model.iam import Access, evaluate, execution_role, role_policies
from tapaudit.model.template import Template
from tapaudit.model.values import Branch, Unknown
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates import Context, predicate

_INDEX_ARN = re.compile(r"^arn:[^:]+:dynamodb:[^:]*:[^:]*:table/[^/]+/index/.+$")
_PROBE_TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/probe-table"


@predicate("cdk_framework_function")
def cdk_framework_function(ctx: Context, branch: Branch, path_patterns: list[str],
                           logical_id_patterns: list[str]) -> Outcome:
    """Passes for functions CDK adds on its own (custom resource providers, log retention...)."""
    path = ctx.template.cdk_path(ctx.logical_id)
    if path is not None:
        hit = any(re.search(p, path) for p in path_patterns)
    else:
        hit = any(re.search(p, ctx.logical_id) for p in logical_id_patterns)
    return Outcome.ok(branch) if hit else Outcome.fail("written by the user", branch)


def covers_everything(pattern: str) -> bool:
    return pattern.strip("*") == ""


def covers_dynamodb_index(template: Template, pattern: str) -> bool:
    """Does a resource pattern grant access to some DynamoDB index (`<table arn>/index/<name>`)?"""
    if _INDEX_ARN.match(pattern):
        return True
    tables = [*template.by_type.get("AWS::DynamoDB::Table", ()),
              *template.by_type.get("AWS::DynamoDB::GlobalTable", ())]
    probes = [arn_of(template, t) + "/index/probe-index" for t in tables]
    probes.append(_PROBE_TABLE + "/index/probe-index")
    return any(glob_match(pattern, probe) for probe in probes)


@predicate("role_allows")
def role_allows(ctx: Context, branch: Branch, action: str, scope: str, what: str,
                message: str) -> Outcome:
    """The function's execution role may do `action` on `scope` (all_resources | dynamodb_index)."""
    template = ctx.template
    role = execution_role(template, ctx.logical_id)
    if isinstance(role, Unknown):
        return Outcome.unknown(f"cannot verify {action}: {role.reason}", branch)
    if scope == "all_resources":
        def covers(pattern: str) -> bool:
            return covers_everything(pattern)
    elif scope == "dynamodb_index":
        def covers(pattern: str) -> bool:
            return covers_dynamodb_index(template, pattern)
    else:
        raise ValueError(f"role_allows: unknown scope {scope!r}")
    decision = evaluate(template, role_policies(template, role), action, covers, what)
    role_branch = Branch(branch.value, ("Resources", role), branch.conditions)
    if decision.access is Access.ALLOWED:
        return Outcome.ok(branch)
    if decision.access is Access.UNKNOWN:
        return Outcome.unknown(f"role {role}: {decision.detail}", role_branch)
    detail = decision.detail if decision.access is Access.DENIED else message
    return Outcome.fail(f"{detail} (execution role {role})", branch)
