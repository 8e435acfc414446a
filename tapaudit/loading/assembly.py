"""CDK cloud assemblies (`cdk.out`): the stack templates their manifests name.

A manifest under review is untrusted input. Every file it names (`templateFile`,
`additionalMetadataFile`, `directoryName` of a nested assembly, a nested stack's
`aws:asset:path`) must lie inside the assembly's folder once symlinks are resolved; anything else
is an error naming the manifest entry, and the file is never read. `Assemblies` reads each
manifest once per run, so naming every template of a 50-stack assembly (the CDK plugin does)
costs one manifest read, not fifty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from tapaudit.errors import InputError
from tapaudit.findings import ScanError
from tapaudit.loading.quoting import excerpt
from tapaudit.loading.reading import display_name, not_regular, read_bounded, special_kind

MAX_DEPTH = 8  # stages nested in stages
TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")
LOGICAL_ID = "aws:cdk:logicalId"  # metadata entry: the construct that made a logical id
ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"  # metadata entry: Validations.acknowledge()

AcknowledgmentEntries = tuple[tuple[str, str, str], ...]  # (construct path, rule name as recorded, reason)


class StackTemplate(Struct, frozen=True):
    path: Path
    stack: str  # the stack artifact's id
    cdk_paths: tuple[tuple[str, str], ...] = ()  # (logical id, construct path) from the manifest
    acknowledged: AcknowledgmentEntries = ()  # the stack's validation acknowledgments, from the manifest
    real: Path | None = None  # `path` with symlinks resolved, when known


class Assembly(Struct):
    templates: list[StackTemplate] = field(default_factory=list)
    errors: list[tuple[str | None, ScanError]] = field(default_factory=list)  # (stack id, error)

    _by_path: dict[Path, StackTemplate] | None = None

    def error(self, stack: str | None, file: Path, message: str) -> None:
        self.errors.append((stack, ScanError(display_name(file), message)))

    def template_at(self, path: Path) -> StackTemplate | None:
        """The template of this assembly at `path` (symlinks resolved), or None."""
        if self._by_path is None:
            self._by_path = {}
            for template in self.templates:
                self._by_path.setdefault(template.path.resolve(), template)
        return self._by_path.get(path.resolve())


class Assemblies:
    """The cloud assemblies of one run, each manifest read once."""

    def __init__(self) -> None:
        self._manifests: dict[Path, dict | InputError] = {}
        self._assemblies: dict[Path, Assembly] = {}

    def manifest(self, folder: Path) -> dict:
        """The folder's parsed `manifest.json`; InputError when it cannot be read."""
        key = folder.resolve()
        if key not in self._manifests:
            try:
                self._manifests[key] = read_manifest(folder / "manifest.json")
            except InputError as exc:
                self._manifests[key] = exc
        found = self._manifests[key]
        if isinstance(found, InputError):
            raise found
        return found

    def is_assembly(self, folder: Path) -> bool:
        if not (folder / "manifest.json").is_file():
            return False
        try:
            return "artifacts" in self.manifest(folder) or (folder / "tree.json").exists()
        except InputError:
            return False

    def read(self, folder: Path) -> Assembly:
        """The templates of the assembly in `folder` and its nested assemblies, and the errors
        of their manifests."""
        key = folder.resolve()
        if key not in self._assemblies:
            assembly = Assembly()
            self._add(folder, assembly, depth=0, seen=frozenset())
            self._assemblies[key] = assembly
        return self._assemblies[key]

    def _add(self, folder: Path, assembly: Assembly, depth: int, seen: frozenset[Path]) -> None:
        """`seen`: the folders of the assemblies this one is nested in (a loop ends there)."""
        manifest_path = folder / "manifest.json"
        root = folder.resolve()  # once per assembly: each file it names is checked against it
        seen = seen | {root}
        try:
            manifest = self.manifest(folder)
        except InputError as exc:
            assembly.error(None, manifest_path, str(exc))
            return
        artifacts = manifest.get("artifacts") or {}
        if not isinstance(artifacts, dict):
            assembly.error(None, manifest_path, "`artifacts` is not an object")
            return
        for artifact_id, artifact in sorted(artifacts.items()):
            where = f"artifact {excerpt(artifact_id)}"
            props = artifact.get("properties") if isinstance(artifact, dict) else None
            if not isinstance(artifact, dict) or not isinstance(props or {}, dict):
                what = "`properties`" if isinstance(artifact, dict) else "the artifact"
                assembly.error(None, manifest_path, f"{where}: {what} is not an object; not read")
                continue
            props = props or {}
            kind = artifact.get("type")
            try:
                if kind == "cdk:cloud-assembly" and props.get("directoryName"):
                    self._add_nested(folder, root, props["directoryName"], assembly, depth, seen)
                elif kind == "aws:cloudformation:stack" and props.get("templateFile"):
                    self._add_stack(folder, root, artifact_id, artifact, props, assembly)
            except InputError as exc:
                stack = artifact_id if kind == "aws:cloudformation:stack" else None
                assembly.error(stack, manifest_path, f"{where}: {exc}")

    def _add_nested(self, folder: Path, root: Path, name: object, assembly: Assembly, depth: int,
                    seen: frozenset[Path]) -> None:
        nested = inside(folder, name, "directoryName", root)
        if nested.resolve() in seen:
            raise InputError(f"directoryName {excerpt(name)} nests the assembly in itself")
        if depth >= MAX_DEPTH:
            raise InputError(f"nested cloud assemblies deeper than {MAX_DEPTH} levels")
        if not nested.is_dir():
            raise InputError(f"nested assembly folder {excerpt(name)} is missing")
        self._add(nested, assembly, depth + 1, seen)

    def _add_stack(self, folder: Path, root: Path, artifact_id: str, artifact: dict, props: dict,
                   assembly: Assembly) -> None:
        template, real = contained(folder, props["templateFile"], "templateFile", root)
        try:
            kind = special_kind(template.stat().st_mode)
        except OSError:
            assembly.error(artifact_id, template, f"template of stack {excerpt(artifact_id)} is missing")
            return
        if kind is not None:
            assembly.error(artifact_id, template, not_regular(kind))
            return
        try:
            metadata = _stack_metadata(folder, root, artifact)
        except InputError as exc:  # scanned all the same, without construct paths
            assembly.error(artifact_id, folder / "manifest.json", f"artifact {excerpt(artifact_id)}: {exc}")
            metadata = None
        paths = tuple(sorted(_construct_paths(metadata).items()))
        acknowledged = acknowledged_in(metadata)
        assembly.templates.append(StackTemplate(template, artifact_id, paths, acknowledged, real))
        found, problems = _nested_templates(folder, template, root)
        # A nested stack's resources are constructs of its parent's artifact: the same acknowledgments.
        assembly.templates.extend(StackTemplate(path, artifact_id, acknowledged=acknowledged)
                                  for path in found)
        for problem in problems:
            assembly.error(artifact_id, template, problem)


def read_manifest(path: Path) -> dict:
    try:
        data = json.loads(read_bounded(path).decode("utf-8-sig"))
    except InputError as exc:
        raise InputError(f"cannot read cloud assembly manifest: {exc}") from None
    except ValueError as exc:  # invalid JSON or UTF-8
        raise InputError(f"cannot read cloud assembly manifest: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise InputError("cloud assembly manifest is not a JSON object")
    return data


def inside(folder: Path, name: object, entry: str, root: Path | None = None) -> Path:
    """`folder / name` when it is a relative path that stays inside `folder` after symlinks;
    InputError naming the manifest entry otherwise. `root`: `folder` resolved, when known."""
    return contained(folder, name, entry, root)[0]


def contained(folder: Path, name: object, entry: str, root: Path | None = None) -> tuple[Path, Path]:
    """What `inside` returns, and the same path with its symlinks resolved."""
    if not isinstance(name, str):
        raise InputError(f"{entry} is not a string")
    path = folder / name
    try:
        resolved = path.resolve()
        within = resolved.is_relative_to(root or folder.resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL in the name
        within = False
    if not within:
        raise InputError(f"{entry} {excerpt(name)} is outside the cloud assembly's folder; not read")
    return path, resolved


def _stack_metadata(folder: Path, root: Path, artifact: dict) -> dict | None:
    """The stack artifact's construct metadata ({construct path: [entries]}): inline in the
    manifest or in the side file it names; None when the side file cannot be read."""
    metadata = artifact.get("metadata")
    side_file = artifact.get("additionalMetadataFile")
    if not metadata and side_file:
        path = inside(folder, side_file, "additionalMetadataFile", root)
        try:
            metadata = read_manifest(path)
        except InputError:  # only construct paths are lost; the template is scanned all the same
            return None
    return metadata if isinstance(metadata, dict) else None


def _entries(metadata: Any, kind: str) -> Iterator[tuple[str, Any]]:
    """(construct path, data) of each metadata entry of type `kind`."""
    for construct_path, entries in metadata.items() if isinstance(metadata, dict) else ():
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and entry.get("type") == kind:
                yield str(construct_path), entry.get("data")


def _construct_paths(metadata: dict | None) -> dict[str, str]:
    """Logical id -> construct path."""
    paths: dict[str, str] = {}
    for construct_path, logical_id in _entries(metadata, LOGICAL_ID):
        paths.setdefault(str(logical_id), construct_path.lstrip("/"))
    return paths


def acknowledged_in(metadata: Any) -> AcknowledgmentEntries:
    """Every acknowledgment construct metadata records: (construct path, rule name, reason)."""
    return tuple((construct_path.strip("/"), name, reason if isinstance(reason, str) else "")
                 for construct_path, data in _entries(metadata, ACKNOWLEDGED_RULES)
                 if isinstance(data, dict)
                 for name, reason in data.items() if isinstance(name, str))


def nested_templates(folder: Path, template: Path) -> list[Path]:
    """Nested stack templates of a stack: named by `aws:asset:path` on its AWS::CloudFormation::Stack
    resources (the CDK CLI's asset metadata), or listed as `*.nested.template.json` file assets in
    the stack's `*.assets.json` (always written, so a plain `python app.py` synth has them too).
    Paths outside `folder` are left out (scanning the assembly reports them)."""
    return _nested_templates(folder, template)[0]


def _nested_templates(folder: Path, template: Path,
                      root: Path | None = None) -> tuple[list[Path], list[str]]:
    found, problems = _nested_from_metadata(folder, template, root)
    for candidate in _nested_from_assets(folder, template, root):
        if candidate not in found:
            found.append(candidate)
    return found, problems


def _nested_from_metadata(folder: Path, template: Path,
                          root: Path | None = None) -> tuple[list[Path], list[str]]:
    try:
        raw = read_bounded(template)
        if b"aws:asset:path" not in raw:  # most stacks: not decoded, not parsed here
            return [], []
        resources = json.loads(raw.decode("utf-8")).get("Resources") or {}
    except (InputError, ValueError, AttributeError):
        return [], []  # the template itself is scanned and reports its own error
    found: list[Path] = []
    problems: list[str] = []
    for logical_id, resource in resources.items() if isinstance(resources, dict) else ():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::CloudFormation::Stack":
            metadata = resource.get("Metadata")
            asset = metadata.get("aws:asset:path") if isinstance(metadata, dict) else None
            if isinstance(asset, str) and asset.endswith(TEMPLATE_SUFFIXES):
                try:
                    candidate = inside(folder, asset, "aws:asset:path", root)
                except InputError as exc:
                    problems.append(f"nested stack {excerpt(logical_id)}: {exc}")
                    continue
                if candidate.is_file():
                    found.append(candidate)
    return found, problems


def _nested_from_assets(folder: Path, template: Path, root: Path | None = None) -> list[Path]:
    manifest = template.with_name(template.name.removesuffix(".template.json") + ".assets.json")
    if manifest == template or not manifest.is_file():
        return []
    try:
        files = read_manifest(manifest).get("files") or {}
    except InputError:
        return []
    found = []
    for asset in files.values() if isinstance(files, dict) else ():
        source = asset.get("source") if isinstance(asset, dict) else None
        path = source.get("path") if isinstance(source, dict) else None
        if isinstance(path, str) and path.endswith(".nested.template.json"):
            candidate = folder / path
            if candidate.is_file() and candidate.resolve().parent == (root or folder.resolve()):
                found.append(candidate)
    return sorted(found)
