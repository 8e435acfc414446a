"""The JSON report: a stable contract, documented in the README."""

from __future__ import annotations

import json
from typing import Any, TextIO

from tapaudit import __version__
from tapaudit.findings import ScanResult
from tapaudit.reporting.formats import ReportContext


def as_dict(result: ScanResult) -> dict[str, Any]:
    return {
        "version": __version__,
        "templates": list(result.templates),
        "findings": [f.to_dict() for f in result.findings],
        "unknown": [f.to_dict() for f in result.unknown],
        "errors": [e.to_dict() for e in result.errors],
        "suppressed": [f.to_dict() for f in result.suppressed],
        "baselined": [f.to_dict() for f in result.baselined],
        "suppression_problems": [p.to_dict() for p in result.suppression_problems],
        "exempt": [e.to_dict() for e in result.exempt],
        "skipped": [s.to_dict() for s in result.skipped],
        "not_checked": [n.to_dict() for n in result.not_checked],
        "summary": result.summary(),
    }


def write(result: ScanResult, stream: TextIO) -> None:
    json.dump(as_dict(result), stream, indent=2)
    stream.write("\n")


def report(result: ScanResult, context: ReportContext, stream: TextIO) -> None:
    write(result, stream)
