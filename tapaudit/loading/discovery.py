"""Expand command-line inputs into template sources: files, folders, `-`, and CDK cloud assemblies."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

from msgspec import Struct

from tapaudit.errors import InputError
from tapaudit.findings import ScanError
from tapaudit.loading.assembly import (
    TEMPLATE_SUFFIXES,
    AcknowledgmentEntries,
    Assemblies,
    Assembly,
    StackTemplate,
    nested_templates,
)
from tapaudit.loading.reading import MAX_BYTES, decode, display_name, not_regular, read_bounded, special_kind

__all__ = ["MAX_BYTES", "STDIN", "TemplateSource", "decode", "discover", "display_name",
           "nested_templates", "read_text"]

STDIN = "-"

# Never templates, whatever their suffix: CDK's own bookkeeping and common project files.
# Newer CDK versions write validation-plugin and telemetry reports into cdk.out beside the templates.
_NOT_TEMPLATES = {"tree.json", "validation-report.json", "cdk.json", "cdk.context.json",
                  "package.json", "package-lock.json", "tsconfig.json", "manifest.json",
                  "policy-validation-report.json", "performance-counters.json"}
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache"}


class TemplateSource(Struct, frozen=True):
    """One template to scan. `display` is how reports name it."""

    display: str
    path: Path | None = None
    text: str | None = None  # standard input, already read
    explicit: bool = True  # named by the user: a non-template is an error, not a skip
    stack: str | None = None  # CDK stack artifact id, for assembly templates
    cdk_paths: tuple[tuple[str, str], ...] = ()  # (logical id, construct path) from the manifest
    acknowledged: AcknowledgmentEntries = ()  # the stack's CDK validation acknowledgments, from the manifest
    real: Path | None = None  # path, symlinks resolved


def read_text(source: TemplateSource) -> str:
    """The source's text, or InputError for missing, special, huge, binary or undecodable files."""
    if source.text is not None:
        return source.text
    assert source.path is not None
    return decode(read_bounded(source.path))


def discover(inputs: Iterable[str]) -> tuple[list[TemplateSource], list[ScanError]]:
    sources: list[TemplateSource] = []
    errors: list[ScanError] = []
    assemblies = Assemblies()  # each manifest read once, however many of its templates are named
    for raw in inputs:
        if raw == STDIN:
            try:
                sources.append(TemplateSource("<stdin>", text=_read_stdin()))
            except InputError as exc:
                errors.append(ScanError("<stdin>", str(exc)))
            continue
        path = Path(raw)
        if path.is_dir():
            if assemblies.is_assembly(path):
                _add_assembly(assemblies.read(path), sources, errors)
            else:
                _walk_folder(path, sources, errors, assemblies)
        elif path.is_file():
            if path.name == "manifest.json" and assemblies.is_assembly(path.parent):
                _add_assembly(assemblies.read(path.parent), sources, errors)
            else:
                sources.append(_named_file(path, assemblies, errors))
        else:
            errors.append(ScanError(raw, _missing_or_special(path)))
    return _unique(sources), errors


def _read_stdin() -> str:
    raw = sys.stdin.buffer.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise InputError(f"standard input is over the {MAX_BYTES >> 20} MiB limit")
    return decode(raw)


def _missing_or_special(path: Path) -> str:
    """Why a path that is neither a folder nor a regular file cannot be scanned."""
    try:
        kind = special_kind(os.stat(path).st_mode)
    except OSError as exc:
        return "no such file or directory" if isinstance(exc, FileNotFoundError) else (
            f"cannot read: {exc.strerror or exc}")
    return not_regular(kind or "a special file")


def _named_file(path: Path, assemblies: Assemblies, errors: list[ScanError]) -> TemplateSource:
    """A file named on its own. When it is a template of a cloud assembly (a CDK validation plugin
    is given template paths), it keeps its stack id and construct paths, so baselines, construct
    paths and fixes are the same as when the whole assembly is scanned; the errors of its stack's
    manifest entries are reported with it."""
    if path.name.endswith(".template.json") and assemblies.is_assembly(path.parent):
        assembly = assemblies.read(path.parent)
        found = assembly.template_at(path)
        if found is not None:
            errors.extend(error for stack, error in assembly.errors
                          if stack == found.stack and error not in errors)
            return _stack_source(found, display_name(path))
    return TemplateSource(display_name(path), path=path)


def _add_assembly(assembly: Assembly, sources: list[TemplateSource], errors: list[ScanError]) -> None:
    sources.extend(_stack_source(t, display_name(t.path, real=t.real)) for t in assembly.templates)
    errors.extend(error for _, error in assembly.errors)


def _stack_source(template: StackTemplate, display: str) -> TemplateSource:
    return TemplateSource(display, path=template.path, stack=template.stack,
                          cdk_paths=template.cdk_paths, acknowledged=template.acknowledged,
                          real=template.real)


def _unique(sources: list[TemplateSource]) -> list[TemplateSource]:
    seen: set[str] = set()
    unique = []
    for source in sources:
        key = str(source.real or source.path.resolve()) if source.path else source.display
        if key not in seen:
            seen.add(key)
            unique.append(source)
    return unique


def _walk_folder(root: Path, sources: list[TemplateSource], errors: list[ScanError],
                 assemblies: Assemblies) -> None:
    """Every candidate template below `root`. A folder that cannot be listed and a candidate that
    is not a regular file (a FIFO, `x.json -> /dev/zero`) are errors; neither is opened."""
    def unlisted(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        errors.append(ScanError(display_name(where), f"cannot read folder: {exc.strerror or exc}"))

    for folder, dirs, files in os.walk(root, onerror=unlisted):
        here = Path(folder)
        if here != root and assemblies.is_assembly(here):
            _add_assembly(assemblies.read(here), sources, errors)
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("asset."))
        for name in sorted(files):
            if _is_candidate(name):
                path = here / name
                problem = _not_regular_file(path)
                if problem:
                    errors.append(ScanError(display_name(path), problem))
                else:
                    sources.append(TemplateSource(display_name(path), path=path, explicit=False))


def _not_regular_file(path: Path) -> str | None:
    try:
        kind = special_kind(path.stat().st_mode)
    except OSError as exc:  # a dangling symlink
        return f"cannot read: {exc.strerror or exc}"
    return not_regular(kind) if kind else None


def _is_candidate(name: str) -> bool:
    lower = name.lower()
    return (lower.endswith(TEMPLATE_SUFFIXES) and lower not in _NOT_TEMPLATES
            and not lower.endswith((".assets.json", ".metadata.json")))
