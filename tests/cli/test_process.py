"""Where the process itself is the point: the entry point, exit codes as a shell sees them, real
standard input, a signal, and what start-up imports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib

import pytest

from tapaudit import __version__
from tests.conftest import FIXTURES, ROOT, run_cli

FLAWED = str(FIXTURES / "flawed")
TAP006_CASES = FIXTURES / "TAP006" / "yaml-cases.yaml"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def test_the_entry_point_is_the_cli():
    """`tapaudit` as pip installs it: the console script pyproject.toml declares, run as one."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"tapaudit": "tapaudit.cli:main"}
    code = ("import sys\nfrom importlib import import_module\n"
            f"module, _, name = {scripts['tapaudit']!r}.partition(':')\n"
            "sys.argv = ['tapaudit', *sys.argv[1:]]\nsys.exit(getattr(import_module(module), name)())\n")
    proc = subprocess.run([sys.executable, "-c", code, "--version"], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"tapaudit {__version__}\n", "")
    proc = subprocess.run([sys.executable, "-c", code, "scan", FLAWED], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1] == "exit 1: 1 high finding at or above --fail-on high"


@pytest.mark.parametrize(("args", "code"), [
    (["scan", FLAWED, "--fail-on", "none"], 0),
    (["scan", FLAWED], 1),
    (["scan", FLAWED, "does-not-exist.yaml"], 2),
    (["scan", FLAWED, "--format", "xml"], 2),
    ([], 2),
    (["--version"], 0),
])
def test_exit_codes_end_to_end(args, code):
    assert run_cli(*args).returncode == code


def test_stdin():
    proc = run_cli("scan", "-", "-f", "json", "--fail-on", "medium", stdin=TAP006_CASES.read_text())
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["templates"] == ["<stdin>"]
    assert {f["resource"] for f in report["findings"]} == {"Zero", "OnlyInProduction"}
    assert [f["resource"] for f in report["unknown"]] == ["FromParameterWithoutDefault"]


def _reading_stdin(pid: int) -> bool:
    """Whether the process is blocked reading a pipe (its start-up is over)."""
    try:
        wchan = open(f"/proc/{pid}/wchan").read()  # noqa: SIM115
        call = open(f"/proc/{pid}/syscall").read().split()[:2]  # noqa: SIM115
    except OSError:
        return False
    return "pipe" in wchan or call == ["0", "0x0"]


def _as_a_terminal_starts_it() -> None:
    """Ctrl-C at its default and unblocked in the child, as a shell starts a command: a process
    started with SIGINT ignored keeps it ignored (POSIX), and the test worker's own state is not
    the user's (in CI the child never saw the signal)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.skipif(not os.path.exists("/proc/self/wchan"), reason="needs Linux /proc")
def test_interrupt_is_one_line_and_exit_130():
    proc = subprocess.Popen([sys.executable, "-m", "tapaudit", "scan", "-"], cwd=ROOT, env=ENV,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_as_a_terminal_starts_it)
    try:
        for _ in range(6000):  # a bound on the wait, not an assertion on time
            if _reading_stdin(proc.pid):
                break
            time.sleep(0.02)
        else:
            pytest.fail("tapaudit never waited for standard input")
        proc.send_signal(signal.SIGINT)
        # Standard input stays open, as a terminal's does when the user presses Ctrl-C: closing it
        # now (communicate() would) races the signal, and the read may see the end of input first.
        proc.wait(timeout=60)
        out, err = proc.stdout.read(), proc.stderr.read()
    finally:
        proc.kill()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()
    assert (proc.returncode, err.decode(), out) == (130, "tapaudit: error: interrupted\n", b"")


# Where a Ctrl-C during start-up lands (the scan command imports its modules lazily): a class
# being created (Python 3.11 wraps the KeyboardInterrupt of a __set_name__ in a RuntimeError) and
# the exec() by which a library's dataclasses build their methods (after it CPython 3.11 kills the
# process with SIGINT at shutdown, whatever the exit code). Each is raised where it would land: in the scan.
INTERRUPTED_AT = {
    "class creation": "class Field:\n"
                      "    def __set_name__(self, owner, name):\n"
                      "        raise KeyboardInterrupt\n"
                      "class Model:\n"
                      "    field = Field()\n",
    "generated code": "exec('raise KeyboardInterrupt')\n",
}


@pytest.mark.parametrize("where", INTERRUPTED_AT)
def test_interrupt_during_start_up_is_one_line_and_exit_130(where, tmp_path):
    body = "".join(f"    {line}\n" for line in INTERRUPTED_AT[where].splitlines())
    _assert_interrupted(tmp_path, "from tapaudit import pipeline\n"
                                  f"def run(*args, **kwargs):\n{body}"
                                  "pipeline.run = run\n")


def _assert_interrupted(tmp_path, patch: str) -> None:
    """`tapaudit scan -` with `patch` applied first, run with -m as `python -m tapaudit` is (-c
    exits from inside its own error handling): one line and exit 130."""
    (tmp_path / "interrupted.py").write_text(f"{patch}from tapaudit.cli import main\nmain()\n")
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    proc = subprocess.run([sys.executable, "-m", "interrupted", "scan", "-"], cwd=ROOT, env=env,
                          input=b"", capture_output=True, timeout=120)
    assert (proc.returncode, proc.stderr.decode(), proc.stdout) == (
        130, "tapaudit: error: interrupted\n", b"")


# A Ctrl-C before the command runs, while the command line is read: as it arrives (typer turns it
# into a silent exit 130) and wrapped on its way (a class created by a lazy import), which read as
# an internal error (exit 2) before.
BEFORE_THE_COMMAND = {"as it arrives": "raise KeyboardInterrupt",
                      "wrapped": "raise RuntimeError('while creating a class') from KeyboardInterrupt()"}


@pytest.mark.parametrize("how", BEFORE_THE_COMMAND)
def test_interrupt_while_the_command_line_is_read_is_one_line_and_exit_130(how, tmp_path):
    _assert_interrupted(tmp_path, "from tapaudit import cli\n"
                                  f"def make_context(*args, **kwargs):\n    {BEFORE_THE_COMMAND[how]}\n"
                                  "cli._Group.make_context = make_context\n")


def test_version_imports_no_scan_machinery():
    """`--version` and `--help` pay for typer, not for YAML, rich or the scan pipeline."""
    code = ("import sys\nfrom tapaudit.cli import main\n"
            "sys.argv = ['tapaudit', '--version']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted({m.partition('.')[0] for m in sys.modules} & {'yaml', 'rich', 'jsonpath_ng'}),"
            " sorted(m for m in sys.modules if m.startswith(('tapaudit.pipeline', 'tapaudit.scan',"
            " 'tapaudit.loading'))))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env=ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[] []"


def test_an_interrupt_wrapped_inside_the_scan_ends_the_run_not_as_an_input_error(tmp_path):
    """A Ctrl-C that lands while the scan of one input creates a class (wrapped in a RuntimeError)
    must not be taken for a scanner error of that input (exit 2): the run ends with exit 130."""
    _assert_interrupted(tmp_path, "from tapaudit import scan\n"
                                  "def parse_document(*args, **kwargs):\n    raise RuntimeError("
                                  "'while creating a class') from KeyboardInterrupt()\n"
                                  "scan.parse_document = parse_document\n")
