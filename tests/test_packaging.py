"""A release build that is tested: the sdist and the wheel are built as a release builds them, the
wheel carries the rule files, and the wheel installed into a fresh virtualenv scans the flawed
stack from any directory. One version, single-sourced in tapaudit/__init__.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tapaudit import __version__
from tests.conftest import FIXTURES, ROOT, require_module, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """`python -m build`: the sdist, then the wheel built from it (hatchling fetched from PyPI)."""
    require_module("build")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    wheels = list(dist.glob("tapaudit-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _clean_env() -> dict[str, str]:
    """The environment of a user's shell: nothing points Python at this working tree."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, "NO_COLOR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def test_version_is_single_sourced(dist, wheel):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert wheel.name == f"tapaudit-{__version__}-py3-none-any.whl"
    assert (dist / f"tapaudit-{__version__}.tar.gz").is_file()
    metadata = zipfile.ZipFile(wheel).read(f"tapaudit-{__version__}.dist-info/METADATA").decode()
    assert f"\nVersion: {__version__}\n" in metadata
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"tapaudit {__version__}"


def test_sdist_carries_the_sources_and_the_rules(dist):
    with tarfile.open(dist / f"tapaudit-{__version__}.tar.gz") as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for i in range(1, 7):
        assert f"rules/TAP00{i}.yaml" in names
    assert {"pyproject.toml", "README.md", "tapaudit/__init__.py", "tapaudit/cli.py"} <= names


def test_wheel_carries_rules_and_runs_anywhere(wheel, tmp_path):
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


def test_wheel_carries_the_rules_parsed_and_a_json_scan_never_imports_yaml(wheel, tmp_path):
    """hatch_build.py parses each rule file when the wheel is built: its JSON twin holds the same
    data, the installed loader reads the twin, and so a scan of a JSON template needs no PyYAML."""
    import yaml

    archive = zipfile.ZipFile(wheel)
    for i in range(1, 7):
        written = yaml.safe_load(archive.read(f"tapaudit/builtin_rules/TAP00{i}.yaml"))
        assert json.loads(archive.read(f"tapaudit/builtin_rules/TAP00{i}.parsed.json")) == written
    site = tmp_path / "site"
    archive.extractall(site)
    code = ("import sys\nfrom tapaudit.cli import main\nsys.argv = ['tapaudit', 'scan', sys.argv[1], "
            "'-f', 'json', '-o', sys.argv[2]]\ntry:\n    main()\nexcept SystemExit as exit:\n"
            "    print(exit.code, 'yaml' in sys.modules)\n")
    report = tmp_path / "report.json"
    template = FIXTURES / "flawed" / "TransactionMigration-Primary.template.json"
    proc = subprocess.run([sys.executable, "-c", code, str(template), str(report)], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split() == ["1", "False"], proc.stdout + proc.stderr
    assert json.loads(report.read_text())["findings"]  # the rules ran, from the parsed twins
    # A rule file the user adds is still YAML, read at every run; a twin beside it is not read.
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "TAP900.yaml").write_text((ROOT / "rules" / "TAP006.yaml").read_text().replace(
        "id: TAP006", "id: TAP900"))
    (mine / "TAP900.parsed.json").write_text("{not json")
    proc = subprocess.run([sys.executable, "-m", "tapaudit", "rules", "--rules-dir", str(mine)],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "TAP900" in proc.stdout, proc.stderr


@pytest.mark.hooks
def test_wheel_installed_into_a_fresh_venv_scans_the_flawed_stack(wheel, tmp_path):
    """What a user gets from `pip install tapaudit-<version>-py3-none-any.whl`: a fresh virtualenv
    (no system site-packages), the wheel and its dependencies from PyPI, the `tapaudit` script."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = _clean_env()
    install = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                             capture_output=True, text=True, timeout=900, env=env)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(bin_dir / "python"), "-c", "import tapaudit; print(tapaudit.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    tapaudit = str(bin_dir / "tapaudit")
    version = subprocess.run([tapaudit, "--version"], cwd=elsewhere, env=env, capture_output=True,
                             text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.strip() == f"tapaudit {__version__}"

    scan = subprocess.run([tapaudit, "scan", str(FIXTURES / "flawed"), "--format", "json"],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert scan.returncode == 1, scan.stderr
    report = json.loads(scan.stdout)
    assert report["version"] == __version__
    assert sorted(f["rule_id"] for f in report["findings"]) == [f"TAP00{i}" for i in range(1, 7)]
    assert report["errors"] == [] and report["unknown"] == []

    console = subprocess.run([tapaudit, "scan", str(FIXTURES / "flawed")], cwd=elsewhere, env=env,
                             capture_output=True, text=True, timeout=300)
    assert console.returncode == 1
    assert console.stdout.rstrip().splitlines()[-1].startswith("exit 1: ")
