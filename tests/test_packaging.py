"""The wheel carries the rule files, so an installed tapaudit works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from tests.conftest import ROOT


def test_wheel_carries_rules_and_runs_anywhere(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("tapaudit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for i in range(1, 7):
        assert f"tapaudit/builtin_rules/TAP00{i}.yaml" in names
    assert "tapaudit/rules/predicates/s3.py" in names
    assert "tapaudit/model/data/aws_managed_policies.jsonl.zblocks" in names  # the dated snapshot

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "-m", "tapaudit", "rules"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("TAP00") == 6
    proc = subprocess.run([sys.executable, "-c", "import tapaudit.rules.loader as l; "
                           "print(l.builtin_rules_dir())"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().startswith(str(site))
    # SAM expansion reads its data (policy templates, connector profiles) from the package.
    for name in ("policy_templates.json", "managed_policies.json", "connector_profiles.json", "NOTICE"):
        assert f"tapaudit/transforms/sam/data/{name}" in names
    sam = ROOT / "fixtures" / "TAP002" / "sam-pass-policy-templates.yaml"
    proc = subprocess.run([sys.executable, "-m", "tapaudit", "scan", str(sam), "--rule", "TAP002",
                           "-f", "json"], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"findings": []' in proc.stdout and '"unknown": []' in proc.stdout
