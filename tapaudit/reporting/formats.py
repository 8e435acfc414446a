"""The report formats by name, and what every writer gets besides the scan result.

Writers are imported on use, so `--format json` never loads rich or XML code. Each format module
has `report(result, context, stream)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from msgspec import Struct

from tapaudit.reporting.escape import printable

if TYPE_CHECKING:  # annotations only: `--version` and `--help` need FORMATS, not the rules
    from tapaudit.findings import ScanResult
    from tapaudit.rules.model import Rule

FORMATS: dict[str, str] = {
    "console": "tapaudit.reporting.console",
    "json": "tapaudit.reporting.json_report",
    "sarif": "tapaudit.reporting.sarif",
    "junit": "tapaudit.reporting.junit",
    "github": "tapaudit.reporting.github",
    "gitlab": "tapaudit.reporting.gitlab",
    "markdown": "tapaudit.reporting.markdown",
    "concise": "tapaudit.reporting.concise",
}


class RunRecord(Struct, frozen=True):
    """What shaped the run, recorded in every report so a reviewer sees it: the configuration file
    (and one found but not applied), the gate, the rules run and skipped, the `exclude` globs, the
    baseline, and notes on what the run could not do as asked."""

    config_file: str | None = None
    fail_on: str = "high"
    strict_suppressions: bool = False
    rules_run: tuple[str, ...] = ()
    rules_skipped: tuple[tuple[str, str], ...] = ()  # (rule id, why it did not run)
    exclude: tuple[str, ...] = ()
    baseline: str | None = None
    config_not_applied: tuple[tuple[str, str], ...] = ()  # (file, why)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": {"file": self.config_file,
                       "not_applied": [{"file": f, "reason": r} for f, r in self.config_not_applied]},
            "fail_on": self.fail_on,
            "strict_suppressions": self.strict_suppressions,
            "rules": {"run": list(self.rules_run),
                      "skipped": [{"id": i, "reason": r} for i, r in self.rules_skipped]},
            "exclude": list(self.exclude),
            "baseline": self.baseline,
            "notes": list(self.notes),
        }

    def line(self) -> str:
        """The console's one line: `run: config .tapaudit.toml, fail_on high, 5 of 6 rules
        (skipped TAP005), exclude 'test/**', baseline baseline.json`."""
        config = printable(self.config_file) if self.config_file else "none"
        if self.config_not_applied:
            config += " (" + "; ".join(f"{printable(f)} not applied: {r}"
                                       for f, r in self.config_not_applied) + ")"
        total = len(self.rules_run) + len(self.rules_skipped)
        rules = f"{len(self.rules_run)} rule{'s' if len(self.rules_run) != 1 else ''}"
        if self.rules_skipped:
            rules = (f"{len(self.rules_run)} of {total} rules (skipped "
                     f"{', '.join(i for i, _ in self.rules_skipped)})")
        parts = [f"config {config}", f"fail_on {self.fail_on}", rules]
        if self.exclude:
            parts.append("exclude " + ", ".join(repr(printable(g)) for g in self.exclude))
        if self.baseline:
            parts.append(f"baseline {printable(self.baseline)}")
        return "run: " + ", ".join(parts)


class ReportContext(Struct, frozen=True):
    """The rules that ran and the gate, so a report can say what fails the build and why."""

    rules: Sequence[Rule] = ()
    fail_on: str = "high"
    strict_suppressions: bool = False
    show_suppressed: bool = False  # the console lists suppressed and baselined findings
    verdict: tuple[int, str] | None = None  # set when the run ends otherwise (--write-baseline)
    allow_no_templates: bool = False
    run: RunRecord | None = None  # what shaped the run; derived from the fields above when absent

    def run_record(self) -> RunRecord:
        if self.run is not None:
            return self.run
        return RunRecord(fail_on=self.fail_on, strict_suppressions=self.strict_suppressions,
                         rules_run=tuple(rule.id for rule in self.rules))

    def gate(self, result: ScanResult) -> tuple[int, str]:
        if self.verdict is not None:
            return self.verdict
        from tapaudit.gate import decide

        return decide(result, self.fail_on, self.strict_suppressions, self.allow_no_templates)


Writer = Callable[["ScanResult", ReportContext, TextIO], None]


def writer(name: str) -> Writer:
    if name not in FORMATS:
        raise ValueError(f"unknown report format {name!r} (known: {', '.join(FORMATS)})")
    return importlib.import_module(FORMATS[name]).report
