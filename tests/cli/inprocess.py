"""Run tapaudit's CLI in this process with typer's test runner: what a test of the command line's
behaviour needs, without the start-up of a new interpreter per call."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner, Result

from tapaudit.cli import app
from tests.conftest import ROOT

ENV = {"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "200"}


def invoke(*args: str, stdin: str | None = None, cwd: Path | None = None,
           env: dict[str, str | None] | None = None) -> Result:
    """`tapaudit ARGS...` with `cwd` as the working folder. Internal errors are not caught by the
    runner: a test sees them as the user would (one line, exit 2), since the CLI catches them."""
    with contextlib.chdir(cwd or ROOT):
        result = CliRunner().invoke(app, list(args), input=stdin, env={**ENV, **(env or {})},
                                    prog_name="tapaudit", catch_exceptions=False)
    return result


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@dataclass
class Ran:
    """What a test of the CLI's behaviour reads of a run, named as `tests.conftest.run_cli`'s
    process names it: the exit code and each stream."""

    returncode: int
    stdout: str
    stderr: str


def run(*args: str, stdin: str | None = None, cwd: Path | None = None,
        env: dict[str, str | None] | None = None) -> Ran:
    """`tapaudit ARGS...` in this process, for tests where the process is not the point."""
    result = invoke(*args, stdin=stdin, cwd=cwd, env=env)
    return Ran(result.exit_code, result.stdout, result.stderr)
