"""The oracle's steps (test helper): the templates it covers, copies of them fixed with --write's
code path, and the checks' raw material (scans, cfn-lint errors).

cfn-lint takes ~0.35 s of CPU a template here, the suite's largest single cost over the ~380
templates `fix` changes: its check runs in SHARES test modules (test_oracle_cfn_lint_N.py), each
fixing and linting every SHARES-th template, so pytest-xdist's workers share it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tapaudit.config import Config
from tapaudit.fixing.batch import fix_all, fix_settings
from tapaudit.fixing.command import _replace_file
from tapaudit.fixing.edits import Hunk
from tapaudit.fixing.engine import FileFix
from tapaudit.pipeline import run
from tests.conftest import CORPUS, FIXTURES, require, require_module

# A worktree beside the main checkout finds the shared folder through TAPAUDIT_SHARED_CORPUS.
REAL = Path(os.environ.get("TAPAUDIT_SHARED_CORPUS", CORPUS)) / "real"
SHARES = 3


def hand_written_fixtures() -> list[Path]:
    """Every rule fixture that stands for a hand-written template, and the fix edge cases."""
    return sorted(p for p in [*FIXTURES.glob("TAP00*/*"), *FIXTURES.glob("autofix/*")]
                  if p.suffix in (".json", ".yaml") and not p.name.startswith("cdk-")
                  and p.name != "cases.yaml")


def corpus_files() -> list[Path]:
    return sorted(p for p in REAL.rglob("*") if p.is_file())


@dataclass
class FixedCopies:
    """Two copies of the oracle's templates: `before` as they are, `after` fixed by `fix --write`."""

    before: Path
    after: Path
    results: list[FileFix]
    errors: list[str]

    def original(self, path: Path) -> Path:
        return self.before / path.relative_to(self.after)

    def changed(self) -> list[Path]:
        return sorted(Path(r.source.path) for r in self.results if r.changed and r.source.path)


def fixed_copies(root: Path, share: int = 0, shares: int = 1) -> FixedCopies:
    """The fixtures and the corpus (every `shares`-th file of each, from the `share`-th) copied
    twice under `root`, one copy fixed."""
    before, after = root / "before", root / "after"
    for side in (before, after):
        copy_tree(hand_written_fixtures()[share::shares], FIXTURES, side / "fixtures")
        copy_tree(corpus_files()[share::shares], REAL, side / "corpus")
    results, errors = fix_and_write([after / "fixtures", after / "corpus"])
    return FixedCopies(before, after, results, errors)


def copy_tree(files: Iterable[Path], root: Path, into: Path) -> list[Path]:
    copies = []
    for path in files:
        target = into / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copies.append(target)
    return copies


def fix_and_write(folders: list[Path]) -> tuple[list[FileFix], list[str]]:
    """`tapaudit fix --write --no-config FOLDER...`, keeping each file's result for the checks;
    and the input errors (templates that cannot be scanned)."""
    config = Config()
    outcome = run([str(f) for f in folders], config)
    results, errors = fix_all(outcome.result, outcome.sources, outcome.rules,
                              fix_settings(config, outcome.rules), config.partition)
    for result in results:
        if result.changed:
            assert result.source.path is not None
            _replace_file(result.source.path, result)
    return results, errors


def finding_keys(paths: list[Path]) -> dict[str, set[tuple[str, str, bool]]]:
    """Display name -> (rule, resource, unknown) of every finding and unknown."""
    result = run([str(p) for p in paths], Config()).result
    keys: dict[str, set[tuple[str, str, bool]]] = {}
    for finding in [*result.findings, *result.unknown]:
        keys.setdefault(finding.file, set()).add((finding.rule_id, finding.resource, finding.unknown))
    return keys


def kept_outside(original: str, written: str, hunks: list[Hunk]) -> bool:
    """Is `written` the original, byte for byte, outside the hunks' whole lines?"""
    at_original = at_written = 0
    for hunk in sorted(hunks, key=lambda h: h.start):
        starts_line = hunk.start == 0 or original[hunk.start - 1] == "\n"
        ends_line = hunk.end in (0, len(original)) or original[hunk.end - 1] == "\n"
        kept = original[at_original:hunk.start]
        if not (starts_line and ends_line) or written[at_written:at_written + len(kept)] != kept:
            return False
        at_written += len(kept) + len(hunk.text)
        at_original = hunk.end
    return written[at_written:] == original[at_original:]


@dataclass(frozen=True)
class LintError:
    """A cfn-lint error: its rule, where it is (cfn-lint's path into the template, empty for a
    template it cannot read or transform) and its message, numbers aside (line numbers move)."""

    rule: str
    path: str
    message: str

    def reported_in(self, errors: set[LintError]) -> bool:
        """Did cfn-lint report this error in `errors`: the same rule at the same place (its message
        may restate values a fix changes: E3039 lists the attribute sets a new index adds to), or
        with the same message (a value the template already had, repeated by a fix)?"""
        return any(self.rule == e.rule and ((self.path and self.path == e.path)
                                            or self.message == e.message) for e in errors)


def cfn_lint_errors(paths: list[Path]) -> dict[str, set[LintError]]:
    """File -> each error cfn-lint reports on it, as `cfn-lint -- FILE...` reports them (its runner,
    in this process: one start-up and one rule load for all files)."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    errors: dict[str, set[LintError]] = {str(p): set() for p in paths}
    if paths:
        for match in Runner(ConfigMixIn(["--", *map(str, paths)])).run():
            if match.rule.severity == "error":
                error = LintError(match.rule.id, getattr(match, "path_string", ""),
                                  re.sub(r"\d+", "N", match.message))
                errors.setdefault(match.filename, set()).add(error)
    return errors


def new_cfn_lint_errors(copies: FixedCopies) -> tuple[int, dict[str, list[LintError]]]:
    """Each changed template's cfn-lint errors that its original does not have, and how many
    templates were linted. The original is linted only when the fixed template has errors:
    without them, nothing can be new."""
    changed = copies.changed()
    after = cfn_lint_errors(changed)
    with_errors = [path for path in changed if after[str(path)]]
    before = cfn_lint_errors([copies.original(path) for path in with_errors])
    added = {}
    for path in with_errors:
        was = before[str(copies.original(path))]
        if new := [error for error in after[str(path)] if not error.reported_in(was)]:
            added[str(path.relative_to(copies.after))] = new
    return len(changed), added


def cfn_lint_share(share: int) -> tuple:
    """The fixture and the test of one share of the cfn-lint check: one module per share
    (test_oracle_cfn_lint_N.py), so xdist, which hands out whole modules, spreads them."""

    @pytest.fixture(scope="module")
    def copies(tmp_path_factory) -> FixedCopies:
        require("the shared corpus", REAL.is_dir())
        return fixed_copies(tmp_path_factory.mktemp("oracle"), share, SHARES)

    def test_cfn_lint_reports_no_new_error(copies):
        require_module("cfnlint")
        linted, added = new_cfn_lint_errors(copies)
        assert linted > 300 // SHARES, linted
        assert added == {}

    return copies, test_cfn_lint_reports_no_new_error
