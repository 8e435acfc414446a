"""Command line: `tapaudit scan`, `tapaudit rules`, `tapaudit explain`, `tapaudit --version`.

Exit codes: 0 nothing at or above the gate, 1 a finding at or above it, 2 an input could not be
scanned or the command line is wrong (2 wins over 1). Heavy modules are imported inside the
commands so `--version` and `rules` start fast.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tapaudit import __version__

if TYPE_CHECKING:
    from tapaudit.rules.model import Rule

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
PROGRESS_MIN_TEMPLATES = 20

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Audit CloudFormation templates and CDK cloud assemblies (TAP001-TAP006).")


class ReportFormat(StrEnum):
    console = "console"
    json = "json"
    sarif = "sarif"


class ListFormat(StrEnum):
    console = "console"
    json = "json"


class Gate(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    none = "none"


def _error(message: str) -> None:
    print(f"tapaudit: error: {message}", file=sys.stderr)


def _version(value: bool) -> None:
    if value:
        print(f"tapaudit {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False) -> None:
    """tapaudit: compliance auditor for CloudFormation and CDK."""


def _load_rules(rules_dirs: list[Path], only: list[str], skip: list[str]) -> list[Rule]:
    from tapaudit.config import Config
    from tapaudit.pipeline import UsageError, load_configured_rules

    try:
        return load_configured_rules(Config(rules=list(only), skip_rules=list(skip),
                                            rules_dirs=[str(d) for d in rules_dirs]))
    except UsageError as exc:
        _error(str(exc))
        raise typer.Exit(EXIT_ERROR) from None


Paths = Annotated[list[str], typer.Argument(help="Templates, folders, cdk.out assemblies, - for stdin.")]
FormatOption = Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")]
GateOption = Annotated[Gate, typer.Option("--fail-on", help="Exit 1 on findings at or above this.")]
RuleOption = Annotated[list[str], typer.Option("--rule", help="Run only this rule (repeatable).")]
SkipOption = Annotated[list[str], typer.Option("--skip-rule", help="Do not run this rule (repeatable).")]
RulesDirOption = Annotated[list[Path], typer.Option("--rules-dir", help="Load more rule files from DIR.")]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: one per core).")]
ProgressOption = Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on a terminal.")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]


@app.command()
def scan(
    paths: Paths,
    format: FormatOption = ReportFormat.console,
    output: OutputOption = None,
    fail_on: GateOption = Gate.high,
    rule: RuleOption = [],  # noqa: B006 (typer reads the default, never mutates it)
    skip_rule: SkipOption = [],  # noqa: B006
    rules_dir: RulesDirOption = [],  # noqa: B006
    jobs: JobsOption = 0,
    progress: ProgressOption = True,
    debug: DebugOption = False,
) -> None:
    """Scan templates and report findings."""
    from tapaudit import pipeline
    from tapaudit.config import Config
    from tapaudit.gate import decide

    config = Config(fail_on=fail_on.value, rules=list(rule), skip_rules=list(skip_rule),
                    rules_dirs=[str(d) for d in rules_dir])
    bar = None

    def start_progress(total: int):
        nonlocal bar
        if not (progress and format is ReportFormat.console and total >= PROGRESS_MIN_TEMPLATES
                and sys.stderr.isatty()):
            return None
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("scanning", total=total)
        bar.start()
        return lambda: bar.advance(task)

    try:
        outcome = pipeline.run(paths, config, jobs=jobs, debug=debug,
                               on_error=lambda e: _error(f"{e.file}: {e.message}"),
                               on_skipped=lambda s: print(f"tapaudit: note: {s.file}: skipped, "
                                                          f"{s.reason}", file=sys.stderr),
                               start_progress=start_progress)
    except pipeline.UsageError as exc:
        _error(str(exc))
        raise typer.Exit(EXIT_ERROR) from None
    finally:
        if bar is not None:
            bar.stop()
    result = outcome.result
    _write_report(result, outcome.rules, format, output)

    code, _reason = decide(result, config.fail_on, config.strict_suppressions)
    if not result.templates and not result.errors:
        _error("no templates found in " + ", ".join(paths))
    raise typer.Exit(code)


def _write_report(result, rules, format: ReportFormat, output: Path | None) -> None:
    if format is ReportFormat.json:
        from tapaudit.reporting.json_report import write
        writer = lambda stream: write(result, stream)  # noqa: E731
    elif format is ReportFormat.sarif:
        from tapaudit.reporting.sarif import write as write_sarif
        writer = lambda stream: write_sarif(result, rules, stream)  # noqa: E731
    else:
        from tapaudit.reporting.console import write as write_console
        writer = lambda stream: write_console(result, stream, rules)  # noqa: E731
    if output is None:
        writer(sys.stdout)
        return
    try:
        with output.open("w", encoding="utf-8") as stream:
            writer(stream)
    except OSError as exc:
        _error(f"{output}: cannot write report: {exc.strerror or exc}")
        raise typer.Exit(EXIT_ERROR) from None


@app.command("rules")
def list_rules(
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.console,
    rules_dir: RulesDirOption = [],  # noqa: B006
) -> None:
    """List every rule with its id, severity and title."""
    rules = _load_rules(rules_dir, [], [])
    if format is ListFormat.json:
        import json

        print(json.dumps([{"id": r.id, "title": r.title, "severity": r.severity.label,
                           "resource_types": list(r.resource_types)} for r in rules], indent=2))
        return
    for r in rules:
        print(f"{r.id}  {r.severity.label:<8} {r.title}")


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. TAP001.")],
    rules_dir: RulesDirOption = [],  # noqa: B006
) -> None:
    """Show a rule's rationale, what passes, what fails, and the fix."""
    from rich.markdown import Markdown

    from tapaudit.reporting.console import make_console

    rules = {r.id: r for r in _load_rules(rules_dir, [], [])}
    rule = rules.get(rule_id.upper())
    if rule is None:
        _error(f"unknown rule id {rule_id} (known: {', '.join(sorted(rules))})")
        raise typer.Exit(EXIT_ERROR)
    params = "\n".join(f"- `{k}`: `{v}`" for k, v in rule.parameters.items())
    text = (
        f"# {rule.id}: {rule.title}\n\nSeverity: **{rule.severity.label}** · resources: "
        f"{', '.join(rule.resource_types)}\n\nFrom the failure analysis: {rule.analysis_item}\n\n"
        f"## Why\n\n{rule.rationale}\n\n## Passes\n\n{rule.passes}\n\n## Fails\n\n{rule.fails}\n\n"
        f"## Fix\n\n{rule.fix.summary}\n\nCDK (Python):\n\n```python\n{rule.fix.cdk_python}```\n\n"
        f"CDK (TypeScript):\n\n```typescript\n{rule.fix.cdk_typescript}```\n\n"
        f"## Parameters\n\n{params or 'none'}\n"
    )
    make_console(sys.stdout).print(Markdown(text))


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        app()
    except KeyboardInterrupt:
        _error("interrupted")
        sys.exit(130)
    except Exception as exc:  # never a traceback for the user
        if debug:
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)")
        sys.exit(EXIT_ERROR)
