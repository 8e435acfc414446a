"""What a scan produces: severities, findings (and unknowns, which share their shape), errors."""

from __future__ import annotations

import hashlib
from enum import IntEnum
from typing import Any

from msgspec import Struct, field
from msgspec.structs import force_setattr


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


class Suppression(Struct, frozen=True):
    """Why a finding does not count for the gate: a reason its author wrote, where, until when."""

    reason: str
    expires: str | None = None  # ISO date
    scope: str = "resource"  # "resource" | "template" | "cdk-acknowledgment"
    acknowledged_at: str | None = None  # the construct path of a CDK acknowledgment

    def to_dict(self) -> dict[str, Any]:
        data = {"reason": self.reason, "expires": self.expires, "scope": self.scope}
        if self.acknowledged_at is not None:
            data["acknowledged_at"] = self.acknowledged_at
        return data


class SuppressionProblem(Struct, frozen=True):
    """A suppression that suppresses nothing: no reason, unknown rule, malformed, expired, unused."""

    file: str
    resource: str | None  # None for a template-level suppression
    rule_id: str | None
    problem: str  # no-reason | unknown-rule | malformed | expired | unused
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "resource": self.resource, "rule_id": self.rule_id,
                "problem": self.problem, "detail": self.detail}


class Exemption(Struct, frozen=True):
    """A resource of a rule's types that the rule leaves out on purpose, and why."""

    rule_id: str
    file: str
    resource: str
    resource_type: str
    cdk_path: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "file": self.file, "resource": self.resource,
                "resource_type": self.resource_type, "cdk_path": self.cdk_path, "reason": self.reason}


class Skipped(Struct, frozen=True):
    """An input named on the command line that is not a template: noted, not an error."""

    file: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason}


class Checked(Struct, frozen=True):
    """One resource a rule looked at and judged (pass, fail or unknown): a JUnit test case."""

    rule_id: str
    file: str
    resource: str
    resource_type: str
    cdk_path: str | None


class NotChecked(Struct, frozen=True):
    """A resource a transform rewrites at deploy time in a way tapaudit cannot follow (a macro,
    an unexpandable Fn::ForEach, a SAM feature it does not know): reported, never passed."""

    file: str
    resource: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "resource": self.resource, "reason": self.reason}


# The rule id of invalid resources in SARIF and the other reports: not a rule, the input's shape.
INVALID_RULE_ID = "TAP000"
INVALID_TITLE = "CloudFormation rejects this resource's shape"


class Invalid(Struct, frozen=True):
    """A resource CloudFormation rejects for its shape (a value of the wrong JSON type where it or
    a rule reads): reported once, judged by no rule, and the scan exits 2."""

    file: str
    line: int
    column: int
    resource: str
    resource_type: str | None  # None when the Type itself is the problem
    path: str  # where the value is, e.g. `Properties.DistributionConfig.CacheBehaviors`
    expected: str  # "a list", "a mapping", "a string"
    found: str  # "a mapping", "null", "Ref (an intrinsic function)"
    cdk_path: str | None = None

    @property
    def message(self) -> str:
        return (f"{self.resource}: {self.path} is {self.found}, not {self.expected}: "
                "CloudFormation rejects the resource, so no rule checked it")

    @property
    def fingerprint(self) -> str:
        """Like a finding's: the same resource keeps it when lines move."""
        key = "\x00".join([INVALID_RULE_ID, self.file, self.resource, "invalid"])
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @property
    def line_text(self) -> str:
        """The entry as one report line (console, concise): `TAP000 file:line:col message`."""
        return f"{INVALID_RULE_ID} {self.location} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": INVALID_RULE_ID, "file": self.file, "line": self.line,
                "column": self.column, "resource": self.resource,
                "resource_type": self.resource_type, "cdk_path": self.cdk_path, "path": self.path,
                "expected": self.expected, "found": self.found, "message": self.message}


class Finding(Struct, frozen=True):
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
    fingerprint: str = ""
    # The rule's impact and the fix for this resource, apart from the one-sentence message.
    why: str = ""
    fix: str = ""
    # What could not be verified on this resource besides what failed (issue: unknowns never hidden).
    unverified: tuple[str, ...] = ()
    # The problems a message counts ("and 2 more problems") but has no room to name, in full.
    more: tuple[str, ...] = ()
    # Set on findings a suppression or a baseline took out of the gate.
    suppression: Suppression | None = None

    def __post_init__(self) -> None:
        if not self.fingerprint:
            # Identity without line numbers: moving code around keeps the same finding.
            key = "\x00".join([self.rule_id, self.file, self.resource, "unknown" if self.unknown else "fail"])
            # surrogatepass: a file name that is not UTF-8 reaches Python as a lone surrogate.
            digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
            force_setattr(self, "fingerprint", digest[:32])  # frozen, but set once here

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
            "why": self.why,
            "fix": self.fix,
            "unverified": list(self.unverified),
            "more": list(self.more),
            **({"suppression": self.suppression.to_dict()} if self.suppression else {}),
        }


class ScanError(Struct, frozen=True):
    file: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "message": self.message}


class FixOffer(Struct, frozen=True):
    """What `tapaudit fix --write` does for one finding: whether the edit clears it, and that edit
    as SARIF `fixes` (replacements by region of the file as written; empty when not fixable, or
    when its edit lies in a hunk an earlier finding of the file owns)."""

    fixable: bool
    fixes: tuple[dict[str, Any], ...] = ()


class ScanResult(Struct):
    templates: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # these count for the gate
    unknown: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)  # in-source suppressions, with reasons
    baselined: list[Finding] = field(default_factory=list)  # known from the baseline file
    suppression_problems: list[SuppressionProblem] = field(default_factory=list)
    exempt: list[Exemption] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)
    fixed: int = 0  # baseline entries that no longer match a finding
    baseline_in_use: bool = False
    checked: list[Checked] = field(default_factory=list)  # every resource judged, per rule
    invalid: list[Invalid] = field(default_factory=list)  # resources CloudFormation rejects
    # Finding fingerprint -> what `tapaudit fix` does for it; filled only when a report shows it
    # (pipeline.run(offer_fixes=True)). No entry: not fixable.
    fix_offers: dict[str, FixOffer] = field(default_factory=dict)

    def sort(self) -> None:
        self.templates.sort()
        for findings in (self.findings, self.unknown, self.suppressed, self.baselined):
            findings.sort(key=lambda f: f.sort_key)
        self.errors.sort(key=lambda e: (e.file, e.message))
        self.suppression_problems.sort(key=lambda p: (p.file, p.resource or "", p.rule_id or "",
                                                      p.problem))
        self.exempt.sort(key=lambda e: (e.file, e.rule_id, e.resource))
        self.skipped.sort(key=lambda s: s.file)
        self.checked.sort(key=lambda c: (c.rule_id, c.file, c.resource))
        self.not_checked.sort(key=lambda n: (n.file, n.resource))
        self.invalid.sort(key=lambda i: (i.file, i.line, i.resource))

    def summary(self) -> dict[str, int]:
        counts = {severity.label: 0 for severity in sorted(Severity, reverse=True)}
        for finding in self.findings:
            counts[finding.severity.label] += 1
        # Unknown resources: unverifiable ones, and failing ones with checks that could not be verified.
        unknown = len(self.unknown) + sum(1 for finding in self.findings if finding.unverified)
        counts.update(suppressed=len(self.suppressed), baselined=len(self.baselined),
                      unknown=unknown, fixed=self.fixed)
        return counts
