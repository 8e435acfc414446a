"""CloudFormation's YAML short forms, named the way cfn-flip names them."""

from __future__ import annotations

# cfn-flip's spelling (cfn_tools.yaml_loader), kept here: importing cfn-flip costs ~5 ms per start.
FN_PREFIX = "Fn::"
UNCONVERTED_SUFFIXES = ("Ref", "Condition")
# The functions CloudFormation's YAML short forms name (template, condition, rule and
# language-extension functions); any other `!Tag` is refused, not read as a resource body.
KNOWN_FUNCTIONS = frozenset({
    "Ref", "Condition", *(FN_PREFIX + name for name in (
        "And", "Base64", "Cidr", "Contains", "EachMemberEquals", "EachMemberIn", "Equals",
        "FindInMap", "GetAtt", "GetAZs", "If", "ImportValue", "Join", "Length", "Not", "Or",
        "RefAll", "Select", "Split", "Sub", "ToJsonString", "Transform", "ValueOf", "ValueOfAll"))})


def short_form_name(tag: str) -> str | None:
    """`!GetAtt` -> `Fn::GetAtt`; `!Ref` and `!Condition` keep their names; None for other tags."""
    if not tag.startswith("!") or tag.startswith("!!"):
        return None
    suffix = tag[1:]
    return suffix if suffix in UNCONVERTED_SUFFIXES else f"{FN_PREFIX}{suffix}"
