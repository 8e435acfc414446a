"""The gate: which exit code a scan earns, and why, in words for the console's last line."""

from __future__ import annotations

from tapaudit.findings import ScanResult, Severity

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

# What `--fail-on` and `fail_on` accept: a severity, highest first, or none (nothing fails).
GATE_LEVELS: tuple[str, ...] = (*(severity.label for severity in sorted(Severity, reverse=True)), "none")


def decide(result: ScanResult, fail_on: str, strict_suppressions: bool = False,
           allow_no_templates: bool = False) -> tuple[int, str]:
    """(exit code, reason). Errors and invalid resources win over findings; suppressed and baselined
    findings never count. `allow_no_templates` is for hooks that get whatever files a commit touches."""
    if result.errors or result.invalid:
        n, m = len(result.errors), len(result.invalid)
        why = [f"{n} input{'s' if n != 1 else ''} could not be scanned"] if n else []
        why += [f"{m} invalid resource{'s' if m != 1 else ''} (CloudFormation rejects "
                f"{'their' if m != 1 else 'its'} shape)"] if m else []
        return EXIT_ERROR, f"exit 2: {'; '.join(why)}"
    if not result.templates:
        if allow_no_templates:
            return EXIT_OK, "exit 0: no templates among the inputs (--allow-no-templates)"
        return EXIT_ERROR, "exit 2: no templates found"
    if fail_on != "none":
        over = [f for f in result.findings if reaches_gate(f.severity, fail_on)]
        if over:
            counts: dict[str, int] = {}
            for finding in over:
                counts[finding.severity.label] = counts.get(finding.severity.label, 0) + 1
            parts = ", ".join(f"{n} {label}" for label, n in
                              sorted(counts.items(), key=lambda kv: -Severity.parse(kv[0])))
            total = len(over)
            return EXIT_FINDINGS, (f"exit 1: {parts} finding{'s' if total != 1 else ''} at or above "
                                   f"--fail-on {fail_on}")
    if strict_suppressions and result.suppression_problems:
        n = len(result.suppression_problems)
        return EXIT_FINDINGS, (f"exit 1: {n} suppression problem{'s' if n != 1 else ''} "
                               "with --strict-suppressions")
    return EXIT_OK, f"exit 0: no finding at or above --fail-on {fail_on}"


def reaches_gate(severity: Severity, fail_on: str) -> bool:
    """Whether a finding of this severity fails a scan gated at `fail_on` (none: nothing does)."""
    return fail_on != "none" and severity >= Severity.parse(fail_on)
