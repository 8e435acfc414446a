"""One parsed template: resources indexed by type, parameters, conditions, outputs, CDK paths."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tapaudit.model.provenance import Provenance
from tapaudit.model.values import Unknown, intrinsic

if TYPE_CHECKING:
    from tapaudit.model.references import ReferenceGraph

# Pseudo parameters render to fixed sample values so ARN patterns can be compared.
PSEUDO_SAMPLES = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "stack",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/stack/id",
}


class Template:
    def __init__(self, data: Mapping[str, Any], cdk_paths: Mapping[str, str] | None = None) -> None:
        self.data = data
        resources = data.get("Resources")
        self.resources: dict[str, dict] = {
            name: body for name, body in (resources.items() if isinstance(resources, dict) else ())
            if isinstance(body, dict)
        }
        self.by_type: dict[str, list[str]] = {}
        for name, body in self.resources.items():
            kind = body.get("Type")
            if isinstance(kind, str):
                self.by_type.setdefault(kind, []).append(name)
        self.parameters = _section(data, "Parameters")
        self.conditions = _section(data, "Conditions")
        self.outputs = _section(data, "Outputs")
        self._cdk_paths = dict(cdk_paths or {})
        self.provenance = Provenance()  # set by the transforms stage for what SAM & co. generated

    def type_of(self, logical_id: str) -> str | None:
        body = self.resources.get(logical_id)
        kind = body.get("Type") if body else None
        return kind if isinstance(kind, str) else None

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

    def resolve(self, value: Any) -> Any:
        """A `Ref` to a parameter becomes its default; other unresolvable values become Unknown.

        Refs to resources and Fn::GetAtt stay as they are: rules follow them through the model.
        """
        fn = intrinsic(value)
        if not fn:
            if isinstance(value, str) and value.startswith("{{resolve:"):
                return Unknown(f"dynamic reference {value}")
            return value
        name, arg = fn
        if name == "Ref" and isinstance(arg, str):
            if arg in self.parameters:
                param = self.parameters[arg]
                if isinstance(param, dict) and "Default" in param:
                    return param["Default"]
                return Unknown(f"parameter {arg} has no default")
            if arg in PSEUDO_SAMPLES or arg.startswith("AWS::"):
                return Unknown(f"pseudo parameter {arg}")
            return value
        if name == "Fn::GetAtt":
            return value
        return Unknown(f"{name} cannot be resolved before deployment")

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
