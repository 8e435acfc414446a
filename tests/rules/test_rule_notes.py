"""A note about one rule stays with that rule: TAP003's SimpleTable note (a SimpleTable cannot
have a global secondary index) is said on TAP003's failure, never on another rule's."""

from __future__ import annotations

from tapaudit.loading.discovery import TemplateSource
from tapaudit.rules.loader import builtin_rules_dir, load_rule_file
from tapaudit.scan import scan_source

SIMPLE_TABLE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Ledger:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: id, Type: String}
"""

ENCRYPTION_RULE = """\
id: ORG002
title: DynamoDB tables must be encrypted with a customer key
severity: high
rationale: Keys the organisation controls can be revoked.
why: The table is readable with AWS's key alone.
resource_types: [AWS::DynamoDB::Table]
fix: {summary: enable SSE with a KMS key}
checks:
  - id: sse
    select: $.Properties.SSESpecification.SSEEnabled
    predicate: equals
    missing: is not encrypted with a customer key
    args: {value: true}
"""


def test_tap003_note_reaches_tap003_only(tmp_path):
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "ORG002.yaml").write_text(ENCRYPTION_RULE)
    template = tmp_path / "template.yaml"
    template.write_text(SIMPLE_TABLE)
    rules = [load_rule_file(builtin_rules_dir() / "TAP003.yaml"),
             load_rule_file(rules_dir / "ORG002.yaml")]
    report = scan_source(TemplateSource("template.yaml", template), rules)
    messages = {finding.rule_id: finding.message for finding in report.findings}
    assert set(messages) == {"TAP003", "ORG002"}, report
    assert "SimpleTable" in messages["TAP003"]
    assert messages["ORG002"] == "Ledger: is not encrypted with a customer key."
