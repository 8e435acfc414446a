"""NotResource grants every resource it does not name (issue 16): a question that stands for
several resources (an index of any table) is allowed when the NotResource leaves one of them out."""

from __future__ import annotations

from tapaudit.loading.parse import parse_document
from tapaudit.model.iam import Access, RolePolicies, evaluate, statements_of
from tapaudit.model.template import Template
from tapaudit.model.values import Branch
from tapaudit.rules.engine import Verdict, evaluate_rule
from tests.conftest import FIXTURES

REGRESSIONS = FIXTURES / "regressions"
INDEX = "arn:aws:dynamodb:us-east-1:123456789012:table/{}/index/status"


def _tap002(path, rules_by_id) -> dict[str, Verdict]:
    template = Template(parse_document(path.read_text()).data)
    return {r.logical_id: r.verdict for r in evaluate_rule(rules_by_id["TAP002"], template)}


def test_notresource_on_one_table_allows_another_tables_index(rules_by_id):
    assert _tap002(REGRESSIONS / "notresource_other_table_index.yaml", rules_by_id) == {
        "HealthCheck": Verdict.PASS}


def test_notresource_on_every_tables_indexes_allows_none(rules_by_id):
    assert _tap002(REGRESSIONS / "notresource_every_table_index.yaml", rules_by_id) == {
        "HealthCheck": Verdict.FAIL}
    assert _tap002(FIXTURES / "TAP002" / "yaml-fail-notresource.yaml", rules_by_id) == {
        "Monitor": Verdict.FAIL}


def _access(not_resource, requests: tuple[str, ...], parameters=None) -> Access:
    template = Template({"Parameters": parameters or {}, "Resources": {}})
    document = {"Statement": [{"Effect": "Allow", "Action": "dynamodb:Query",
                               "NotResource": not_resource}]}
    policies = RolePolicies(list(statements_of(template, Branch(document, ()), "p")), [])
    (decision,) = evaluate(template, policies, "dynamodb:Query", lambda _: False, "an index",
                           requests=requests)
    return decision.access


def test_each_asked_resource_is_tried_against_every_pattern():
    a, b = INDEX.format("a"), INDEX.format("b")
    assert _access([a], (a, b)) is Access.ALLOWED  # b is left out
    assert _access([a, b], (a, b)) is Access.NOT_ALLOWED
    assert _access(["arn:aws:dynamodb:*:*:table/*/index/*"], (a, b)) is Access.NOT_ALLOWED
    assert _access(["arn:aws:dynamodb:*:*:table/a*"], (a, b)) is Access.ALLOWED


def test_a_notresource_that_cannot_be_read_is_unknown():
    a = INDEX.format("a")
    assert _access([{"Ref": "Excluded"}], (a,), {"Excluded": {"Type": "String"}}) is Access.UNKNOWN
    # whatever the unknown pattern is, a pattern that matches leaves the resource out
    assert _access([{"Ref": "Excluded"}, a], (a,), {"Excluded": {"Type": "String"}}) is Access.NOT_ALLOWED
