"""Synthesize the reference app with tapaudit's validation plugin (context `tapaudit=true`).

    python tests/cdk/cdk_app_with_tapaudit.py VARIANT OUTDIR [--acknowledge RULE=CONSTRUCT]...
                                                          [--suppress RULE=CONSTRUCT]...

CONSTRUCT is a construct id under the primary stack (e.g. HealthCheck), or `@stack` (the primary
stack) or `@app` (the App) for `--acknowledge`, which uses CDK's
`Validations.of(construct).acknowledge(...)`; `--suppress` writes tapaudit's own
`Metadata.tapaudit.suppress` on the construct's CloudFormation resource. Exit 0 when the synth
passes, 1 when validation fails it. Run with the working tree's tapaudit first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

STACK_DIR = Path(__file__).resolve().parents[2] / "reference_stack"
REASON = "accepted for the test of the validation plugin"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("variant", choices=["reference", "flawed"])
    parser.add_argument("outdir")
    parser.add_argument("--acknowledge", action="append", default=[])
    parser.add_argument("--suppress", action="append", default=[])
    args = parser.parse_args()

    sys.path.insert(0, str(STACK_DIR))
    import aws_cdk as cdk
    from app import build_app
    from synth import CLI_CONTEXT

    context = json.loads((STACK_DIR / "cdk.json").read_text())["context"]
    context.update(CLI_CONTEXT, variant=args.variant, tapaudit="true")
    app = build_app(context, args.outdir)
    primary = app.node.find_child("TransactionMigration-Primary")
    scopes = {"@app": app, "@stack": primary}
    for item in args.acknowledge:
        rule, construct = item.split("=")
        scope = scopes.get(construct) or primary.node.find_child(construct)
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"tapaudit::{rule}", reason=REASON))
    for item in args.suppress:
        rule, construct = item.split("=")
        resource = primary.node.find_child(construct).node.default_child
        resource.add_metadata("tapaudit", {"suppress": [{"id": rule, "reason": REASON}]})
    try:
        app.synth()
    except RuntimeError as exc:  # CDK's ValidationFailed
        print(f"synth failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
