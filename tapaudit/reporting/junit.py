"""JUnit XML for the test tabs of GitLab and Jenkins: a test suite per rule, a test case per
resource the rule checked. A finding is a failure; unknown, suppressed, baselined and exempt
resources are skipped with the reason; inputs that could not be scanned are errors.

Input text is `printable` (one line each, no control characters); the failure text puts our own
lines together, each indented, so no line of the file starts with text from a template."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from msgspec import Struct, field

from tapaudit.findings import INVALID_RULE_ID, INVALID_TITLE, Finding, ScanResult
from tapaudit.reporting.escape import inert_line, printable, xml_text
from tapaudit.reporting.formats import ReportContext

_Key = tuple[str, str, str]  # rule id, file, resource


class _Case(Struct):
    file: str
    resource: str
    resource_type: str
    cdk_path: str | None
    failure: Finding | None = None
    skipped: list[str] = field(default_factory=list)


def _cases(result: ScanResult) -> dict[str, dict[_Key, _Case]]:
    suites: dict[str, dict[_Key, _Case]] = {}

    def case(rule_id: str, file: str, resource: str, resource_type: str,
             cdk_path: str | None) -> _Case:
        cases = suites.setdefault(rule_id, {})
        return cases.setdefault((rule_id, file, resource),
                                _Case(file, resource, resource_type, cdk_path))

    for checked in result.checked:
        case(checked.rule_id, checked.file, checked.resource, checked.resource_type, checked.cdk_path)
    for finding in result.findings:
        case(finding.rule_id, finding.file, finding.resource, finding.resource_type,
             finding.cdk_path).failure = finding
    for label, entries in (("suppressed", result.suppressed), ("baselined", result.baselined)):
        for finding in entries:
            reason = f": {finding.suppression.reason}" if finding.suppression else ""
            case(finding.rule_id, finding.file, finding.resource, finding.resource_type,
                 finding.cdk_path).skipped.append(f"{label}{reason} ({finding.message})")
    for finding in result.unknown:
        # The engine's message already says "<resource> could not be verified: <what>".
        what = finding.message.removeprefix(f"{finding.resource} could not be verified: ")
        case(finding.rule_id, finding.file, finding.resource, finding.resource_type,
             finding.cdk_path).skipped.append(f"could not be verified: {what}")
    for exemption in result.exempt:
        case(exemption.rule_id, exemption.file, exemption.resource, exemption.resource_type,
             exemption.cdk_path).skipped.append(f"exempt: {exemption.reason}")
    return suites


def _testcase(suite: ET.Element, rule_id: str, case: _Case) -> None:
    name = case.resource + (f" ({case.cdk_path})" if case.cdk_path else "")
    element = ET.SubElement(suite, "testcase", name=printable(name),
                            classname=printable(f"{rule_id}.{case.resource_type}"),
                            file=printable(case.file), time="0")
    if case.failure is not None:
        finding = case.failure
        failure = ET.SubElement(element, "failure", message=printable(finding.message),
                                type=finding.severity.label)
        lines = [f"{finding.severity.label.upper()} {finding.rule_id} "
                 f"{finding.file}:{finding.line}:{finding.column} {finding.resource} "
                 f"({finding.resource_type})", f"  {finding.message}"]
        lines += [f"  Fix: {finding.fix}"] if finding.fix else []
        lines += [f"  Why: {finding.why}"] if finding.why else []
        failure.text = "\n".join(inert_line(printable(line)) for line in lines)
    elif case.skipped:
        ET.SubElement(element, "skipped", message=printable("; ".join(case.skipped)))


def as_element(result: ScanResult, context: ReportContext) -> ET.Element:
    suites = _cases(result)
    titles = {rule.id: rule.title for rule in context.rules}
    root = ET.Element("testsuites", name="tapaudit")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for rule_id in sorted({*titles, *suites}):
        cases = sorted(suites.get(rule_id, {}).values(), key=lambda c: (c.file, c.resource))
        counts = {"tests": len(cases), "failures": sum(c.failure is not None for c in cases),
                  "errors": 0, "skipped": sum(c.failure is None and bool(c.skipped) for c in cases)}
        name = f"{rule_id}: {titles[rule_id]}" if rule_id in titles else rule_id
        suite = ET.SubElement(root, "testsuite", name=printable(name), time="0",
                              **{key: str(value) for key, value in counts.items()})
        for case in cases:
            _testcase(suite, rule_id, case)
        for key, value in counts.items():
            totals[key] += value
    if result.invalid:
        # A resource CloudFormation rejects for its shape fails, whatever the rules would say.
        n = len(result.invalid)
        suite = ET.SubElement(root, "testsuite", name=f"{INVALID_RULE_ID}: {INVALID_TITLE}",
                              tests=str(n), failures=str(n), errors="0", skipped="0", time="0")
        for entry in result.invalid:
            case = ET.SubElement(suite, "testcase", name=printable(entry.resource), classname=
                                 printable(f"{INVALID_RULE_ID}.{entry.resource_type or 'invalid'}"),
                                 file=printable(entry.file), time="0")
            ET.SubElement(case, "failure", message=printable(entry.message), type="invalid").text = \
                inert_line(printable(f"INVALID {entry.line_text}"))
        totals["tests"] += n
        totals["failures"] += n
    if result.errors:
        # An input that could not be scanned is an error, never a silent pass.
        suite = ET.SubElement(root, "testsuite", name="inputs", tests=str(len(result.errors)),
                              failures="0", errors=str(len(result.errors)), skipped="0", time="0")
        for error in result.errors:
            file, message = printable(error.file), printable(error.message)
            case = ET.SubElement(suite, "testcase", name=file, classname="tapaudit.input",
                                 file=file, time="0")
            ET.SubElement(case, "error", message=message, type="input").text = message
        totals["tests"] += len(result.errors)
        totals["errors"] += len(result.errors)
    root.attrib.update({key: str(value) for key, value in totals.items()}, time="0")
    return root


def _xml_safe(root: ET.Element) -> None:
    """The last guard: nothing XML 1.0 cannot carry (ElementTree would write it and break the
    file), whatever text reaches the tree."""
    for element in root.iter():
        for name, value in element.attrib.items():
            element.set(name, xml_text(value))
        if element.text:
            element.text = xml_text(element.text)


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    root = as_element(result, context)
    _xml_safe(root)
    ET.indent(root)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(root, encoding="unicode"))
    stream.write("\n")
