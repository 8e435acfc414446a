"""TAP004 for EventBridge Scheduler (`AWS::Scheduler::Schedule`, what SAM's ScheduleV2 creates).

Scheduler delivers dead letters with the schedule's execution role (`Target.RoleArn`), not as a
service principal: the queue must be writable by that role, and a queue policy does not help.
"""

from __future__ import annotations

from tapaudit.model.arns import arn_of, render, shown
from tapaudit.model.iam import Access, evaluate, role_policies
from tapaudit.model.lookup import denoted
from tapaudit.model.values import MISSING, Branch, Unknown, child
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates.registry import Context, predicate

_QUEUE = ("AWS::SQS::Queue",)


@predicate("schedule_target_dlq")
def schedule_target_dlq(ctx: Context, branch: Branch) -> list[Outcome]:
    """`branch` is the schedule's Target."""
    problem = Outcome.of_value(branch, "Target")
    if problem:
        return [problem]
    if not isinstance(branch.value, dict):
        return [Outcome.wrong_shape(branch, "a mapping")]
    outcomes = []
    for config in child(branch, "DeadLetterConfig"):
        for arn in child(config, "Arn"):
            if arn.value is MISSING:
                outcomes.append(Outcome.fail("its target has no dead-letter queue", arn))
                continue
            outcomes.extend(_judge_dlq(ctx, branch, arn))
    return outcomes


def _judge_dlq(ctx: Context, target: Branch, arn: Branch) -> list[Outcome]:
    template = ctx.template
    found = denoted(template, arn.value)
    if isinstance(found, Unknown):
        return [Outcome.unknown(f"the dead-letter queue {found.reason}", arn, found.why)]
    if not found:
        rendered = render(template, arn.value)
        if isinstance(rendered, str) and not template.symbols.concrete(rendered).startswith("arn:"):
            return [Outcome.fail(f"gives DeadLetterConfig.Arn {template.display(rendered)!r}, which "
                                 "is not an ARN: Scheduler cannot use it", arn)]
        return [Outcome.ok(arn)]  # a queue outside the template, by literal ARN
    outcomes = []
    for denotation in found:
        queue = denotation.logical_id
        kind = template.type_of(queue)
        if kind not in _QUEUE:
            outcome = Outcome.fail(f"sends failures to {queue}, which is a {kind}, not an SQS queue", arn)
        elif denotation.form != "Arn":
            outcome = Outcome.fail(f"gives queue {queue}'s {denotation.form} as DeadLetterConfig.Arn, "
                                   f"not its ARN (use Fn::GetAtt {queue}.Arn)", arn)
        else:
            outcomes.extend(o.within(denotation.conditions)
                            for role in child(target, "RoleArn")
                            for o in _role_can_send(ctx, role, queue, arn))
            continue
        outcomes.append(outcome.within(denotation.conditions))
    return outcomes


def _role_can_send(ctx: Context, role: Branch, queue: str, where: Branch) -> list[Outcome]:
    template = ctx.template
    if role.value is MISSING:
        return [Outcome.fail("has no RoleArn, so Scheduler cannot deliver dead letters", where)]
    found = denoted(template, role.value, ("AWS::IAM::Role",))
    if isinstance(found, Unknown):
        return [Outcome.unknown(f"cannot verify the dead-letter queue: execution role {found.reason}",
                                where, found.why)]
    if not found:
        return [Outcome.unknown(f"cannot verify the dead-letter queue: execution role "
                                f"{shown(template, role.value)} is defined outside the template", where)]
    role_id = found[0].logical_id
    queue_arn = arn_of(template, queue)

    def covers(pattern: str) -> bool | None:
        return template.symbols.compare(pattern, queue_arn)

    outcomes = []
    for decision in evaluate(template, role_policies(template, role_id), "sqs:SendMessage", covers,
                             f"queue {queue}"):
        if decision.access is Access.ALLOWED:
            outcome = Outcome.ok(where)
        elif decision.access is Access.UNKNOWN:
            outcome = Outcome.unknown(f"execution role {role_id}: {decision.detail}", where, decision.why)
        else:
            outcome = Outcome.fail(
                f"has dead-letter queue {queue}, but its execution role {role_id} does not allow "
                "sqs:SendMessage to it (Scheduler delivers dead letters with that role)", where)
        outcomes.append(outcome.within(decision.conditions))
    return outcomes
