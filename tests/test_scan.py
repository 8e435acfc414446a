"""scan.py: one template's scan runs without the cycle collector, which resumes after it, however
the scan ends; what a hostile template leaves in cycles is collected then."""

from __future__ import annotations

import gc
import json

import pytest

from tapaudit.config import Config
from tapaudit.loading.discovery import TemplateSource
from tapaudit.pipeline import load_all_rules, load_configured_rules
from tapaudit.scan import scan_source
from tests.conftest import FIXTURES

FLAWED = FIXTURES / "flawed" / "TransactionMigration-Primary.template.json"


@pytest.fixture(scope="module")
def rules():
    config = Config()
    return load_configured_rules(config, load_all_rules(config))


@pytest.fixture
def collections():
    """Each start of the cycle collector while the test runs."""
    started: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(record)
    yield started
    gc.callbacks.remove(record)


def _as_yaml(path) -> str:
    """The template as YAML (JSON is YAML): the composer's thousands of nodes, as a YAML scan has."""
    return json.dumps(json.loads(path.read_text()), indent=1)


def test_the_collector_does_not_run_during_a_template_scan_and_is_on_after_it(rules, collections):
    source = TemplateSource("flawed.yaml", text="# YAML\n" + _as_yaml(FLAWED))
    assert gc.isenabled()
    report = scan_source(source, rules)
    assert report.findings and report.error is None
    assert collections == []
    assert gc.isenabled()


def test_the_collector_is_on_again_after_a_scan_that_fails(rules):
    report = scan_source(TemplateSource("bad.yaml", text="Resources: [unclosed\n"), rules)
    assert report.error is not None
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off(rules):
    gc.disable()
    try:
        scan_source(TemplateSource("flawed.json", path=FLAWED), rules)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cycles_a_scan_leaves_are_collected_after_it(rules):
    """A YAML alias inside its own anchor: the composer has built a node graph that holds itself
    when the loader refuses it. The collection after the scan frees that graph."""
    text = "AWSTemplateFormatVersion: '2010-09-09'\nMetadata:\n  loop: &a [1, *a]\nResources: {}\n"
    gc.collect()
    report = scan_source(TemplateSource("cycle.yaml", text=text), rules)
    assert report.error is not None and report.error.message == "recursive YAML alias"
    assert gc.collect() > 0  # the refused graph, left in cycles while the collector was off
    assert gc.collect() == 0
