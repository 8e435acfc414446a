"""TAP004: every EventBridge target has a dead-letter queue that EventBridge can deliver to."""

from __future__ import annotations

from typing import Any

from tapaudit.model.arns import arn_of, render
from tapaudit.model.graph import ReferenceGraph
from tapaudit.model.iam import Access, RolePolicies, evaluate, service_context, statements_of
from tapaudit.model.lookup import denoted, naming_index
from tapaudit.model.names import free_construct_id, free_logical_id
from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Unknown, branches, child, intrinsic
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates.registry import Context, entry_values, fix_values, predicate, subject_kind

# What a reference points at, in the words a reader uses (TAP004 names the target kind).
KIND_OF_TYPE = {
    "AWS::Lambda::Function": "function",
    "AWS::Lambda::Alias": "alias",
    "AWS::Lambda::Version": "function",
    "AWS::SQS::Queue": "queue",
    "AWS::SNS::Topic": "topic",
    "AWS::Events::EventBus": "bus",
    "AWS::Logs::LogGroup": "log group",
    "AWS::StepFunctions::StateMachine": "state machine",
    "AWS::Kinesis::Stream": "stream",
    "AWS::KinesisFirehose::DeliveryStream": "delivery stream",
    "AWS::ECS::Cluster": "ECS task",
    "AWS::CodeBuild::Project": "CodeBuild project",
    "AWS::CodePipeline::Pipeline": "pipeline",
    "AWS::ApiGateway::RestApi": "API",
    "AWS::Events::ApiDestination": "API destination",
    "AWS::Batch::JobQueue": "job queue",
}
# Literal ARNs: (service, resource prefix) -> kind; the longest matching prefix wins.
_KIND_OF_ARN = [
    ("lambda", "function:", "function"), ("sqs", "", "queue"), ("sns", "", "topic"),
    ("events", "event-bus/", "bus"), ("events", "api-destination/", "API destination"),
    ("logs", "log-group:", "log group"), ("states", "stateMachine:", "state machine"),
    ("kinesis", "stream/", "stream"), ("firehose", "deliverystream/", "delivery stream"),
    ("ecs", "cluster/", "ECS task"), ("codebuild", "project/", "CodeBuild project"),
    ("codepipeline", "", "pipeline"), ("execute-api", "", "API"), ("batch", "job-queue/", "job queue"),
]

EVENTS = "events.amazonaws.com"
# The kinds of failure of a target's dead-letter queue (its outcomes' `problem`): TAP004's fix
# variants and its fix planner test them.
NOT_ARN = "not-arn"  # DeadLetterConfig.Arn is not an ARN (a queue's URL or name, or another string)
NOT_A_QUEUE = "not-a-queue"
DENIED = "denied"  # the queue policy explicitly denies the delivery: only the user may lift it
NO_QUEUE_POLICY = "no-queue-policy"
_QUEUE_POLICIES = ("AWS::SQS::QueuePolicy", "AWS::SQS::QueueInlinePolicy")


def target_name(template: Template, branch: Branch) -> str:
    """`target 'Id'`, or by position and ARN when the Id is not a literal."""
    target = branch.value if isinstance(branch.value, dict) else {}
    if isinstance(target.get("Id"), str):
        return f"target '{target['Id']}'"
    return f"Targets[{branch.path[-1]}]"  # as the fix names it


@predicate("event_target_dlq")
def event_target_dlq(ctx: Context, branch: Branch, principal: str = EVENTS) -> list[Outcome]:
    """`branch` is one entry of the rule's Targets."""
    template = ctx.template
    problem = Outcome.of_value(branch)
    if problem:
        return [problem]
    if not isinstance(branch.value, dict):
        return [Outcome.wrong_shape(branch, "a mapping")]
    name = target_name(template, branch)
    outcomes = []
    for config in child(branch, "DeadLetterConfig"):
        for arn in child(config, "Arn"):
            if arn.value is MISSING:
                outcomes.append(Outcome.fail(f"{name} has no dead-letter queue", arn))
                continue
            problem = Outcome.of_value(arn, name)
            if problem:
                outcomes.append(problem)
                continue
            outcomes.extend(_judge_dlq(ctx, name, arn, principal))
    return outcomes


def _judge_dlq(ctx: Context, name: str, arn: Branch, principal: str) -> list[Outcome]:
    template = ctx.template
    found = denoted(template, arn.value)
    if isinstance(found, Unknown):
        return [Outcome.unknown(f"{name}: the dead-letter queue {found.reason}", arn, found.why)]
    if not found:
        rendered = render(template, arn.value)
        if isinstance(rendered, str) and not template.symbols.concrete(rendered).startswith("arn:"):
            return [Outcome.fail(f"{name} gives DeadLetterConfig.Arn '{template.display(rendered)}', "
                                 "which is not an ARN: EventBridge cannot use it", arn).because(NOT_ARN)]
        return [Outcome.ok(arn)]  # a queue outside the template, by literal ARN
    outcomes = []
    for denotation in found:
        queue = denotation.logical_id
        kind = template.type_of(queue)
        if kind != "AWS::SQS::Queue":
            outcome = Outcome.fail(f"{name} sends failures to {queue}, which is a {kind}, not an SQS "
                                   "queue", arn).because(NOT_A_QUEUE)
        elif denotation.form != "Arn":
            what = {"Ref": "URL (Ref of an SQS queue returns its URL)", "QueueUrl": "URL",
                    "QueueName": "name"}.get(denotation.form, denotation.form)
            outcome = Outcome.fail(f"{name} gives queue {queue}'s {what} as DeadLetterConfig.Arn, "
                                   f"not its ARN: EventBridge cannot use it (use Fn::GetAtt "
                                   f"{queue}.Arn)", arn).because(NOT_ARN)
        else:
            outcomes.extend(o.within(denotation.conditions)
                            for o in _queue_receives(ctx, queue, name, arn, principal))
            continue
        outcomes.append(outcome.within(denotation.conditions))
    return outcomes


def queue_policies(template: Template, queue: str) -> RolePolicies:
    """Statements of the QueuePolicy and QueueInlinePolicy resources that cover `queue`."""
    statements = []
    for policy in sorted(_policies_by_queue(template).get(queue, ())):
        path = ("Resources", policy, "Properties", "PolicyDocument")
        document = template.properties(policy).get("PolicyDocument", MISSING)
        for doc in branches(document, path):
            statements.extend(statements_of(template, doc, f"queue policy {policy}"))
    return RolePolicies(statements, [])


def _policies_by_queue(template: Template) -> dict[str, set[str]]:
    """Queue -> the queue policy resources naming it, by URL, Ref or literal."""
    return naming_index(template, _QUEUE_POLICIES, ("Queues", "Queue"), ("AWS::SQS::Queue",))


def _queue_receives(ctx: Context, queue: str, name: str, where: Branch,
                    principal: str) -> list[Outcome]:
    template = ctx.template
    queue_arn = arn_of(template, queue)
    rule = ctx.logical_id

    def covers(pattern: str) -> bool | None:
        return template.symbols.compare(pattern, queue_arn)

    context = service_context(template, arn_of(template, rule))
    decisions = evaluate(template, queue_policies(template, queue), "sqs:SendMessage", covers,
                         f"queue {queue}", service=principal, context=context)
    outcomes = []
    for decision in decisions:
        if decision.access is Access.ALLOWED:
            outcome = Outcome.ok(where)
        elif decision.access is Access.UNKNOWN:
            outcome = Outcome.unknown(f"{name}: {decision.detail}", where, decision.why)
        elif decision.access is Access.DENIED:
            outcome = Outcome.fail(f"{name}: {decision.detail}", where).because(DENIED)
        else:
            outcome = Outcome.fail(f"{name}: no queue policy lets {principal} send this rule's "
                                   f"failed events to dead-letter queue {queue}",
                                   where).because(NO_QUEUE_POLICY)
        outcomes.append(outcome.within(decision.conditions))
    return outcomes


@subject_kind("event_target")
def target_kind(template: Template, value: Any) -> tuple[str | None, str | None]:
    """(kind, logical id if in this template) of what a target's Arn points at: TAP004's fixes
    name the target by its kind (`when: {target: [queue]}`)."""
    refs = ReferenceGraph.mentioned(value) & template.resources.keys()
    if len(refs) == 1:
        (ref,) = refs
        kind = KIND_OF_TYPE.get(template.type_of(ref) or "")
        if kind:
            return kind, ref
    fn = intrinsic(value)
    if fn and fn[0] == "Fn::ImportValue":
        return None, None
    rendered = render(template, value)
    if isinstance(rendered, Unknown) or not rendered.startswith("arn:"):
        return None, None
    parts = rendered.split(":", 5)
    if len(parts) < 6:
        return None, None
    service, resource = parts[2], parts[5]
    matches = [(len(prefix), kind) for svc, prefix, kind in _KIND_OF_ARN
               if svc == service and resource.startswith(prefix)]
    if service == "lambda" and resource.count(":") == 2 and not resource.split(":")[2].isdigit():
        return "alias", None  # function:name:alias
    return (max(matches)[1] if matches else None), None


# Construct ids a CDK fix creates next to the rule (`new sqs.Queue(this, 'EventDLQ')`).
DLQ_CONSTRUCT = "EventDLQ"
DLQ_POLICY_CONSTRUCT = "DlqPolicy"


def dead_letter_queue_base(rule: str) -> str:
    """The logical id `tapaudit fix` gives the dead-letter queue it adds for `rule`, before it is
    made free (`Names.new`): the fix text and the fix command name the same queue."""
    return f"{rule}DeadLetterQueue"


@fix_values("event_rule")
def rule_fix_values(template: Template, logical_id: str,
                    params: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The names a new dead-letter queue gets: its logical id, and its construct ids in CDK."""
    return {}, {"new_dlq": free_logical_id(template, dead_letter_queue_base(logical_id)),
                "dlq_id": free_construct_id(template, logical_id, DLQ_CONSTRUCT),
                "dlq_policy_id": free_construct_id(template, logical_id, DLQ_POLICY_CONSTRUCT)}


@entry_values("event_target")
def target_fix_values(template: Template, logical_id: str, target: dict[str, Any]) -> dict[str, str]:
    """`dlq`: the queue of this template a target's DeadLetterConfig names, by whatever form."""
    config = target.get("DeadLetterConfig")
    arn = config.get("Arn") if isinstance(config, dict) else None
    found = denoted(template, arn) if arn is not None else []
    if isinstance(found, Unknown) or len(found) != 1:
        return {}
    queue = found[0].logical_id
    return {"dlq": queue} if template.type_of(queue) == "AWS::SQS::Queue" else {}
