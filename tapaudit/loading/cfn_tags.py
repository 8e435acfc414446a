"""CloudFormation's YAML short forms, named the way cfn-flip names them."""

from __future__ import annotations

# cfn-flip's spelling (cfn_tools.yaml_loader), kept here: importing cfn-flip costs ~5 ms per start.
FN_PREFIX = "Fn::"
UNCONVERTED_SUFFIXES = ("Ref", "Condition")


def short_form_name(tag: str) -> str | None:
    """`!GetAtt` -> `Fn::GetAtt`; `!Ref` and `!Condition` keep their names; None for other tags."""
    if not tag.startswith("!") or tag.startswith("!!"):
        return None
    suffix = tag[1:]
    return suffix if suffix in UNCONVERTED_SUFFIXES else f"{FN_PREFIX}{suffix}"
