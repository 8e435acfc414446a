"""Sentences several reports share: the count line and how a finding was suppressed."""

from __future__ import annotations

from tapaudit.findings import Finding, ScanResult, Severity


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def suppressed_how(finding: Finding) -> str:
    """'suppressed for the whole template until 2027-01-01: <reason>' (the reason as written)."""
    s = finding.suppression
    if s is None:
        return "suppressed: no reason given"
    scope = "for the whole template" if s.scope == "template" else "on the resource"
    until = f" until {s.expires}" if s.expires else ""
    return f"suppressed {scope}{until}: {s.reason}"


def _not_checked(result: ScanResult) -> str:
    """', 3 resources not checked (macro AWS::Include rewrites this template at deploy time)'."""
    reasons: dict[str, int] = {}
    for entry in result.not_checked:
        reason = entry.reason.removeprefix("not checked: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    shown = "; ".join(sorted(reasons, key=lambda r: -reasons[r])[:2])
    more = f"; {len(reasons) - 2} more reasons" if len(reasons) > 2 else ""
    return f", {_plural(len(result.not_checked), 'resource')} not checked ({shown}{more})"


def summary_line(result: ScanResult) -> str:
    """'6 findings (1 high, 4 medium, 1 low) in 2 templates, 1 suppressed, 2 unverifiable, ...'."""
    counts = result.summary()
    parts = ", ".join(f"{counts[s.label]} {s.label}" for s in sorted(Severity, reverse=True)
                      if counts[s.label])
    summary = (_plural(len(result.findings), "finding") + (f" ({parts})" if parts else "")
               + f" in {_plural(len(result.templates), 'template')}")
    if result.suppressed:
        summary += f", {len(result.suppressed)} suppressed"
    if result.baseline_in_use:
        summary += f", {len(result.baselined)} baselined, {result.fixed} fixed since baseline"
    if counts["unknown"]:
        summary += f", {counts['unknown']} unverifiable"
    if result.exempt:
        summary += f", {len(result.exempt)} out of scope (exempt)"
    if result.errors:
        summary += f", {_plural(len(result.errors), 'input')} not scanned"
    if result.invalid:
        summary += f", {_plural(len(result.invalid), 'invalid resource')}"
    if result.not_checked:
        summary += _not_checked(result)
    return summary
