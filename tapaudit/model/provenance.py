"""Where a resource of the checked template comes from, when a transform wrote it.

SAM, Fn::ForEach and macros turn what the user wrote into what CloudFormation deploys. Rules run
on the deployed shape; findings go back to what the user wrote: the source resource's logical id,
its type, and a path into the source document (so lines, suppressions and fingerprints are the
user's). Resources a transform may rewrite in ways tapaudit cannot follow are `unchecked`.
"""

from __future__ import annotations

from collections.abc import Mapping

from msgspec import Struct, field

from tapaudit.model.values import Unknown

Path = tuple[str | int, ...]


class Origin(Struct, frozen=True):
    """The source element a generated resource stands for."""

    logical_id: str  # the resource the user wrote
    resource_type: str  # its type as written, e.g. AWS::Serverless::Function
    path: Path  # the source element this resource comes from (a property, an event)
    # True when the generated Properties copy the source's Properties key by key, so a path
    # inside them maps to the same path in the source (e.g. a SAM function's own properties).
    mirror: bool = False
    # Properties taken from elsewhere (e.g. SAM's Globals): property name -> source path.
    moved: Mapping[str, Path] = field(default_factory=dict)
    label: str = ""  # how messages name the part, e.g. "event Nightly"
    note: str = ""  # added to failures, e.g. what to use instead of a SAM type that cannot comply


class Provenance(Struct):
    origins: dict[str, Origin] = field(default_factory=dict)  # generated logical id -> origin
    # Logical id (in the checked template) -> why it cannot be checked ("not checked: macro X
    # rewrites this template at deploy time"). Rules report such resources as unknown.
    unchecked: dict[str, Unknown] = field(default_factory=dict)
    # A macro rewrites the whole template: what it deploys is unknown, for every rule.
    whole_template: bool = False

    def origin(self, logical_id: str) -> Origin | None:
        return self.origins.get(logical_id)

    def source_path(self, path: Path) -> Path:
        """A path in the checked template -> the path in the document the user wrote."""
        if len(path) < 2 or path[0] != "Resources":
            return path
        origin = self.origins.get(str(path[1]))
        if origin is None:
            return path
        if len(path) >= 4 and path[2] == "Properties":
            moved = origin.moved.get(str(path[3]))
            if moved is not None:
                return (*moved, *path[4:])
        if origin.mirror:
            return (*origin.path, *path[2:])
        return origin.path
