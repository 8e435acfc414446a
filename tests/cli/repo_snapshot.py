"""Git helpers for integration tests: a committed snapshot of this working tree, throwaway repos.

pre-commit installs a hook repository from a commit, so tests that run it point it at a snapshot of
the working tree (tracked and new files, uncommitted edits included), as `pre-commit try-repo` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT, require_command

GIT_ENV = {
    "GIT_AUTHOR_NAME": "tapaudit tests", "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "tapaudit tests", "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str, check: bool = True, env: dict[str, str] | None = None,
        timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=check,
                          env={**os.environ, **GIT_ENV, **(env or {})}, timeout=timeout)


def init_repo(path: Path) -> Path:
    require_command("git")
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def commit_all(repo: Path, message: str = "snapshot") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def snapshot_worktree(dest: Path) -> tuple[Path, str]:
    """Copy this working tree's tracked and untracked (not ignored) files into a new repo; commit."""
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").stdout
    init_repo(dest)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # deleted but not yet committed files are listed too
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest, commit_all(dest)
