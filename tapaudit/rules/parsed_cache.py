"""Rule files as parsed data, cached as JSON by the hash of their text.

Importing PyYAML and parsing the rule files costs ~25 ms, a fifth of a whole scan of a JSON
template; with the cache a run reads a few kilobytes of JSON instead and never imports PyYAML.
The key is the file's content (and this format's version), so an edited rule file is re-read
on its next use. The cache is only an optimisation: any failure to read or write it is ignored.
Location: $TAPAUDIT_CACHE_DIR, else $XDG_CACHE_HOME/tapaudit, else ~/.cache/tapaudit;
TAPAUDIT_CACHE_DIR=off turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

_FORMAT = "rules-v1"  # bump when what is stored changes meaning


def cache_dir() -> Path | None:
    configured = os.environ.get("TAPAUDIT_CACHE_DIR")
    if configured:
        return None if configured.lower() == "off" else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tapaudit"


def load(text: str, parse: Callable[[str], Any]) -> Any:
    """`parse(text)`, or the data a previous run cached for the same text."""
    folder = cache_dir()
    if folder is None:
        return parse(text)
    entry = folder / f"{hashlib.sha256((_FORMAT + text).encode()).hexdigest()[:40]}.json"
    try:
        return json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    data = parse(text)
    _store(entry, data)
    return data


def _store(entry: Path, data: Any) -> None:
    try:
        # Only data JSON keeps unchanged (YAML dates, non-string keys would come back different).
        encoded = json.dumps(data)
        if json.loads(encoded) != data:
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(encoded, encoding="utf-8")
        os.replace(partial, entry)  # atomic: a concurrent run reads the old entry or the new one
    except (OSError, TypeError, ValueError):
        pass
