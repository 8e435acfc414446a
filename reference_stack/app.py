#!/usr/bin/env python3
"""The reference CDK app: `cdk synth -c variant=reference|flawed [-c tapaudit=true]`, or `python app.py`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk

sys.path.insert(0, str(Path(__file__).resolve().parent))

from transaction_migration.primary_stack import TransactionMigrationStack
from transaction_migration.replica_stack import ReplicaStack
from transaction_migration.settings import Settings


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    app = cdk.App(context=context, outdir=outdir)
    settings = Settings.from_context(app.node)
    replica = ReplicaStack(
        app, "TransactionMigration-Replica", settings=settings,
        env=cdk.Environment(account=settings.account, region=settings.replica_region))
    primary = TransactionMigrationStack(
        app, "TransactionMigration-Primary", settings=settings,
        env=cdk.Environment(account=settings.account, region=settings.primary_region))
    primary.add_stack_dependency(replica)  # the replica bucket must exist before replication starts
    if str(app.node.try_get_context("tapaudit")).lower() == "true":
        # `cdk synth -c tapaudit=true`: tapaudit's rules run inside the synth and fail it at the gate.
        from tapaudit.cdk import TapauditValidator

        cdk.Validations.of(app).add_plugins(TapauditValidator())
    return app


if __name__ == "__main__":
    build_app().synth()
