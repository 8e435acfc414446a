"""Issue 17's oracle, check 2: after `fix --write`, cfn-lint reports no error it did not report
before. Share 3 of SHARES (tests/fixing/oracle.py)."""

import pytest

from tests.fixing.oracle import cfn_lint_share

pytestmark = pytest.mark.cfnlint

copies, test_cfn_lint_reports_no_new_error = cfn_lint_share(2)
