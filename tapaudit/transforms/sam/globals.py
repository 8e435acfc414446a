"""SAM's `Globals` section, merged into each resource the way the SAM translator merges it.

A property the resource sets wins over the global one, with two exceptions: two mappings merge
key by key (recursively) and two lists concatenate, globals first. An intrinsic function counts as
a plain value, so a resource-level `Fn::If` (even one with `AWS::NoValue`) replaces the global
value instead of merging with it. `Function.Architectures` is always replaced.
"""

from __future__ import annotations

from typing import Any

from tapaudit.model.values import intrinsic

_REPLACED = {"Function.Architectures"}


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "plain" if intrinsic(value) else "map"
    return "list" if isinstance(value, list) else "plain"


def merge(global_value: Any, local_value: Any, path: str) -> Any:
    kind = _kind(global_value)
    if kind != _kind(local_value) or kind == "plain" or path in _REPLACED:
        return local_value
    if kind == "list":
        return [*global_value, *local_value]
    merged = dict(global_value)
    for key, value in local_value.items():
        merged[key] = merge(merged[key], value, f"{path}.{key}") if key in merged else value
    return merged


def merged_properties(globals_section: Any, section: str, properties: dict) -> tuple[dict, list[str]]:
    """(the resource's properties with `Globals.<section>` merged in, names taken from Globals)."""
    defaults = globals_section.get(section) if isinstance(globals_section, dict) else None
    if not isinstance(defaults, dict):
        return properties, []
    merged = merge(defaults, properties, section)
    return merged, [key for key in defaults if key not in properties]
