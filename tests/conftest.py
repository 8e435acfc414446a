from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
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


# The tools the tests start keep caches in the home folder: pip, virtualenv, pre-commit, jsii (the
# node side of aws-cdk-lib) and CDK's asset fingerprints (~/.cdk, always under $HOME). The test
# session gives them a home of its own in a temporary folder, removed at its end; the user's
# configuration (pip's package index, for one) still applies.
SESSION_HOME = pytest.StashKey[tuple[Path, dict[str, str | None]]]()
HOME_FOLDERS = {"XDG_CACHE_HOME": ".cache", "XDG_DATA_HOME": ".local/share",
                "PRE_COMMIT_HOME": ".cache/pre-commit"}


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # xdist's workers inherit the controller's environment: one home, one hooks env
    home = Path(tempfile.mkdtemp(prefix="tapaudit-tests-home-"))
    values = {"XDG_CONFIG_HOME": os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config"),
              "HOME": str(home), **{name: str(home / folder) for name, folder in HOME_FOLDERS.items()}}
    config.stash[SESSION_HOME] = (home, {name: os.environ.get(name) for name in values})
    os.environ.update(values)


def pytest_unconfigure(config: pytest.Config) -> None:
    home, saved = config.stash.get(SESSION_HOME, (None, {}))
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


# Modules that run for many seconds are handed to the workers first (pyproject.toml turns off
# xdist's own order, by number of tests): longest first is what lets both workers end together.
LONG_RUNNING = ("slow", "cdk", "hooks", "cfnlint")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    long_running = {item.path for item in items
                    if any(item.get_closest_marker(name) for name in LONG_RUNNING)}
    items.sort(key=lambda item: item.path not in long_running)  # stable: a module stays in order


@pytest.fixture(scope="session")
def rules():
    from tapaudit.rules import load_rules

    return load_rules()


@pytest.fixture(scope="session")
def rules_by_id(rules):
    return {rule.id: rule for rule in rules}
