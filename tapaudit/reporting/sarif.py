"""SARIF 2.1.0 shaped for GitHub code scanning: rich rule metadata, stable fingerprints.

Messages are `printable` (text) and escaped Markdown; `json_text` writes ASCII, so a lone
surrogate in a template is written as its JSON escape, never an encoding error."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from tapaudit import __version__
from tapaudit.findings import (
    INVALID_RULE_ID,
    INVALID_TITLE,
    SECURITY_SEVERITY,
    Finding,
    Invalid,
    ScanResult,
    Severity,
)
from tapaudit.gate import EXIT_ERROR
from tapaudit.reporting.escape import json_text, markdown, printable
from tapaudit.reporting.formats import ReportContext
from tapaudit.reporting.markdown import fix_text
from tapaudit.rules.model import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/tapaudit/tapaudit"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note"}


def _uri(file: str) -> dict[str, str]:
    if Path(file).is_absolute():
        return {"uri": Path(file).as_uri()}
    return {"uri": quote(file), "uriBaseId": "%SRCROOT%"}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": " ".join(rule.rationale.split())},
        "help": {"text": f"{rule.why} Fix: {rule.fix.summary}", "markdown": rule.help_markdown()},
        "helpUri": rule.help_uri or INFORMATION_URI,
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": list(dict.fromkeys(["security", "cloudformation", *rule.tags])),
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": "high",
            "problem.severity": _LEVEL[rule.severity].replace("note", "recommendation"),
        },
    }


def _message(finding: Finding) -> dict[str, str]:
    """The finding's sentence, then its fix: plain text (`printable`) and Markdown (input text
    escaped, the fix's code spans kept)."""
    text, md = printable(finding.message), markdown(finding.message)
    if not finding.fix:
        return {"text": text, "markdown": md}
    return {"text": f"{text} Fix: {printable(finding.fix)}",
            "markdown": f"{md}\n\n**Fix:** {fix_text(finding.fix)}"}


def _location(entry: Finding | Invalid) -> dict[str, Any]:
    """Where a finding or an invalid resource is: its file, line and column, and its resource
    (by construct path for CDK output)."""
    logical = {"name": entry.resource, "kind": "resource",
               "fullyQualifiedName": entry.cdk_path or f"Resources/{entry.resource}"}
    return {"physicalLocation": {"artifactLocation": _uri(entry.file),
                                 "region": {"startLine": max(1, entry.line),
                                            "startColumn": max(1, entry.column)}},
            "logicalLocations": [logical]}


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "kind": "review" if finding.unknown else "fail",
        "level": "none" if finding.unknown else _LEVEL[finding.severity],
        "message": _message(finding),
        "locations": [_location(finding)],
        "partialFingerprints": {"tapauditFinding/v1": finding.fingerprint},
        "properties": {"resourceType": finding.resource_type, "checks": list(finding.checks),
                       "severity": finding.severity.label, "why": finding.why, "fix": finding.fix},
    }
    if finding.cdk_path:
        result["properties"]["cdkPath"] = finding.cdk_path
    return result


def _with_fixes(entry: dict[str, Any], finding: Finding, result: ScanResult) -> dict[str, Any]:
    """A fixable finding's result carries `tapaudit fix`'s edit of its file as SARIF `fixes`,
    located as the result is."""
    offer = result.fix_offers.get(finding.fingerprint)
    if offer is None or not offer.fixes:
        return entry
    location = _uri(finding.file)
    entry["fixes"] = [{"description": {"text": printable(fix["description"]["text"])},
                       "artifactChanges": [{**change, "artifactLocation": location}
                                           for change in fix["artifactChanges"]]}
                      for fix in offer.fixes]
    return entry


_INVALID_HELP = ("A value has a JSON type CloudFormation rejects (a Type that is not a string, "
                 "Properties that are not a mapping, a list where a mapping belongs, ...): the "
                 "template does not deploy, and no rule judges the resource. Fix: give the value "
                 "the type the resource's documentation names.")


def _invalid_rule() -> dict[str, Any]:
    """TAP000 is not a rule of rules/: it stands for invalid resources, always an error."""
    return {"id": INVALID_RULE_ID, "name": "InvalidResourceShape",
            "shortDescription": {"text": INVALID_TITLE},
            "fullDescription": {"text": _INVALID_HELP},
            "help": {"text": _INVALID_HELP, "markdown": _INVALID_HELP},
            "helpUri": "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resources-section-structure.html",
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["cloudformation", "invalid"], "precision": "very-high",
                           "problem.severity": "error"}}


def _invalid_result(entry: Invalid, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": INVALID_RULE_ID,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": "error",
        "message": {"text": printable(entry.message)},
        "locations": [_location(entry)],
        "partialFingerprints": {"tapauditFinding/v1": entry.fingerprint},
        "properties": {"resourceType": entry.resource_type, "path": entry.path,
                       "expected": entry.expected, "found": entry.found},
    }


def _set_aside(result: ScanResult, index: dict[str, int]) -> list[dict[str, Any]]:
    """Suppressed results carry their justification (code scanning shows them as dismissed);
    baselined ones are `unchanged`."""
    entries = []
    for finding in result.suppressed:
        if finding.rule_id in index:
            entry = _result(finding, index)
            reason = finding.suppression.reason if finding.suppression else ""
            entry["suppressions"] = [{"kind": "inSource", "justification": printable(reason)}]
            if finding.suppression and finding.suppression.acknowledged_at:
                entry["suppressions"][0]["properties"] = {
                    "cdkAcknowledgedAt": printable(finding.suppression.acknowledged_at)}
            entries.append(entry)
    for finding in result.baselined:
        if finding.rule_id in index:
            entries.append({**_result(finding, index), "baselineState": "unchanged"})
    return entries


def as_dict(result: ScanResult, rules: Sequence[Rule],
            context: ReportContext | None = None) -> dict[str, Any]:
    """`context` adds the run's record to the invocation: its exit code and settings."""
    index = {rule.id: i for i, rule in enumerate(rules)}
    notifications = [{
        "level": "error",
        "message": {"text": printable(f"{error.file}: {error.message}")},
        "locations": [{"physicalLocation": {"artifactLocation": _uri(error.file)}}],
    } for error in result.errors]
    invocation: dict[str, Any] = {"executionSuccessful": not result.errors}
    if context is not None:
        record = context.run_record()
        code = context.gate(result)[0]
        notifications += [{"level": "warning", "message": {"text": printable(f"{file}: configuration not "
                                                                             f"applied, {reason}")}}
                          for file, reason in record.config_not_applied]
        notifications += [{"level": "warning", "message": {"text": printable(note)}}
                          for note in record.notes]
        # Exit 1 is a verdict, not a failed execution: only exit 2 (an input, the configuration or
        # a report could not be handled) is.
        invocation = {"executionSuccessful": code != EXIT_ERROR, "exitCode": code,
                      "properties": record.to_dict()}
    invocation["toolExecutionNotifications"] = notifications
    results = [_with_fixes(_result(f, index), f, result) for f in [*result.findings, *result.unknown]
               if f.rule_id in index]
    results += _set_aside(result, index)
    descriptors = [_rule(rule) for rule in rules]
    if result.invalid:  # declared only when used: a clean run lists exactly the rules that ran
        descriptors.append(_invalid_rule())
        results += [_invalid_result(entry, len(descriptors) - 1) for entry in result.invalid]
    if result.baseline_in_use:
        for entry in results:
            entry.setdefault("baselineState", "new")
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tapaudit",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def write(result: ScanResult, rules: Sequence[Rule], stream: TextIO,
          context: ReportContext | None = None) -> None:
    stream.write(json_text(as_dict(result, rules, context)))  # one write, not one per token
    stream.write("\n")


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    write(result, context.rules, stream, context)
