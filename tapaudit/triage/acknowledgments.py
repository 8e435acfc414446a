"""CDK acknowledgments, honoured by the scan as they are by `cdk synth` with the plugin.

`Validations.of(scope).acknowledge(Acknowledgment(id="tapaudit::TAP006", reason=...))` is recorded
by CDK as construct metadata of type `aws:cdk:acknowledged-rules` (`{"tapaudit::TAP006": reason}`)
on the acknowledging construct, in its stack artifact's metadata (inline in manifest.json, or in
the file its `additionalMetadataFile` names). As at synth, the closest acknowledgment at or above
a resource's construct path suppresses that rule's finding there. CDK records acknowledgments made
at or below a stack only: one on the App or a Stage is in no artifact, so it holds inside synth
alone (the plugin says so; `tapaudit.cdk.suppress` is what holds everywhere).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tapaudit.findings import Finding, ScanResult, Suppression
from tapaudit.loading.discovery import MAX_BYTES, TemplateSource

METADATA_TYPE = "aws:cdk:acknowledged-rules"
NAMESPACE = "tapaudit::"  # the plugin's name: CDK prefixes its rule names with it
SCOPE = "cdk-acknowledgment"  # Suppression.scope of a finding a CDK acknowledgment set aside

Acknowledged = dict[str, dict[str, str]]  # rule id -> {construct path: reason}


def recorded(metadata: Any) -> Acknowledged:
    """The tapaudit acknowledgments in a stack artifact's metadata ({construct path: [entries]})."""
    found: Acknowledged = {}
    for path, entries in metadata.items() if isinstance(metadata, dict) else ():
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict) or entry.get("type") != METADATA_TYPE \
                    or not isinstance(entry.get("data"), dict):
                continue
            data = entry["data"]
            for ack_id, reason in data.items():
                if isinstance(ack_id, str) and ack_id.startswith(NAMESPACE):
                    found.setdefault(ack_id.removeprefix(NAMESPACE), {})[str(path).strip("/")] = \
                        reason if isinstance(reason, str) else ""
    return found


def read(folder: Path, stack: str) -> Acknowledged:
    """The acknowledgments recorded for `stack` in the cloud assembly at `folder`; none when its
    metadata cannot be read (the findings then stay, nothing passes by it)."""
    manifest = _json(folder / "manifest.json", folder)
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    artifact = artifacts.get(stack) if isinstance(artifacts, dict) else None
    if not isinstance(artifact, dict):
        return {}
    metadata = artifact.get("metadata")
    side_file = artifact.get("additionalMetadataFile")
    if not metadata and isinstance(side_file, str):
        metadata = _json(folder / side_file, folder)
    return recorded(metadata)


def _json(path: Path, folder: Path) -> Any:
    """A JSON file of the assembly: inside its folder (after symlinks), a regular file within the
    size limit; None otherwise."""
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(folder.resolve()) or not resolved.is_file() \
                or resolved.stat().st_size > MAX_BYTES:
            return None
        return json.loads(resolved.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


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
    by_display: dict[str, Acknowledged] = {}
    read_once: dict[tuple[Path, str], Acknowledged] = {}
    for source in sources:
        if source.stack and source.path is not None:
            where = (source.path.parent, source.stack)
            if where not in read_once:
                read_once[where] = read(*where)
            if read_once[where]:
                by_display[source.display] = read_once[where]
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
