"""The reference graph: which resource points at which, through Ref, GetAtt, Sub and DependsOn.

Built from the resources alone (no template object), so the template can memoise it; callers get
it through `tapaudit.model.references.reference_graph(template)`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}.]+)(?:\.[^}]*)?\}")


class ReferenceGraph:
    def __init__(self, resources: Mapping[str, dict]) -> None:
        known = resources
        self._out: dict[str, set[str]] = {name: set() for name in known}
        self._in: dict[str, set[str]] = {name: set() for name in known}
        self._depends_only: dict[str, set[str]] = {}  # named by DependsOn, not by the properties
        for name, body in known.items():
            targets = self._out[name]
            _collect(body.get("Properties"), targets)
            depends = body.get("DependsOn")
            if depends is not None:
                named = {dep for dep in (depends if isinstance(depends, list) else [depends])
                         if isinstance(dep, str)}
                if not named <= targets:
                    self._depends_only[name] = named - targets
                targets |= named
            # Kept as the graph's own: `targets &= known.keys()` binds a new set (a keys view is
            # not a set), which left parameters, pseudo parameters and itself in `_out`. Not
            # `intersection_update`, which would walk every resource for each one.
            targets = self._out[name] = targets & known.keys()
            targets.discard(name)
            for target in targets:
                self._in[target].add(name)

    @staticmethod
    def mentioned(node: Any) -> set[str]:
        """Names that `node` refers to through Ref, GetAtt or Sub."""
        found: set[str] = set()
        _collect(node, found)
        return found

    def references(self, source: str) -> set[str]:
        """Resources that `source` refers to."""
        return self._out.get(source, set())

    def named_in_properties(self, source: str) -> set[str]:
        """Resources that `source`'s properties refer to (not those it names in DependsOn alone)."""
        return self._out.get(source, set()) - self._depends_only.get(source, set())

    def referrers(self, target: str, *, in_properties: bool = False) -> list[str]:
        """Resources that refer to `target` (sorted); with `in_properties`, only those whose
        properties do (not those that name it in DependsOn alone)."""
        found = self._in.get(target, set())
        if in_properties:
            found = {name for name in found if target not in self._depends_only.get(name, ())}
        return sorted(found)


def _collect(node: Any, found: set[str]) -> None:
    # The hottest loop of a scan (every value of every resource): parsed templates hold plain
    # dicts and lists only, so an exact type test does, and is cheaper than isinstance.
    stack = [node]
    pop, push = stack.pop, stack.extend
    while stack:
        current = pop()
        kind = type(current)
        if kind is dict:
            # Most mappings hold no intrinsic: their values are queued without a look at each key.
            if "Ref" in current or "Fn::GetAtt" in current or "Fn::Sub" in current:
                _read_intrinsics(current, found, stack)
            else:
                push(current.values())
        elif kind is list:
            push(current)


def _read_intrinsics(mapping: dict, found: set[str], stack: list) -> None:
    for key, value in mapping.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            if isinstance(value, list) and value and isinstance(value[0], str):
                found.add(value[0])
            elif isinstance(value, str):
                found.add(value.split(".", 1)[0])
        elif key == "Fn::Sub":
            text = value[0] if isinstance(value, list) and value else value
            if isinstance(text, str):
                found.update(_SUB_VARIABLE.findall(text))
            if isinstance(value, list):
                stack.extend(value[1:])
            continue
        stack.append(value)
