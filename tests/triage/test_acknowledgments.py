"""CDK acknowledgments read from a cloud assembly: CDK's closest-path rule, only tapaudit's ids,
and no file outside the assembly read (hand-written assemblies for the edge cases; the real synth
is in tests/cdk/test_cdk_acknowledgments.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tapaudit.loading.discovery import discover
from tapaudit.triage.acknowledgments import closest, ours, recorded


def _entry(data: object) -> dict:
    return {"type": "aws:cdk:acknowledged-rules", "data": data}


METADATA = {
    "/App/Stack": [_entry({"tapaudit::TAP006": "the whole stack"})],
    "/App/Stack/Api": [_entry({"tapaudit::TAP006": "closer", "Annotation::TAP002": "not ours",
                               "other::TAP002": "another plugin"}),
                       {"type": "aws:cdk:logicalId", "data": "Api1234"}],
    "/App/Stack/Worker": [_entry(["not", "a", "mapping"]), "not an entry"],
}


def test_recorded_keeps_tapaudit_ids_only():
    assert recorded(METADATA) == {"TAP006": {"App/Stack": "the whole stack", "App/Stack/Api": "closer"}}
    assert recorded(["not", "metadata"]) == {} and recorded(None) == {}


def test_the_closest_acknowledgment_at_or_above_the_construct_wins():
    acknowledged = recorded(METADATA)
    assert closest(acknowledged, "TAP006", "App/Stack/Api/Resource") == ("App/Stack/Api", "closer")
    assert closest(acknowledged, "TAP006", "App/Stack/Api") == ("App/Stack/Api", "closer")
    assert closest(acknowledged, "TAP006", "App/Stack/ApiHandler/Resource") == (
        "App/Stack", "the whole stack")  # a sibling whose name starts the same is not below Api
    assert closest(acknowledged, "TAP006", "App/Other/Fn/Resource") is None
    assert closest(acknowledged, "TAP002", "App/Stack/Api/Resource") is None
    assert closest(acknowledged, "TAP006", None) is None


def _assembly(folder: Path, artifact: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    artifact = {"properties": {"templateFile": "Stack.template.json"}, **artifact}
    (folder / "Stack.template.json").write_text('{"Resources": {}}')
    (folder / "manifest.json").write_text(json.dumps({"version": "55.0.0",
                                                      "artifacts": {"Stack": artifact}}))
    return folder


def read(folder: Path, stack: str) -> dict:
    """The acknowledgments the scan applies to `stack`'s template, as discovery read them."""
    sources, _ = discover([str(folder)])
    return next((ours(s.acknowledged) for s in sources if s.stack == stack), {})


def test_read_finds_inline_metadata_and_the_side_file(tmp_path):
    inline = _assembly(tmp_path / "inline", {"type": "aws:cloudformation:stack", "metadata": METADATA})
    assert read(inline, "Stack") == recorded(METADATA)
    side = _assembly(tmp_path / "side", {"type": "aws:cloudformation:stack",
                                         "additionalMetadataFile": "Stack.metadata.json"})
    (side / "Stack.metadata.json").write_text(json.dumps(METADATA))
    assert read(side, "Stack") == recorded(METADATA)
    assert read(side, "Missing") == {}


def test_read_never_leaves_the_assembly(tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(METADATA))
    for name in ("../outside.json", str(outside)):
        folder = _assembly(tmp_path / "a", {"type": "aws:cloudformation:stack",
                                            "additionalMetadataFile": name})
        assert read(folder, "Stack") == {}
    (tmp_path / "a" / "link.json").symlink_to(outside)
    _assembly(tmp_path / "a", {"additionalMetadataFile": "link.json"})
    assert read(tmp_path / "a", "Stack") == {}
    (tmp_path / "broken").mkdir()
    for manifest in ("{not json", '{"artifacts": [1]}', '{"artifacts": {"Stack": [1]}}', "[]"):
        (tmp_path / "broken" / "manifest.json").write_text(manifest)
        assert read(tmp_path / "broken", "Stack") == {}
