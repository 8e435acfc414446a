"""SAM support against AWS's own translator (issue 10).

For every SAM template of the corpus that aws-sam-translator translates offline, tapaudit's
verdicts on the SAM source equal its verdicts on the translated template, mapped back to the SAM
resources (fail, unknown and exempt alike). Exceptions are listed with their reason.
"""

from __future__ import annotations

import logging
import os

import pytest

from tapaudit.loading.parse import parse_document
from tests.conftest import CORPUS, FIXTURES, require_module
from tests.transforms.sam_oracle import sam_templates

pytestmark = pytest.mark.slow

# Where tapaudit and the translator's output must differ, and why.
EXCEPTIONS = {
    # Transform: [AWS::Serverless-2016-10-31, a custom macro]: the macro rewrites the template at
    # deploy time, so tapaudit reports the function as not checked (unknown); the translator
    # expands SAM and leaves the macro for later.
    "test__fixtures__templates__good__transform__list_transform_many.yaml",
}
# Pinned: a change in these numbers means SAM support or the corpus changed.
TRANSLATED_TEMPLATES = 153
SAM_RESOURCES_CHECKED = 236
# 252 before issue 9's exemptions: six SAM functions are custom-resource handlers (their Arn is
# the ServiceToken of a custom resource in the same template; they run only during deployments),
# so TAP006 now exempts them on both sides instead of failing them (join.yaml CustomResourceFn,
# apigw-edge-custom-domain SSMGetFunction, apigw-lambda-opensearch-serverless-nextgen
# SetupPipelineFunction, cfn-custom-resource-s3-create FunctionS3Create, lambda-kendra-bedrock and
# qbusiness-s3-lambda DataSourceSyncLambda).
TRANSLATED_FINDINGS = 246
TRANSLATED_EXEMPT = 6


def test_verdicts_on_sam_source_equal_verdicts_on_translated_template(rules):
    require_module("samtranslator")
    if not CORPUS.is_dir() and not os.environ.get("CI"):
        pytest.skip("../shared/corpus is not here")
    from tests.transforms.sam_oracle import (
        sam_resources_checked,
        source_verdicts,
        translate,
        translated_verdicts,
    )

    logging.getLogger("samtranslator").setLevel(logging.CRITICAL)
    translated = checked = findings = exempt = 0
    differences = {}
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".md")
    for path, data in sam_templates(files):
        try:
            output = translate(data)
        except Exception:  # the oracle refuses it: invalid SAM, or SAR applications that need AWS
            continue
        translated += 1
        checked += sam_resources_checked(data)
        ours = source_verdicts(data, rules)
        theirs = translated_verdicts(data, output, rules)
        findings += sum(1 for verdict in theirs.values() if verdict == "fail")
        exempt += sum(1 for verdict in theirs.values() if verdict == "exempt")
        if ours != theirs and path.name not in EXCEPTIONS:
            differences[path.name] = (ours, theirs)
    assert differences == {}
    assert (translated, checked, findings, exempt) == (TRANSLATED_TEMPLATES, SAM_RESOURCES_CHECKED,
                                                       TRANSLATED_FINDINGS, TRANSLATED_EXEMPT)


# Hand-written SAM fixtures the translator refuses, and why.
FIXTURES_REFUSED = {
    # `Connectors` among the function's properties (SAM wants it beside them) with a destination
    # type that has no profile: the translator refuses it; tapaudit reads the connector as the
    # author means it and reports what it would grant as unknown.
    "sam-unknown-connector-not-evaluated.yaml",
}


def test_sam_fixtures_agree_with_the_translator(rules):
    require_module("samtranslator")
    from tests.transforms.sam_oracle import source_verdicts, translate, translated_verdicts

    logging.getLogger("samtranslator").setLevel(logging.CRITICAL)
    paths = sorted(FIXTURES.glob("TAP*/sam-*.yaml"))
    assert len(paths) >= 10
    for path in paths:
        data = parse_document(path.read_text()).data
        if path.name in FIXTURES_REFUSED:
            with pytest.raises(Exception):  # noqa: B017 (any refusal of the translator)
                translate(data)
            continue
        assert source_verdicts(data, rules) == translated_verdicts(data, translate(data), rules), path
