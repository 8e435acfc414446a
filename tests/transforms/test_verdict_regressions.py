"""Wrong verdicts issue 16 found on new real-world sets, each pinned with a hand-written template
and, where the SAM translator applies, checked against it."""

from __future__ import annotations

import json
import logging

import pytest

from tapaudit.loading.parse import parse_document
from tests.conftest import FIXTURES, require_module, run_cli
from tests.transforms.sam_oracle import source_verdicts, translate, translated_verdicts

REGRESSIONS = FIXTURES / "regressions"


def _scan(path, *args: str) -> dict:
    return json.loads(run_cli("scan", str(path), "-f", "json", *args).stdout)


def _agrees_with_translator(path, rules) -> dict:
    require_module("samtranslator")
    logging.getLogger("samtranslator").setLevel(logging.CRITICAL)
    data = parse_document(path.read_text()).data
    ours = source_verdicts(data, rules)
    assert ours == translated_verdicts(data, translate(data), rules)
    return ours


def test_embedded_connector_grants_query_on_the_table_indexes(rules):
    path = REGRESSIONS / "sam_embedded_connector_read.yaml"
    report = _scan(path, "--rule", "TAP002")
    assert report["rules"][0]["checked"] == 2  # the SAM function and the CloudFormation one
    assert report["findings"] == [] and report["unknown"] == []
    assert ("TAP002", "HealthCheck") not in _agrees_with_translator(path, rules)


def test_a_connector_tapaudit_cannot_evaluate_is_named_as_such():
    report = _scan(FIXTURES / "TAP002" / "sam-unknown-connector-not-evaluated.yaml")
    (unknown,) = report["unknown"]
    assert "permissions of SAM connector HealthCheckStream are not evaluated" in unknown["message"]
    assert "outside the template" not in unknown["message"]  # issue 18: it is inline


def test_schedule_dead_letter_arn_that_is_not_an_arn_fails(rules):
    path = REGRESSIONS / "schedule_dead_letter_not_an_arn.yaml"
    report = _scan(path, "--rule", "TAP004")
    failed = {f["resource"]: f["message"] for f in report["findings"]}
    assert set(failed) == {"Worker", "Sweeper"}  # External names a queue by its ARN: a pass
    assert "'worker-failures', which is not an ARN" in failed["Worker"]
    assert "sweeper-failures', which is not an ARN" in failed["Sweeper"]
    assert _agrees_with_translator(path, rules) == {("TAP004", "Worker"): "fail",
                                                     ("TAP004", "Sweeper"): "fail"}


@pytest.mark.parametrize("name", ["sam_embedded_connector_read.yaml",
                                  "schedule_dead_letter_not_an_arn.yaml"])
def test_regression_templates_are_valid_sam(name):
    require_module("samtranslator")
    translate(parse_document((REGRESSIONS / name).read_text()).data)  # raises when refused
