from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SARIF_SCHEMA = SHARED / "schemas" / "sarif-2.1.0.json"


def require(what: str, present: bool) -> None:
    """Skip on a developer machine that lacks an optional tool; fail in CI, which installs it."""
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is required in CI (.ci/run installs it)")
        pytest.skip(f"{what} is not installed")


def require_module(name: str) -> None:
    require(f"Python package {name}", importlib.util.find_spec(name) is not None)


def require_command(name: str) -> str:
    path = shutil.which(name)
    require(f"command {name}", path is not None)
    return path or name


def run_cli(*args: str, stdin: str | bytes | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run tapaudit as a user would: a separate process, output captured as text."""
    # PYTHONPATH: with another cwd, `-m tapaudit` would import the installed copy, not this tree.
    full_env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run([sys.executable, "-m", "tapaudit", *args], input=data, capture_output=True,
                          cwd=cwd or ROOT, env=full_env, timeout=300)
    proc.stdout = proc.stdout.decode("utf-8", "replace")  # type: ignore[assignment]
    proc.stderr = proc.stderr.decode("utf-8", "replace")  # type: ignore[assignment]
    return proc


@pytest.fixture(scope="session")
def rules():
    from tapaudit.rules import load_rules

    return load_rules()


@pytest.fixture(scope="session")
def rules_by_id(rules):
    return {rule.id: rule for rule in rules}
