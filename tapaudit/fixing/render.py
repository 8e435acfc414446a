"""New fragments in the file's own format: YAML with short-form tags (cfn-flip), or JSON.

cfn-flip is the project's designated library for CloudFormation YAML; it is imported on first use,
so a scan never pays for it.
"""

from __future__ import annotations

import json
from typing import Any

_SHORT = {"Ref", "Condition"}  # besides every Fn::*


def _dumper() -> Any:
    from cfn_flip.yaml_dumper import get_dumper

    return get_dumper(False, False)


def _odict(value: Any) -> Any:
    """cfn-flip writes short-form tags (and keeps key order) for its own ordered mappings only."""
    from cfn_tools.odict import ODict

    if isinstance(value, dict):
        return ODict([(k, _odict(v)) for k, v in value.items()])
    if isinstance(value, list):
        return [_odict(v) for v in value]
    return value


def yaml_block(value: Any, unit: int) -> list[str]:
    """`value` (a mapping of new entries, or a list of new items) as block YAML lines, no newlines."""
    import yaml

    text = yaml.dump(_odict(value), Dumper=_dumper(), default_flow_style=False, allow_unicode=True,
                     indent=unit, width=10_000)
    return [line for line in text.split("\n") if line and line != "..."]


def yaml_inline(value: Any) -> str:
    """`value` on one line: a scalar as cfn-flip writes it, collections in flow style."""
    if isinstance(value, dict):
        if len(value) == 1:
            (name, argument), = value.items()
            if name.startswith("Fn::") or name in _SHORT:
                tag = "!" + name.removeprefix("Fn::")
                if name == "Fn::GetAtt" and isinstance(argument, list) and len(argument) == 2 \
                        and all(isinstance(a, str) for a in argument):
                    argument = ".".join(argument)
                return f"{tag} {yaml_inline(argument)}"
        return "{" + ", ".join(f"{yaml_inline(k)}: {yaml_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_inline(v) for v in value) + "]"
    lines = yaml_block({"k": value}, 2)
    if len(lines) != 1:
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    return lines[0][len("k: "):]


def json_text(value: Any, base: str, unit: str | None, compact: bool) -> str:
    """`value` as JSON: indented by `unit` below the line indent `base`, or on one line."""
    if unit is None:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":") if compact else None)
    return json.dumps(value, ensure_ascii=False, indent=unit).replace("\n", "\n" + base)
