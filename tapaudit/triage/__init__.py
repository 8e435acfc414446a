"""Triage, between the rules and the reports: what counts for the gate.

`suppressions` applies the reasons written in the templates (per template, inside the workers);
`baseline` sets aside the findings a team has accepted for now (once, after the whole scan).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

METADATA_KEY = "tapaudit"  # Metadata.tapaudit.suppress, on the template or on a resource


def has_suppressions(document: Mapping[str, Any] | None) -> bool:
    """Does the template carry any Metadata.tapaudit (well-formed or not)? Without one there is
    nothing to apply or report, and the suppression code is not even imported."""
    if not isinstance(document, Mapping):
        return False
    resources = document.get("Resources")
    nodes = [document, *resources.values()] if isinstance(resources, Mapping) else [document]
    return any(isinstance(node, Mapping) and isinstance(node.get("Metadata"), Mapping)
               and METADATA_KEY in node["Metadata"] for node in nodes)
