"""Fix planners decide by the kind of failure the predicate set (`Outcome.problem`), never by the
words of its detail (issue 15): a target named like a message changes nothing."""

from __future__ import annotations

from tapaudit.config import Config
from tapaudit.fixing.batch import fix_all, fix_settings
from tapaudit.loading.parse import parse_document
from tapaudit.pipeline import run

RULE_WITH_DLQ = """
Resources:
  Handler: {{Type: AWS::SQS::Queue}}
  DLQ: {{Type: AWS::SQS::Queue}}
  Orders:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {{source: [orders]}}
      Targets:
        - Id: "{target}"
          Arn: !GetAtt Handler.Arn
          DeadLetterConfig: {{Arn: {dlq}}}
"""


def fixed(tmp_path, text: str) -> tuple[dict, list[str]]:
    """The template after `tapaudit fix`, and why findings were left."""
    path = tmp_path / "template.yaml"
    path.write_text(text, encoding="utf-8")
    config = Config()
    outcome = run([str(path)], config)
    results, errors = fix_all(outcome.result, outcome.sources, outcome.rules,
                              fix_settings(config, outcome.rules), config.partition)
    assert not errors
    (result,) = results
    left = [reason for fix in result.results for reason in fix.reasons]
    return parse_document(result.fixed).data, left


def test_a_target_named_like_a_deny_still_gets_its_queue_policy(tmp_path):
    data, left = fixed(tmp_path, RULE_WITH_DLQ.format(target="explicitly denied URL's name",
                                                      dlq="!GetAtt DLQ.Arn"))
    assert not left
    policies = [r for r in data["Resources"].values() if r["Type"] == "AWS::SQS::QueuePolicy"]
    assert len(policies) == 1  # the queue policy the rule needs, and no other edit
    target = data["Resources"]["Orders"]["Properties"]["Targets"][0]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DLQ", "Arn"]}}


def test_a_queue_given_by_its_url_gets_its_arn(tmp_path):
    data, left = fixed(tmp_path, RULE_WITH_DLQ.format(target="t", dlq="!Ref DLQ"))
    assert not left
    target = data["Resources"]["Orders"]["Properties"]["Targets"][0]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DLQ", "Arn"]}}


DISTRIBUTION_WITHOUT_DEFAULT_BEHAVIOR = """
Resources:
  Site:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        HttpVersion: http2and3
        Origins: [{Id: web, DomainName: example.com, CustomOriginConfig: {OriginProtocolPolicy: https-only}}]
"""


def test_a_distribution_without_its_default_cache_behavior_gets_no_partial_one(tmp_path):
    """CloudFront requires DefaultCacheBehavior with its TargetOriginId, which only the user can
    name: a behavior of just the headers policy and the viewer policy would be a new error
    (cfn-lint E3003), so the finding is left with why."""
    data, left = fixed(tmp_path, DISTRIBUTION_WITHOUT_DEFAULT_BEHAVIOR)
    assert "DefaultCacheBehavior" not in data["Resources"]["Site"]["Properties"]["DistributionConfig"]
    behavior = [reason for reason in left if "add the cache behavior with its TargetOriginId" in reason]
    assert behavior and "has no DefaultCacheBehavior" in behavior[0], left
