"""CloudFormation's YAML short forms, named the way cfn-flip names them."""

from __future__ import annotations

from cfn_tools.yaml_loader import FN_PREFIX, UNCONVERTED_SUFFIXES


def short_form_name(tag: str) -> str | None:
    """`!GetAtt` -> `Fn::GetAtt`; `!Ref` and `!Condition` keep their names; None for other tags."""
    if not tag.startswith("!") or tag.startswith("!!"):
        return None
    suffix = tag[1:]
    return suffix if suffix in UNCONVERTED_SUFFIXES else f"{FN_PREFIX}{suffix}"
