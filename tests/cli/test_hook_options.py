"""`--allow-no-templates` and `--missing-ok`: the scan options the pre-commit hooks and the action use."""

from __future__ import annotations

import json

from tests.cli.inprocess import invoke
from tests.conftest import FIXTURES

FLAWED = str(FIXTURES / "flawed")


def test_nothing_to_scan_is_exit_2_unless_allowed(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("scan", str(empty)).exit_code == 2
    proc = invoke("scan", "--allow-no-templates", str(empty), "-f", "json")
    assert proc.exit_code == 0
    assert "tapaudit: note: no templates to scan in " in proc.stderr
    assert json.loads(proc.stdout)["templates"] == []


def test_allow_no_templates_changes_nothing_when_templates_are_scanned():
    proc = invoke("scan", "--allow-no-templates", FLAWED)
    assert proc.exit_code == 1 and "note" not in proc.stderr


def test_allow_no_templates_never_hides_an_unreadable_input(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [\n")
    proc = invoke("scan", "--allow-no-templates", str(broken))
    assert proc.exit_code == 2 and "broken.yaml" in proc.stderr


def test_missing_path_is_a_note_with_missing_ok(tmp_path):
    missing = str(tmp_path / "cdk.out")
    proc = invoke("scan", missing)
    assert proc.exit_code == 2 and "no such file or directory" in proc.stderr
    proc = invoke("scan", "--missing-ok", missing)
    assert proc.exit_code == 2  # nothing scanned at all is still not a pass ...
    assert f"tapaudit: note: {missing}: does not exist, not scanned (--missing-ok)" in proc.stderr
    proc = invoke("scan", "--missing-ok", "--allow-no-templates", missing)
    assert proc.exit_code == 0, proc.stderr  # ... unless allowed, as the tapaudit-cdk hook does
    proc = invoke("scan", "--missing-ok", missing, FLAWED, "-f", "json")
    assert proc.exit_code == 1 and len(json.loads(proc.stdout)["templates"]) == 2


def test_allow_no_templates_skips_unparsable_files_that_are_no_templates(tmp_path):
    """A hook gets every staged YAML: Kubernetes documents and Helm charts are not ours."""
    k8s = tmp_path / "k8s.yaml"
    k8s.write_text("apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\n")
    helm = tmp_path / "values.yaml"
    helm.write_text("image: {{ .Values.image }}\n")
    proc = invoke("scan", "--allow-no-templates", "-f", "json", str(k8s), str(helm),
                   str(FIXTURES / "TAP006" / "yaml-cases.yaml"))
    report = json.loads(proc.stdout)
    assert proc.exit_code == 0 and report["errors"] == [] and len(report["templates"]) == 1
    assert sorted(s["file"].rsplit("/", 1)[-1] for s in report["skipped"]) == ["k8s.yaml", "values.yaml"]
    assert invoke("scan", str(k8s)).exit_code == 2  # without the option, still an error
