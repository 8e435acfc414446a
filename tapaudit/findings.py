"""What a scan produces: severities, findings (and unknowns, which share their shape), errors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, name: str) -> Severity:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {name!r} (critical, high, medium, low)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


# GitHub code scanning buckets security-severity: >= 9 critical, 7-8.9 high, 4-6.9 medium, < 4 low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0",
                     Severity.MEDIUM: "5.5", Severity.LOW: "2.0"}


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    title: str
    message: str
    file: str
    line: int
    column: int
    resource: str
    resource_type: str
    cdk_path: str | None
    path: tuple[str | int, ...]
    checks: tuple[str, ...] = ()
    unknown: bool = False
    fingerprint: str = field(default="")

    def __post_init__(self) -> None:
        if not self.fingerprint:
            # Identity without line numbers: moving code around keeps the same finding.
            key = "\x00".join([self.rule_id, self.file, self.resource, "unknown" if self.unknown else "fail"])
            object.__setattr__(self, "fingerprint", hashlib.sha256(key.encode()).hexdigest()[:32])

    @property
    def sort_key(self) -> tuple:
        return (self.file, self.line, self.rule_id, self.resource, self.column)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.label,
            "title": self.title,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "resource": self.resource,
            "resource_type": self.resource_type,
            "cdk_path": self.cdk_path,
            "path": list(self.path),
            "checks": list(self.checks),
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class ScanError:
    file: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "message": self.message}


@dataclass
class ScanResult:
    templates: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unknown: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)

    def sort(self) -> None:
        self.templates.sort()
        self.findings.sort(key=lambda f: f.sort_key)
        self.unknown.sort(key=lambda f: f.sort_key)
        self.errors.sort(key=lambda e: (e.file, e.message))

    def summary(self) -> dict[str, int]:
        counts = {severity.label: 0 for severity in sorted(Severity, reverse=True)}
        for finding in self.findings:
            counts[finding.severity.label] += 1
        return counts
