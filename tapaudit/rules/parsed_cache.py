"""Rule files as parsed data, cached as JSON by the hash of their text.

Importing PyYAML and parsing the rule files costs ~25 ms, a fifth of a whole scan of a JSON
template; with the cache a run reads a few kilobytes of JSON instead and never imports PyYAML.
The key is the file's content, tapaudit's version and this format's version, so an edited rule
file is re-read on its next use. The cache is only an optimisation: any failure to read or write
it is ignored, and the loader re-parses a rule file whose cached entry it cannot build
(`load(..., fresh=True)`).

Location: $TAPAUDIT_CACHE_DIR, else $XDG_CACHE_HOME/tapaudit, else ~/.cache/tapaudit;
TAPAUDIT_CACHE_DIR=off turns it off. Like Python's own bytecode cache, it trusts the user's
folder: a folder that is not absolute, not owned by the user, or writable by others is not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tapaudit import __version__

_FORMAT = "rules-v1"  # bump when what is stored changes meaning
# YAML aliases share nodes that JSON would copy: an alias bomb of a few lines would become an
# entry of gigabytes. Data with more nodes than this, copies counted, is parsed every time instead.
MAX_NODES = 100_000


def cache_dir() -> Path | None:
    configured = os.environ.get("TAPAUDIT_CACHE_DIR")
    if configured:
        folder = None if configured.lower() == "off" else Path(configured)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path(os.path.expanduser("~")) / ".cache"
        folder = base / "tapaudit"
    # Without HOME (and a passwd entry) `~` stays `~`: no cache, rather than one in the cwd.
    return folder if folder is not None and folder.is_absolute() else None


def load(text: str, parse: Callable[[str], Any], *, fresh: bool = False) -> Any:
    """`parse(text)`, or the data a previous run cached for the same text (unless `fresh`)."""
    folder = cache_dir()
    if folder is None:
        return parse(text)
    entry = folder / f"{hashlib.sha256(f'{_FORMAT}:{__version__}:{text}'.encode()).hexdigest()[:40]}.json"
    if not fresh and _trusted(folder):
        try:
            return json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    data = parse(text)
    _store(folder, entry, data)
    return data


def _trusted(folder: Path) -> bool:
    """The folder is the user's own and nobody else may write to it (POSIX; elsewhere, True)."""
    if not hasattr(os, "getuid"):
        return True
    try:
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _small(data: Any) -> bool:
    """At most MAX_NODES values, each alias copy counted (the walk stops at the limit)."""
    stack, count = [data], 0
    while stack:
        count += 1
        if count > MAX_NODES:
            return False
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _store(folder: Path, entry: Path, data: Any) -> None:
    if not _small(data):
        return
    try:
        # Only data JSON keeps unchanged (YAML dates, non-string keys would come back different).
        encoded = json.dumps(data)
        if json.loads(encoded) != data:
            return
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted(folder):
            return
        handle, partial = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(encoded)
            os.replace(partial, entry)  # atomic: a concurrent run reads the old entry or the new one
        except BaseException:
            os.unlink(partial)
            raise
    except (OSError, TypeError, ValueError, RecursionError):
        pass
