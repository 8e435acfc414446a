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
    assert "SAM connector HealthCheckStream is not evaluated" in unknown["message"]
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


# Items 5 and 6: "not checked" only where a rule's scope is affected; SAM seen as CloudFormation.

PRIVATE_API_RULE = """\
id: ORG200
title: REST APIs must be private
severity: high
rationale: Internal APIs stay inside the VPC.
why: The API is reachable from the internet.
fix: {summary: set EndpointConfiguration to PRIVATE}
resource_types: [AWS::ApiGateway::RestApi]
checks:
  - id: private
    select: $.Properties.EndpointConfiguration.Types
    predicate: equals
    args: {value: [PRIVATE], message: "is {value}, not PRIVATE"}
    missing: is not private
"""


def _custom_rules(tmp_path) -> str:
    (tmp_path / "ORG200.yaml").write_text(PRIVATE_API_RULE)
    return str(tmp_path)


def test_include_in_an_api_and_unknown_to_the_rules_sam_types_are_not_not_checked(rules):
    path = REGRESSIONS / "sam_include_in_api_definition.yaml"
    report = _scan(path)
    assert report["not_checked"] == [] and report["unknown"] == [] and report["findings"] == []
    translate(parse_document(path.read_text()).data)  # valid SAM


def test_include_in_an_api_is_not_checked_for_a_rule_on_rest_apis(tmp_path):
    path = REGRESSIONS / "sam_include_in_api_definition.yaml"
    report = _scan(path, "--rules-dir", _custom_rules(tmp_path), "--rule", "ORG200")
    reason = "not checked: macro AWS::Include (Fn::Transform) rewrites this resource at deploy time"
    assert [(n["resource"], n["reason"]) for n in report["not_checked"]] == [("OrdersApi", reason)]
    assert [(u["rule_id"], u["resource"]) for u in report["unknown"]] == [("ORG200", "OrdersApi")]


def test_a_custom_rule_on_rest_apis_sees_serverless_apis(tmp_path):
    path = REGRESSIONS / "sam_api_for_custom_rule.yaml"
    report = _scan(path, "--rules-dir", _custom_rules(tmp_path), "--rule", "ORG200")
    (row,) = report["rules"]
    assert row["checked"] == 2  # PrivateApi and the implicit ServerlessRestApi of Hello's Api event
    (finding,) = report["findings"]
    assert (finding["resource"], finding["resource_type"]) == ("Hello", "AWS::Serverless::Function")
    assert "is not private" in finding["message"]
    # The translator deploys the same: one private API, one that is not.
    require_module("samtranslator")
    deployed = translate(parse_document(path.read_text()).data)["Resources"]
    apis = {k: v["Properties"].get("EndpointConfiguration") for k, v in deployed.items()
            if v["Type"] == "AWS::ApiGateway::RestApi"}
    assert apis == {"PrivateApi": {"Types": ["PRIVATE"]}, "ServerlessRestApi": None}
