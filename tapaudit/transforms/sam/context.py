"""The state of one SAM expansion: the resources being written and where each came from."""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

from tapaudit.errors import InputError
from tapaudit.model.provenance import Origin, Path, Provenance
from tapaudit.model.values import Unknown
from tapaudit.transforms.sam.globals import merged_properties


class SamContext(Struct):
    resources: dict[str, Any]  # the expanded Resources section, filled in place
    source_types: dict[str, str]  # SAM logical id -> its SAM type
    globals_section: Any
    provenance: Provenance = field(default_factory=Provenance)
    sources: dict[str, Any] = field(default_factory=dict)  # the SAM resources as written
    # Api / HttpApi events that name no API: SAM writes one for the template.
    implicit_rest_api: bool = False
    implicit_http_api: bool = False

    def add(self, logical_id: str, body: dict, source: str, path: Path, label: str = "",
            **origin: Any) -> None:
        """A resource SAM generates for `source`; findings on it go back to `path` in `source`."""
        if logical_id in self.resources and logical_id not in self.provenance.origins:
            # SAM refuses this too; overwriting would hide the user's resource from the rules.
            raise InputError(f"SAM generates {logical_id} for {source}, but the template already "
                             "defines a resource with that logical id")
        self.resources[logical_id] = body
        # The source is a SAM resource, or a CloudFormation one with embedded connectors.
        kind = self.source_types.get(source) or self.resources[source]["Type"]
        self.provenance.origins[logical_id] = Origin(source, kind, path, label=label, **origin)

    def extra(self, logical_id: str, body: dict, source: str, path: Path, label: str = "",
              **origin: Any) -> None:
        """A resource SAM generates that no built-in rule reads: left out when the id is taken.
        Properties the source does not set (None) are left out, as SAM leaves them out."""
        if logical_id not in self.resources:
            props = body.get("Properties")
            if isinstance(props, dict):
                body = {**body, "Properties": {k: v for k, v in props.items() if v is not None}}
            self.resources[logical_id] = body
            self.provenance.origins[logical_id] = Origin(source, self.source_types.get(source) or
                                                         str(self.resources[source].get("Type")),
                                                         path, label=label, **origin)

    def source_properties(self, logical_id: str, section: str) -> dict:
        """A SAM resource's properties as written, with its `Globals` section merged in."""
        body = self.sources.get(logical_id)
        props = body.get("Properties") if isinstance(body, dict) else None
        return merged_properties(self.globals_section, section, props if isinstance(props, dict) else {})[0]

    def implicit_source(self, event_types: tuple[str, ...]) -> str | None:
        """The first SAM resource with an event of these types that names no API."""
        for name, body in self.sources.items():
            props = body.get("Properties") if isinstance(body, dict) else None
            events = props.get("Events") if isinstance(props, dict) else None
            for event in (events.values() if isinstance(events, dict) else ()):
                if isinstance(event, dict) and event.get("Type") in event_types:
                    return name
        return None

    def event_path(self, source: str, event_id: str) -> Path:
        return ("Resources", source, "Properties", "Events", event_id)

    def not_checked(self, logical_id: str, reason: str) -> None:
        self.provenance.unchecked.setdefault(logical_id, Unknown(reason))
