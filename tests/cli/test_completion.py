"""Shell completion: the scripts typer generates for bash and zsh, click's completion protocol
(`_TAPAUDIT_COMPLETE`), `--install-completion` into a home folder of the test's own, and the bash
script driving the real CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tapaudit.gate import GATE_LEVELS
from tapaudit.reporting.formats import FORMATS
from tests.cli.inprocess import invoke
from tests.conftest import ROOT

COMMANDS = ["scan", "fix", "rules", "explain", "config"]


@pytest.fixture
def explicit_shell(monkeypatch):
    """`--show-completion SHELL` instead of detecting the shell this test runs under (typer reads
    this when it builds the command)."""
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")


def test_bash_script(explicit_shell):
    proc = invoke("--show-completion", "bash")
    assert proc.exit_code == 0, proc.output
    assert "_tapaudit_completion() {" in proc.stdout
    assert "_TAPAUDIT_COMPLETE=complete_bash $1" in proc.stdout
    assert proc.stdout.rstrip().endswith("complete -o default -F _tapaudit_completion tapaudit")
    bash = shutil.which("bash")
    if bash:
        syntax = subprocess.run([bash, "-n"], input=proc.stdout, capture_output=True, text=True)
        assert syntax.returncode == 0, syntax.stderr


def test_zsh_script(explicit_shell):
    proc = invoke("--show-completion", "zsh")
    assert proc.exit_code == 0, proc.output
    assert proc.stdout.startswith("#compdef tapaudit\n")
    assert "_TAPAUDIT_COMPLETE=complete_zsh tapaudit" in proc.stdout
    assert "compdef _tapaudit_completion tapaudit" in proc.stdout


def bash_request(*words: str) -> list[str]:
    """What `tapaudit WORDS... <TAB>` offers, through click's bash protocol."""
    proc = invoke(env={"_TAPAUDIT_COMPLETE": "complete_bash",
                       "COMP_WORDS": " ".join(["tapaudit", *words]), "COMP_CWORD": str(len(words))})
    assert proc.exit_code == 0, proc.output
    return proc.stdout.splitlines()


def test_completion_offers_the_commands_and_the_choices():
    assert bash_request("") == COMMANDS
    assert bash_request("scan", "--format", "") == list(FORMATS)
    assert bash_request("scan", "x.json", "-f", "s") == ["sarif"]
    assert bash_request("config", "--fail-on", "") == list(GATE_LEVELS)
    assert bash_request("rules", "--format", "") == ["console", "json"]
    assert {"--format", "--fail-on", "--report", "--missing-ok"} <= set(bash_request("scan", "--"))


def test_zsh_request_offers_the_formats():
    proc = invoke(env={"_TAPAUDIT_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "tapaudit scan -f "})
    assert proc.exit_code == 0, proc.output
    for name in FORMATS:
        assert f'"{name}"' in proc.stdout


@pytest.mark.parametrize(("shell", "script", "rc"), [
    ("bash", ".bash_completions/tapaudit.sh", ".bashrc"),
    ("zsh", ".zfunc/_tapaudit", ".zshrc"),
])
def test_install_completion_writes_the_script_and_sources_it(explicit_shell, tmp_path, shell, script,
                                                             rc):
    proc = invoke("--install-completion", shell, env={"HOME": str(tmp_path)})
    assert proc.exit_code == 0, proc.output
    assert "tapaudit" in (tmp_path / script).read_text()
    assert (tmp_path / rc).is_file()


def test_bash_completes_through_the_script(explicit_shell, tmp_path):
    """The generated script in a real bash, calling this tree's tapaudit."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = invoke("--show-completion", "bash").stdout
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tapaudit").write_text(f'#!/bin/sh\nexec {sys.executable} -m tapaudit "$@"\n')
    (bin_dir / "tapaudit").chmod(0o755)
    driver = (f"{script}\nCOMP_WORDS=(tapaudit scan --fail-on h)\nCOMP_CWORD=3\n"
              "_tapaudit_completion tapaudit\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    proc = subprocess.run([bash, "--norc", "--noprofile"], input=driver, capture_output=True, text=True,
                          timeout=120, env={"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                            "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["high"]
