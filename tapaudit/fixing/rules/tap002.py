"""TAP002: the missing statements, on the health-check function's own role.

A new inline policy on its AWS::IAM::Role (or a policy document in a SAM function's `Policies`),
never a change to a managed policy another role may share. Actions come from the rule's checks;
policy names and Sids never collide.
"""

from __future__ import annotations

from typing import Any

from tapaudit.fixing.edits import AppendItem, SetValue
from tapaudit.fixing.plan import Names, PlanContext, Planned, is_intrinsic
from tapaudit.model.iam import execution_role
from tapaudit.model.references import ReferenceGraph
from tapaudit.rules.predicates.lambda_functions import NOT_ALLOWED

TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
SAM_FUNCTION = "AWS::Serverless::Function"


def plan(ctx: PlanContext) -> Planned:
    planned = Planned()
    statements = []
    for check, outcome in ctx.failures:
        args = ctx.check_args(check)
        if not args or outcome.problem != NOT_ALLOWED:
            planned.leave(outcome.detail)  # an explicit Deny, a shape problem: the user's call
            continue
        statement = _statement(ctx, planned, check, args)
        if statement:
            statements.append(statement)
    if not statements:
        return planned
    if ctx.resource.get("Type") == SAM_FUNCTION and "Role" not in ctx.properties:
        _sam_policies(ctx, planned, statements)
    else:
        _role_policy(ctx, planned, statements)
    return planned


def _statement(ctx: PlanContext, planned: Planned, check: str, args: dict[str, Any]) -> dict | None:
    statement: dict[str, Any] = {"Sid": "", "Effect": "Allow", "Action": args["action"]}
    if args.get("scope") == "all_resources":
        statement["Resource"] = "*"
        return statement
    table = _table(ctx)
    if table is None:
        planned.leave(f"{args['message']}: which table's index the function queries is not clear from "
                      "the template")
        return None
    statement["Resource"] = {"Fn::Sub": f"${{{table}.Arn}}/index/*"}
    return statement


def _table(ctx: PlanContext) -> str | None:
    resources = ctx.data.get("Resources", {})
    tables = sorted(t for t, r in resources.items() if isinstance(r, dict) and r.get("Type") in TABLES)
    if len(tables) == 1:
        return tables[0]
    used = ReferenceGraph.mentioned(ctx.resource) & set(tables)
    return used.pop() if len(used) == 1 else None


def _sids(policies: Any) -> Names:
    taken = []
    for policy in policies if isinstance(policies, list) else []:
        document = policy.get("PolicyDocument", policy) if isinstance(policy, dict) else None
        for statement in (document or {}).get("Statement", []) if isinstance(document, dict) else []:
            if isinstance(statement, dict) and isinstance(statement.get("Sid"), str):
                taken.append(statement["Sid"])
    return Names(taken)


def _named(ctx: PlanContext, statements: list[dict], sids: Names) -> list[dict]:
    name = ctx.rule.name
    return [{**s, "Sid": sids.new(f"{name}{s['Action'].split(':')[-1]}")} for s in statements]


def _sam_policies(ctx: PlanContext, planned: Planned, statements: list[dict]) -> None:
    path = ("Resources", ctx.logical_id, "Properties", "Policies")
    policies = ctx.properties.get("Policies")
    document = {"Statement": _named(ctx, statements, _sids(policies))}
    if policies is None or isinstance(policies, list):
        planned.operations.append(AppendItem(path, document))
    elif isinstance(policies, str):
        planned.operations.append(SetValue(path, [policies, document]))
    else:
        planned.leave("Policies is computed as written: add the statements by hand")


def _role_policy(ctx: PlanContext, planned: Planned, statements: list[dict]) -> None:
    role = execution_role(ctx.template, ctx.logical_id)
    written = ctx.data.get("Resources", {}).get(role) if isinstance(role, str) else None
    if not isinstance(written, dict) or written.get("Type") != "AWS::IAM::Role":
        planned.leave("the function's role is not an AWS::IAM::Role written in this template")
        return
    sharing = sorted(f for f in ctx.template.by_type.get("AWS::Lambda::Function", ())
                     if f != ctx.logical_id and execution_role(ctx.template, f) == role)
    if sharing:
        planned.leave(f"role {role} is shared with {', '.join(sharing)}: give the health check a role of "
                      "its own, or add the statements knowingly")
        return
    props = written.get("Properties")
    policies = props.get("Policies") if isinstance(props, dict) else None
    if policies is not None and (not isinstance(policies, list) or is_intrinsic(policies)):
        planned.leave(f"the Policies of role {role} are computed as written: add the statements by hand")
        return
    names = Names(p.get("PolicyName") for p in policies or [] if isinstance(p, dict)
                  and isinstance(p.get("PolicyName"), str))
    planned.operations.append(AppendItem(("Resources", role, "Properties", "Policies"), {
        "PolicyName": names.new(f"{ctx.logical_id}{ctx.rule.name}"),
        "PolicyDocument": {"Version": "2012-10-17", "Statement": _named(ctx, statements, _sids(policies))}}))
