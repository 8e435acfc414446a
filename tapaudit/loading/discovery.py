"""Expand command-line inputs into template sources: files, folders, `-`, and CDK cloud assemblies."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from tapaudit.errors import InputError
from tapaudit.findings import ScanError

TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")
MAX_BYTES = 32 * 1024 * 1024
STDIN = "-"
_MAX_ASSEMBLY_DEPTH = 8  # stages nested in stages

# Never templates, whatever their suffix: CDK's own bookkeeping and common project files.
# Newer CDK versions write validation-plugin and telemetry reports into cdk.out beside the templates.
_NOT_TEMPLATES = {"tree.json", "validation-report.json", "cdk.json", "cdk.context.json",
                  "package.json", "package-lock.json", "tsconfig.json", "manifest.json",
                  "policy-validation-report.json", "performance-counters.json"}
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache"}


@dataclass(frozen=True)
class TemplateSource:
    """One template to scan. `display` is how reports name it."""

    display: str
    path: Path | None = None
    text: str | None = field(default=None, repr=False)  # standard input, already read
    explicit: bool = True  # named by the user: a non-template is an error, not a skip
    stack: str | None = None  # CDK stack artifact id, for assembly templates
    cdk_paths: tuple[tuple[str, str], ...] = ()  # (logical id, construct path) from the manifest


def display_name(path: Path) -> str:
    """A path relative to the working directory when it lies below it, as given otherwise."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_text(source: TemplateSource) -> str:
    """The source's text, or InputError for missing, huge, binary or undecodable files."""
    if source.text is not None:
        return source.text
    assert source.path is not None
    try:
        size = source.path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"file is {size / 1048576:.1f} MiB, over the {MAX_BYTES >> 20} MiB limit")
        raw = source.path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None
    return decode(raw)


def decode(raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise InputError("binary file, not a template")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})") from None


def discover(inputs: Iterable[str]) -> tuple[list[TemplateSource], list[ScanError]]:
    sources: list[TemplateSource] = []
    errors: list[ScanError] = []
    for raw in inputs:
        if raw == STDIN:
            try:
                text = decode(sys.stdin.buffer.read(MAX_BYTES + 1))
            except InputError as exc:
                errors.append(ScanError("<stdin>", str(exc)))
                continue
            sources.append(TemplateSource("<stdin>", text=text))
            continue
        path = Path(raw)
        if path.is_dir():
            if is_assembly(path):
                _add_assembly(path, sources, errors)
            else:
                _walk_folder(path, sources, errors)
        elif path.is_file():
            if path.name == "manifest.json" and is_assembly(path.parent):
                _add_assembly(path.parent, sources, errors)
            else:
                sources.append(_named_file(path))
        else:
            errors.append(ScanError(raw, "no such file or directory"))
    return _unique(sources), errors


def _named_file(path: Path) -> TemplateSource:
    """A file named on its own. When it is a template of a cloud assembly (a CDK validation plugin
    is given template paths), it keeps its stack id and construct paths, so baselines, construct
    paths and fixes are the same as when the whole assembly is scanned."""
    if path.name.endswith(".template.json") and is_assembly(path.parent):
        siblings: list[TemplateSource] = []
        _add_assembly(path.parent, siblings, [], depth=_MAX_ASSEMBLY_DEPTH)  # this folder only
        target = path.resolve()
        for source in siblings:
            if source.path is not None and source.path.resolve() == target:
                return replace(source, display=display_name(path))
    return TemplateSource(display_name(path), path=path)


def _unique(sources: list[TemplateSource]) -> list[TemplateSource]:
    seen: set[str] = set()
    unique = []
    for source in sources:
        key = str(source.path.resolve()) if source.path else source.display
        if key not in seen:
            seen.add(key)
            unique.append(source)
    return unique


def _walk_folder(root: Path, sources: list[TemplateSource], errors: list[ScanError]) -> None:
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here != root and is_assembly(here):
            _add_assembly(here, sources, errors)
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("asset."))
        for name in sorted(files):
            if _is_candidate(name):
                path = here / name
                sources.append(TemplateSource(display_name(path), path=path, explicit=False))


def _is_candidate(name: str) -> bool:
    lower = name.lower()
    return (lower.endswith(TEMPLATE_SUFFIXES) and lower not in _NOT_TEMPLATES
            and not lower.endswith((".assets.json", ".metadata.json")))


def is_assembly(folder: Path) -> bool:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        return "artifacts" in _read_json(manifest) or (folder / "tree.json").exists()
    except InputError:
        return False


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(decode(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read cloud assembly manifest: {exc}") from None
    if not isinstance(data, dict):
        raise InputError("cloud assembly manifest is not a JSON object")
    return data


def _add_assembly(folder: Path, sources: list[TemplateSource], errors: list[ScanError],
                  depth: int = 0) -> None:
    manifest_path = folder / "manifest.json"
    try:
        manifest = _read_json(manifest_path)
    except InputError as exc:
        errors.append(ScanError(display_name(manifest_path), str(exc)))
        return
    artifacts = manifest.get("artifacts") or {}
    if not isinstance(artifacts, dict):
        errors.append(ScanError(display_name(manifest_path), "`artifacts` is not an object"))
        return
    for artifact_id, artifact in sorted(artifacts.items()):
        if not isinstance(artifact, dict):
            continue
        props = artifact.get("properties") or {}
        kind = artifact.get("type")
        if kind == "cdk:cloud-assembly" and depth < _MAX_ASSEMBLY_DEPTH and props.get("directoryName"):
            nested = folder / str(props["directoryName"])
            if nested.is_dir():
                _add_assembly(nested, sources, errors, depth + 1)
        elif kind == "aws:cloudformation:stack" and props.get("templateFile"):
            template = folder / str(props["templateFile"])
            if not template.is_file():
                errors.append(ScanError(display_name(template),
                                        f"template of stack {artifact_id} is missing"))
                continue
            paths = tuple(sorted(_construct_paths(folder, artifact).items()))
            sources.append(TemplateSource(display_name(template), path=template,
                                          stack=artifact_id, cdk_paths=paths))
            for nested_template in nested_templates(folder, template):
                sources.append(TemplateSource(display_name(nested_template), path=nested_template,
                                              stack=artifact_id))


def _construct_paths(folder: Path, artifact: dict) -> dict[str, str]:
    """Logical id -> construct path, from the manifest's metadata or its side file."""
    metadata = artifact.get("metadata")
    side_file = artifact.get("additionalMetadataFile")
    if not metadata and side_file:
        try:
            metadata = _read_json(folder / str(side_file))
        except InputError:
            metadata = None
    paths: dict[str, str] = {}
    if isinstance(metadata, dict):
        for construct_path, entries in metadata.items():
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, dict) and entry.get("type") == "aws:cdk:logicalId":
                    paths.setdefault(str(entry.get("data")), construct_path.lstrip("/"))
    return paths


def nested_templates(folder: Path, template: Path) -> list[Path]:
    """Nested stack templates of a stack: named by `aws:asset:path` on its AWS::CloudFormation::Stack
    resources (the CDK CLI's asset metadata), or listed as `*.nested.template.json` file assets in
    the stack's `*.assets.json` (always written, so a plain `python app.py` synth has them too)."""
    found = _nested_from_metadata(folder, template)
    for candidate in _nested_from_assets(folder, template):
        if candidate not in found:
            found.append(candidate)
    return found


def _nested_from_metadata(folder: Path, template: Path) -> list[Path]:
    try:
        text = template.read_text(encoding="utf-8")
        if "aws:asset:path" not in text:
            return []
        resources = json.loads(text).get("Resources") or {}
    except (OSError, ValueError, AttributeError):
        return []  # the template itself is scanned and reports its own error
    found = []
    for resource in resources.values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::CloudFormation::Stack":
            asset = (resource.get("Metadata") or {}).get("aws:asset:path")
            if isinstance(asset, str) and asset.endswith(TEMPLATE_SUFFIXES):
                candidate = folder / asset
                if candidate.is_file():
                    found.append(candidate)
    return found


def _nested_from_assets(folder: Path, template: Path) -> list[Path]:
    manifest = template.with_name(template.name.removesuffix(".template.json") + ".assets.json")
    if manifest == template or not manifest.is_file():
        return []
    try:
        files = _read_json(manifest).get("files") or {}
    except InputError:
        return []
    found = []
    for asset in files.values() if isinstance(files, dict) else ():
        source = asset.get("source") if isinstance(asset, dict) else None
        path = source.get("path") if isinstance(source, dict) else None
        if isinstance(path, str) and path.endswith(".nested.template.json"):
            candidate = folder / path
            if candidate.is_file() and candidate.resolve().parent == folder.resolve():
                found.append(candidate)
    return sorted(found)
