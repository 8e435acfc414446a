"""Free names: a new logical id, index name, statement Sid or CDK construct id never collides with
one that exists. Rules' fix texts and `tapaudit fix` both name things through here, so a text names
exactly what the fix command creates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from tapaudit.model.template import Template


def numbered(base: str, joiner: str = "") -> Iterator[str]:
    """`base`, then `base` + joiner + 2, 3, ...: the candidates for a free name, in order."""
    yield base
    n = 2
    while True:
        yield f"{base}{joiner}{n}"
        n += 1


def _alphanumeric(base: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", base) or "Fix"


class Names:
    """Logical ids, and names within one scope (a role's policy names, a table's index names):
    a new one never collides with what exists or with one made earlier in the run."""

    def __init__(self, taken: Iterable[str]) -> None:
        self._taken = {name.lower() for name in taken}

    def new(self, base: str) -> str:
        return self._free(_alphanumeric(base), "")

    def new_label(self, base: str) -> str:
        """A name that keeps its punctuation (an index name): `status-timestamp-index-2`."""
        return self._free(base, "-")

    def _free(self, base: str, joiner: str) -> str:
        """The first candidate of `base` that is unused; now taken."""
        name = next(n for n in numbered(base, joiner) if n.lower() not in self._taken)
        self._taken.add(name.lower())
        return name


def taken_logical_ids(template: Template) -> list[str]:
    """The logical ids a new resource must not take: resources and parameters share one namespace
    (CloudFormation rejects a resource named like a parameter)."""
    return [*template.resources, *template.parameters]


def free_logical_id(template: Template, base: str) -> str:
    """What `Names(taken_logical_ids(template)).new(base)` gives: the logical id the fix command's
    first new resource of that base gets. Remembered per template: a fix text asks once per finding."""
    memo = template.memo.free_names
    if ("logical", base) not in memo:
        taken = memo.get("logical ids") or {name.lower() for name in taken_logical_ids(template)}
        memo["logical ids"] = taken
        memo[("logical", base)] = next(n for n in numbered(_alphanumeric(base)) if n.lower() not in taken)
    return memo[("logical", base)]


# CDK's logical id of a construct's resource: the path's ids run together, then an 8-hex hash.
_HASHED = re.compile(r"^([A-Za-z0-9]+?)[0-9A-F]{8}$")


def free_construct_id(template: Template, logical_id: str, base: str) -> str:
    """A construct id, `base` or `base2`, ..., that no construct in the scope holding `logical_id`'s
    construct uses (`new sqs.Queue(this, id)` there would otherwise fail synthesis).

    The scope's children come from the construct paths (`aws:cdk:path`, the manifest); a resource
    without one may be anywhere in the app, so any construct id its hashed logical id can spell
    counts as taken. Remembered per template and scope."""
    scope = _scope(template.cdk_path(logical_id))
    memo = template.memo.free_names
    if ("construct", scope, base) not in memo:
        taken = _children(template, scope) | _spelled(template, base)
        memo[("construct", scope, base)] = next(n for n in numbered(base) if n.lower() not in taken)
    return memo[("construct", scope, base)]


def _scope(path: str | None) -> tuple[str, ...] | None:
    """The path of the scope a resource's construct was made in: `Stack/Rule/Resource` -> `Stack`
    (an L2's resource is its `Resource` child), `Stack/CfnRule` -> `Stack`."""
    parts = [p for p in (path or "").split("/") if p]
    if parts and parts[-1] == "Resource":
        parts.pop()
    return tuple(parts[:-1]) if parts else None


def _children(template: Template, scope: tuple[str, ...] | None) -> set[str]:
    """The construct ids (lower case) right under `scope`; every id of the app when it is unknown.
    One pass over the construct paths per scope asked for (a template's fixes ask for one or two)."""
    memo = template.memo.free_names
    key = ("children", scope)
    if key not in memo:
        taken: set[str] = set()
        depth = len(scope) if scope is not None else 0
        for resource in template.resources:
            path = template.cdk_path(resource)
            if not path:
                continue
            parts = [p for p in path.split("/") if p]
            if scope is None:
                taken.update([p.lower() for p in parts])
            elif len(parts) > depth and tuple(parts[:depth]) == scope:
                taken.add(parts[depth].lower())
        memo[key] = taken
    return memo[key]


def _spelled(template: Template, base: str) -> set[str]:
    """The candidates of `base` (lower case) that a resource without a construct path may hold: its
    hashed logical id runs its path's ids together, so `base` and the digits after it anywhere in it."""
    pattern = re.compile(re.escape(base.lower()) + r"(\d*)")
    taken = set()
    for resource in template.resources:
        if template.cdk_path(resource):
            continue
        hashed = _HASHED.match(resource)
        for match in pattern.finditer((hashed.group(1) if hashed else resource).lower()):
            digits = match.group(1)
            taken.update(base.lower() + digits[:i] for i in range(len(digits) + 1))
    return taken
