"""What CDK's naming says about a resource's construct, for fixes written in CDK terms.

With construct paths (`aws:cdk:path`, the cloud assembly's manifest) the path says it; without
them, CDK's 8-hex hash on a logical id tells an L2's resource from an L1 declared at the stack's root.
"""

from __future__ import annotations

import re

from tapaudit.model.template import Template


def is_cdk_output(template: Template) -> bool:
    return bool(template.by_type.get("AWS::CDK::Metadata")) or "BootstrapVersion" in template.parameters


_HASHED = re.compile(r"^([A-Za-z0-9]+?)([0-9A-F]{8})$")


def construct_level(template: Template, logical_id: str) -> str:
    """l2 when CDK's `Resource` child (Table, TableV2, Function...), l1 for Cfn* constructs.

    Without construct paths, CDK's 8-hex hash on the logical id tells an L2's resource from an
    L1 declared at the stack's root."""
    path = template.cdk_path(logical_id)
    if path:
        return "l2" if path.endswith("/Resource") else "l1"
    return "l2" if _HASHED.match(logical_id) else "l1"


def construct_id(template: Template, logical_id: str) -> str:
    """The construct's own id: `Stack/Table/Resource` -> `Table`; the logical id without CDK."""
    path = template.cdk_path(logical_id)
    if not path:
        hashed = _HASHED.match(logical_id) if is_cdk_output(template) else None
        return hashed.group(1) if hashed else logical_id
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[-1] == "Resource":
        return parts[-2]
    return parts[-1] if parts else logical_id
