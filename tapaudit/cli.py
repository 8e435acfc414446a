"""Command line: `tapaudit scan`, `tapaudit rules`, `tapaudit explain`, `tapaudit config`,
`tapaudit --version`.

Exit codes: 0 nothing at or above the gate, 1 a finding at or above it, 2 an input could not be
scanned or the command line is wrong (2 wins over 1). The parser is the standard library's argparse
and heavy modules are imported inside the commands, so `--version` and `rules` start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from tapaudit import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

    from tapaudit.config import Config
    from tapaudit.rules.model import Rule

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2  # gate.py's, repeated so `--version` need not import it
PROGRESS_MIN_TEMPLATES = 20

# The names of tapaudit.reporting.formats.FORMATS, repeated so the parser is built without importing
# the report code (tests/test_cli.py keeps the two equal).
REPORT_FORMATS = ("console", "json", "sarif", "junit", "github", "gitlab", "markdown")
LIST_FORMATS = ("console", "json")
GATES = ("critical", "high", "medium", "low", "none")


def _error(message: str) -> None:
    print(f"tapaudit: error: {message}", file=sys.stderr)


def _note(message: str) -> None:
    print(f"tapaudit: note: {message}", file=sys.stderr)


def _fail(message: str) -> NoReturn:
    _error(message)
    raise SystemExit(EXIT_ERROR)


def _configure(config_file: Path | None, no_config: bool, **given) -> Config:
    """The project's configuration with what the command line gives on top (the command line wins).
    `given` holds option values; None or an empty list means the option was not used."""
    from tapaudit.config import ConfigError, load_config

    if config_file is not None and no_config:
        _fail("--config and --no-config exclude each other")
    try:
        config = load_config(config_file, use_files=not no_config)
    except ConfigError as exc:
        _fail(str(exc))
    for key, value in given.items():
        if value not in (None, [], False):
            config.override(key, value)
    return config


def _scan_config(args: argparse.Namespace) -> Config:
    """The configuration of `scan` and `config`: the same options, so both show the same thing."""
    return _configure(args.config_file, args.no_config, fail_on=args.fail_on, rules=list(args.rule),
                      skip_rules=list(args.skip_rule), rules_dirs=[str(d) for d in args.rules_dir],
                      baseline=str(args.baseline) if args.baseline else None,
                      strict_suppressions=args.strict_suppressions)


def _every_rule(rules_dirs: list[Path], config: Config) -> list[Rule]:
    """Every rule, as the configuration shapes it (severity, parameters), whatever it runs: `rules`
    and `explain` describe rules a project skips too."""
    from tapaudit.pipeline import UsageError, load_all_rules

    if rules_dirs:
        config.override("rules_dirs", [str(d) for d in rules_dirs])
    try:
        return load_all_rules(config)
    except UsageError as exc:
        _fail(str(exc))


def scan(args: argparse.Namespace) -> int:
    """Scan templates and report findings."""
    from dataclasses import replace

    from tapaudit import pipeline

    extra_reports = _parse_reports(args.report)
    config = _scan_config(args)
    if args.write_baseline is not None:
        config.baseline = None  # the new baseline holds every current finding
    bar = None

    def start_progress(total: int):
        nonlocal bar
        if not (args.progress and args.format == "console" and total >= PROGRESS_MIN_TEMPLATES
                and sys.stderr.isatty()):
            return None
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("scanning", total=total)
        bar.start()
        return lambda: bar.advance(task)

    present = _existing(args.paths) if args.missing_ok else args.paths
    try:
        outcome = pipeline.run(present, config, jobs=args.jobs, debug=args.debug,
                               allow_no_templates=args.allow_no_templates,
                               on_error=lambda e: _error(f"{e.file}: {e.message}"),
                               on_skipped=lambda s: print(f"tapaudit: note: {s.file}: skipped, "
                                                          f"{s.reason}", file=sys.stderr),
                               start_progress=start_progress)
    except pipeline.UsageError as exc:
        _fail(str(exc))
    finally:
        if bar is not None:
            bar.stop()
    result = outcome.result
    from tapaudit.reporting.formats import ReportContext

    context = ReportContext(outcome.rules, config.fail_on, config.strict_suppressions,
                            allow_no_templates=args.allow_no_templates,
                            show_suppressed=args.show_suppressed)
    if args.write_baseline is not None:  # first, so the reports end with the exit code the run has
        context = replace(context, verdict=_write_baseline(args.write_baseline, outcome,
                                                           context.gate(result)[0]))
    _write_report(result, context, args.format, args.output)
    for name, target in extra_reports:
        _write_report(result, context, name, target)
    for problem in result.suppression_problems:
        print(f"tapaudit: suppression problem: {problem.file}: {problem.resource or '(template)'}: "
              f"{problem.rule_id or '-'}: {problem.problem}: {problem.detail}", file=sys.stderr)

    code, _reason = context.gate(result)
    if not result.templates and not result.errors:
        if args.allow_no_templates:
            _note("no templates to scan in " + ", ".join(args.paths))
        else:
            _error("no templates found in " + ", ".join(args.paths))
    return code


def _write_baseline(path: Path, outcome, code: int) -> tuple[int, str]:
    """Write the baseline unless an input could not be scanned (it would be incomplete): the exit
    code and its reason for the reports."""
    from tapaudit.triage import baseline

    if code == EXIT_ERROR:
        _error(f"{path}: baseline not written: not every input could be scanned")
        return EXIT_ERROR, f"exit 2: baseline {path} not written, not every input could be scanned"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        count = baseline.write(path, outcome.result.findings, outcome.origins)
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
        if not sep or not file or name not in REPORT_FORMATS:
            _fail(f"--report {spec}: expected FORMAT=FILE with FORMAT one of {', '.join(REPORT_FORMATS)}")
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
        _fail(f"{output}: cannot write report: {exc.strerror or exc}")


def list_rules(args: argparse.Namespace) -> int:
    """List every rule with its id, severity and title (as the configuration sets them)."""
    rules = _every_rule(args.rules_dir, _configure(args.config_file, args.no_config))
    if args.format == "json":
        import json

        print(json.dumps([{"id": r.id, "title": r.title, "severity": r.severity.label,
                           "resource_types": list(r.resource_types)} for r in rules], indent=2))
        return EXIT_OK
    for r in rules:
        print(f"{r.id}  {r.severity.label:<8} {r.title}")
    return EXIT_OK


def explain(args: argparse.Namespace) -> int:
    """Show a rule's rationale, what passes, what fails, the fix and its parameters."""
    from rich.markdown import Markdown

    from tapaudit.reporting.console import make_console

    rules = {r.id: r for r in _every_rule(args.rules_dir, _configure(args.config_file, args.no_config))}
    rule = rules.get(args.rule_id.upper())
    if rule is None:
        _fail(f"unknown rule id {args.rule_id} (known: {', '.join(sorted(rules))})")
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
    return EXIT_OK


def show_config(args: argparse.Namespace) -> int:
    """Print the effective configuration and where each value comes from."""
    import json

    from tapaudit.config import effective
    from tapaudit.pipeline import UsageError, load_configured_rules

    config = _scan_config(args)
    try:
        load_configured_rules(config)  # rule ids and per-rule settings are checked as `scan` does
    except UsageError as exc:
        _fail(str(exc))
    rows = effective(config)
    if args.format == "json":
        print(json.dumps({"file": config.file_name if config.source else None,
                          "settings": [{"key": k, "value": v, "origin": o} for k, v, o in rows]},
                         indent=2))
        return EXIT_OK
    print(f"# configuration file: {config.file_name if config.source else 'none'}")
    lines = [(f"{k} = {json.dumps(v) if v is not None else '(not set)'}", o) for k, v, o in rows]
    width = max(len(line) for line, _ in lines)
    for line, origin in lines:
        print(f"{line:<{width}}  # {origin}")
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    """argparse as click behaved: no abbreviated options (`--form` is not `--format`), and a usage
    error is one line in tapaudit's style, exit 2."""

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_abbrev=False, **kwargs)
        self.valued: set[str] = set()  # option strings that take a value

    def add_argument(self, *args, **kwargs) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if action.option_strings and action.nargs is None:
            self.valued.update(action.option_strings)
        return action

    def attach_values(self, words: list[str]) -> list[str]:
        """`-o -out.json` as click read it: the word after an option that takes a value is that
        value, even when it starts with a dash (argparse would take it for an option)."""
        attached: list[str] = []
        words = iter(words)
        for word in words:
            value = next(words, None) if word in self.valued else None
            if value is None:
                attached.append(word)
            else:
                attached.append(f"{word}={value}" if word.startswith("--") else f"{word}{value}")
            if word == "--":
                attached.extend(words)
        return attached

    def error(self, message: str) -> NoReturn:
        _fail(f"{message} (see '{self.prog} --help')")


def _jobs(text: str) -> int:
    """`--jobs`: a whole number, 0 or more (click's IntRange(min=0))."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...], what: str) -> None:
    parser.add_argument("-f", "--format", choices=choices, default="console", metavar="FORMAT",
                        help=f"{what} format: %(choices)s (default: %(default)s).")


def _add_rule_source_options(parser: argparse.ArgumentParser) -> None:
    """Where rules and settings come from: every command has these."""
    parser.add_argument("--rules-dir", action="append", default=[], type=Path, metavar="DIR",
                        help="Load more rule files from DIR (repeatable).")
    parser.add_argument("--config", dest="config_file", type=Path, metavar="FILE",
                        help="Read the configuration from FILE (pyproject.toml or .tapaudit.toml).")
    parser.add_argument("--no-config", action="store_true",
                        help="Ignore pyproject.toml and .tapaudit.toml.")


def _add_gate_options(parser: argparse.ArgumentParser) -> None:
    """What runs and what fails the gate: `scan` and `config` (which shows what `scan` would use)."""
    parser.add_argument("--fail-on", choices=GATES, metavar="SEVERITY",
                        help="Exit 1 on findings at or above this: %(choices)s "
                             "(default: high, or as configured).")
    parser.add_argument("--rule", action="append", default=[], metavar="RULE_ID",
                        help="Run only this rule (repeatable).")
    parser.add_argument("--skip-rule", action="append", default=[], metavar="RULE_ID",
                        help="Do not run this rule (repeatable).")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="Findings in this baseline file do not count for the gate.")
    parser.add_argument("--strict-suppressions", action="store_true",
                        help="Any suppression problem fails the gate (exit 1).")


def _parsers() -> tuple[_Parser, dict[str, _Parser]]:
    """The root parser and each command's parser by name."""
    root = _Parser(prog="tapaudit",
                   description="Audit CloudFormation templates and CDK cloud assemblies (TAP001-TAP006).")
    root.add_argument("--version", action="version", version=f"tapaudit {__version__}",
                      help="Show the version and exit.")
    commands = root.add_subparsers(title="commands", metavar="COMMAND")

    def command(run: Callable[[argparse.Namespace], int], name: str, usage: str) -> _Parser:
        summary = run.__doc__
        parser = commands.add_parser(name, help=summary, description=summary, usage=usage)
        parser.set_defaults(run=run)
        return parser

    p = command(scan, "scan", "%(prog)s [options] PATH...")
    # "*": paths after `--` are added by _run; it requires one at least.
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="Templates, folders, cdk.out assemblies, - for stdin.")
    _add_format(p, REPORT_FORMATS, "Report")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="Write the report to FILE.")
    _add_gate_options(p)
    _add_rule_source_options(p)
    p.add_argument("-j", "--jobs", type=_jobs, default=0, metavar="N",
                   help="Worker processes (0: one per core; default: %(default)s).")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="Progress bar on a terminal (default: on).")
    p.add_argument("--report", action="append", default=[], metavar="FORMAT=FILE",
                   help="Also write a report in FORMAT to FILE, from the same scan (repeatable).")
    p.add_argument("--debug", action="store_true", help="Show tracebacks of internal errors.")
    p.add_argument("--write-baseline", type=Path, metavar="FILE",
                   help="Write the current findings to FILE as a baseline (exit 0).")
    p.add_argument("--show-suppressed", action="store_true",
                   help="List suppressed and baselined findings in the console report.")
    p.add_argument("--allow-no-templates", action="store_true",
                   help="Exit 0 with a note when no input is a template; named files that cannot be "
                        "parsed and never mention a template section are skipped (for hooks).")
    p.add_argument("--missing-ok", action="store_true",
                   help="A path that does not exist is noted, not an error (e.g. cdk.out before synth).")

    p = command(list_rules, "rules", "%(prog)s [options]")
    _add_format(p, LIST_FORMATS, "Output")
    _add_rule_source_options(p)

    p = command(explain, "explain", "%(prog)s [options] RULE_ID")
    p.add_argument("rule_id", metavar="RULE_ID", help="A rule id, e.g. TAP001.")
    _add_rule_source_options(p)

    p = command(show_config, "config", "%(prog)s [options]")
    _add_format(p, LIST_FORMATS, "Output")
    _add_gate_options(p)
    _add_rule_source_options(p)
    return root, commands.choices


def _run(argv: list[str]) -> int:
    root, commands = _parsers()
    if argv[:1] == ["--"]:  # click took `tapaudit -- scan ...`
        argv = argv[1:]
    if not argv:  # as with click: the help on stdout, exit 2
        root.print_help()
        return EXIT_ERROR
    if argv[0] in commands:
        parser = commands[argv[0]]
        words, operands = parser.attach_values(argv[1:]), []
        if "--" in words:  # what follows `--` is operands, even `-x.json`
            cut = words.index("--")
            words, operands = words[:cut], words[cut + 1:]
        if argv[0] != "scan":
            args = parser.parse_args([*words, "--", *operands] if operands else words)
        else:
            # Intermixed: options may come before, between and after the paths, as click allowed.
            # (argparse 3.11's intermixed parsing loses what follows `--`: added here.)
            args = parser.parse_intermixed_args(words)
            args.paths += operands
            if not args.paths:
                parser.error("the following arguments are required: PATH")
    else:
        args = root.parse_args(argv)  # --version and --help exit here, and so does a usage error
        if "run" not in args:  # not `required=True`, which would hide an unknown option's error
            root.error("the following arguments are required: COMMAND")
    return args.run(args)


def main() -> None:
    argv = sys.argv[1:]
    debug = "--debug" in argv
    try:
        code = _run(argv)
    except KeyboardInterrupt:
        _error("interrupted")
        code = 130
    except BrokenPipeError:
        # The reader left (`| head`): exit 1 quietly as click did, and point stdout at devnull so
        # the interpreter's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    except Exception as exc:  # never a traceback for the user
        if debug:
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)")
        code = EXIT_ERROR
    sys.exit(code)
