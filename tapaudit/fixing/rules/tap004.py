"""TAP004: a dead-letter queue for each target, and a queue policy that lets EventBridge send to it
on behalf of this rule only (`aws:SourceArn`); a queue given by its URL gets its `Arn` instead.

The principal comes from the rule's parameters; new logical ids and statement Sids never collide.
"""

from __future__ import annotations

from typing import Any

from tapaudit.fixing.edits import AppendItem, SetValue
from tapaudit.fixing.plan import Names, PlanContext, Planned, is_intrinsic
from tapaudit.model.lookup import denoted, naming_index
from tapaudit.model.values import Branch, Unknown
from tapaudit.rules.outcome import Status
from tapaudit.rules.predicates import Context

# TAP004's own judgement of a queue policy, so a planned Arn is checked as the rule will check it;
# its name for a new queue, so the fix text names the queue this creates.
from tapaudit.rules.predicates.events import DENIED, NOT_ARN, _queue_receives, dead_letter_queue_base

RETENTION_SECONDS = 1_209_600  # 14 days, SQS's longest: time to notice and replay
# SAM event sources whose DeadLetterConfig may be {Type: SQS} (SAM makes the queue and its policy).
SAM_EVENTS_WITH_DLQ = ("Schedule", "ScheduleV2", "EventBridgeRule")
_POLICIES = ("AWS::SQS::QueuePolicy", "AWS::SQS::QueueInlinePolicy")


def plan(ctx: PlanContext) -> Planned:
    planned = Planned()
    principal = ctx.rule.parameters.get("principal", "events.amazonaws.com")
    new_queue: list[str] = []  # one dead-letter queue per rule, shared by its targets
    fixed_queues: set[str] = set()
    for check, outcome in ctx.failures:
        path, detail = tuple(outcome.path), outcome.detail
        if check != "target-dead-letter-queue":
            planned.leave(f"{detail}: EventBridge Scheduler delivers dead letters with the schedule's "
                          "role, which only you can choose to widen")
            continue
        if path[:4] == ("Resources", ctx.logical_id, "Properties", "Events"):
            _sam_event(ctx, planned, path, detail)
            continue
        target = _target(path)
        if target is None:
            planned.leave(detail)
            continue
        config = ctx.written((*target, "DeadLetterConfig"))
        arn = config.get("Arn") if isinstance(config, dict) else None
        if arn is None:
            if not isinstance(ctx.written(target), dict) or not isinstance(config, dict | None):
                planned.leave(detail)
                continue
            if not new_queue:
                new_queue.append(_add_queue(ctx, planned, principal))
            planned.operations.append(SetValue((*target, "DeadLetterConfig", "Arn"),
                                               {"Fn::GetAtt": [new_queue[0], "Arn"]}))
            continue
        queue = _queue_of(ctx, arn)
        if queue is None or outcome.problem == DENIED or ctx.template.type_of(queue) != "AWS::SQS::Queue":
            planned.leave(detail)  # an explicit Deny is the user's to lift
            continue
        if outcome.problem == NOT_ARN:  # the queue given by its URL or name: its ARN instead
            planned.operations.append(SetValue((*target, "DeadLetterConfig", "Arn"),
                                               {"Fn::GetAtt": [queue, "Arn"]}))
            if _receives(ctx, queue, principal):
                continue
        if queue not in fixed_queues:
            fixed_queues.add(queue)
            _allow(ctx, planned, queue, principal)
    return planned


def _target(path: tuple) -> tuple | None:
    """The path of the target entry (…Targets/i, through Fn::If steps)."""
    if "Targets" not in path:
        return None
    i = path.index("Targets") + 1
    while i < len(path) and not isinstance(path[i], int):
        i += 1
    while i + 1 < len(path) and path[i - 1] == "Fn::If":  # Fn::If, branch, then the list position
        i += 1
    return path[:i + 1] if i < len(path) else None


def _sam_event(ctx: PlanContext, planned: Planned, path: tuple, detail: str) -> None:
    event = path[:5]
    properties = ctx.written((*event, "Properties"))
    kind = ctx.written((*event, "Type"))
    if kind not in SAM_EVENTS_WITH_DLQ:
        planned.leave(f"{detail}: a SAM {kind} event has no DeadLetterConfig; an EventBridgeRule event "
                      "with the same pattern can have one")
        return
    if not isinstance(properties, dict) or "DeadLetterConfig" in properties:
        planned.leave(detail)
        return
    # SAM makes the queue and lets the event source send to it.
    planned.operations.append(SetValue((*event, "Properties", "DeadLetterConfig"), {"Type": "SQS"}))


def _queue_of(ctx: PlanContext, arn: Any) -> str | None:
    found = denoted(ctx.template, arn)
    if isinstance(found, Unknown) or len(found or ()) != 1:
        return None
    return found[0].logical_id


def _receives(ctx: PlanContext, queue: str, principal: str) -> bool:
    """Does a queue policy already let the principal send to `queue` for this rule?"""
    where = Branch(None, ("Resources", ctx.logical_id))
    outcomes = _queue_receives(Context(ctx.template, ctx.logical_id), queue, "", where, principal)
    return bool(outcomes) and all(o.status is Status.PASS for o in outcomes)


def _statement(ctx: PlanContext, sid: str, queue: str, principal: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": principal},
            "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": [queue, "Arn"]},
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [ctx.logical_id, "Arn"]}}}}


def _with_condition(ctx: PlanContext, body: dict[str, Any]) -> dict[str, Any]:
    """New resources exist exactly when the rule does."""
    condition = ctx.resource.get("Condition")
    return {"Type": body["Type"], **({"Condition": condition} if isinstance(condition, str) else {}),
            "Properties": body["Properties"]}


def _add_queue(ctx: PlanContext, planned: Planned, principal: str) -> str:
    queue = ctx.logical_ids.new(dead_letter_queue_base(ctx.logical_id))
    planned.operations.append(SetValue(("Resources", queue), _with_condition(ctx, {
        "Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": RETENTION_SECONDS}})))
    _new_policy(ctx, planned, queue, principal)
    return queue


def _new_policy(ctx: PlanContext, planned: Planned, queue: str, principal: str) -> None:
    policy = ctx.logical_ids.new(f"{queue}Policy")
    statement = _statement(ctx, Names(()).new(f"Allow{ctx.logical_id}DeadLetters"), queue, principal)
    planned.operations.append(SetValue(("Resources", policy), _with_condition(ctx, {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {"Queues": [{"Ref": queue}],
                       "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}})))


def _allow(ctx: PlanContext, planned: Planned, queue: str, principal: str) -> None:
    """A statement in the queue's one policy, or a new policy when it has none (a queue obeys one
    policy: a second QueuePolicy resource would replace the first)."""
    policies = sorted(naming_index(ctx.template, _POLICIES, ("Queues", "Queue"),
                                   ("AWS::SQS::Queue",)).get(queue, ()))
    if not policies:
        _new_policy(ctx, planned, queue, principal)
        return
    if len(policies) > 1 or ctx.written(("Resources", policies[0], "Type")) != "AWS::SQS::QueuePolicy":
        planned.leave(f"queue {queue} has {', '.join(policies)}: add a statement allowing {principal} "
                      "sqs:SendMessage by hand")
        return
    statements = ctx.written(("Resources", policies[0], "Properties", "PolicyDocument", "Statement"))
    if not isinstance(statements, list) or is_intrinsic(statements):
        planned.leave(f"the statements of {policies[0]} are not a list as written: add one allowing "
                      f"{principal} sqs:SendMessage by hand")
        return
    sids = Names(s.get("Sid") for s in statements if isinstance(s, dict) and isinstance(s.get("Sid"), str))
    planned.operations.append(AppendItem(
        ("Resources", policies[0], "Properties", "PolicyDocument", "Statement"),
        _statement(ctx, sids.new(f"Allow{ctx.logical_id}DeadLetters"), queue, principal)))
