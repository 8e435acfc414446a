"""What findings say, over every fixture and every real corpus template (issue 18, "Words"; issue
17, "Every fix is derived from what failed"): a message is one sentence of at most 200 characters,
without Python type names or reprs and without a repeated reason; `unverified` entries are
sentences; fix texts leak nothing either, and never propose what the resource already has.

Scanned in-process, once per session (about ten seconds for the corpus).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tapaudit.findings import Finding, Severity
from tapaudit.loading.discovery import TemplateSource, read_text
from tapaudit.loading.parse import parse_document
from tapaudit.rules import load_rules
from tapaudit.scan import scan_source
from tests.conftest import CORPUS, FIXTURES

MAX_MESSAGE = 200
TEMPLATE_SUFFIXES = {".json", ".yaml", ".yml", ".template"}
REAL_CORPUS = CORPUS / "real"

# Python's words for types, and reprs: never what a user should read. English words for shapes
# ("is a list, not a mapping") are fine; a bare `list` or `dict` is Python's.
LEAKS = re.compile(r"\b(?:dict|str|NoneType|None|tuple|Malformed|Unknown)\b|(?<!\ba )\blist\b"
                   r"|<class |\w+\(reason=")
# A word said twice in a row, or as the start of the next ("TLS TLSv1.2_2021").
STUTTER = re.compile(r"\b(\w{3,}) \1")
SENTENCE_BREAK = re.compile(r"[.!?] [A-Z]")


@dataclass(frozen=True)
class Scanned:
    path: Path
    finding: Finding
    data: dict


def _templates(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in TEMPLATE_SUFFIXES
                  and p.name not in ("cases.yaml", "manifest.json"))


def _data(path: Path) -> dict:
    try:
        data = parse_document(read_text(TemplateSource(str(path), path=path))).data
    except Exception:  # the scan reports it; nothing to compare against here
        return {}
    return data if isinstance(data, dict) else {}


def _scan(paths: list[Path]) -> Iterator[Scanned]:
    rules = load_rules()
    for path in paths:
        report = scan_source(TemplateSource(str(path), path=path), rules)
        findings = [*report.findings, *report.unknown]
        if findings:
            data = _data(path)
            for finding in findings:
                yield Scanned(path, finding, data)


@pytest.fixture(scope="module")
def scanned() -> list[Scanned]:
    found = list(_scan(_templates(FIXTURES) + _templates(REAL_CORPUS)))
    assert len(found) > 100
    return found


def _problems(text: str, *, sentence: bool) -> list[str]:
    problems = []
    if sentence and len(text) > MAX_MESSAGE:
        problems.append(f"{len(text)} characters")
    # A closing aside in parentheses (a suppression's expiry, added by triage) still ends it.
    if sentence and (not text.endswith((".", ".)")) or SENTENCE_BREAK.search(text)):
        problems.append("not one sentence")
    for pattern, what in ((LEAKS, "a Python word"), (STUTTER, "a stutter")):
        match = pattern.search(text)
        if match:
            problems.append(f"{what}: {match.group(0)!r}")
    if not sentence:  # a fix repeats its code for each target or statement, as it should
        return problems
    clauses = [c.strip(" .") for c in re.split(r"[;:()]", text) if len(c.strip(" .")) >= 20]
    repeated = {c for c in clauses if clauses.count(c) > 1}
    if repeated:
        problems.append(f"a repeated reason: {sorted(repeated)[0]!r}")
    if text.count("could not be verified") > 1:
        problems.append("says twice that it could not be verified")
    return problems


def _report(bad: list[str]) -> str:
    return f"{len(bad)} texts break the rules, e.g.:\n" + "\n".join(bad[:15])


def test_messages_are_one_short_sentence_in_plain_words(scanned):
    bad = [f"{s.path.name}: {s.finding.message} -> {p}" for s in scanned
           if (p := _problems(s.finding.message, sentence=True))]
    assert not bad, _report(bad)


def test_unverified_entries_are_sentences_in_plain_words(scanned):
    bad = [f"{s.path.name}: {entry} -> {p}" for s in scanned for entry in s.finding.unverified
           if (p := _problems(entry, sentence=True))]
    assert not bad, _report(bad)


def test_fix_texts_leak_no_internals(scanned):
    bad = [f"{s.path.name}: {s.finding.fix} -> {p}" for s in scanned
           if (p := _problems(s.finding.fix, sentence=False))]
    assert not bad, _report(bad)


# --- A fix names nothing the resource already has --------------------------------------------

_INDEX_NAMES = (re.compile(r"IndexName: ([\w.-]+)"), re.compile(r"indexName: '([\w.-]+)'"),
                re.compile(r'index_name="([\w.-]+)"'))
_DECLARED = re.compile(r"declare ((?:`[\w.-]+` \(\w\)(?: and )?)+) in its `(?:AttributeDefinitions|"
                       r"attributeDefinitions|attribute_definitions)`")


def _properties(scanned: Scanned) -> dict[str, Any]:
    resource = scanned.data.get("Resources", {}).get(scanned.finding.resource)
    properties = resource.get("Properties") if isinstance(resource, dict) else None
    return properties if isinstance(properties, dict) else {}


def _names(entries: Any, key: str) -> set[str]:
    return {e[key] for e in entries if isinstance(e, dict) and isinstance(e.get(key), str)} \
        if isinstance(entries, list) else set()


def _already_there(scanned: Scanned) -> list[str]:
    fix, properties = scanned.finding.fix, _properties(scanned)
    found = []
    indexes = _names(properties.get("GlobalSecondaryIndexes"), "IndexName")
    for pattern in _INDEX_NAMES:
        found += [f"index {name}" for name in pattern.findall(fix) if name in indexes]
    attributes = _names(properties.get("AttributeDefinitions"), "AttributeName")
    for listed in _DECLARED.findall(fix):
        found += [f"attribute {name}" for name in re.findall(r"`([\w.-]+)`", listed) if name in attributes]
    if scanned.finding.rule_id == "TAP004" and "not its ARN" in scanned.finding.message:
        # The queue and its policy are there: only the reference to it is wrong.
        found += ["a queue policy"] if "QueuePolicy" in fix else []
    ids = {*(scanned.data.get("Resources") or {}), *(scanned.data.get("Parameters") or {})}
    found += [f"logical id {name}" for name in _NEW_RESOURCE.findall(fix) if name in ids]
    found += [f"construct {name}" for name in _NEW_CONSTRUCT.findall(fix)
              if name in _sibling_constructs(scanned)]
    return found


# What a fix creates: a resource by logical id, a CDK construct by id in the rule's scope.
_NEW_RESOURCE = re.compile(r"Add that queue, an AWS::SQS::Queue `(\w+)`")
_NEW_CONSTRUCT = re.compile(r"""(?:new sqs\.\w+\(this, '|sqs\.\w+\(self, ")(\w+)""")


def _sibling_constructs(scanned: Scanned) -> set[str]:
    """The construct ids beside the finding's construct (`Stack/Rule/Resource` -> those in `Stack`)."""
    parts = (scanned.finding.cdk_path or "").removesuffix("/Resource").split("/")[:-1]
    metadata = [r.get("Metadata") for r in (scanned.data.get("Resources") or {}).values()
                if isinstance(r, dict)]
    paths = [m["aws:cdk:path"].split("/") for m in metadata
             if isinstance(m, dict) and isinstance(m.get("aws:cdk:path"), str)]
    return {p[len(parts)] for p in paths if p[:len(parts)] == parts and len(p) > len(parts)}


def test_fixes_propose_nothing_the_resource_already_has(scanned):
    bad = [f"{s.path.name} {s.finding.resource}: {s.finding.fix} -> {there}" for s in scanned
           if (there := _already_there(s))]
    assert not bad, _report(bad)


def test_the_check_sees_an_index_and_attributes_that_exist():
    """The generic check above would catch the issue's own examples."""
    data = {"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "GlobalSecondaryIndexes": [{"IndexName": "status-timestamp-index"}],
        "AttributeDefinitions": [{"AttributeName": "status", "AttributeType": "S"}]}}}}
    finding = Finding(rule_id="TAP003", severity=Severity.MEDIUM, title="", message="", file="",
                      line=1, column=1, resource="T", resource_type="AWS::DynamoDB::Table", cdk_path=None,
                      path=(),
                      fix="Add to T's `GlobalSecondaryIndexes` `{IndexName: status-timestamp-index, "
                          "...}` and declare `status` (S) and `timestamp` (N) in its `AttributeDefinitions`.")
    assert _already_there(Scanned(Path("t.yaml"), finding, data)) == [
        "index status-timestamp-index", "attribute status"]


def test_the_check_sees_a_queue_id_and_a_construct_id_that_exist():
    data = {"Parameters": {"RuleDeadLetterQueue": {"Type": "String"}}, "Resources": {
        "Rule": {"Type": "AWS::Events::Rule", "Metadata": {"aws:cdk:path": "S/Rule/Resource"}},
        "Q": {"Type": "AWS::SQS::Queue", "Metadata": {"aws:cdk:path": "S/EventDLQ/Resource"}},
        "P": {"Type": "AWS::SQS::QueuePolicy", "Metadata": {"aws:cdk:path": "S/Inner/DlqPolicy/Resource"}}}}
    finding = Finding(rule_id="TAP004", severity=Severity.MEDIUM, title="", message="", file="",
                      line=1, column=1, resource="Rule", resource_type="AWS::Events::Rule",
                      cdk_path="S/Rule/Resource", path=(),
                      fix="With `const dlq = new sqs.Queue(this, 'EventDLQ')`, CDK adds the queue policy. "
                          "`new sqs.QueuePolicy(this, 'DlqPolicy', { queues: [dlq] })`. Add that queue, "
                          "an AWS::SQS::Queue `RuleDeadLetterQueue`, and ...")
    assert _already_there(Scanned(Path("t.json"), finding, data)) == [
        "logical id RuleDeadLetterQueue", "construct EventDLQ"]  # DlqPolicy is in another scope


@pytest.mark.parametrize(("text", "problem"), [
    ("Q could not be verified: target 't': the dead-letter queue is dict, not a string.", "Python word"),
    ("F: policy: Malformed(reason='x').", "Python word"),
    ("D: viewers may connect with TLS TLSv1.2_2021.", "stutter"),
    ("X could not be verified: Fn could not be verified.", "could not be verified"),
    ("R: a rule that is long enough here; a rule that is long enough here.", "repeated reason"),
    ("R: " + "x" * 200 + ".", "characters"),
])
def test_the_checks_catch_what_the_issue_saw(text, problem):
    assert any(problem in p for p in _problems(text, sentence=True))
