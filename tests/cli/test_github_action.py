"""The composite GitHub Action (action.yml), run as a runner runs it: its `run:` steps, each with its
`shell`, the `${{ ... }}` expressions substituted, and the files and variables a runner provides
(GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE, GITHUB_ACTION_PATH, RUNNER_TEMP, ...).

The install step builds tapaudit from a copy of this working tree into a fresh virtualenv (PyPI is
needed for its dependencies), once for the module; each scenario then runs the scan step.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.cli.repo_snapshot import snapshot_worktree
from tests.conftest import FIXTURES, ROOT, SARIF_SCHEMA, require_command, require_module

pytestmark = pytest.mark.hooks
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = ACTION["runs"]["steps"]
PRIMARY = "cdk.out/TransactionMigration-Primary.template.json"
# What `shell: bash` means on a runner.
SHELLS = {"bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"]}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepRun:
    proc: subprocess.CompletedProcess
    outputs: dict[str, str]
    summary: str


@dataclass
class Runner:
    """One job's state: the action's checkout, the workspace, RUNNER_TEMP and step outputs."""

    action_path: Path
    temp: Path
    steps: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, expression: str, inputs: dict[str, str]) -> str:
        if expression == "github.action_path":
            return str(self.action_path)
        if match := re.fullmatch(r"inputs\.([\w-]+)", expression):
            return inputs[match.group(1)]
        if match := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression):
            return self.steps.get(match.group(1), {}).get(match.group(2), "")
        raise AssertionError(f"the test runner does not know the expression {expression!r}")

    def substitute(self, text: str, inputs: dict[str, str]) -> str:
        return EXPRESSION.sub(lambda m: self.value(m.group(1), inputs), text)

    def condition(self, step: dict, inputs: dict[str, str]) -> bool:
        condition = step.get("if")
        if condition is None:
            return True
        match = re.fullmatch(r"inputs\.([\w-]+) (==|!=) ''", condition.strip())
        assert match, f"the test runner does not know the condition {condition!r}"
        empty = inputs[match.group(1)] == ""
        return empty if match.group(2) == "==" else not empty

    def run(self, step: dict, inputs: dict[str, str], workspace: Path) -> StepRun:
        assert "run" in step and step["shell"] in SHELLS, step
        index = len(list(self.temp.glob("step-*")))
        files = self.temp / f"step-{index}"
        files.mkdir()
        output, summary = files / "output", files / "summary.md"
        for path in (output, summary, files / "env", files / "path"):
            path.touch()
        script = files / "script.sh"
        script.write_text(self.substitute(step["run"], inputs))
        env = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "INPUT_"))}
        env.update({
            "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux", "RUNNER_TEMP": str(self.temp),
            "GITHUB_WORKSPACE": str(workspace), "GITHUB_ACTION_PATH": str(self.action_path),
            "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_ENV": str(files / "env"), "GITHUB_PATH": str(files / "path"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", "NO_COLOR": "1",
        })
        env.update({key: self.substitute(str(value), inputs) for key, value in step.get("env", {}).items()})
        proc = subprocess.run([*SHELLS[step["shell"]], str(script)], cwd=workspace, env=env,
                              capture_output=True, text=True, timeout=900)
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if step.get("id"):
            self.steps[step["id"]] = outputs
        return StepRun(proc, outputs, summary.read_text())


def inputs_with(**given: str) -> dict[str, str]:
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    for name, value in given.items():
        name = name.replace("_", "-")
        assert name in values, f"action.yml has no input {name}"
        values[name] = value
    return values


def _index(step_id: str) -> int:
    return next(i for i, step in enumerate(STEPS) if step.get("id") == step_id)


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> Runner:
    require_command("bash")
    require_module("venv")
    action_path, _ = snapshot_worktree(tmp_path_factory.mktemp("actions") / "tapaudit")
    shutil.rmtree(action_path / ".git")  # the runner's download of an action has no history
    job = Runner(action_path, tmp_path_factory.mktemp("runner-temp"))
    workspace = tmp_path_factory.mktemp("workspace")
    inputs = inputs_with()
    for step in STEPS[:_index("scan")]:
        if not job.condition(step, inputs):
            continue
        assert "uses" not in step, f"step {step} would need the real runner"
        done = job.run(step, inputs, workspace)
        assert done.proc.returncode == 0, done.proc.stdout + done.proc.stderr
    return job


@pytest.fixture
def workspace(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    return root


def scan(runner: Runner, workspace: Path, **given: str) -> StepRun:
    inputs = inputs_with(**given)
    last = None
    for step in STEPS[_index("scan"):]:
        if runner.condition(step, inputs):
            last = runner.run(step, inputs, workspace)
    assert last is not None
    return last


def test_action_shape():
    assert ACTION["runs"]["using"] == "composite"
    assert {"path", "fail-on", "config", "sarif-file", "args"} <= set(ACTION["inputs"])
    for step in STEPS:
        assert "uses" in step or step.get("shell"), f"a composite run step needs a shell: {step}"
        assert "${{" not in step.get("run", ""), "expressions reach scripts through env only"
    # The setup-python step is skipped by default: the runner's python3 is used.
    assert not Runner(Path(), Path()).condition(STEPS[0], inputs_with())


def test_flawed_assembly_fails_with_annotations_summary_and_sarif(runner, workspace):
    shutil.copytree(FIXTURES / "flawed", workspace / "cdk.out")
    done = scan(runner, workspace)
    assert done.proc.returncode == 1, done.proc.stderr
    assert done.outputs == {"exit-code": "1", "sarif-file": "tapaudit.sarif"}
    commands = [line for line in done.proc.stdout.splitlines() if line.startswith("::")]
    errors = [c for c in commands if c.startswith("::error ")]
    warnings = [c for c in commands if c.startswith("::warning ")]
    # At or above the gate (high) is an error, below it a warning; the file is workspace-relative.
    assert len(errors) == 1 and f"file={PRIMARY}," in errors[0] and "TAP002" in errors[0]
    assert len(warnings) == 5 and all(f"file={PRIMARY}," in w for w in warnings)
    assert all(re.search(r",line=\d+", c) for c in errors + warnings)
    assert "TAP002" in done.summary and "|" in done.summary  # the markdown table, in the step summary
    sarif = json.loads((workspace / "tapaudit.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == 6
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]} == {PRIMARY}
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))


def test_clean_assembly_passes(runner, workspace):
    shutil.copytree(FIXTURES / "reference", workspace / "cdk.out")
    done = scan(runner, workspace, sarif_file="reports/tapaudit.sarif")
    assert done.proc.returncode == 0, done.proc.stdout + done.proc.stderr
    assert done.outputs["exit-code"] == "0"
    assert json.loads((workspace / "reports" / "tapaudit.sarif").read_text())["runs"][0]["results"] == []
    assert done.summary.strip()


def test_gate_paths_and_extra_arguments(runner, workspace):
    shutil.copytree(FIXTURES / "flawed", workspace / "infra" / "cdk out")
    shutil.copy(FIXTURES / "TAP006" / "yaml-cases.yaml", workspace / "functions.yaml")
    path = "'infra/cdk out' functions.yaml"
    # Skipping the one high finding leaves only mediums and a low under the default gate ...
    done = scan(runner, workspace, path=path, args="--skip-rule TAP002 --jobs 1", sarif_file="")
    assert done.proc.returncode == 0, done.proc.stdout + done.proc.stderr
    assert "file=infra/cdk out/TransactionMigration-Primary.template.json" in done.proc.stdout
    assert "file=functions.yaml," in done.proc.stdout
    assert not (workspace / "tapaudit.sarif").exists()
    # ... and a lower gate fails them.
    done = scan(runner, workspace, path=path, args="--skip-rule TAP002", fail_on="medium")
    assert done.proc.returncode == 1 and done.outputs["exit-code"] == "1"
    assert "::error " in done.proc.stdout


def test_config_input_names_the_configuration_file(runner, workspace):
    shutil.copytree(FIXTURES / "flawed", workspace / "cdk.out")
    (workspace / "ci").mkdir()
    (workspace / "ci" / "tapaudit.toml").write_text('skip_rules = ["TAP002"]\n')
    done = scan(runner, workspace, config="ci/tapaudit.toml")  # --config (issue 8)
    assert done.proc.returncode == 0, done.proc.stdout + done.proc.stderr
    assert "TAP002" not in done.proc.stdout


def test_inputs_are_never_executed(runner, workspace):
    shutil.copytree(FIXTURES / "reference", workspace / "cdk.out")
    done = scan(runner, workspace, path="cdk.out $(touch pwned) `touch pwned2`")
    assert not (workspace / "pwned").exists() and not (workspace / "pwned2").exists()
    assert done.proc.returncode == 2  # the words are paths that do not exist
    assert "$(touch" in done.proc.stderr


def test_missing_input_is_exit_2(runner, workspace):
    done = scan(runner, workspace)  # no cdk.out: the job has not synthesized
    assert done.proc.returncode == 2 and done.outputs["exit-code"] == "2"
    assert "cdk.out" in done.proc.stderr


def test_without_fail_on_the_configuration_file_sets_the_gate(runner, workspace):
    shutil.copytree(FIXTURES / "flawed", workspace / "cdk.out")
    (workspace / ".tapaudit.toml").write_text('fail_on = "none"\n')
    done = scan(runner, workspace)  # fail-on left empty: the file's gate applies
    assert done.proc.returncode == 0, done.proc.stdout + done.proc.stderr
    done = scan(runner, workspace, fail_on="low")  # the input wins over the file
    assert done.proc.returncode == 1
