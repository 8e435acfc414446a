"""Issue 16, "nothing hangs, nothing explodes": a template that asks for more evaluation than the
budget allows (tapaudit/model/budget.py) is an input error for that template alone, and CloudFormation's
string keys in Mappings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tapaudit.loading.parse import parse_document
from tapaudit.model.budget import MAX_RENDERED, MAX_STRING, Budget, BudgetExceeded
from tapaudit.model.intrinsics import resolve
from tapaudit.model.template import Template
from tests.conftest import FIXTURES, ROOT, run_cli

HOSTILE = Path(__file__).parent / "hostile"
GOOD = FIXTURES / "TAP006" / "cdk-fail-no-reserved.json"


def named(display: str) -> Path:
    """The file a report names (relative to the folder tapaudit ran in)."""
    return (ROOT / display).resolve()


def scan_beside_good(hostile: Path) -> tuple[dict, str]:
    """Scan `hostile` with a good template: exit 2, one error naming it, the good one scanned."""
    proc = run_cli("scan", str(hostile), str(GOOD), "--format", "json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 2, proc.stderr
    assert [named(e["file"]) for e in report["errors"]] == [hostile]
    assert GOOD in {named(t) for t in report["templates"]}
    assert any(named(f["file"]) == GOOD for f in report["findings"])
    lines = [line for line in proc.stderr.splitlines() if report["errors"][0]["file"] in line]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    return report, report["errors"][0]["message"]


def test_exponential_sub_chain_is_refused_by_the_string_budget():
    # 15 queues, each named by Fn::Sub of the next one's name four times: a name of 4^14
    # characters. Each name is evaluated once (then kept), so the steps stay few; the length not.
    _, message = scan_beside_good(HOSTILE / "sub_chain.yaml")
    assert "renders a string of more than 1,000,000 characters" in message


def test_a_value_of_too_many_functions_is_refused_by_the_step_budget(tmp_path):
    # One queue name of 30,000 Refs: short once rendered, but more steps than a template of two
    # resources may take (MAX_STEPS plus MAX_STEPS_PER_RESOURCE each).
    resources = sub_over_large_default(1, 1)["Resources"]
    resources["Q0"]["Properties"]["QueueName"] = {"Fn::Join": ["", [{"Ref": "AWS::Region"}] * 30_000]}
    hostile = tmp_path / "many_refs.json"
    hostile.write_text(json.dumps({"Resources": resources}))
    _, message = scan_beside_good(hostile)
    assert "steps" in message


def sub_over_large_default(copies: int, size: int) -> dict:
    """`copies` queues named `Fn::Sub "${P}"` over a parameter default of `size` characters, and
    an event rule whose dead-letter queue ARN makes the model resolve every queue's name."""
    resources: dict = {f"Q{i}": {"Type": "AWS::SQS::Queue",
                                 "Properties": {"QueueName": {"Fn::Sub": "${P}"}}}
                       for i in range(copies)}
    resources["Rule"] = {"Type": "AWS::Events::Rule", "Properties": {
        "ScheduleExpression": "rate(1 minute)",
        "Targets": [{"Id": "t", "Arn": "arn:aws:sqs:us-east-1:123456789012:other",
                     "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"}}]}}
    return {"Parameters": {"P": {"Type": "String", "Default": "q" * size}}, "Resources": resources}


@pytest.mark.parametrize(("size", "said"), [(1_000_000, "a string of more than"),
                                            (600_000, "in total")])
def test_large_default_rendered_thousands_of_times_is_refused(tmp_path, size, said):
    # The case (2,000 copies of a 1 MB default: 2 GB, 55 s), and one under the limit on a
    # single string that only the total catches.
    hostile = tmp_path / "sub_default.json"
    hostile.write_text(json.dumps(sub_over_large_default(2_000, size)))
    _, message = scan_beside_good(hostile)
    assert said in message


def test_budget_counts_every_rendered_character():
    budget = Budget()
    with pytest.raises(BudgetExceeded, match="string of more than"):
        budget.render("x" * (MAX_STRING + 1))
    chunk = "x" * MAX_STRING
    for _ in range(MAX_RENDERED // MAX_STRING):
        budget.render(chunk)
    with pytest.raises(BudgetExceeded, match="in total"):
        budget.render("x")


def test_each_template_has_its_own_budget():
    data = parse_document((HOSTILE / "sub_chain.yaml").read_text()).data
    for _ in range(2):  # the second template does not inherit the first one's spending
        template = Template(data)
        assert isinstance(resolve(template, {"Fn::GetAtt": ["Q12", "QueueName"]}), str)
        with pytest.raises(BudgetExceeded):
            resolve(template, {"Fn::GetAtt": ["Q1", "QueueName"]})


def test_find_in_map_keys_are_strings_as_cloudformation_reads_them():
    data = parse_document((HOSTILE / "find_in_map_int_keys.yaml").read_text()).data
    template = Template(data)
    found = {name: resolve(template, template.properties(name)["MessageRetentionPeriod"])
             for name in ("ByNumber", "ByString", "ByBoolean")}
    assert found == {"ByNumber": 7, "ByString": 7, "ByBoolean": 30}


def test_for_each_over_a_large_fragment_is_refused_by_generated_size(tmp_path):
    # 9,000 copies of a 2 MB fragment: 18 GB, under the 10,000-entry count limit.
    fragment = {"Queue${X}": {"Type": "AWS::SQS::Queue", "Metadata": {"Blob": "b" * 2_000_000}}}
    hostile = tmp_path / "for_each.json"
    hostile.write_text(json.dumps({
        "Transform": "AWS::LanguageExtensions",
        "Resources": {"Fn::ForEach::Queues": ["X", [str(i) for i in range(9_000)], fragment]}}))
    _, message = scan_beside_good(hostile)
    assert message.startswith("Fn::ForEach::Queues generates more than") and "characters" in message


def test_the_limits_listed_in_one_place_are_the_limits_enforced():
    from tapaudit.loading import discovery, limits
    from tapaudit.model import budget
    from tapaudit.transforms import foreach

    listed = budget.__doc__ or ""
    assert discovery.MAX_BYTES == 32 * 1024 * 1024 and "32 MB" in listed
    assert limits.MAX_NESTING == 500 and "500 levels" in listed
    assert limits.MAX_EXPANDED_NODES == 1_000_000 and "1,000,000 nodes" in listed
    assert foreach.MAX_GENERATED == 10_000 and "10,000 generated entries" in listed
    assert foreach.MAX_GENERATED_SIZE == 20_000_000 and "20,000,000 characters" in listed


def test_splitting_a_large_default_over_and_over_is_counted():
    template = Template({"Parameters": {"P": {"Type": "String", "Default": "a," * 400_000}},
                         "Resources": {}})
    first = {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "P"}]}]}
    assert resolve(template, first) == "a"
    with pytest.raises(BudgetExceeded, match="in total"):
        for _ in range(MAX_RENDERED // 800_000):
            resolve(template, first)


@pytest.mark.parametrize("function", ["Fn::Sub", "Fn::Join"])
def test_an_over_long_string_is_refused_before_it_is_built(function):
    # Review: the limit was checked on the joined string, so 2,000 copies of a 1 MB default took
    # 2 GB first. The size is now counted from the parts.
    import tracemalloc

    value = ({"Fn::Sub": "${P}" * 2_000} if function == "Fn::Sub"
             else {"Fn::Join": ["", [{"Ref": "P"}] * 2_000]})
    template = Template({"Parameters": {"P": {"Type": "String", "Default": "q" * 1_000_000}},
                         "Resources": {}})
    tracemalloc.start()
    try:
        with pytest.raises(BudgetExceeded, match="a string of more than"):
            resolve(template, value)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * MAX_STRING  # a few copies of the default at most, never 2,000


def health_check_with_policy(statements: list[dict]) -> dict:
    """A health-check function whose role has only `statements`, and the table TAP002 asks about."""
    return {"Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}},
        "HealthRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "HealthPolicy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "p", "Roles": [{"Ref": "HealthRole"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}},
        "HealthCheck": {"Type": "AWS::Lambda::Function", "Properties": {
            "Role": {"Fn::GetAtt": ["HealthRole", "Arn"]}, "Runtime": "python3.12",
            "Handler": "i.h", "Code": {"ZipFile": "x"}, "ReservedConcurrentExecutions": 1,
            "Environment": {"Variables": {"TABLE": {"Ref": "Table"}}}}}}}


def test_policy_patterns_are_matched_without_backtracking(tmp_path):
    # Python's backtracking `re` took 35 s on 10 `*?` pairs against an ARN, minutes on 12; these
    # have 40 (actions), and 30 beside an open placeholder (the account id), which RE2 matches.
    hostile = tmp_path / "wildcards.json"
    hostile.write_text(json.dumps(health_check_with_policy([
        {"Effect": "Allow", "Action": "*?" * 40 + "*Z", "Resource": "*"},
        {"Effect": "Allow", "Action": "dynamodb:Query",
         "Resource": {"Fn::Sub": "arn:aws:dynamodb:*:${AWS::AccountId}:" + "*?" * 30 + "*Z*x"}}])))
    proc = run_cli("scan", str(hostile), "--format", "json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["errors"] == [], proc.stderr
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "TAP002"]
    assert finding["checks"] == ["put-metric-data", "query-status-index"]


def test_a_policy_pattern_over_re2s_memory_budget_is_refused(tmp_path):
    hostile = tmp_path / "huge_pattern.json"
    hostile.write_text(json.dumps(health_check_with_policy([
        {"Effect": "Allow", "Action": "cloudwatch:" + "?" * 200_000, "Resource": "*"}])))
    _, message = scan_beside_good(hostile)
    assert message == "a policy pattern is too large to match (over RE2's memory budget)"
