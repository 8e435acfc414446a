"""Free names (tapaudit/model/names.py): what a fix text and `tapaudit fix` may create."""

from __future__ import annotations

from tapaudit.model.names import Names, free_construct_id, free_logical_id, taken_logical_ids
from tapaudit.model.template import Template


def _cdk(paths: dict[str, str | None]) -> Template:
    """A CDK-shaped template: logical id -> construct path (None: no aws:cdk:path metadata)."""
    return Template({"Parameters": {"BootstrapVersion": {"Type": "String"}}, "Resources": {
        name: {"Type": "AWS::SQS::Queue", **({"Metadata": {"aws:cdk:path": path}} if path else {})}
        for name, path in paths.items()}})


def test_names_skip_what_exists_and_what_they_made():
    names = Names(["OrdersDeadLetterQueue", "ordersdeadletterqueue2"])
    assert names.new("OrdersDeadLetterQueue") == "OrdersDeadLetterQueue3"
    assert names.new("OrdersDeadLetterQueue") == "OrdersDeadLetterQueue4"
    assert Names(["status-timestamp-index"]).new_label("status-timestamp-index") == "status-timestamp-index-2"


def test_parameters_count_as_taken_logical_ids():
    template = Template({"Parameters": {"Queue": {"Type": "String"}},
                         "Resources": {"Rule": {}, "queue2": {}}})
    assert Names(taken_logical_ids(template)).new("Queue") == "Queue3"
    assert free_logical_id(template, "Queue") == "Queue3"  # the fix text's answer, remembered
    assert free_logical_id(template, "Queue") == "Queue3" and free_logical_id(template, "Rule-") == "Rule2"


def test_a_construct_id_is_free_in_the_rules_scope_only():
    template = _cdk({"RuleABCD1234": "S/Ingest/Rule/Resource", "Q1": "S/Ingest/EventDLQ/Resource",
                     "Q2": "S/EventDLQ2/Resource", "Q3": "S/Ingest/EventDLQ3/Policy/Resource"})
    # EventDLQ2 lives in the stack, not in Ingest; EventDLQ3 is taken in Ingest by its policy's parent.
    assert free_construct_id(template, "RuleABCD1234", "EventDLQ") == "EventDLQ2"
    template = _cdk({"Cfn": "S/Cfn", "Q": "S/EventDLQ/Resource"})  # an L1 rule: its id is the path's last
    assert free_construct_id(template, "Cfn", "EventDLQ") == "EventDLQ2"
    assert free_construct_id(template, "Cfn", "DlqPolicy") == "DlqPolicy"


def test_without_construct_paths_any_id_a_logical_id_spells_is_taken():
    template = _cdk({"TransactionEventsB456A113": None, "IngestEventDLQ5E1A2B3C": None,
                     "EventDLQ2Policy0A1B2C3D": None})
    assert free_construct_id(template, "TransactionEventsB456A113", "EventDLQ") == "EventDLQ3"
    assert free_construct_id(template, "TransactionEventsB456A113", "DlqPolicy") == "DlqPolicy"
