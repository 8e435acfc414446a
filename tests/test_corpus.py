"""Every template of the shared real-world corpus scans without a traceback."""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from tapaudit.loading.discovery import TemplateSource
from tapaudit.scan import scan_source
from tests.conftest import CORPUS, run_cli

pytestmark = pytest.mark.slow

FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".md"
               and p.name != "manifest.json") if CORPUS.is_dir() else []


DUPLICATE_KEY_FILES = {
    "test__fixtures__templates__bad__duplicate.json",  # cfn-lint's own duplicate-key fixtures
    "test__fixtures__templates__bad__duplicate.yaml",
    "appsync-dynamodb-singletable__template.yaml",  # AuthenticationType twice
    "cognito-sns-sms-origination-id-sam__template.yaml",  # MfaConfiguration twice
    "multi-account-private-apigw__centralAccount__template.yaml",  # Handler twice
    # cfn-lint's fixture for a SAM function whose generated role id the template already uses.
    "test__fixtures__templates__bad__transform_serverless_template.yaml",
}
RAIN_TEMPLATES = 17  # aws-cloudformation-templates' !Rain::Embed / !Rain::Module / !Rain::S3 files


@pytest.fixture(scope="module", autouse=True)
def _corpus_present():
    if not FILES and not os.environ.get("CI"):
        pytest.skip("../shared/corpus is not here")
    assert len(FILES) > 1400


def test_every_corpus_file_scans_or_reports_a_clean_error(rules):
    for path in FILES:
        # debug=True: an internal error raises here instead of becoming a report line.
        report = scan_source(TemplateSource(str(path), path=path), rules, debug=True)
        if report.error is not None:
            assert "\n" not in report.error.message, path


# Pinned (issue 10): SAM resources of the corpus that tapaudit expands and checks, and those a
# macro or an unknown SAM feature leaves not checked (reported as unknown, never passed).
# The issue counted 255 functions: 2 not checked here, 3 more sit in refused templates (duplicate
# keys; a generated logical id the template already uses).
SAM_RESOURCES_CHECKED = {"AWS::Serverless::Function": 250, "AWS::Serverless::StateMachine": 19,
                         "AWS::Serverless::SimpleTable": 11, "AWS::Serverless::Connector": 3}
SAM_RESOURCES_NOT_CHECKED = 2


def test_sam_resources_of_the_corpus_are_checked():
    from tapaudit.errors import InputError
    from tapaudit.transforms import expand
    from tests.transforms.sam_oracle import sam_templates

    checked = dict.fromkeys(SAM_RESOURCES_CHECKED, 0)
    not_checked = 0
    for _, data in sam_templates(FILES):
        try:
            provenance = expand(data).provenance
        except InputError:  # a generated logical id clashes: refused, pinned above
            continue
        for name, body in data["Resources"].items():
            kind = body.get("Type") if isinstance(body, dict) else None
            if not isinstance(kind, str) or kind not in checked:
                continue
            if name in provenance.unchecked:
                not_checked += 1
            else:
                checked[kind] += 1
    assert (checked, not_checked) == (SAM_RESOURCES_CHECKED, SAM_RESOURCES_NOT_CHECKED)


# What each file of corpus/broken deserves; a file not named here is not well-formed: an error.
BROKEN_OUTCOMES = {
    # Its Outputs use an unknown tag (`!BadFunc`): an input error since issue 16 (a tag that is not
    # a CloudFormation function is refused, never read as a plain value).
    "cfn-lint-v0.87.7__test__fixtures__templates__bad__outputs__configuration.yaml": {"error"},
    # Parsed, but no template (empty, a string, no Resources): skipped with a note, never silent.
    "cfn-lint__test__fixtures__templates__bad__empty_file.yaml": {"skipped"},
    "cfn-lint__test__fixtures__templates__bad__not_cloudformation.yaml": {"skipped"},
    "cfn-lint__test__fixtures__templates__bad__string.yaml": {"skipped"},
    "cfn_nag__spec__test_templates__json__structural__no_resources.json": {"skipped"},
    "cfn_nag__spec__test_templates__yaml__ignore_fatal__non_cfn.yml": {"skipped"},
    # A line of prose in a .json file: a YAML string (skipped) or invalid JSON (an error).
    "cfn_nag__spec__test_templates__json__structural__rubbish.json": {"skipped", "error"},
    "checkov__tests__cloudformation__parser__fail.json": {"skipped", "error"},
}


def test_broken_corpus_files_are_errors_not_crashes(rules):
    outcomes = {}
    for path in sorted((CORPUS / "broken").iterdir()):
        report = scan_source(TemplateSource(path.name, path=path), rules, debug=True)
        found = [name for name, yes in (("error", report.error is not None), ("template", report.is_template),
                                        ("skipped", report.skipped is not None)) if yes]
        assert len(found) == 1, (path.name, found)
        outcomes[path.name] = found[0]
    assert len(outcomes) == 16
    assert {name: outcome for name, outcome in outcomes.items()
            if outcome not in BROKEN_OUTCOMES.get(name, {"error"})} == {}


def test_whole_corpus_through_the_cli():
    proc = run_cli("scan", str(CORPUS), "--format", "json", "--fail-on", "none")
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert proc.returncode == 2  # corpus/broken holds files that are not well-formed
    assert len(report["templates"]) > 1400
    assert all("internal error" not in e["message"] for e in report["errors"])
    # Only the not-well-formed files, two templates whose Resources is a list or empty, and the
    # templates with a duplicate key (CloudFormation refuses them; issue 10).
    duplicates = {e["file"].split("/")[-1] for e in report["errors"]
                  if e["message"].startswith(("duplicate key", "SAM generates"))}
    assert duplicates == DUPLICATE_KEY_FILES
    folders = {e["file"].split("/")[-2] for e in report["errors"]
               if not e["message"].startswith(("duplicate key", "SAM generates", "unknown YAML tag"))}
    assert folders <= {"broken", "awslabs-aws-cloudformation-templates"}
    # Rain's pre-processor templates (`Type: !Rain::Module ...`) are not CloudFormation until
    # `rain pkg` has run: an unknown tag is an error, never a resource left without its Type (issue 16).
    rain = [e for e in report["errors"] if e["message"].startswith("unknown YAML tag '!Rain::")]
    assert len(rain) == RAIN_TEMPLATES
    # Unknowns are never hidden (issue 9): 5 unverifiable resources and 4 failing distributions
    # whose headers a viewer-response function may set; pinned so a change shows. The resources:
    # - attributes_transform.yaml, 2 tables whose AttributeDefinitions a Fn::Transform computes
    #   (the third, whose KeySchema alone is computed, has no GSI at all: a failure);
    # - since SAM and macros are expanded (issue 10): list_transform_many.yaml's Function and
    #   list_transform_not_sam.yaml's SkillFunction (a template-level macro rewrites the template
    #   at deploy time), error_multiple_resource_errors.yaml's ExternalS3Function (its S3 event
    #   names a bucket outside the template, which SAM cannot expand and refuses).
    # - since a rule's scope is decided like any other value (issue 16): 17 functions whose
    #   FunctionName depends on a parameter without default (or a Ref the template does not
    #   define), so whether TAP002 applies is unknown: LambdaSample (3 copies, EnvName),
    #   cfn_nag sam globals (Site), quickstart-amazon-eks
    #   functions (4, EKSClusterName), cfn-lint auto_publish_alias (Stage2), auto_publish_code_sha256
    #   (a Ref to ' AWS::StackName '), sam_w_conditions (2, RegionalPrefix), checkov LambdaFunction
    #   (5, Ref to the undefined CompanyName). Each would fail TAP002 if it applied. (RainModules'
    #   api-resource was an 18th: Rain templates are input errors now.)
    assert report["summary"]["unknown"] == 26
    assert len(report["unknown"]) == 22
    assert sum(1 for u in report["unknown"] if "so whether the rule applies is unknown" in u["message"]) == 17
    assert ("TAP003", "DDBTableTransformKeySchema") in {(f["rule_id"], f["resource"])
                                                       for f in report["findings"]}
    assert sum(1 for f in report["findings"] if f["unverified"]) == 4
    # Out of scope, with reasons: 118 custom-resource handlers (TAP006; 6 of them SAM functions,
    # checked since issue 10), 11 same-region replications (TAP001). Issue 16: 3 handlers and 1
    # replication sat in Rain templates, now refused as a whole.
    exempt = Counter(e["rule_id"] for e in report["exempt"])
    assert exempt == {"TAP006": 118, "TAP001": 11}
    # Invalid resources (issue 17), each reported once and judged by no rule: 13 whose Type is not
    # a string, which scans used to drop without a word (10 Rain modules of
    # aws-cloudformation-templates in their JSON mapping form: the YAML ones, `!Rain::Module`, are
    # input errors now; two `!Ref` types in cfn-lint fixtures; SAM's resource_with_invalid_type),
    # and two that were rule findings: cfn-lint's bad/object_should_be_list (AttributeDefinitions a
    # string in one Fn::If branch: TAP003) and good/resource_properties (ReplicationConfiguration a
    # list: TAP001).
    invalid = Counter(entry["path"] for entry in report["invalid"])
    assert invalid == {"Type": 13, "Properties.AttributeDefinitions": 1,
                       "Properties.ReplicationConfiguration": 1}


def test_yaml_reads_exactly_as_cfn_flip_reads_it():
    """Our C-composed, position-keeping loader against cfn-flip's own loader, on real templates."""
    import json as _json

    import cfn_tools
    import yaml

    from tapaudit.errors import InputError
    from tapaudit.loading.parse import parse_document

    compared = 0
    for path in FILES:
        if path.suffix not in (".yaml", ".yml", ".template") or path.parent.name == "broken":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.lstrip().startswith("{"):
            continue
        try:
            expected = _json.loads(_json.dumps(cfn_tools.load_yaml(text), default=str))
        except (yaml.YAMLError, ValueError, TypeError):
            continue  # cfn-flip cannot read it either
        try:
            got = parse_document(text).data
        except InputError:
            continue  # refused on purpose (e.g. a non-mapping key); compared elsewhere
        assert _same_reading(_json.loads(_json.dumps(got, default=str)), expected), path
        compared += 1
    assert compared > 400


def _same_reading(ours, theirs) -> bool:
    """Equal, except that cfn-flip reads the items of a `!GetAtt [...]` list as raw scalars and
    drops tags nested in them (`!GetAtt [!Sub a, !Ref b]` -> ["a", "b"], sometimes node reprs);
    we keep them, as CloudFormation does. That one case is excused, nothing else."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        getatt = ours.get("Fn::GetAtt") if len(ours) == 1 else None
        if isinstance(getatt, list) and not all(isinstance(p, str) for p in getatt):
            return list(theirs) == ["Fn::GetAtt"]
        return ours.keys() == theirs.keys() and all(_same_reading(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(_same_reading, ours, theirs))
    return ours == theirs
