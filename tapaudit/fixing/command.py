"""`tapaudit fix PATH... [--rule ID]... [--write] [--config FILE | --no-config]`.

An entry point like the CLI (it runs the pipeline and the gate): the only module of
tapaudit.fixing above them; the rest sits below the gate, so reporters may use `fixing.sarif`.

Without --write: a unified diff on `out`, nothing changed, what was fixed and left on `err`. With
--write: each changed file replaced atomically (a temporary file beside it, then os.replace), the
account on `out`. Exit 0: nothing left at the gate; 1: findings remain; 2: input errors.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path
from typing import TextIO

from tapaudit.config import ConfigError, load_config
from tapaudit.findings import Finding
from tapaudit.fixing.batch import fix_all, fix_settings, read_exact
from tapaudit.fixing.engine import FileFix
from tapaudit.fixing.plan import SettingsError
from tapaudit.gate import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, reaches_gate
from tapaudit.pipeline import UsageError, run
from tapaudit.reporting.escape import inert_line, printable


def safe(text: str) -> str:
    """A diff of template text for a terminal or CI log: control characters shown, never sent, and
    no line a CI runner would take for a command. The file's own layout (line breaks, CRLF
    endings, tabs) stays as it is, so the diff still applies."""
    return "\n".join(inert_line(_safe_line(line)) for line in text.split("\n"))


def _safe_line(line: str) -> str:
    body, ending = (line[:-1], "\r") if line.endswith("\r") else (line, "")
    return "\t".join(printable(part) for part in body.split("\t")) + ending


def run_fix(paths: list[str], rule_ids: list[str], write: bool, config_file: Path | None,
            no_config: bool, out: TextIO, err: TextIO) -> int:
    report = out if write else err
    try:
        config = load_config(config_file, use_files=not no_config)
        if rule_ids:
            config.override("rules", [r.upper() for r in rule_ids])
        outcome = run(paths, config)
        settings = fix_settings(config, outcome.rules)
    except (ConfigError, UsageError, SettingsError) as exc:
        err.write(f"error: {printable(str(exc))}\n")
        return EXIT_ERROR
    results, errors = fix_all(outcome.result, outcome.sources, outcome.rules, settings, config.partition)
    left: list[Finding] = []
    fixed = 0
    for result in results:
        if result.changed:
            if write:
                assert result.source.path is not None
                _replace_file(result.source.path, result)
            else:
                out.write(safe(diff(result)))
        _account(result, write, report)
        fixed += sum(1 for r in result.results if r.fixed)
        left += [r.finding for r in result.results if not r.fixed]
    for line in errors:
        err.write(f"error: {printable(line)}\n")
    gate = [f for f in left if reaches_gate(f.severity, config.fail_on)]
    verb = "fixed" if write else "would fix"
    report.write(f"{verb} {fixed} finding{'s' if fixed != 1 else ''}; {len(left)} left, {len(gate)} at or "
                 f"above --fail-on {config.fail_on}\n")
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if gate else EXIT_OK


def diff(result: FileFix) -> str:
    name = printable(result.source.display)
    lines = difflib.unified_diff(result.original.splitlines(keepends=True),
                                 result.fixed.splitlines(keepends=True), f"a/{name}", f"b/{name}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def _replace_file(path: Path, result: FileFix) -> None:
    """Write beside the file, then rename over it: a reader sees the old file or the new one."""
    bom, _ = read_exact(path)
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tapaudit-fix", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(bom + result.fixed.encode("utf-8"))
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _account(result: FileFix, write: bool, report: TextIO) -> None:
    name = printable(result.source.display)
    if result.refused:
        report.write(f"{name}: {result.refused}\n")
    elif result.changed:
        report.write(f"{name}: {'fixed' if write else 'would fix'} "
                     f"{sum(1 for r in result.results if r.fixed)} of {len(result.results)} findings\n")
    for item in result.results:
        finding = item.finding
        head = f"  {'fixed' if item.fixed else 'left '} {finding.rule_id} {printable(finding.resource)}"
        if item.fixed:
            report.write(head + "\n")
        else:
            why = "; ".join(item.reasons) or "no automatic fix"
            report.write(f"{head}: {printable(why)}\n")
        for note in item.notes:
            report.write(f"        review: {printable(note)}\n")
