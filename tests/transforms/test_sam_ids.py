"""SAM expansion against AWS's translator (issue 16): a custom rule sees SAM as CloudFormation.

Over every SAM template of the corpus (translated offline) and of the translator's own test pairs
and serverless-patterns (thirdparty/sam-pairs: SAM input + the CloudFormation the translator
makes), tapaudit's expansion is compared with the translator's output by logical id and type.
Ids the translator derives from a content hash (deployments, versions, layers, domain names) are
compared without their 10-digit hash. The figures are pinned: a change means SAM support moved.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tapaudit.errors import InputError
from tapaudit.loading.parse import parse_document
from tapaudit.transforms import expand
from tests.conftest import CORPUS, SHARED, require_module
from tests.transforms.sam_oracle import sam_templates, translate

pytestmark = pytest.mark.slow

PAIRS = SHARED / "thirdparty" / "sam-pairs"
_HASH = re.compile(r"(?<=.)[0-9a-f]{10}$")

# Pinned agreement: templates compared, templates whose ids and types all agree, and resources
# alike / only in the translator's output / only in ours.
TEMPLATES = 993
IDENTICAL_TEMPLATES = 940
SAME, ONLY_TRANSLATOR, ONLY_OURS = 7437, 77, 51


def _ids(resources: object) -> set[tuple[str, str]]:
    found = set()
    for logical_id, body in (resources.items() if isinstance(resources, dict) else ()):
        kind = body.get("Type") if isinstance(body, dict) else None
        found.add((_HASH.sub("", logical_id), kind if isinstance(kind, str) else repr(kind)))
    return found


def _pairs() -> Iterator[tuple[Path, Callable[[dict], dict]]]:
    for folder in ("sam", "patterns"):
        for output in sorted((PAIRS / folder / "output").iterdir()):
            sources = sorted((PAIRS / folder / "input").glob(output.stem + ".*"))
            if sources:
                yield sources[0], lambda _, output=output: json.loads(output.read_text())
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".md")
    for path, _ in sam_templates(files):
        yield path, translate


def test_sam_expansion_writes_the_ids_and_types_the_translator_writes():
    require_module("samtranslator")
    if not (CORPUS.is_dir() and PAIRS.is_dir()) and not os.environ.get("CI"):
        pytest.skip("../shared/corpus or ../shared/thirdparty is not here")
    logging.getLogger("samtranslator").setLevel(logging.CRITICAL)
    templates = identical = same = only_translator = only_ours = 0
    for path, deployed in _pairs():
        try:
            data = parse_document(path.read_text(encoding="utf-8")).data
            theirs = _ids(deployed(data).get("Resources"))
        except Exception:  # not SAM the translator accepts offline, or not readable
            continue
        try:
            ours = _ids(expand(data).data.get("Resources"))
        except InputError:  # refused (a generated id the template already uses): nothing alike
            ours = set()
        templates += 1
        identical += ours == theirs
        same += len(ours & theirs)
        only_translator += len(theirs - ours)
        only_ours += len(ours - theirs)
    assert (templates, identical, same, only_translator, only_ours) == (
        TEMPLATES, IDENTICAL_TEMPLATES, SAME, ONLY_TRANSLATOR, ONLY_OURS)


def test_every_sam_type_and_event_source_is_expanded():
    """No SAM type or event source the translator knows is left 'not expanded' in its own tests."""
    if not PAIRS.is_dir() and not os.environ.get("CI"):
        pytest.skip("../shared/thirdparty is not here")
    reasons = set()
    for path in sorted((PAIRS / "sam" / "input").iterdir()):
        try:
            data = parse_document(path.read_text(encoding="utf-8")).data
            provenance = expand(data).provenance
        except InputError:
            continue
        reasons |= {u.reason for u in provenance.unchecked.values() if "is not expanded" in u.reason}
    # Types newer than this tapaudit's expansion (the translator's tests hold their inputs).
    assert {r.split(" type ")[1].split(" ")[0] for r in reasons} <= {
        "AWS::Serverless::WebFunction", "AWS::Serverless::MicrovmImage",
        "AWS::Serverless::NetworkConnector"}


def test_expansion_is_linear_in_the_number_of_sam_resources():
    """Work grows with the template: each function and its events add a fixed set of resources."""
    def template(n: int) -> dict:
        return {"Transform": "AWS::Serverless-2016-10-31", "Resources": {
            f"F{i}": {"Type": "AWS::Serverless::Function", "Properties": {
                "Runtime": "python3.12", "Handler": "i.h", "InlineCode": "x", "AutoPublishAlias": "live",
                "Events": {"Get": {"Type": "Api", "Properties": {"Path": f"/{i}", "Method": "get"}},
                           "Q": {"Type": "SQS", "Properties": {"Queue": "arn:aws:sqs:us-east-1:1:q"}}}}}
            for i in range(n)}}

    sizes = [len(expand(template(n)).data["Resources"]) for n in (10, 20, 40)]
    # per function: the function, its role, version, alias, API permission, event source mapping;
    # once: the implicit API, its deployment and stage
    assert sizes == [6 * n + 3 for n in (10, 20, 40)]
