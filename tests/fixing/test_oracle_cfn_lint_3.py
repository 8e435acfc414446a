"""Issue 17's oracle, check 2: after `fix --write`, cfn-lint reports no error it did not report
before. Share 3 of SHARES (tests/fixing/oracle.py: one module per share, so xdist spreads them)."""

from __future__ import annotations

import pytest

from tests.conftest import require, require_module
from tests.fixing.oracle import REAL, SHARES, FixedCopies, fixed_copies, new_cfn_lint_errors

SHARE = 2
pytestmark = pytest.mark.cfnlint


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> FixedCopies:
    require("the shared corpus", REAL.is_dir())
    return fixed_copies(tmp_path_factory.mktemp("oracle"), SHARE, SHARES)


def test_cfn_lint_reports_no_new_error(copies):
    require_module("cfnlint")
    linted, added = new_cfn_lint_errors(copies)
    assert linted > 300 // SHARES, linted
    assert added == {}
