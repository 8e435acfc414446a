"""The oracle of issue 17 for `tapaudit fix --write`, over every hand-written fixture and every
template of the shared corpus (copies in a temporary folder):

1. the findings it fixed are gone and no new finding (or unknown) appears;
2. cfn-lint reports no error it did not report before (test_oracle_cfn_lint_N.py, in shares), and
   aws-sam-translator still translates every fixed SAM template whose original it translates;
3. outside the edited lines each file is byte-identical, and the SARIF replacements of its
   findings reproduce the written file byte for byte;
4. `fix` run again changes nothing.
The corpus figures (findings fixed, findings left and why) are pinned.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from tapaudit.fixing.edits import Hunk
from tapaudit.fixing.sarif import fixes_by_finding, offset_of
from tests.conftest import require, require_module
from tests.fixing.oracle import (
    REAL,
    SHARES,
    FixedCopies,
    finding_keys,
    fix_and_write,
    fixed_copies,
    kept_outside,
)

pytestmark = pytest.mark.slow

# Why findings are left, by kind (the reason's words, names aside).
REASON_KINDS = [
    ("cdk-output", "CDK output"),
    ("no-cache-behavior", "add the cache behavior with its TargetOriginId"),
    ("tls-needs-certificate", "a minimum TLS version needs a custom certificate"),
    ("table-type-without-indexes", "cannot declare a global secondary index"),
    ("provisioned-capacity", "capacity needs your judgement"),
    ("generated-by-transform", "is not written in the template"),
    ("computed-value", "computed"),
    ("tap001-classifier", "classifier function"),
    ("scheduler-role", "Scheduler delivers dead letters"),
    ("custom-headers-policy", "SecurityHeadersConfig"),
    ("explicit-deny", "explicitly denied"),
    ("sam-event-without-dlq", "event has no DeadLetterConfig"),
]

# Pinned corpus figures: a change in them is a change in what `fix` does.
CORPUS_FIXED = {"TAP003": 38, "TAP004": 79, "TAP005": 7, "TAP006": 483}  # Rain templates are input errors
# Two findings left before are invalid resources now (a list-shaped ReplicationConfiguration, an
# AttributeDefinitions string in one Fn::If branch): no rule, so no fix, judges them.
CORPUS_LEFT = {"cdk-output": 118, "tls-needs-certificate": 34, "table-type-without-indexes": 11,
               "provisioned-capacity": 10, "generated-by-transform": 8, "computed-value": 7,
               "tap001-classifier": 2, "scheduler-role": 3, "sam-event-without-dlq": 2,
               "no-cache-behavior": 3}  # a partial DefaultCacheBehavior was a new cfn-lint error
# Fixed SAM templates (fixtures and corpus) the translator translates, and refuses as it refuses
# their originals.
SAM_TRANSLATED, SAM_REFUSED = 133, 24


def kind_of(reason: str) -> str:
    return next((kind for kind, words in REASON_KINDS if words in reason), f"other: {reason}")


@pytest.fixture(scope="module")
def oracle(tmp_path_factory) -> FixedCopies:
    require("the shared corpus", REAL.is_dir())
    return fixed_copies(tmp_path_factory.mktemp("oracle"))


def test_cfn_lint_check_has_a_module_for_every_share():
    modules = sorted(p.name for p in Path(__file__).parent.glob("test_oracle_cfn_lint_*.py"))
    assert modules == [f"test_oracle_cfn_lint_{i}.py" for i in range(1, SHARES + 1)]


def test_fixed_findings_are_gone_and_none_appear(oracle):
    changed = [r for r in oracle.results if r.changed]
    assert len(changed) > 300
    was = finding_keys([oracle.original(Path(r.source.path)) for r in changed])
    now = finding_keys([Path(r.source.path) for r in changed])
    for result in changed:
        name = result.source.display
        old = was.get(str(oracle.original(Path(result.source.path))), set())
        new = now.get(name, set())
        # A failing finding whose failures are fixed may stay as the unknown it also was.
        assert {k[:2] for k in new} <= {k[:2] for k in old}, f"{name}: new findings {new - old}"
        gone = {(r.finding.rule_id, r.finding.resource, False) for r in result.results if r.fixed}
        assert not gone & new, f"{name}: still there {gone & new}"


def test_outside_the_edited_lines_every_byte_is_kept_and_sarif_reproduces_the_write(oracle):
    for result in (r for r in oracle.results if r.changed):
        path = Path(result.source.path)
        original = oracle.original(path).read_bytes()
        written = path.read_bytes()
        assert written.decode("utf-8-sig") == result.fixed
        text = original.decode("utf-8-sig")
        assert original.startswith(b"\xef\xbb\xbf") == written.startswith(b"\xef\xbb\xbf")
        assert kept_outside(text, result.fixed, result.hunks), result.source.display
        assert _apply_sarif(text, fixes_by_finding(result)) == result.fixed, result.source.display


def _apply_sarif(text: str, fixes: dict[str, list[dict]]) -> str:
    parts = []
    for fix_list in fixes.values():
        for fix in fix_list:
            for change in fix["artifactChanges"]:
                for replacement in change["replacements"]:
                    region = replacement["deletedRegion"]
                    start = offset_of(text, region["startLine"], region["startColumn"])
                    end = offset_of(text, region["endLine"], region["endColumn"])
                    parts.append(Hunk(start, end, replacement["insertedContent"]["text"]))
    out, at = [], 0
    for hunk in sorted(parts, key=lambda h: (h.start, h.end)):
        assert hunk.start >= at, "replacements overlap"
        out += [text[at:hunk.start], hunk.text]
        at = hunk.end
    return "".join([*out, text[at:]])


def test_fix_run_again_changes_nothing(oracle):
    again, errors = fix_and_write(oracle.changed())
    assert errors == []
    assert [r.source.display for r in again if r.changed] == []


def test_sam_templates_still_translate(oracle):
    """Every fixed SAM template translates, unless its original does not translate offline either
    (the original is translated only then: a template that translates needs no comparison)."""
    require_module("samtranslator")
    from tests.transforms.sam_oracle import sam_templates, translate

    logging.getLogger("samtranslator").setLevel(logging.CRITICAL)
    translated = refused = 0
    for path, data in sam_templates(oracle.changed()):
        try:
            translate(data)
        except Exception:
            original = dict(sam_templates([oracle.original(path)]))
            with pytest.raises(Exception):  # noqa: B017 (any refusal of the translator)
                translate(next(iter(original.values())))
            refused += 1
        else:
            translated += 1
    # Refused: the translator's own error inputs (tests/translator/input/error_*) and the like.
    assert (translated, refused) == (SAM_TRANSLATED, SAM_REFUSED)


def test_corpus_figures_are_pinned(oracle):
    fixed: Counter[str] = Counter()
    left: Counter[str] = Counter()
    for result in oracle.results:
        if "corpus" not in Path(result.source.path).parts:
            continue
        for item in result.results:
            if item.fixed:
                fixed[item.finding.rule_id] += 1
            else:
                left.update({kind_of(reason) for reason in item.reasons} or {"no reason"})
    assert (dict(fixed), dict(left)) == (CORPUS_FIXED, CORPUS_LEFT)
