"""tapaudit inside CDK apps: `suppress(...)` for in-source suppressions, `TapauditValidator` for
`cdk synth`. Importing this package never needs aws-cdk-lib; each helper imports it when called."""

from __future__ import annotations

from typing import Any

# The function lives in `metadata` (no submodule named `suppress` can shadow it); it imports
# aws-cdk-lib only when called.
from tapaudit.cdk.metadata import suppress

__all__ = ["TapauditValidator", "suppress"]


def __getattr__(name: str) -> Any:
    if name == "TapauditValidator":
        from tapaudit.cdk.validator import TapauditValidator

        return TapauditValidator
    raise AttributeError(f"module 'tapaudit.cdk' has no attribute {name!r}")
