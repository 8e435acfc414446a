"""Issue 16: a baseline file from the repository under review is untrusted input. One nested far
deeper than any baseline is a clear error naming the file (exit 2), not an internal error."""

from __future__ import annotations

from tests.cli.inprocess import run as run_cli
from tests.conftest import FIXTURES

GOOD = FIXTURES / "TAP006" / "cdk-fail-no-reserved.json"


def test_a_baseline_nested_100000_deep_is_a_clear_error(tmp_path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}")
    proc = run_cli("scan", str(GOOD), "--baseline", str(baseline))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"tapaudit: error: {baseline}: cannot read baseline: JSON nested too deep (a baseline is "
        "two levels deep)"]
