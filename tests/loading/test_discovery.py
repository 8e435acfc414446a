"""Inputs: files, folders, cloud assemblies (with stages and nested stacks), and what is skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tapaudit.loading.discovery import discover
from tests.conftest import FIXTURES


def _names(sources) -> list[str]:
    return sorted(Path(s.display).name for s in sources)


def test_cloud_assembly_takes_stack_templates_only():
    sources, errors = discover([str(FIXTURES / "reference")])
    assert errors == []
    assert _names(sources) == ["TransactionMigration-Primary.template.json",
                               "TransactionMigration-Replica.template.json"]
    primary = next(s for s in sources if "Primary" in s.display)
    assert primary.stack == "TransactionMigration-Primary"
    paths = dict(primary.cdk_paths)  # from the manifest metadata, for templates without inline paths
    assert paths["HealthCheckA1C381C7"] == "TransactionMigration-Primary/HealthCheck/Resource"


def test_manifest_file_names_its_assembly():
    sources, _ = discover([str(FIXTURES / "flawed" / "manifest.json")])
    assert len(sources) == 2


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_stage_assemblies_and_nested_stacks(tmp_path):
    root = tmp_path / "cdk.out"
    _write(root / "manifest.json", {"version": "55.0.0", "artifacts": {
        "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
        "assembly-Prod": {"type": "cdk:cloud-assembly",
                          "properties": {"directoryName": "assembly-Prod"}}}})
    _write(root / "tree.json", {"version": "tree-0.1", "tree": {}})
    stage = root / "assembly-Prod"
    _write(stage / "manifest.json", {"version": "55.0.0", "artifacts": {
        "ProdApp": {"type": "aws:cloudformation:stack",
                    "properties": {"templateFile": "ProdApp.template.json"},
                    "metadata": {"/Prod/App/Fn/Resource": [{"type": "aws:cdk:logicalId",
                                                             "data": "Fn123"}]}}}})
    _write(stage / "ProdApp.template.json", {"Resources": {"Nested": {
        "Type": "AWS::CloudFormation::Stack",
        "Metadata": {"aws:asset:path": "ProdAppNested.nested.template.json"},
        "Properties": {"TemplateURL": "https://example.com/t.json"}}}})
    _write(stage / "ProdAppNested.nested.template.json", {"Resources": {}})
    _write(stage / "ProdApp.assets.json", {"version": "55.0.0", "files": {}})
    (stage / "asset.abc123").mkdir()
    _write(stage / "asset.abc123" / "bundle.template.json", {"Resources": {}})

    sources, errors = discover([str(root)])
    assert errors == []
    assert _names(sources) == ["ProdApp.template.json", "ProdAppNested.nested.template.json"]
    assert dict(sources[0].cdk_paths) == {"Fn123": "Prod/App/Fn/Resource"}


def test_folder_walk_finds_assemblies_and_skips_noise(tmp_path):
    shutil.copytree(FIXTURES / "reference", tmp_path / "app" / "cdk.out")
    _write(tmp_path / "app" / "package.json", {"name": "x"})
    _write(tmp_path / "app" / "node_modules" / "dep" / "template.json", {"Resources": {}})
    _write(tmp_path / "templates" / "a.yaml", {"Resources": {}})
    (tmp_path / "templates" / "notes.txt").write_text("not a template")
    sources, errors = discover([str(tmp_path)])
    assert errors == []
    assert _names(sources) == ["TransactionMigration-Primary.template.json",
                               "TransactionMigration-Replica.template.json", "a.yaml"]
    assert all(not s.explicit for s in sources if s.display.endswith("a.yaml"))


def test_missing_path_is_an_error(tmp_path):
    sources, errors = discover([str(tmp_path / "nope.yaml")])
    assert sources == [] and errors[0].message == "no such file or directory"


def test_the_same_file_is_scanned_once():
    path = str(FIXTURES / "TAP001" / "yaml-na-no-replication.yaml")
    sources, _ = discover([path, path])
    assert len(sources) == 1
