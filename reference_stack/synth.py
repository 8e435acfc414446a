#!/usr/bin/env python3
"""Synthesize both variants into cloud assemblies (default: ../fixtures/reference and ../fixtures/flawed).

The context is what the CDK CLI would add (construct paths as metadata) plus cdk.json's feature
flags; version reporting is off so the templates do not depend on the machine that synthesized them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": False,
    "aws:cdk:disable-stack-trace": True,  # stack traces hold temp paths: fixtures must be stable
}


def synthesize(variant: str, outdir: Path) -> Path:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    sys.path.insert(0, str(HERE))
    from app import build_app

    context = json.loads((HERE / "cdk.json").read_text())["context"]
    context.update(CLI_CONTEXT, variant=variant)
    if outdir.exists():
        shutil.rmtree(outdir)
    build_app(context, str(outdir)).synth()
    for leftover in outdir.glob("asset.*"):  # none expected: function code is inline
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    return outdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE.parent / "fixtures",
                        help="folder that receives reference/ and flawed/")
    parser.add_argument("--variant", choices=["reference", "flawed"], action="append")
    args = parser.parse_args()
    for variant in args.variant or ["reference", "flawed"]:
        print(synthesize(variant, args.out / variant))


if __name__ == "__main__":
    main()
