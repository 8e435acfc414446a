"""TAP004 for EventBridge Scheduler (`AWS::Scheduler::Schedule`, what SAM's ScheduleV2 creates).

Scheduler delivers dead letters with the schedule's execution role (`Target.RoleArn`), not as a
service principal: the queue must be writable by that role, and a queue policy does not help.
"""

from __future__ import annotations

from tapaudit.model.arns import arn_of, glob_match, render
from tapaudit.model.iam import Access, evaluate, role_policies
from tapaudit.model.values import MISSING, Branch, Unknown, child
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates import Context, predicate
from tapaudit.rules.predicates.events import _queue_in_template


@predicate("schedule_target_dlq")
def schedule_target_dlq(ctx: Context, branch: Branch) -> list[Outcome]:
    """`branch` is the schedule's Target."""
    template = ctx.template
    if not isinstance(branch.value, dict):
        return [Outcome.ok(branch)]
    outcomes = []
    for config in child(branch, "DeadLetterConfig"):
        for arn in child(config, "Arn"):
            if arn.value is MISSING:
                outcomes.append(Outcome.fail("its target has no dead-letter queue", arn))
                continue
            queue = _queue_in_template(template, arn.value)
            if isinstance(queue, Unknown):
                outcomes.append(Outcome.unknown(f"dead-letter queue: {queue.reason}", arn))
                continue
            if queue is not None and template.type_of(queue) != "AWS::SQS::Queue":
                outcomes.append(Outcome.fail(f"sends failures to {queue}, which is not an SQS queue", arn))
                continue
            queue_arn = arn_of(template, queue) if queue else render(template, arn.value)
            for role in child(branch, "RoleArn"):
                outcomes.append(_role_can_send(ctx, role, queue or str(queue_arn), str(queue_arn), arn))
    return outcomes


def _role_can_send(ctx: Context, role: Branch, queue: str, queue_arn: str, where: Branch) -> Outcome:
    template = ctx.template
    ref = template.referenced_resource(role.value)
    if not ref or template.type_of(ref[0]) != "AWS::IAM::Role":
        shown = render(template, role.value) if role.value is not MISSING else "no RoleArn"
        shown = shown.reason if isinstance(shown, Unknown) else shown
        return Outcome.unknown(f"cannot verify the dead-letter queue: execution role {shown} is "
                               "defined outside the template", where)
    role_id = ref[0]

    def covers(pattern: str) -> bool:
        return glob_match(pattern, queue_arn)

    decision = evaluate(template, role_policies(template, role_id), "sqs:SendMessage", covers,
                        f"queue {queue}")
    if decision.access is Access.ALLOWED:
        return Outcome.ok(where)
    if decision.access is Access.UNKNOWN:
        return Outcome.unknown(f"execution role {role_id}: {decision.detail}", where)
    return Outcome.fail(
        f"has dead-letter queue {queue}, but its execution role {role_id} does not allow "
        "sqs:SendMessage to it; Scheduler delivers dead letters with that role, so failed "
        "invocations are lost", where)
