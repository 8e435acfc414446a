"""Transforms: between loading and the model, turn what the user wrote into what CloudFormation
deploys, so the rules see real resources.

- `AWS::LanguageExtensions`: Fn::ForEach, Fn::Length, Fn::ToJsonString (foreach.py)
- `AWS::Serverless-2016-10-31`: SAM resources (sam/)
- any other macro, `AWS::Include`, `Fn::Transform`: resources they may rewrite are not checked
  (macros.py); the rules report them as unknown with the macro's name.

Provenance (model/provenance.py) leads every finding on a generated resource back to the source.
"""

from __future__ import annotations

from msgspec import Struct, field
from msgspec.structs import replace

from tapaudit.model.provenance import Provenance


class Expansion(Struct):
    data: dict
    provenance: Provenance = field(default_factory=Provenance)


def might_transform(text: str) -> bool:
    """A cheap look at the raw text: templates without these words skip the stage entirely."""
    return "Transform" in text or "Fn::ForEach" in text or "AWS::Serverless::" in text


def expand(data: dict) -> Expansion:
    # Imported here: templates without transforms (most CDK output) never load this code.
    from tapaudit.transforms import macros
    from tapaudit.transforms.foreach import expand_language_extensions
    from tapaudit.transforms.sam import expand_sam

    names = macros.declared(data)
    template_reason, resource_reasons = macros.macro_reasons(data, names)
    loops = Provenance()
    if macros.LANGUAGE_EXTENSIONS in names or _has_loops(data):
        data = expand_language_extensions(data, loops)
    provenance = loops
    # SAM resources without the Transform line would not deploy, but they say what the author
    # means: they are expanded (and checked) all the same rather than passed unseen.
    if macros.SAM in names or _has_sam_resources(data):
        provenance = Provenance(unchecked=dict(loops.unchecked))
        data = expand_sam(data, provenance)
        if loops.origins:  # SAM resources a loop wrote: their paths lead on into the loop
            for logical_id, origin in list(provenance.origins.items()):
                provenance.origins[logical_id] = replace(
                    origin, path=loops.source_path(origin.path),
                    moved={key: loops.source_path(path) for key, path in origin.moved.items()})
            for logical_id, origin in loops.origins.items():
                provenance.origins.setdefault(logical_id, origin)
    provenance.whole_template = template_reason is not None
    resources = data.get("Resources") if isinstance(data.get("Resources"), dict) else {}
    for logical_id, body in resources.items():
        if not isinstance(body, dict) or logical_id == "Fn::Transform":
            continue
        origin = provenance.origin(logical_id)
        source = origin.logical_id if origin else logical_id
        reason = template_reason or resource_reasons.get(source)
        if reason:
            provenance.unchecked[logical_id] = reason
    return Expansion(data, provenance)


def _has_sam_resources(data: dict) -> bool:
    resources = data.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(body, dict) and str(body.get("Type", "")).startswith("AWS::Serverless::")
        for body in resources.values())


def _has_loops(data: dict) -> bool:
    return any(isinstance(section, dict) and any(isinstance(k, str) and k.startswith("Fn::ForEach::")
                                                 for k in section)
               for section in (data.get("Resources"), data.get("Outputs"), data.get("Conditions")))

