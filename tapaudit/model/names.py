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


class Names:
    """Logical ids, and names within one scope (a role's policy names, a table's index names):
    a new one never collides with what exists or with one made earlier in the run."""

    def __init__(self, taken: Iterable[str]) -> None:
        self._taken = {name.lower() for name in taken}

    def new(self, base: str) -> str:
        return self._free(re.sub(r"[^A-Za-z0-9]", "", base) or "Fix", "")

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


# CDK's logical id of a construct's resource: the path's ids run together, then an 8-hex hash.
_HASHED = re.compile(r"^([A-Za-z0-9]+?)[0-9A-F]{8}$")


def free_construct_id(template: Template, logical_id: str, base: str) -> str:
    """A construct id, `base` or `base2`, ..., that no construct in the scope holding `logical_id`'s
    construct uses (`new sqs.Queue(this, id)` there would otherwise fail synthesis).

    The scope's children come from the construct paths (`aws:cdk:path`, the manifest); a resource
    without one may be anywhere in the app, so any construct id its hashed logical id can spell
    counts as taken."""
    taken = set()
    unplaced = []
    scope = _scope(template.cdk_path(logical_id))
    for resource in template.resources:
        parts = [p for p in (template.cdk_path(resource) or "").split("/") if p]
        if not parts:
            hashed = _HASHED.match(resource)
            unplaced.append((hashed.group(1) if hashed else resource).lower())
        elif scope is None:  # the scope is not known: every id in the app counts
            taken.update(p.lower() for p in parts)
        elif parts[:len(scope)] == scope and len(parts) > len(scope):
            taken.add(parts[len(scope)].lower())
    return next(n for n in numbered(base) if n.lower() not in taken
                and not any(n.lower() in spelled for spelled in unplaced))


def _scope(path: str | None) -> list[str] | None:
    """The path of the scope a resource's construct was made in: `Stack/Rule/Resource` -> `Stack`
    (an L2's resource is its `Resource` child), `Stack/CfnRule` -> `Stack`."""
    parts = [p for p in (path or "").split("/") if p]
    if parts and parts[-1] == "Resource":
        parts.pop()
    return parts[:-1] if parts else None
