"""The state of one SAM expansion: the resources being written and where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tapaudit.errors import InputError
from tapaudit.model.provenance import Origin, Path, Provenance


@dataclass
class SamContext:
    resources: dict[str, Any]  # the expanded Resources section, filled in place
    source_types: dict[str, str]  # SAM logical id -> its SAM type
    globals_section: Any
    provenance: Provenance = field(default_factory=Provenance)

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

    def event_path(self, source: str, event_id: str) -> Path:
        return ("Resources", source, "Properties", "Events", event_id)

    def not_checked(self, logical_id: str, reason: str) -> None:
        self.provenance.unchecked.setdefault(logical_id, reason)
