"""The oracle of issue 17 for `tapaudit fix --write`, over every hand-written fixture and every
template of the shared corpus (copies in a temporary folder):

1. the findings it fixed are gone and no new finding (or unknown) appears;
2. cfn-lint reports no error it did not report before, and aws-sam-translator still translates
   the fixed SAM templates it translated before (stated subsets: FIXTURE_SAMPLE, CORPUS_SAMPLE,
   SAM_SAMPLE; the other checks run on every template);
3. outside the edited lines each file is byte-identical, and the SARIF replacements of its
   findings reproduce the written file byte for byte;
4. `fix` run again changes nothing.
The corpus figures (findings fixed, findings left and why) are pinned.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from tapaudit.fixing.edits import Hunk
from tapaudit.fixing.sarif import fixes_by_finding, offset_of
from tests.conftest import CORPUS, FIXTURES, require_command, require_module
from tests.fixing.oracle import cfn_lint_errors, copy_tree, finding_keys, fix_and_write, kept_outside

# A worktree beside the main checkout finds the shared folder through TAPAUDIT_SHARED_CORPUS.
REAL = Path(os.environ.get("TAPAUDIT_SHARED_CORPUS", CORPUS)) / "real"
# cfn-lint takes ~0.5-1 s per template on this machine (2 cores, shared): both sides over all ~340
# fixed templates would take 6-10 minutes. It runs over every FIXTURE_SAMPLE-th fixed fixture and
# every CORPUS_SAMPLE-th fixed corpus template (sorted by path), one process per side at once.
FIXTURE_SAMPLE, CORPUS_SAMPLE = 3, 30
# aws-sam-translator takes ~0.2 s a template: every SAM_SAMPLE-th fixed SAM template (by path).
SAM_SAMPLE = 6

# Why findings are left, by kind (the reason's words, names aside).
REASON_KINDS = [
    ("cdk-output", "CDK output"),
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
               "tap001-classifier": 2, "scheduler-role": 3, "sam-event-without-dlq": 2}


def kind_of(reason: str) -> str:
    return next((kind for kind, words in REASON_KINDS if words in reason), f"other: {reason}")


def _hand_written_fixtures() -> list[Path]:
    """Every rule fixture that stands for a hand-written template, and the fix edge cases."""
    return sorted(p for p in [*FIXTURES.glob("TAP00*/*"), *FIXTURES.glob("autofix/*")]
                  if p.suffix in (".json", ".yaml") and not p.name.startswith("cdk-")
                  and p.name != "cases.yaml")


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    if not REAL.is_dir():
        pytest.skip("the shared corpus is not here")
    root = tmp_path_factory.mktemp("oracle")
    before, after = root / "before", root / "after"
    for side in (before, after):
        copy_tree(_hand_written_fixtures(), FIXTURES, side / "fixtures")
        copy_tree(sorted(p for p in REAL.rglob("*") if p.is_file()), REAL, side / "corpus")
    results, errors = fix_and_write([after / "fixtures", after / "corpus"])
    return before, after, results, errors


def _original(before: Path, after: Path, path: Path) -> Path:
    return before / path.relative_to(after)


def test_fixed_findings_are_gone_and_none_appear(oracle):
    before, after, results, _ = oracle
    changed = [r for r in results if r.changed]
    assert len(changed) > 300
    was = finding_keys([_original(before, after, Path(r.source.path)) for r in changed])
    now = finding_keys([Path(r.source.path) for r in changed])
    for result in changed:
        name = result.source.display
        old = was.get(str(_original(before, after, Path(result.source.path))), set())
        new = now.get(name, set())
        # A failing finding whose failures are fixed may stay as the unknown it also was.
        assert {k[:2] for k in new} <= {k[:2] for k in old}, f"{name}: new findings {new - old}"
        gone = {(r.finding.rule_id, r.finding.resource, False) for r in result.results if r.fixed}
        assert not gone & new, f"{name}: still there {gone & new}"


def test_outside_the_edited_lines_every_byte_is_kept_and_sarif_reproduces_the_write(oracle):
    before, after, results, _ = oracle
    for result in (r for r in results if r.changed):
        path = Path(result.source.path)
        original = _original(before, after, path).read_bytes()
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
    results = oracle[2]
    again, errors = fix_and_write([Path(r.source.path) for r in results if r.changed])
    assert errors == []
    assert [r.source.display for r in again if r.changed] == []


@pytest.mark.cfnlint
def _sample(after: Path, results) -> list[Path]:
    """Every FIXTURE_SAMPLE-th fixed fixture and CORPUS_SAMPLE-th fixed corpus template by path."""
    changed = sorted(Path(r.source.path) for r in results if r.changed)
    fixtures = [p for p in changed if p.relative_to(after).parts[0] == "fixtures"]
    return fixtures[::FIXTURE_SAMPLE] + [p for p in changed if p not in fixtures][::CORPUS_SAMPLE]


def test_cfn_lint_reports_no_new_error(oracle):
    cfn_lint = require_command("cfn-lint")
    before, after, results, _ = oracle
    sample = _sample(after, results)
    assert len(sample) > 20, len(sample)
    old, new = cfn_lint_errors(cfn_lint, [[_original(before, after, p) for p in sample], sample])
    for path in sample:
        added = _normalized(new[str(path)]) - _normalized(old[str(_original(before, after, path))])
        assert added == set(), f"{path.relative_to(after)}: {added}"


def _normalized(errors: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(rule, re.sub(r"\d+", "N", message)) for rule, message in errors}


def test_sam_templates_still_translate(oracle):
    require_module("samtranslator")
    from tests.transforms.sam_oracle import sam_templates, translate

    before, after, results, _ = oracle
    translated = 0
    changed = sorted(Path(r.source.path) for r in results if r.changed)
    for path, data in list(sam_templates(changed))[::SAM_SAMPLE]:
        original = dict(sam_templates([_original(before, after, path)]))
        try:
            translate(next(iter(original.values())))
        except Exception:  # the original does not translate offline either: nothing to compare
            continue
        translate(data)
        translated += 1
    assert translated >= 10, translated


def test_corpus_figures_are_pinned(oracle):
    _, _, results, _ = oracle
    fixed: Counter[str] = Counter()
    left: Counter[str] = Counter()
    for result in results:
        if "corpus" not in Path(result.source.path).parts:
            continue
        for item in result.results:
            if item.fixed:
                fixed[item.finding.rule_id] += 1
            else:
                left.update({kind_of(reason) for reason in item.reasons} or {"no reason"})
    assert (dict(fixed), dict(left)) == (CORPUS_FIXED, CORPUS_LEFT)
