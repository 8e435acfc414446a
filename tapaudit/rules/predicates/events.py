"""TAP004: every EventBridge target has a dead-letter queue that EventBridge can deliver to."""

from __future__ import annotations

from tapaudit.model.arns import arn_of, glob_match, render
from tapaudit.model.iam import Access, RolePolicies, evaluate, statements_of
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Unknown, as_list, branches, child
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates import Context, predicate

EVENTS = "events.amazonaws.com"


@predicate("event_target_dlq")
def event_target_dlq(ctx: Context, branch: Branch, principal: str = EVENTS) -> list[Outcome]:
    """`branch` is one entry of the rule's Targets; `principal` must be able to send to its DLQ."""
    template = ctx.template
    target = branch.value
    if not isinstance(target, dict):
        return [Outcome.ok(branch)]
    name = target.get("Id") if isinstance(target.get("Id"), str) else f"#{branch.path[-1]}"
    outcomes = []
    for config in child(branch, "DeadLetterConfig"):
        for arn in child(config, "Arn"):
            if arn.value is MISSING:
                outcomes.append(Outcome.fail(f"target '{name}' has no dead-letter queue", arn))
                continue
            queue = _queue_in_template(template, arn.value)
            if isinstance(queue, Unknown):
                outcomes.append(Outcome.unknown(f"target '{name}': {queue.reason}", arn))
            elif queue is None:
                outcomes.append(Outcome.ok(arn))  # a queue outside the template, by literal ARN
            elif template.type_of(queue) != "AWS::SQS::Queue":
                outcomes.append(Outcome.fail(f"target '{name}' sends failures to {queue}, which is "
                                             "not an SQS queue", arn))
            else:
                outcomes.append(_queue_receives(template, queue, name, arn, principal))
    return outcomes


def _queue_in_template(template: Template, value: object) -> str | Unknown | None:
    ref = template.referenced_resource(value)
    if ref:
        return ref[0]
    rendered = render(template, value)
    if isinstance(rendered, Unknown):
        return rendered
    for queue in template.by_type.get("AWS::SQS::Queue", ()):
        if rendered == arn_of(template, queue):
            return queue
    return None


def queue_policies(template: Template, queue: str) -> RolePolicies:
    """Statements of the QueuePolicy and QueueInlinePolicy resources that cover `queue`."""
    statements = []
    for policy in template.references.referrers(
            queue, template, ("AWS::SQS::QueuePolicy", "AWS::SQS::QueueInlinePolicy")):
        props = template.properties(policy)
        listed = as_list(props.get("Queues")) + as_list(props.get("Queue"))
        if not any(template.referenced_resource(q) == (queue, None) for q in listed):
            continue
        path = ("Resources", policy, "Properties", "PolicyDocument")
        for document in branches(props.get("PolicyDocument", MISSING), path):
            statements.extend(statements_of(document, f"{template.type_of(policy)} {policy}"))
    return RolePolicies(statements, [])


def _queue_receives(template: Template, queue: str, name: str, where: Branch,
                    principal: str = EVENTS) -> Outcome:
    queue_arn = arn_of(template, queue)

    def covers(pattern: str) -> bool:
        return glob_match(pattern, queue_arn)

    decision = evaluate(template, queue_policies(template, queue), "sqs:SendMessage", covers,
                        f"queue {queue}", service=principal)
    if decision.access is Access.ALLOWED:
        return Outcome.ok(where)
    if decision.access is Access.UNKNOWN:
        return Outcome.unknown(f"target '{name}': {decision.detail}", where)
    if decision.access is Access.DENIED:
        return Outcome.fail(f"target '{name}': {decision.detail}", where)
    return Outcome.fail(
        f"target '{name}' has dead-letter queue {queue}, but no queue policy lets {principal} "
        "sqs:SendMessage to it, so EventBridge cannot deliver failed events there", where)
