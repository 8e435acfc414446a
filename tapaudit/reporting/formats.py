"""The report formats by name, and what every writer gets besides the scan result.

Writers are imported on use, so `--format json` never loads rich or XML code. Each format module
has `report(result, context, stream)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

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


@dataclass(frozen=True)
class ReportContext:
    """The rules that ran and the gate, so a report can say what fails the build and why."""

    rules: Sequence[Rule] = ()
    fail_on: str = "high"
    strict_suppressions: bool = False
    show_suppressed: bool = False  # the console lists suppressed and baselined findings
    verdict: tuple[int, str] | None = None  # set when the run ends otherwise (--write-baseline)
    allow_no_templates: bool = False

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
