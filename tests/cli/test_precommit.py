"""The pre-commit hooks, run for real: pre-commit installs this repository (a committed snapshot of
the working tree) into its own environment, and `git commit` in a throwaway project runs the hooks.

Needs git and PyPI (pre-commit pip-installs the hook repository and its dependencies).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.repo_snapshot import commit_all, git, init_repo, snapshot_worktree
from tests.conftest import FIXTURES, require_module

pytestmark = pytest.mark.hooks

FLAWED_PRIMARY = FIXTURES / "flawed" / "TransactionMigration-Primary.template.json"
REFERENCE_PRIMARY = FIXTURES / "reference" / "TransactionMigration-Primary.template.json"
TEMPLATES_HOOK, CDK_HOOK = "tapaudit (CloudFormation templates)", "tapaudit (cdk.out)"
NOT_A_TEMPLATE_YAML = "services:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n"


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, str]:
    require_module("pre_commit")
    return snapshot_worktree(tmp_path_factory.mktemp("hook-repo") / "tapaudit")


@pytest.fixture(scope="module")
def pre_commit_home() -> Path:
    # The test session's (tests/conftest.py): every pre-commit the tests start uses it.
    return Path(os.environ["PRE_COMMIT_HOME"])


class Project:
    """A user's repository with tapaudit's hooks installed as a git pre-commit hook."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root, self.env = root, env

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def commit(self, message: str) -> subprocess.CompletedProcess:
        git(self.root, "add", "-A")
        return git(self.root, "commit", "-m", message, check=False, env=self.env)


@pytest.fixture
def project(tmp_path, hook_repo, pre_commit_home) -> Project:
    repo_path, rev = hook_repo
    root = init_repo(tmp_path / "project")
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repo_path}\n    rev: {rev}\n"
        "    hooks:\n      - id: tapaudit\n      - id: tapaudit-cdk\n")
    (root / ".gitignore").write_text("cdk.out/\n")
    env = {"PRE_COMMIT_HOME": str(pre_commit_home), "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never"}
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=root, check=True,
                   capture_output=True, env={**os.environ, **env}, timeout=120)
    commit_all(root, "pre-commit config")  # no hook runs on this: .pre-commit-config.yaml is excluded
    return Project(root, env)


def _output(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


def _status(proc: subprocess.CompletedProcess, hook_name: str) -> str:
    """What pre-commit printed for a hook: Passed, Failed, or (no files to check)Skipped."""
    found = re.search(rf"^{re.escape(hook_name)}\.+(.+)$", _output(proc), re.MULTILINE)
    assert found, _output(proc)
    return found.group(1).strip()


def test_commit_touching_only_package_json_passes(project):
    project.write("package.json", '{"name": "app", "version": "1.0.0"}\n')
    proc = project.commit("add package.json")
    assert proc.returncode == 0, _output(proc)
    assert _status(proc, TEMPLATES_HOOK) == "(no files to check)Skipped"  # package.json is excluded


def test_commit_touching_only_a_yaml_file_that_is_no_template_passes(project):
    # Not excluded by the hook's patterns: tapaudit runs, skips the file with a note (issue 10's
    # skipped inputs) and, with no template among its inputs, passes (--allow-no-templates).
    project.write("docker-compose.yml", NOT_A_TEMPLATE_YAML)
    proc = project.commit("compose file")
    assert proc.returncode == 0, _output(proc)
    assert _status(proc, TEMPLATES_HOOK) == "Passed"


def test_commit_with_a_flawed_template_fails(project):
    project.write("infra/primary.template.json", FLAWED_PRIMARY.read_text())
    project.write("package.json", '{"name": "app"}\n')
    proc = project.commit("flawed stack")
    assert proc.returncode != 0, _output(proc)
    out = _output(proc)
    assert _status(proc, TEMPLATES_HOOK) == "Failed"
    assert "TAP002" in out and "infra/primary.template.json" in out
    assert git(project.root, "rev-list", "--count", "HEAD").stdout.strip() == "1"  # nothing committed


def test_commit_with_a_clean_template_passes(project):
    project.write("infra/primary.template.json", REFERENCE_PRIMARY.read_text())
    proc = project.commit("reference stack")
    assert proc.returncode == 0, _output(proc)
    assert _status(proc, TEMPLATES_HOOK) == "Passed"


def test_flawed_cdk_out_fails_the_commit_and_a_clean_one_passes(project):
    project.write("README.md", "app\n")
    shutil.copytree(FIXTURES / "flawed", project.root / "cdk.out")  # ignored by git, as usual
    proc = project.commit("docs")
    assert proc.returncode != 0, _output(proc)
    assert _status(proc, CDK_HOOK) == "Failed" and "TAP006" in _output(proc)
    shutil.rmtree(project.root / "cdk.out")
    shutil.copytree(FIXTURES / "reference", project.root / "cdk.out")
    proc = project.commit("docs")
    assert proc.returncode == 0, _output(proc)


def test_cdk_hook_passes_without_cdk_out(project):
    project.write("README.md", "app\n")
    proc = project.commit("docs")
    assert proc.returncode == 0, _output(proc)
    assert _status(proc, CDK_HOOK) == "Passed"
