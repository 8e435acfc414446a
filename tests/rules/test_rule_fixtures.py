"""Table-driven: each rule's fixtures (fixtures/TAP00N/) against the verdicts in its cases.yaml.

CDK-shaped fixtures are synthesized by aws-cdk-lib (reference_stack/rule_fixtures.py); the
hand-written YAML ones pin edge cases. Verdicts: pass, fail, unknown, not_applicable; optional
`contains` (message fragments), `checks`, `unverified` (fragments of what a failing resource could
not verify) and `exempt` (resource -> fragment of the reason the rule leaves it out).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tapaudit.loading.discovery import TemplateSource, read_text
from tapaudit.loading.parse import parse_document
from tapaudit.model.template import Template
from tapaudit.rules.engine import Verdict, evaluate_rule
from tapaudit.scan import scan_source
from tapaudit.transforms import expand
from tests.conftest import FIXTURES

RULE_DIRS = sorted(p for p in FIXTURES.glob("TAP*") if p.is_dir())


def _cases():
    for folder in RULE_DIRS:
        table = yaml.safe_load((folder / "cases.yaml").read_text())
        for name, expected in table.items():
            yield pytest.param(folder.name, folder / name, expected, id=f"{folder.name}/{name}")


def _verdict(results) -> str:
    verdicts = {r.verdict for r in results}
    for verdict in (Verdict.FAIL, Verdict.UNKNOWN, Verdict.PASS):
        if verdict in verdicts:
            return verdict.value
    return Verdict.NOT_APPLICABLE.value


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_every_fixture_has_an_expected_verdict(folder: Path):
    listed = set(yaml.safe_load((folder / "cases.yaml").read_text()))
    present = {p.name for p in folder.iterdir() if p.name != "cases.yaml"}
    assert listed == present


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_each_rule_has_passing_failing_and_hand_written_fixtures(folder: Path):
    verdicts = {v["verdict"] for v in yaml.safe_load((folder / "cases.yaml").read_text()).values()}
    names = [p.name for p in folder.iterdir()]
    assert {"pass", "fail"} <= verdicts
    assert any(n.startswith("cdk-") for n in names) and any(n.endswith(".yaml") and
                                                            n != "cases.yaml" for n in names)


@pytest.mark.parametrize(("rule_id", "path", "expected"), list(_cases()))
def test_fixture_verdict(rule_id: str, path: Path, expected: dict, rules_by_id):
    rule = rules_by_id[rule_id]
    document = parse_document(read_text(TemplateSource(path.name, path=path)))
    expansion = expand(document.data)  # SAM and Fn::ForEach fixtures: what CloudFormation deploys
    template = Template(expansion.data)
    template.provenance = expansion.provenance
    results = list(evaluate_rule(rule, template))
    assert _verdict(results) == expected["verdict"]
    if "resources" in expected:
        got = {r.logical_id: r.verdict.value for r in results}
        assert got == expected["resources"]

    report = scan_source(TemplateSource(path.name, path=path), [rule])
    assert report.error is None
    entries = report.findings if expected["verdict"] == "fail" else report.unknown
    if expected["verdict"] in ("fail", "unknown"):
        assert entries and all(f.rule_id == rule_id for f in entries)
        text = " ".join(f.message for f in entries)
        for fragment in expected.get("contains", []):
            assert fragment in text
        if "checks" in expected:
            assert list(entries[0].checks) == expected["checks"]
    else:
        assert report.findings == [] and report.unknown == []
    # Unknowns are never hidden: what a failing resource could not verify, by fragment.
    unverified = " ".join(item for f in report.findings for item in f.unverified)
    for fragment in expected.get("unverified", []):
        assert fragment in unverified
    # Resources the rule leaves out on purpose, with a fragment of the reason.
    exempt = {e.resource: e.reason for e in report.exempt}
    assert set(exempt) == set(expected.get("exempt", {}))
    for resource, fragment in expected.get("exempt", {}).items():
        assert fragment in exempt[resource]
