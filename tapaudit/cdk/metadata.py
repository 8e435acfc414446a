"""`tapaudit.cdk.suppress(construct, "TAP006", reason=...)`: an in-source suppression from CDK code.

It writes `Metadata.tapaudit.suppress` on the construct's CloudFormation resource, exactly what a
hand-written template would carry, so the scanner needs no CDK knowledge to honour it.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from tapaudit.triage import METADATA_KEY
from tapaudit.triage.suppressions import MIN_REASON


def suppress(construct: Any, rule_id: str, reason: str, expires: str | date | None = None,
             apply_to_children: bool = False) -> list[Any]:
    """Suppress `rule_id` on the construct's default child CfnResource (or on itself when it is
    one), or with `apply_to_children` on every CfnResource below it that the rule checks (every
    one for a rule tapaudit does not ship). Calls add up. Returns the resources written to; no
    resource or a short reason is a ValueError when the app runs."""
    import aws_cdk as cdk  # only here: importing tapaudit.cdk never needs aws-cdk-lib

    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON:
        raise ValueError(f"suppress({rule_id}): a reason of at least {MIN_REASON} characters is required")
    entry: dict[str, Any] = {"id": rule_id, "reason": reason.strip()}
    if expires is not None:
        entry["expires"] = expires.isoformat() if isinstance(expires, date) else \
            date.fromisoformat(str(expires)).isoformat()
    if apply_to_children:
        types = _checked_types(rule_id)
        targets = [c for c in construct.node.find_all() if isinstance(c, cdk.CfnResource)
                   and (types is None or c.cfn_resource_type in types)]
    elif isinstance(construct, cdk.CfnResource):
        targets = [construct]
    else:
        child = construct.node.default_child
        targets = [child] if isinstance(child, cdk.CfnResource) else []
    if not targets:
        hint = "" if apply_to_children else " as its default child (try apply_to_children=True)"
        raise ValueError(f"suppress({rule_id}): {construct.node.path} has no CloudFormation "
                         f"resource{hint}")
    for resource in targets:
        current = resource.get_metadata(METADATA_KEY)
        merged = dict(current) if isinstance(current, dict) else {}
        merged["suppress"] = [*(merged.get("suppress") or []), entry]
        resource.add_metadata(METADATA_KEY, merged)
    return targets


@cache  # an app may call suppress() for many constructs: read the rule files once
def _checked_types(rule_id: str) -> frozenset[str] | None:
    """The resource types a built-in rule checks (a suppression elsewhere would be `unused`);
    None for a rule of the project's own, which the CDK app cannot see."""
    from tapaudit.rules import load_rules

    rule = next((r for r in load_rules() if r.id == rule_id.upper()), None)
    return frozenset(rule.resource_types) if rule else None
