from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis would keep its example database in the working directory (the checkout): not kept.
settings.register_profile("tapaudit", database=None)
settings.load_profile("tapaudit")

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


# Where the tools the tests start keep their caches; without these, pip, virtualenv, pre-commit and
# jsii (the node side of aws-cdk-lib) would write to ~/.cache and ~/.local/share.
TOOL_CACHES = {"XDG_CACHE_HOME": "cache", "XDG_DATA_HOME": "data", "PRE_COMMIT_HOME": "pre-commit",
               "JSII_RUNTIME_PACKAGE_CACHE_ROOT": "jsii"}


@pytest.fixture(scope="session", autouse=True)
def tool_caches(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The tool caches of this test session, set in the environment every test and subprocess sees.
    They live in the session's temporary folder, shared by its xdist workers (so pre-commit builds
    the hooks' environment once, under its own lock), and go when pytest prunes old sessions."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    caches = {name: str(shared / "tool-caches" / folder) for name, folder in TOOL_CACHES.items()}
    with pytest.MonkeyPatch.context() as patch:
        for name, folder in caches.items():
            Path(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
            patch.setenv(name, folder)
        yield caches


@pytest.fixture(scope="session")
def rules():
    from tapaudit.rules import load_rules

    return load_rules()


@pytest.fixture(scope="session")
def rules_by_id(rules):
    return {rule.id: rule for rule in rules}
