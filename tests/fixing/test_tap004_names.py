"""TAP004's fix text and `tapaudit fix` name the same dead-letter queue (issue 17): the new queue's
logical id, free among the template's resources and parameters, or the queue a target already names.

The oracle is the fix engine itself: each template is fixed with `--write` in a tmp folder, and the
queues its targets then point at are the ones the finding's text named.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tapaudit import pipeline
from tapaudit.config import Config
from tapaudit.fixing.command import run_fix
from tapaudit.loading.parse import parse_document
from tests.conftest import FIXTURES

DATA = Path(__file__).with_name("data")
TAKEN = DATA / "tap004-dead-letter-queue-ids-taken.yaml"
NAMED_QUEUE = re.compile(r"GetAtt (\w+)\.Arn")
# Hand-written templates whose TAP004 findings `tapaudit fix` fixes by naming a queue.
CASES = [TAKEN, FIXTURES / "TAP004" / "yaml-fail-dlq-is-queue-url.yaml",
         FIXTURES / "TAP004" / "yaml-fail-target-without-literal-id.yaml",
         FIXTURES / "TAP004" / "yaml-fail-queue-without-policy.yaml",
         FIXTURES / "autofix" / "yaml-flow-and-collisions.yaml", FIXTURES / "autofix" / "json-minified.json"]


def _texts(path: Path) -> dict[str, str]:
    """Rule logical id -> its TAP004 fix text."""
    result = pipeline.run([str(path)], Config(rules=["TAP004"]), jobs=1).result
    return {f.resource: f.fix for f in result.findings}


def _fixed(path: Path, tmp_path: Path) -> dict[str, Any]:
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    code = run_fix([str(copy)], ["TAP004"], True, None, True, io.StringIO(), io.StringIO())
    assert code == 0, f"{path.name}: tapaudit fix left TAP004 findings"
    return parse_document(copy.read_text(encoding="utf-8")).data


def _dead_letter_queues(data: dict[str, Any], rule: str) -> set[str]:
    """The queues (by Fn::GetAtt) that the rule's targets send failures to, after the fix."""
    targets = data["Resources"][rule]["Properties"]["Targets"]
    queues = set()
    for target in targets:
        arn = target.get("DeadLetterConfig", {}).get("Arn")
        if isinstance(arn, dict) and "Fn::GetAtt" in arn:
            get_att = arn["Fn::GetAtt"]
            queues.add(get_att[0] if isinstance(get_att, list) else get_att.split(".")[0])
    return queues


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_the_fix_text_names_the_queue_tapaudit_fix_uses(path, tmp_path):
    texts = _texts(path)
    named = {rule: set(NAMED_QUEUE.findall(text)) for rule, text in texts.items()}
    assert any(named.values()), f"{path.name}: no TAP004 fix text names a queue"
    fixed = _fixed(path, tmp_path)
    for rule, queues in named.items():
        if queues:
            assert queues <= _dead_letter_queues(fixed, rule), f"{rule}: {texts[rule]}"


def test_a_taken_logical_id_is_skipped_in_text_and_fix_alike(tmp_path):
    """`OrdersDeadLetterQueue` is a parameter, `OrdersDeadLetterQueue2` a topic: the queue is the third."""
    texts = _texts(TAKEN)
    assert "!GetAtt OrdersDeadLetterQueue3.Arn" in texts["Orders"]
    assert "an AWS::SQS::Queue `OrdersDeadLetterQueue3`" in texts["Orders"]
    assert "`Fn::GetAtt RefundsDLQ.Arn`" in texts["Refunds"]  # the queue the target gives by URL
    fixed = _fixed(TAKEN, tmp_path)
    created = {name for name, body in fixed["Resources"].items()
               if body["Type"] == "AWS::SQS::Queue"} - {"RefundsDLQ"}
    assert created == {"OrdersDeadLetterQueue3"}
    assert _dead_letter_queues(fixed, "Orders") == {"OrdersDeadLetterQueue3"}
    assert _dead_letter_queues(fixed, "Refunds") == {"RefundsDLQ"}
