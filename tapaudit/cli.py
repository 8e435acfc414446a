"""Command line: `tapaudit scan`, `tapaudit rules`, `tapaudit explain`, `tapaudit config`,
`tapaudit --version`, shell completion (`--install-completion`, `--show-completion`).

Exit codes are the gate's (tapaudit.gate): 0 nothing at or above the gate, 1 a finding at or above
it, 2 an input could not be scanned, a report could not be written or the command line is wrong (2
wins over 1). The CLI is typer; a usage error is one line on stderr in tapaudit's style (exit 2),
not click's box. The scan machinery is imported inside the commands.
"""

# No `from __future__ import annotations` here: typer reads every command's annotations at each
# start, and evaluating them once at import costs less than compiling them from strings then. Names
# imported only for type checking are written as strings.

import contextlib
import gc
import os
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer
from msgspec import Struct
from typer.core import TyperGroup

try:  # what typer raises for a wrong command line: its own since typer 0.26 (click vendored) ...
    from typer import TyperException as _CommandLineError
except ImportError:  # ... click's before
    from click import ClickException as _CommandLineError

from tapaudit import __version__
from tapaudit.errors import interrupted
from tapaudit.gate import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, GATE_LEVELS
from tapaudit.reporting.formats import FORMATS

if TYPE_CHECKING:
    from tapaudit.config import Config
    from tapaudit.findings import ScanResult
    from tapaudit.pipeline import ScanOutcome
    from tapaudit.reporting.formats import ReportContext
    from tapaudit.rules.model import Rule

PROG = "tapaudit"
EXIT_INTERRUPTED = 130
PROGRESS_MIN_TEMPLATES = 20

# Choices as enums (strings), so typer validates them, lists them in the help and completes them.
ReportFormat = StrEnum("ReportFormat", {name: name for name in FORMATS})
GateLevel = StrEnum("GateLevel", {level: level for level in GATE_LEVELS})
ListFormat = StrEnum("ListFormat", {"console": "console", "json": "json"})  # `rules`, `config`


def _printable(text: str) -> str:
    from tapaudit.reporting.escape import printable

    return printable(text)


def _say(kind: str, message: str) -> None:
    print(f"{PROG}: {kind}{_printable(message)}", file=sys.stderr, flush=True)  # in order with stdout


def _error(message: str) -> None:
    _say("error: ", message)


def _note(message: str) -> None:
    _say("note: ", message)


def _fail(message: str) -> NoReturn:
    _error(message)
    raise typer.Exit(EXIT_ERROR)


class _Group(TyperGroup):
    """typer's group, with tapaudit's exits: commands return their exit code; a usage error is one
    line (`tapaudit: error: ...`, exit 2); an internal error is one line too unless `--debug`."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, prog_name or PROG, complete_var, standalone_mode=False, **extra)
        except _CommandLineError as exc:
            _error(_usage_message(exc))
            code = getattr(exc, "exit_code", EXIT_ERROR)
        except Exception as exc:  # never a traceback for the user
            if interrupted(exc):  # a Ctrl-C before the command ran, wrapped on its way here
                code = EXIT_INTERRUPTED
            elif "--debug" in argv:
                raise
            else:
                _error(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)")
                code = EXIT_ERROR
        if code == EXIT_INTERRUPTED:  # wherever it landed (typer turns one outside a command into 130)
            _error("interrupted")
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else EXIT_OK)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader left (`| head`): exit 1 quietly, and point stdout at devnull so the
            # interpreter's own flush at exit does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_FINDINGS
        except BaseException as exc:
            if not interrupted(exc):
                raise
            return EXIT_INTERRUPTED  # said once, by main


def _exit_interrupted() -> NoReturn:
    """Exit 130 now. A Ctrl-C that went through an exec() of generated code (the dataclasses
    of a library imported lazily, such as rich's, build their methods so) makes CPython 3.11 kill
    the process with SIGINT at shutdown, whatever sys.exit said."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stream says nothing more
            stream.flush()
    os._exit(EXIT_INTERRUPTED)


def _usage_message(exc: Exception) -> str:
    """click's message on one line, with where to look for help."""
    text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    # typer checks values with pydantic, whose messages start with its own error kind
    message = " ".join(text.replace("Value error, ", "").split())
    ctx = getattr(exc, "ctx", None)
    return f"{message} (see '{ctx.command_path} --help')" if ctx is not None else message


app = typer.Typer(name=PROG, cls=_Group, invoke_without_command=True, rich_markup_mode="rich",
                  pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})


def _show_version(value: bool) -> None:
    if value:
        print(f"{PROG} {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(ctx: typer.Context, version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True, help="Show the version and exit.")] = False,
          ) -> None:
    """Audit CloudFormation templates and CDK cloud assemblies (TAP001-TAP006)."""
    if ctx.invoked_subcommand is None:  # bare `tapaudit`: the help, exit 2
        help_text = ctx.get_help()  # rich help prints itself and returns nothing
        if help_text:
            print(help_text)
        raise typer.Exit(EXIT_ERROR)


# Options several commands share.
RulesDirs = Annotated[list[Path] | None, typer.Option(
    "--rules-dir", metavar="DIR", help="Load more rule files from DIR (repeatable).")]
ConfigFile = Annotated[Path | None, typer.Option(
    "--config", metavar="FILE", help="Read the configuration from FILE (pyproject.toml or .tapaudit.toml).")]
NoConfig = Annotated[bool, typer.Option("--no-config", help="Ignore pyproject.toml and .tapaudit.toml.")]
FailOn = Annotated[GateLevel | None, typer.Option(
    "--fail-on", metavar="SEVERITY",
    help=f"Exit 1 on findings at or above this: {', '.join(GATE_LEVELS)} (default: high, or as configured).")]
Rules = Annotated[list[str] | None, typer.Option(
    "--rule", metavar="RULE_ID", help="Run only this rule (repeatable).")]
SkipRules = Annotated[list[str] | None, typer.Option(
    "--skip-rule", metavar="RULE_ID", help="Do not run this rule (repeatable).")]
Baseline = Annotated[Path | None, typer.Option(
    "--baseline", metavar="FILE", help="Findings in this baseline file do not count for the gate.")]
StrictSuppressions = Annotated[bool, typer.Option(
    "--strict-suppressions", help="Any suppression problem fails the gate (exit 1).")]
ListFormatOption = Annotated[ListFormat, typer.Option(
    "-f", "--format", metavar="FORMAT", help="Output format: console, json.")]


class _GateOptions(Struct, frozen=True):
    """What runs and what fails the gate: `scan` and `config` (which shows what `scan` would use)."""

    config_file: Path | None
    no_config: bool
    fail_on: str | None
    rules: list[str]
    skip_rules: list[str]
    rules_dirs: list[Path]
    baseline: Path | None
    strict_suppressions: bool

    def configure(self) -> "Config":
        fail_on = str(self.fail_on) if self.fail_on is not None else None  # the plain string
        return _configure(self.config_file, self.no_config, fail_on=fail_on, rules=self.rules,
                          skip_rules=self.skip_rules, rules_dirs=[str(d) for d in self.rules_dirs],
                          baseline=str(self.baseline) if self.baseline else None,
                          strict_suppressions=self.strict_suppressions)


def _configure(config_file: Path | None, no_config: bool, **given: Any) -> "Config":
    """The project's configuration with what the command line gives on top (the command line wins).
    `given` holds option values; None or an empty list means the option was not used."""
    from tapaudit.config import ConfigError, load_config

    if config_file is not None and no_config:
        _fail("--config and --no-config exclude each other")
    try:
        config = load_config(config_file, use_files=not no_config)
    except ConfigError as exc:
        _fail(str(exc))
    for ignored in config.not_applied:
        _note(ignored.note)
    for key, value in given.items():
        if value not in (None, [], False):
            config.override(key, value)
    return config


def _every_rule(rules_dirs: list[Path], config: "Config") -> list["Rule"]:
    """Every rule, as the configuration shapes it (severity, parameters), whatever it runs: `rules`
    and `explain` describe rules a project skips too."""
    from tapaudit.pipeline import UsageError, load_all_rules

    if rules_dirs:
        config.override("rules_dirs", [str(d) for d in rules_dirs])
    try:
        return load_all_rules(config)
    except UsageError as exc:
        _fail(str(exc))


@app.command()
def scan(
    paths: Annotated[list[str], typer.Argument(
        metavar="PATH", show_default=False, help="Templates, folders, cdk.out assemblies, - for stdin.")],
    format: Annotated[ReportFormat, typer.Option(
        "-f", "--format", metavar="FORMAT",
        help=f"Report format: {', '.join(FORMATS)}.")] = ReportFormat.console,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="FILE", help="Write the report to FILE.")] = None,
    fail_on: FailOn = None,
    rule: Rules = None,
    skip_rule: SkipRules = None,
    baseline: Baseline = None,
    strict_suppressions: StrictSuppressions = False,
    rules_dir: RulesDirs = None,
    config_file: ConfigFile = None,
    no_config: NoConfig = False,
    jobs: Annotated[int, typer.Option(
        "-j", "--jobs", metavar="N", min=0, help="Worker processes (0: one per core).")] = 0,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Progress bar on a terminal.")] = True,
    report: Annotated[list[str] | None, typer.Option(
        "--report", metavar="FORMAT=FILE",
        help="Also write a report in FORMAT to FILE, from the same scan (repeatable).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    write_baseline: Annotated[Path | None, typer.Option(
        "--write-baseline", metavar="FILE",
        help="Write the current findings to FILE as a baseline (exit 0); the entries of templates "
             "and rules this scan does not cover are kept.")] = None,
    show_suppressed: Annotated[bool, typer.Option(
        "--show-suppressed", help="List suppressed and baselined findings in the console report.")] = False,
    allow_no_templates: Annotated[bool, typer.Option(
        "--allow-no-templates",
        help="Exit 0 with a note when no input is a template; named files that cannot be parsed and "
             "never mention a template section are skipped (for hooks).")] = False,
    missing_ok: Annotated[bool, typer.Option(
        "--missing-ok",
        help="A path that does not exist is noted, not an error (e.g. cdk.out before synth).")] = False,
) -> int:
    """Scan templates and report findings."""
    from msgspec.structs import replace

    from tapaudit import pipeline
    from tapaudit.reporting.formats import ReportContext

    targets = [(format.value, output), *_parse_reports(report or [])]
    config = _GateOptions(config_file, no_config, fail_on, rule or [], skip_rule or [], rules_dir or [],
                          baseline, strict_suppressions).configure()
    if write_baseline is not None:
        config.baseline = None  # the new baseline holds every current finding
    bar = None

    def start_progress(total: int):
        nonlocal bar
        if not (progress and format == "console" and total >= PROGRESS_MIN_TEMPLATES
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
                               on_skipped=lambda s: _note(f"{s.file}: skipped, {s.reason}"),
                               start_progress=start_progress,
                               offer_fixes=any(name in ("json", "sarif") for name, _ in targets))
    except pipeline.UsageError as exc:
        _fail(str(exc))
    finally:
        if bar is not None:
            bar.stop()
    result = outcome.result
    context = ReportContext(outcome.rules, config.fail_on, config.strict_suppressions,
                            allow_no_templates=allow_no_templates, show_suppressed=show_suppressed,
                            run=outcome.record)
    if write_baseline is not None:  # first, so the reports end with the exit code the run has
        context = replace(context, verdict=_write_baseline(write_baseline, outcome,
                                                           context.gate(result)[0]))
    for problem in result.suppression_problems:
        _say("suppression problem: ", f"{problem.file}: {problem.resource or '(template)'}: "
                                      f"{problem.rule_id or '-'}: {problem.problem}: {problem.detail}")
    if outcome.everything_excluded and not result.templates and not result.errors:
        # A gate must not pass because the configuration excluded all it was given (even with
        # --allow-no-templates): exit 2, naming the globs and the inputs.
        _error(outcome.everything_excluded)
        context = replace(context, verdict=(EXIT_ERROR, "exit 2: every input is excluded by the "
                                                        "configuration's exclude"))
    elif not result.templates and not result.errors:
        if allow_no_templates:
            _note("no templates to scan in " + ", ".join(paths))
        else:
            _error("no templates found in " + ", ".join(paths))
    nothing_scanned = not result.templates and context.gate(result)[0] == EXIT_ERROR
    return _write_reports(result, context, targets, console_wanted=not nothing_scanned)


def _write_reports(result: "ScanResult", context: "ReportContext", targets: list[tuple[str, Path | None]],
                   console_wanted: bool) -> int:
    """Write every report: the files first (each named on stderr), then the one on stdout, so the
    run ends with the console's exit line; without one, a last line on stderr states the exit code
    when reports were written to files or one failed. The run's exit code: 2 when a report could
    not be written. The console is left out when nothing was scanned (the error lines say it)."""
    from msgspec.structs import replace

    gate = context.gate(result)
    failed = [f"{name}={target}" for name, target in targets
              if target is not None and not _write_file_report(result, context, name, target)]
    final = gate
    if failed:
        final = (EXIT_ERROR, f"exit 2: {len(failed)} report{'s' if len(failed) != 1 else ''} "
                             f"could not be written ({', '.join(failed)})")
    stated = None
    for name, target in targets:
        if target is None and (name != "console" or console_wanted):
            _write_stdout_report(result, replace(context, verdict=final), name)
            stated = final if name == "console" else None
    # Unless the console just said it: a failure after the gate, or reports named on stderr last.
    wrote_files = any(target is not None for _, target in targets)
    if stated != final and (final != gate or wrote_files):
        _say("", final[1])
    return final[0]


def _write_stdout_report(result: "ScanResult", context: "ReportContext", name: str) -> None:
    from tapaudit.reporting.formats import writer

    if hasattr(sys.stdout, "reconfigure"):  # a lone surrogate from a template is escaped, not fatal
        sys.stdout.reconfigure(errors="backslashreplace")
    writer(name)(result, context, sys.stdout)
    sys.stdout.flush()


def _write_file_report(result: "ScanResult", context: "ReportContext", name: str, target: Path) -> bool:
    """Write one report whole or not at all: into a temporary file beside the target, renamed over
    it once complete, so a failure never leaves a truncated or stale report. A character device or
    a pipe (`/dev/stdout`, `/dev/full`) is written directly. False, with one error line, on failure."""
    from tapaudit.reporting.formats import writer

    write = writer(name)
    try:
        if target.exists() and not target.is_file() and not target.is_dir():
            with target.open("w", encoding="utf-8", errors="backslashreplace") as stream:
                write(result, context, stream)
        else:
            _replace_atomically(target, lambda stream: write(result, context, stream))
    except OSError as exc:
        _error(f"{target}: cannot write report: {exc.strerror or exc}")
        return False
    _say("", f"wrote {name} report to {target}")
    return True


def _replace_atomically(target: Path, write: Callable[[TextIO], None]) -> None:
    """Call `write(stream)` on a temporary file in target's folder, then rename it to target."""
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:100]}.",
                                suffix=".tmp")  # [:100]: a long name leaves room for the suffixes
    try:
        os.fchmod(fd, _new_file_mode(target))
        with open(fd, "w", encoding="utf-8", errors="backslashreplace") as stream:
            write(stream)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _new_file_mode(target: Path) -> int:
    """The mode a report gets: the one it replaces, else what the umask gives a new file
    (mkstemp's 0600 would hide a report from the CI steps that read it)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _write_baseline(path: Path, outcome: "ScanOutcome", code: int) -> tuple[int, str]:
    """Write the baseline unless the scan could not see what it covers: the exit code and its
    reason for the reports. A partial scan (skipped or excluded files, --rule, --skip-rule) keeps
    the existing entries of the templates and rules it did not cover (`baseline.update`)."""
    from tapaudit.triage import baseline

    result = outcome.result
    refused = None
    if not result.templates:
        refused = "no template was scanned"
    elif code == EXIT_ERROR:
        refused = "not every input could be scanned"
    if refused:  # the existing file, if any, stays as it was
        _error(f"{path}: baseline not written: {refused}")
        return EXIT_ERROR, f"exit 2: baseline {path} not written, {refused}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        written = baseline.update(path, result.findings, outcome.origins, result.templates,
                                  [rule.id for rule in outcome.rules])
    except OSError as exc:
        _error(f"{path}: cannot write baseline: {exc.strerror or exc}")
        return EXIT_ERROR, f"exit 2: cannot write baseline {path}"
    except baseline.BaselineError as exc:
        _error(f"{exc} (not overwritten)" if path.exists() else str(exc))
        return EXIT_ERROR, f"exit 2: cannot write baseline {path}"
    count = written.written
    message = f"wrote {count} finding{'s' if count != 1 else ''} to baseline {path}"
    if written.kept:
        message += (f", kept {written.kept} entr{'ies' if written.kept != 1 else 'y'} of templates "
                    "or rules this scan did not cover")
    _say("", message)
    return EXIT_OK, f"exit 0: {message}"


def _existing(paths: list[str]) -> list[str]:
    """The paths that exist (and `-`); each missing one gets a note instead of an error."""
    kept = []
    for raw in paths:
        if raw == "-" or Path(raw).exists():
            kept.append(raw)
        else:
            _note(f"{raw}: does not exist, not scanned (--missing-ok)")
    return kept


def _parse_reports(specs: list[str]) -> list[tuple[str, Path | None]]:
    """`--report FORMAT=FILE` values, checked before anything is scanned."""
    reports: list[tuple[str, Path | None]] = []
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not file or name not in FORMATS:
            _fail(f"--report {spec}: expected FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}")
        reports.append((name, Path(file)))
    return reports


@app.command()
def fix(paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="Hand-written templates to fix.")],
        rule: Rules = None,
        write: Annotated[bool, typer.Option(
            "--write", help="Apply the edits (default: print a diff).")] = False,
        config_file: ConfigFile = None, no_config: NoConfig = False) -> int:
    """Fix what can be fixed safely in hand-written CloudFormation and SAM templates.

    Without --write, print a unified diff and change nothing; with --write, replace each file
    atomically. Exit 0: nothing left at the gate; 1: findings remain; 2: input errors.
    """
    from tapaudit.fixing.command import run_fix

    if config_file is not None and no_config:
        _fail("--config and --no-config exclude each other")
    return run_fix(list(paths), list(rule or []), write, config_file, no_config, sys.stdout, sys.stderr)


@app.command("rules")
def list_rules(format: ListFormatOption = ListFormat.console, rules_dir: RulesDirs = None,
               config_file: ConfigFile = None, no_config: NoConfig = False) -> int:
    """List every rule with its id, severity and title (as the configuration sets them)."""
    rules = _every_rule(rules_dir or [], _configure(config_file, no_config))
    if format == "json":
        import json

        print(json.dumps([{"id": r.id, "title": r.title, "severity": r.severity.label,
                           "resource_types": list(r.resource_types)} for r in rules], indent=2))
        return EXIT_OK
    for r in rules:
        print(f"{r.id}  {r.severity.label:<8} {r.title}")
    return EXIT_OK


@app.command()
def explain(rule_id: Annotated[str, typer.Argument(metavar="RULE_ID", help="A rule id, e.g. TAP001.")],
            rules_dir: RulesDirs = None, config_file: ConfigFile = None,
            no_config: NoConfig = False) -> int:
    """Show a rule's rationale, what passes, what fails, the fix and its parameters."""
    from rich.markdown import Markdown

    from tapaudit.reporting.console import make_console
    from tapaudit.reporting.explain import render_rule

    rules = {r.id: r for r in _every_rule(rules_dir or [], _configure(config_file, no_config))}
    rule = rules.get(rule_id.upper())
    if rule is None:
        _fail(f"unknown rule id {rule_id} (known: {', '.join(sorted(rules))})")
    text = render_rule(rule)
    if not sys.stdout.isatty():  # piped (less, a file, CI): the Markdown itself, never cut to a width
        sys.stdout.write(text)
        return EXIT_OK
    make_console(sys.stdout).print(Markdown(text))
    return EXIT_OK


@app.command("config")
def show_config(format: ListFormatOption = ListFormat.console, fail_on: FailOn = None, rule: Rules = None,
                skip_rule: SkipRules = None, baseline: Baseline = None,
                strict_suppressions: StrictSuppressions = False, rules_dir: RulesDirs = None,
                config_file: ConfigFile = None, no_config: NoConfig = False) -> int:
    """Print the effective configuration and where each value comes from."""
    import json

    from tapaudit.config import effective
    from tapaudit.pipeline import UsageError, load_configured_rules

    config = _GateOptions(config_file, no_config, fail_on, rule or [], skip_rule or [], rules_dir or [],
                          baseline, strict_suppressions).configure()
    try:
        load_configured_rules(config)  # rule ids and per-rule settings are checked as `scan` does
    except UsageError as exc:
        _fail(str(exc))
    rows = effective(config)
    if format == "json":
        print(json.dumps({"file": config.file_name if config.source else None,
                          "not_applied": [n.to_dict() for n in config.not_applied],
                          "settings": [{"key": k, "value": v, "origin": o} for k, v, o in rows]},
                         indent=2))
        return EXIT_OK
    print(f"# configuration file: {config.file_name if config.source else 'none'}")
    for ignored in config.not_applied:
        print(f"# not applied: {_printable(ignored.file)}: {ignored.reason}")
    lines = [(f"{k} = {json.dumps(v) if v is not None else '(not set)'}", o) for k, v, o in rows]
    width = max(len(line) for line, _ in lines)
    for line, origin in lines:
        print(f"{line:<{width}}  # {origin}")
    return EXIT_OK


def main() -> None:
    """The `tapaudit` entry point."""
    try:
        app(prog_name=PROG)
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:
            _exit_interrupted()
        # The command is done: what is left is freed as the process ends. Frozen, it is not
        # walked first by the collections of the interpreter's shutdown (~10 ms after a scan).
        gc.freeze()
        raise

