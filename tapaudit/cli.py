"""Command line: `tapaudit scan`, `tapaudit rules`, `tapaudit explain`, `tapaudit --version`.

Exit codes: 0 nothing at or above the gate, 1 a finding at or above it, 2 an input could not be
scanned or the command line is wrong (2 wins over 1). Heavy modules are imported inside the
commands so `--version` and `rules` start fast.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tapaudit import __version__

if TYPE_CHECKING:
    from tapaudit.config import Config
    from tapaudit.rules.model import Rule

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
PROGRESS_MIN_TEMPLATES = 20

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Audit CloudFormation templates and CDK cloud assemblies (TAP001-TAP006).")


class ReportFormat(StrEnum):
    console = "console"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"
    gitlab = "gitlab"
    markdown = "markdown"


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


def _note(message: str) -> None:
    print(f"tapaudit: note: {message}", file=sys.stderr)


def _version(value: bool) -> None:
    if value:
        print(f"tapaudit {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False) -> None:
    """tapaudit: compliance auditor for CloudFormation and CDK."""


def _configure(config_file: Path | None, no_config: bool, **given) -> Config:
    """The project's configuration with what the command line gives on top (the command line wins).
    `given` holds option values; None or an empty list means the option was not used."""
    from tapaudit.config import ConfigError, load_config

    if config_file is not None and no_config:
        _error("--config and --no-config exclude each other")
        raise typer.Exit(EXIT_ERROR)
    try:
        config = load_config(config_file, use_files=not no_config)
    except ConfigError as exc:
        _error(str(exc))
        raise typer.Exit(EXIT_ERROR) from None
    for key, value in given.items():
        if value not in (None, [], False):
            config.override(key, value)
    return config


def _scan_config(config_file: Path | None, no_config: bool, fail_on: Gate | None, rule: list[str],
                 skip_rule: list[str], rules_dir: list[Path], baseline: Path | None,
                 strict_suppressions: bool) -> Config:
    """The configuration of `scan` and `config`: the same options, so both show the same thing."""
    return _configure(config_file, no_config, fail_on=fail_on.value if fail_on else None,
                      rules=list(rule), skip_rules=list(skip_rule), rules_dirs=[str(d) for d in rules_dir],
                      baseline=str(baseline) if baseline else None,
                      strict_suppressions=strict_suppressions)


def _every_rule(rules_dirs: list[Path], config: Config) -> list[Rule]:
    """Every rule, as the configuration shapes it (severity, parameters), whatever it runs: `rules`
    and `explain` describe rules a project skips too."""
    from tapaudit.pipeline import UsageError, load_all_rules

    if rules_dirs:
        config.override("rules_dirs", [str(d) for d in rules_dirs])
    try:
        return load_all_rules(config)
    except UsageError as exc:
        _error(str(exc))
        raise typer.Exit(EXIT_ERROR) from None


Paths = Annotated[list[str], typer.Argument(help="Templates, folders, cdk.out assemblies, - for stdin.")]
FormatOption = Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")]
GateOption = Annotated[Gate | None, typer.Option("--fail-on", show_default="high",
                                                 help="Exit 1 on findings at or above this.")]
RuleOption = Annotated[list[str], typer.Option("--rule", help="Run only this rule (repeatable).")]
SkipOption = Annotated[list[str], typer.Option("--skip-rule", help="Do not run this rule (repeatable).")]
RulesDirOption = Annotated[list[Path], typer.Option("--rules-dir", help="Load more rule files from DIR.")]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: one per core).")]
ProgressOption = Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on a terminal.")]
ReportOption = Annotated[list[str], typer.Option(
    "--report", metavar="FORMAT=FILE",
    help="Also write a report in FORMAT to FILE, from the same scan (repeatable).")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]
ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="Read the configuration from FILE (pyproject.toml or .tapaudit.toml).")]
NoConfigOption = Annotated[bool, typer.Option(
    "--no-config", help="Ignore pyproject.toml and .tapaudit.toml.")]
BaselineOption = Annotated[Path | None, typer.Option(
    "--baseline", help="Findings in this baseline file do not count for the gate.")]
StrictOption = Annotated[bool, typer.Option(
    "--strict-suppressions", help="Any suppression problem fails the gate (exit 1).")]
AllowNoTemplatesOption = Annotated[bool, typer.Option(
    "--allow-no-templates", help="Exit 0 with a note when no input is a template; named files that "
    "cannot be parsed and never mention a template section are skipped (for hooks).")]
MissingOkOption = Annotated[bool, typer.Option(
    "--missing-ok", help="A path that does not exist is noted, not an error (e.g. cdk.out before synth).")]


@app.command()
def scan(
    paths: Paths,
    format: FormatOption = ReportFormat.console,
    output: OutputOption = None,
    fail_on: GateOption = None,
    rule: RuleOption = [],  # noqa: B006 (typer reads the default, never mutates it)
    skip_rule: SkipOption = [],  # noqa: B006
    rules_dir: RulesDirOption = [],  # noqa: B006
    jobs: JobsOption = 0,
    progress: ProgressOption = True,
    report: ReportOption = [],  # noqa: B006
    debug: DebugOption = False,
    config_file: ConfigOption = None,
    no_config: NoConfigOption = False,
    baseline: BaselineOption = None,
    write_baseline: Annotated[Path | None, typer.Option(
        "--write-baseline", help="Write the current findings to FILE as a baseline (exit 0).")] = None,
    show_suppressed: Annotated[bool, typer.Option(
        "--show-suppressed", help="List suppressed and baselined findings in the console report.")] = False,
    strict_suppressions: StrictOption = False,
    allow_no_templates: AllowNoTemplatesOption = False,
    missing_ok: MissingOkOption = False,
) -> None:
    """Scan templates and report findings."""
    from tapaudit import pipeline

    extra_reports = _parse_reports(report)
    config = _scan_config(config_file, no_config, fail_on, rule, skip_rule, rules_dir, baseline,
                          strict_suppressions)
    if write_baseline is not None:
        config.baseline = None  # the new baseline holds every current finding
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

    present = _existing(paths) if missing_ok else paths
    try:
        outcome = pipeline.run(present, config, jobs=jobs, debug=debug,
                               allow_no_templates=allow_no_templates,
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
    from tapaudit.reporting.formats import ReportContext

    context = ReportContext(outcome.rules, config.fail_on, config.strict_suppressions,
                            allow_no_templates=allow_no_templates, show_suppressed=show_suppressed)
    if write_baseline is not None:  # first, so the reports end with the exit code the run has
        context = replace(context, verdict=_write_baseline(write_baseline, outcome, context.gate(result)[0]))
    _write_report(result, context, format.value, output)
    for name, target in extra_reports:
        _write_report(result, context, name, target)
    for problem in result.suppression_problems:
        print(f"tapaudit: suppression problem: {problem.file}: {problem.resource or '(template)'}: "
              f"{problem.rule_id or '-'}: {problem.problem}: {problem.detail}", file=sys.stderr)

    code, _reason = context.gate(result)
    if not result.templates and not result.errors:
        if allow_no_templates:
            _note("no templates to scan in " + ", ".join(paths))
        else:
            _error("no templates found in " + ", ".join(paths))
    raise typer.Exit(code)


def _write_baseline(path: Path, outcome, code: int) -> tuple[int, str]:
    """Write the baseline unless an input could not be scanned (it would be incomplete): the exit
    code and its reason for the reports."""
    from tapaudit.triage import baseline

    if code == EXIT_ERROR:
        _error(f"{path}: baseline not written: not every input could be scanned")
        return EXIT_ERROR, f"exit 2: baseline {path} not written, not every input could be scanned"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        count = baseline.write(path, outcome.result.findings, outcome.origins or {})
    except OSError as exc:
        _error(f"{path}: cannot write baseline: {exc.strerror or exc}")
        return EXIT_ERROR, f"exit 2: cannot write baseline {path}"
    except baseline.BaselineError as exc:
        _error(str(exc))
        return EXIT_ERROR, f"exit 2: cannot write baseline {path}"
    print(f"tapaudit: wrote {count} finding{'s' if count != 1 else ''} to baseline {path}",
          file=sys.stderr)
    return EXIT_OK, f"exit 0: wrote {count} finding{'s' if count != 1 else ''} to baseline {path}"


def _existing(paths: list[str]) -> list[str]:
    """The paths that exist (and `-`); each missing one gets a note instead of an error."""
    kept = []
    for raw in paths:
        if raw == "-" or Path(raw).exists():
            kept.append(raw)
        else:
            _note(f"{raw}: does not exist, not scanned (--missing-ok)")
    return kept


def _parse_reports(specs: list[str]) -> list[tuple[str, Path]]:
    """`--report FORMAT=FILE` values, checked before anything is scanned."""
    reports = []
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not file or name not in ReportFormat.__members__:
            _error(f"--report {spec}: expected FORMAT=FILE with FORMAT one of "
                   f"{', '.join(ReportFormat.__members__)}")
            raise typer.Exit(EXIT_ERROR)
        reports.append((name, Path(file)))
    return reports


def _write_report(result, context, name: str, output: Path | None) -> None:
    from tapaudit.reporting.formats import writer

    write = writer(name)
    if output is None:
        write(result, context, sys.stdout)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8") as stream:
            write(result, context, stream)
    except OSError as exc:
        _error(f"{output}: cannot write report: {exc.strerror or exc}")
        raise typer.Exit(EXIT_ERROR) from None


@app.command("rules")
def list_rules(
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.console,
    rules_dir: RulesDirOption = [],  # noqa: B006
    config_file: ConfigOption = None,
    no_config: NoConfigOption = False,
) -> None:
    """List every rule with its id, severity and title (as the configuration sets them)."""
    rules = _every_rule(rules_dir, _configure(config_file, no_config))
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
    config_file: ConfigOption = None,
    no_config: NoConfigOption = False,
) -> None:
    """Show a rule's rationale, what passes, what fails, the fix and its parameters."""
    from rich.markdown import Markdown

    from tapaudit.reporting.console import make_console

    rules = {r.id: r for r in _every_rule(rules_dir, _configure(config_file, no_config))}
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


@app.command("config")
def show_config(
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.console,
    config_file: ConfigOption = None,
    no_config: NoConfigOption = False,
    fail_on: GateOption = None,
    rule: RuleOption = [],  # noqa: B006
    skip_rule: SkipOption = [],  # noqa: B006
    rules_dir: RulesDirOption = [],  # noqa: B006
    baseline: BaselineOption = None,
    strict_suppressions: StrictOption = False,
) -> None:
    """Print the effective configuration and where each value comes from."""
    from tapaudit.config import effective
    from tapaudit.pipeline import UsageError, load_configured_rules

    config = _scan_config(config_file, no_config, fail_on, rule, skip_rule, rules_dir, baseline,
                          strict_suppressions)
    try:
        load_configured_rules(config)  # rule ids and per-rule settings are checked as `scan` does
    except UsageError as exc:
        _error(str(exc))
        raise typer.Exit(EXIT_ERROR) from None
    rows = effective(config)
    if format is ListFormat.json:
        import json

        print(json.dumps({"file": config.file_name if config.source else None,
                          "settings": [{"key": k, "value": v, "origin": o} for k, v, o in rows]},
                         indent=2))
        return
    import json

    print(f"# configuration file: {config.file_name if config.source else 'none'}")
    lines = [(f"{k} = {json.dumps(v) if v is not None else '(not set)'}", o) for k, v, o in rows]
    width = max(len(line) for line, _ in lines)
    for line, origin in lines:
        print(f"{line:<{width}}  # {origin}")


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
