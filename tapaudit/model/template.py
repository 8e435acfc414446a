"""One parsed template: resources indexed by type, parameters, conditions, outputs, CDK paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tapaudit.model.derived import Memo
from tapaudit.model.provenance import Provenance
from tapaudit.model.symbols import Symbols
from tapaudit.model.values import MISSING, Malformed, intrinsic, wrong_shape


class Template:
    def __init__(self, data: Mapping[str, Any], cdk_paths: Mapping[str, str] | None = None,
                 partition: str | None = "aws") -> None:
        self.data = data
        # Placeholders for deploy-time values, and the partition verdicts assume (None: unknown).
        self.symbols = Symbols(partition)
        resources = data.get("Resources")
        resources = resources if isinstance(resources, dict) else {}
        self.resources: dict[str, dict] = {
            name: body for name, body in resources.items() if isinstance(body, dict)}
        self.by_type: dict[str, list[str]] = {}
        # Resources CloudFormation rejects for their shape (their first problem): found here for
        # the body, Type and Properties, and by rules' reads for what they read (`note_shape`).
        # Such a resource is `invalid`: no rule judges it.
        self.shape_problems: dict[str, Malformed] = {
            name: wrong_shape(body, "a mapping", ("Resources", name))
            for name, body in resources.items() if not isinstance(body, dict)}
        for name, body in self.resources.items():
            kind = body.get("Type", MISSING)
            if not isinstance(kind, str):
                self.note_shape(name, wrong_shape(kind, "a string", ("Resources", name, "Type")))
                named = [k for k in (kind if isinstance(kind, list) else []) if isinstance(k, str)]
                kind = named[0] if len(named) == 1 else None
            props = body.get("Properties")
            if props is not None and not isinstance(props, dict) and not intrinsic(props):
                self.note_shape(name, wrong_shape(props, "a mapping", ("Resources", name, "Properties")))
            if isinstance(kind, str):
                self.by_type.setdefault(kind, []).append(name)
        self.parameters = _section(data, "Parameters")
        self.conditions = _section(data, "Conditions")
        self.outputs = _section(data, "Outputs")
        self.mappings = _section(data, "Mappings")
        self._cdk_paths = dict(cdk_paths or {})
        self.provenance = Provenance()  # set by the transforms stage for what SAM & co. generated
        # What the model computes once per template (reference graph, denotations, role policies).
        self.memo = Memo()

    def note_shape(self, logical_id: str, problem: Malformed) -> None:
        """A value of `logical_id` has a JSON type CloudFormation rejects: the resource is invalid."""
        self.shape_problems.setdefault(logical_id, problem)

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
