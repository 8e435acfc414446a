"""One parsed template: resources indexed by type, parameters, conditions, outputs, CDK paths."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tapaudit.model.provenance import Provenance
from tapaudit.model.symbols import Symbols
from tapaudit.model.values import Conditions, Malformed, Unknown, intrinsic, shape_of

if TYPE_CHECKING:
    from tapaudit.model.references import ReferenceGraph


class Template:
    def __init__(self, data: Mapping[str, Any], cdk_paths: Mapping[str, str] | None = None,
                 partition: str | None = "aws") -> None:
        self.data = data
        # Placeholders for deploy-time values, and the partition verdicts assume (None: unknown).
        self.symbols = Symbols(partition)
        resources = data.get("Resources")
        self.resources: dict[str, dict] = {
            name: body for name, body in (resources.items() if isinstance(resources, dict) else ())
            if isinstance(body, dict)
        }
        self.by_type: dict[str, list[str]] = {}
        # Resources whose Type or Properties has the wrong shape, filed under the type they name.
        self.shape_problems: dict[str, str] = {}
        for name, body in self.resources.items():
            kind = body.get("Type")
            if not isinstance(kind, str):
                named = [k for k in (kind if isinstance(kind, list) else []) if isinstance(k, str)]
                self.shape_problems[name] = (f"Type is {shape_of(kind)}, not a string: CloudFormation "
                                             "rejects the resource")
                kind = named[0] if len(named) == 1 else None
            props = body.get("Properties")
            if props is not None and not isinstance(props, dict) and not intrinsic(props):
                self.shape_problems[name] = (f"Properties is {shape_of(props)}, not a mapping: "
                                             "CloudFormation rejects the resource")
            if isinstance(kind, str):
                self.by_type.setdefault(kind, []).append(name)
        self.parameters = _section(data, "Parameters")
        self.conditions = _section(data, "Conditions")
        self.outputs = _section(data, "Outputs")
        self.mappings = _section(data, "Mappings")
        self._cdk_paths = dict(cdk_paths or {})
        self.provenance = Provenance()  # set by the transforms stage for what SAM & co. generated

    def type_of(self, logical_id: str) -> str | None:
        body = self.resources.get(logical_id)
        kind = body.get("Type") if body else None
        if isinstance(kind, list) and len(kind) == 1 and isinstance(kind[0], str):
            return kind[0]  # a list-wrapped type: filed under it, reported as a shape problem
        return kind if isinstance(kind, str) else None

    @property
    def partition(self) -> str | None:
        return self.symbols.partition

    def display(self, text: str) -> str:
        """A rendered value for a message: deploy-time parts as `${AWS::AccountId}`, `${Bucket}`."""
        return self.symbols.display(text)

    def properties(self, logical_id: str) -> dict:
        props = self.resources.get(logical_id, {}).get("Properties")
        return props if isinstance(props, dict) else {}

    def cdk_path(self, logical_id: str) -> str | None:
        metadata = self.resources.get(logical_id, {}).get("Metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("aws:cdk:path"), str):
            return metadata["aws:cdk:path"]
        return self._cdk_paths.get(logical_id)

    @cached_property
    def references(self) -> ReferenceGraph:
        from tapaudit.model.references import ReferenceGraph

        return ReferenceGraph(self)

    def resolve_all(self, value: Any) -> list[tuple[Any, Conditions]]:
        """Every value `value` can take (parameters, mappings, pseudo parameters, Join, Sub, Select,
        Split, FindInMap, nested Fn::If), with the conditions that choose it."""
        from tapaudit.model.intrinsics import alternatives

        return alternatives(self, value)

    def resolve(self, value: Any) -> Any:
        """The one value `value` takes; Unknown when it cannot be known or depends on a condition.

        A string with deploy-time parts keeps them as placeholders (see `display`).
        """
        if isinstance(value, Malformed):
            return value
        found = self.resolve_all(value)
        first = found[0][0]
        if all(v == first for v, _ in found[1:]):
            return first
        names = ", ".join(dict.fromkeys(n for _, conds in found for n, _ in conds))
        return Unknown(f"depends on condition {names}")

    def referenced_resource(self, value: Any) -> tuple[str, str | None] | None:
        """(logical id, attribute) when `value` is a Ref or Fn::GetAtt to a resource here."""
        fn = intrinsic(value)
        if not fn:
            return None
        name, arg = fn
        if name == "Ref" and isinstance(arg, str) and arg in self.resources:
            return arg, None
        if name == "Fn::GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) \
                    and arg[0] in self.resources:
                return str(arg[0]), str(arg[1]) if isinstance(arg[1], str) else None
        return None


def _section(data: Mapping[str, Any], name: str) -> dict:
    section = data.get(name)
    return section if isinstance(section, dict) else {}
