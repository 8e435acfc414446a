"""tapaudit inside CDK apps: `suppress(...)` for in-source suppressions, `TapauditValidator` for
`cdk synth`. Importing this package never needs aws-cdk-lib; each helper imports it when called."""

from __future__ import annotations

from typing import Any

__all__ = ["TapauditValidator", "suppress"]


def __getattr__(name: str) -> Any:
    if name == "suppress":
        from tapaudit.cdk.suppress import suppress

        # Importing the submodule bound `tapaudit.cdk.suppress` to the module: bind the function.
        globals()["suppress"] = suppress
        return suppress
    if name == "TapauditValidator":
        from tapaudit.cdk.validator import TapauditValidator

        return TapauditValidator
    raise AttributeError(f"module 'tapaudit.cdk' has no attribute {name!r}")
