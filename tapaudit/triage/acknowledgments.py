"""CDK acknowledgments, honoured by the scan as they are by `cdk synth` with the plugin.

`Validations.of(scope).acknowledge(Acknowledgment(id="tapaudit::TAP006", reason=...))` is recorded
by CDK as construct metadata of type `aws:cdk:acknowledged-rules` (`{"tapaudit::TAP006": reason}`)
on the acknowledging construct, in its stack artifact's metadata (inline in manifest.json, or in
the file its `additionalMetadataFile` names). The cloud assembly's reader keeps them on each
stack's template source as it reads the manifest, once per run. As at synth, the closest
acknowledgment at or above a resource's construct path suppresses that rule's finding there.
CDK records acknowledgments made at or below a stack only: one on the App or a Stage is in no
artifact, so it holds inside synth alone (the plugin says so; `tapaudit.cdk.suppress` is what
holds everywhere).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msgspec.structs import replace

from tapaudit.findings import Finding, ScanResult, Suppression
from tapaudit.loading.assembly import acknowledged_in
from tapaudit.loading.discovery import TemplateSource

NAMESPACE = "tapaudit::"  # the plugin's name: CDK prefixes its rule names with it
SCOPE = "cdk-acknowledgment"  # Suppression.scope of a finding a CDK acknowledgment set aside

Acknowledged = dict[str, dict[str, str]]  # rule id -> {construct path: reason}


def recorded(metadata: Any) -> Acknowledged:
    """The tapaudit acknowledgments in construct metadata ({construct path: [entries]})."""
    return ours(acknowledged_in(metadata))


def ours(entries: Iterable[tuple[str, str, str]]) -> Acknowledged:
    """The tapaudit acknowledgments among (construct path, rule name, reason) entries, as the
    cloud assembly's reader keeps them on each stack's template source."""
    found: Acknowledged = {}
    for path, name, reason in entries:
        if name.startswith(NAMESPACE):
            found.setdefault(name.removeprefix(NAMESPACE), {})[path] = reason
    return found


def closest(acknowledged: Acknowledged, rule_id: str, cdk_path: str | None) -> tuple[str, str] | None:
    """(construct path, reason) of the acknowledgment nearest above `cdk_path`, as CDK finds it."""
    paths = acknowledged.get(rule_id)
    if not paths or not cdk_path:
        return None
    path = cdk_path.strip("/")
    while True:
        if path in paths:
            return path, paths[path]
        if not path:
            return None
        path = path.rpartition("/")[0]


def apply(result: ScanResult, sources: Iterable[TemplateSource]) -> None:
    """Move findings and unknowns that a recorded acknowledgment covers to `suppressed`."""
    by_display = {source.display: found for source in sources
                  if source.acknowledged and (found := ours(source.acknowledged))}
    if not by_display:
        return

    def triage(items: list[Finding]) -> list[Finding]:
        kept = []
        for finding in items:
            hit = closest(by_display.get(finding.file, {}), finding.rule_id, finding.cdk_path)
            if hit is None:
                kept.append(finding)
            else:
                at, reason = hit
                result.suppressed.append(replace(finding, suppression=Suppression(
                    reason, scope=SCOPE, acknowledged_at=at)))
        return kept

    result.findings, result.unknown = triage(result.findings), triage(result.unknown)
