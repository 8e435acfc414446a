"""TAP004's CDK fixes create constructs (`new sqs.Queue(this, 'EventDLQ')`, a `DlqPolicy`) whose ids
are free in the rule's scope (issue 17): real aws-cdk-lib synths of apps that already use those ids.

The oracle is CDK itself: the app is built again and a construct with the proposed id is added
where the rule was made; CDK raises "There is already a Construct with name ..." for a taken id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tapaudit import pipeline
from tapaudit.config import Config
from tests.cdk.synth_env import cdk_in_process

pytestmark = pytest.mark.cdk

PROPOSED = {"typescript": re.compile(r"new sqs\.(?:Queue|QueuePolicy)\(this, '(\w+)'"),
            "python": re.compile(r'sqs\.(?:Queue|QueuePolicy)\(self, "(\w+)"')}


@pytest.fixture(scope="module")
def cdk_libs() -> Any:
    """aws-cdk-lib and the reference stack's fixture helpers, imported once the tools are known."""
    with cdk_in_process():
        import rule_fixtures
        yield rule_fixtures


def _apps(fx: Any) -> dict[str, Callable[[Any], Any]]:
    """Apps that fail TAP004 next to constructs that already use the default ids; each build
    returns the scope the rule is made in."""
    from aws_cdk import aws_events as events
    from aws_cdk import aws_events_targets as targets
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sqs as sqs
    from constructs import Construct

    pattern = events.EventPattern(source=["transaction.migration"])

    def l2_rule_beside_event_dlq(stack: Any) -> Any:
        other = events.Rule(stack, "Settlements", event_pattern=pattern)
        other.add_target(targets.LambdaFunction(fx.function(stack, "Settler"),
                                                dead_letter_queue=sqs.Queue(stack, "EventDLQ")))
        rule = events.Rule(stack, "TransactionEvents", event_pattern=pattern)
        rule.add_target(targets.LambdaFunction(fx.function(stack, "Processor")))
        return stack

    def l1_rule_beside_event_dlq(stack: Any) -> Any:
        sqs.Queue(stack, "EventDLQ")
        events.CfnRule(stack, "TransactionEvents", event_pattern={"source": ["transaction.migration"]},
                       targets=[events.CfnRule.TargetProperty(
                           id="Processor", arn=fx.function(stack, "Processor").function_arn)])
        return stack

    def queue_without_policy_beside_dlq_policy(stack: Any) -> Any:
        # An imported queue gets no policy from CDK; a `DlqPolicy` construct already exists.
        audit = sqs.Queue(stack, "Audit")
        sqs.QueuePolicy(stack, "DlqPolicy", queues=[audit]).document.add_statements(iam.PolicyStatement(
            actions=["sqs:SendMessage"], principals=[iam.ServicePrincipal("sns.amazonaws.com")],
            resources=[audit.queue_arn]))
        dead = sqs.CfnQueue(stack, "Dead")
        rule = events.Rule(stack, "TransactionEvents", event_pattern=pattern)
        rule.add_target(targets.LambdaFunction(fx.function(stack, "Processor"), dead_letter_queue=(
            sqs.Queue.from_queue_arn(stack, "DeadRef", dead.attr_arn))))
        return stack

    def rule_in_a_construct_with_event_dlq(stack: Any) -> Any:
        ingest = Construct(stack, "Ingest")
        sqs.Queue(ingest, "EventDLQ")
        sqs.Queue(stack, "EventDLQ2")  # another scope: no clash with a queue made in Ingest
        rule = events.Rule(ingest, "TransactionEvents", event_pattern=pattern)
        rule.add_target(targets.LambdaFunction(fx.function(stack, "Processor")))
        return ingest

    return {f.__name__: f for f in (l2_rule_beside_event_dlq, l1_rule_beside_event_dlq,
                                    queue_without_policy_beside_dlq_policy,
                                    rule_in_a_construct_with_event_dlq)}


# App -> the ids its fix proposes (with construct paths).
EXPECTED = {"l2_rule_beside_event_dlq": ["EventDLQ2"], "l1_rule_beside_event_dlq": ["EventDLQ2"],
            "queue_without_policy_beside_dlq_policy": ["DlqPolicy2"],
            "rule_in_a_construct_with_event_dlq": ["EventDLQ2"]}


def _synth(fx: Any, name: str, tmp_path: Path, with_paths: bool) -> Path:
    template = fx.synthesize(f"TAP004/{name.replace('_', '-')}", _apps(fx)[name], with_paths=with_paths)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return path


def _proposed(path: Path, language: str) -> list[str]:
    result = pipeline.run([str(path)], Config(cdk_language=language, rules=["TAP004"]), jobs=1).result
    (finding,) = result.findings
    return PROPOSED[language].findall(finding.fix)


def _is_free(fx: Any, name: str, construct_id: str) -> bool:
    """Does CDK accept a new construct `construct_id` where the app made its rule?"""
    import aws_cdk as cdk
    from constructs import Construct

    stack = cdk.Stack(cdk.App(), "Oracle", env=fx.ENV)
    scope = _apps(fx)[name](stack)
    try:
        Construct(scope, construct_id)
    except RuntimeError as exc:  # jsii raises CDK's error as RuntimeError
        assert "There is already a Construct with name" in str(exc)
        return False
    return True


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_proposed_construct_id_is_free_in_the_rules_scope(cdk_libs, name, tmp_path):
    path = _synth(cdk_libs, name, tmp_path, with_paths=True)
    for language in ("typescript", "python"):
        assert _proposed(path, language) == EXPECTED[name], language
    (taken,) = {"DlqPolicy2": ["DlqPolicy"]}.get(EXPECTED[name][0], ["EventDLQ"])
    assert not _is_free(cdk_libs, name, taken)  # the app really has the default id there
    assert _is_free(cdk_libs, name, EXPECTED[name][0])


@pytest.mark.parametrize("name", ["l2_rule_beside_event_dlq", "rule_in_a_construct_with_event_dlq"])
def test_without_construct_paths_the_proposed_id_is_still_free(cdk_libs, name, tmp_path):
    """A plain `python app.py` writes no aws:cdk:path: the hashed logical ids still tell the ids."""
    path = _synth(cdk_libs, name, tmp_path, with_paths=False)
    for language in ("typescript", "python"):
        (proposed,) = _proposed(path, language)
        assert proposed != "EventDLQ" and _is_free(cdk_libs, name, proposed), (language, proposed)
