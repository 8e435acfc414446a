"""The in-process setup of a test that synthesizes with the real aws-cdk-lib (test helper)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import ROOT, require_command, require_module


@contextmanager
def cdk_in_process() -> Iterator[None]:
    """aws-cdk-lib and Node present (or the test fails in CI), jsii's Node banner silenced, CDK's own
    validation off (18 seconds, not under test), and the reference stack's modules importable."""
    require_module("aws_cdk")
    require_command("node")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        patch.setenv("CDK_VALIDATION", "false")
        patch.syspath_prepend(str(ROOT / "reference_stack"))
        yield
