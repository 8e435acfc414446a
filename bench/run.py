#!/usr/bin/env python3
"""Benchmark tapaudit against cfn-lint and checkov on CDK-shaped workloads, whole process.

Workloads are built from the reference stack's resource mix (fixtures/reference, synthesized by
aws-cdk-lib): templates of 10, 100 and 450 resources in JSON and YAML, the same with the flawed
stack's mix (so findings and line lookups happen), and a cloud assembly of 50 stacks. The SAM
workload is the serverless-patterns part of the shared corpus (its SAM templates, as written).
`json.load` runs on the 450-resource JSON templates as the floor: a process that only starts
Python and reads the file, to show how much of a scan is the interpreter's own start.
Each tool runs once to warm up, then --runs times per workload; the table shows the median wall time, peak
memory (max RSS of the tool's process) and each peer's time as a multiple of tapaudit's. CPU time
is shown too: on a machine loaded by other work, wall time mostly measures the wait for a core. The target
(issue 15): on a 450-resource template at least 20x faster than cfn-lint and than checkov, on the
50-stack assembly at least 100x, both measured side by side in one run.

    python bench/run.py --install-peers      # cfn-lint and checkov into bench/.peers (a venv)
    python bench/run.py --dev                # the development checkout instead of the installed wheel
    python bench/run.py --runs 5 --only tapaudit
    python bench/run.py --workload 450 --workload assembly   # the rows the target is about

tapaudit is measured as users get it: the working tree is built into a wheel and installed into
bench/.tapaudit (a venv), which compiles its bytecode and carries the rules parsed at build time,
as the peers are measured from their installed wheels. `--dev` measures the development checkout
(its bytecode compiled first, whatever PYTHONDONTWRITEBYTECODE says).

This is a benchmark, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cfn_flip

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tapaudit.errors import InputError
from tapaudit.loading.parse import parse_document

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "workloads"
PEERS = HERE / ".peers"
INSTALLED = HERE / ".tapaudit"  # the working tree, built and installed as a user installs it
SIZES = (10, 100, 450)
LINEARITY_SIZE = 1800  # 4x the largest size, tapaudit only: does the cost grow linearly?
ASSEMBLY_STACKS = 50
CORPUS = ROOT.parent / "shared" / "corpus" / "real" / "serverless-patterns"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


# Workloads ---------------------------------------------------------------------------------------
def _resources(variant: str) -> dict:
    template = ROOT / "fixtures" / variant / "TransactionMigration-Primary.template.json"
    return json.loads(template.read_text())["Resources"]


def scaled_template(variant: str, count: int) -> dict:
    """`count` resources: copies of the stack's resource mix, logical ids and references renamed."""
    base = _resources(variant)
    ids = re.compile(r"\b(" + "|".join(map(re.escape, sorted(base, key=len, reverse=True))) + r")\b")
    text = json.dumps(base)
    resources: dict = {}
    copy = 0
    while len(resources) < count:
        suffix = f"C{copy}" if copy else ""
        renamed = json.loads(ids.sub(lambda m, s=suffix: m.group(1) + s, text))
        for name, body in renamed.items():
            if len(resources) < count:
                resources[name] = body
        copy += 1
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


@dataclass(frozen=True)
class Workload:
    name: str
    path: Path
    resources: int
    files: int = 1
    peers: bool = True  # also run cfn-lint and checkov on it


def build_workloads() -> list[Workload]:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    workloads = []
    for variant in ("reference", "flawed"):
        for size in SIZES:
            template = scaled_template(variant, size)
            path = WORK / f"{variant}-{size}.template.json"
            path.write_text(json.dumps(template, indent=1))
            workloads.append(Workload(f"{variant} {size} JSON", path, size))
            if size == SIZES[-1]:
                yaml_path = WORK / f"{variant}-{size}.template.yaml"
                yaml_path.write_text(cfn_flip.to_yaml(json.dumps(template)))
                workloads.append(Workload(f"{variant} {size} YAML", yaml_path, size))
    big = WORK / f"reference-{LINEARITY_SIZE}.template.json"
    big.write_text(json.dumps(scaled_template("reference", LINEARITY_SIZE), indent=1))
    workloads.append(Workload(f"reference {LINEARITY_SIZE} JSON", big, LINEARITY_SIZE, peers=False))
    assembly = WORK / "assembly-50"
    assembly.mkdir()
    artifacts = {}
    for index in range(ASSEMBLY_STACKS):
        name = f"Stack{index:02}"
        variant = "flawed" if index % 5 == 0 else "reference"
        (assembly / f"{name}.template.json").write_text(
            json.dumps(scaled_template(variant, 100), indent=1))
        artifacts[name] = {"type": "aws:cloudformation:stack",
                           "environment": "aws://111111111111/us-east-1",
                           "properties": {"templateFile": f"{name}.template.json"}}
    (assembly / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    workloads.append(Workload(f"assembly {ASSEMBLY_STACKS} stacks", assembly,
                              100 * ASSEMBLY_STACKS, ASSEMBLY_STACKS))
    sam = _sam_workload()
    if sam:
        workloads.append(sam)
    return workloads


def _sam_workload() -> Workload | None:
    """The SAM templates of serverless-patterns that tapaudit reads (duplicate keys are refused)."""
    if not CORPUS.is_dir():
        return None
    folder = WORK / "sam-serverless-patterns"
    folder.mkdir()
    resources = 0
    for path in sorted(CORPUS.iterdir()):
        text = path.read_text(encoding="utf-8", errors="replace")
        if SAM_TRANSFORM not in text:
            continue
        try:
            data = parse_document(text).data
        except InputError:  # e.g. a duplicate key: refused, so not a speed workload
            continue
        if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
            continue
        (folder / path.name).write_text(text)
        resources += len(data["Resources"])
    files = len(list(folder.iterdir()))
    return Workload(f"SAM serverless-patterns {files} templates", folder, resources, files)


# Tools -------------------------------------------------------------------------------------------
def _peer(name: str) -> str | None:
    local = PEERS / "bin" / name
    return str(local) if local.exists() else shutil.which(name)


def commands(tool: str, workload: Workload) -> list[str] | None:
    target = str(workload.path)
    templates = ([str(p) for p in sorted(workload.path.iterdir())
                  if p.name != "manifest.json" and p.suffix in (".json", ".yaml", ".yml")]
                 if workload.path.is_dir() else [target])
    if tool == "json.load":
        if not (workload.resources == SIZES[-1] and target.endswith(".json")):
            return None
        return [sys.executable, "-c", "import json, sys; json.load(open(sys.argv[1]))", target]
    if tool == "tapaudit":
        return [*TAPAUDIT, "scan", target, "--format", "json",
                "--fail-on", "none", "--output", os.devnull]
    if tool == "cfn-lint":
        exe = _peer("cfn-lint")
        return [exe, "--format", "parseable", *templates] if exe else None
    if tool == "checkov":
        exe = _peer("checkov")
        if not exe:
            return None
        where = ["-d", target] if workload.path.is_dir() else ["-f", target]
        return [exe, *where, "--framework", "cloudformation", "--quiet", "--compact",
                "--skip-download", "-o", "json"]
    raise ValueError(tool)


# A process forked from this one starts as a copy of it, and Linux counts that copy in the child's
# max RSS even after exec (with the workloads built, that copy is ~40 MiB). So a small runner
# forks the tool and reports the tool's own wall time, CPU time (its processes' user + system
# time, which waiting for a core on a loaded machine does not inflate) and peak.
_RUNNER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
      os.waitstatus_to_exitcode(status))
"""
# Runs that must succeed: a tool that fails at once (a missing dependency) would look fast.
MUST_SUCCEED = ("tapaudit", "json.load")


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # seconds
    peak: float  # MiB


def measure(argv: list[str], must_succeed: bool = False) -> Sample:
    """One whole process."""
    out = subprocess.run([sys.executable, "-c", _RUNNER, *argv], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split()
    if must_succeed and int(out[3]) != 0:
        sys.exit(f"exit {out[3]} from {' '.join(argv)}: the bench measures only runs that succeed")
    return Sample(float(out[0]), float(out[1]), int(out[2]) / 1024)


def bench_interleaved(argvs: dict[str, list[str]], runs: dict[str, int]) -> dict[str, list[Sample]]:
    """Samples of each tool, taken in rounds (tapaudit, then each peer, then again), so every tool
    meets the same phases of a machine whose speed drifts. There are as many rounds as the tool
    with the fewest runs has, and a tool with more spreads them evenly over the rounds: with 9
    runs against the peers' 3, tapaudit runs 3 times in each, not 6 times after the peers are done."""
    samples: dict[str, list[Sample]] = {tool: [] for tool in argvs}
    rounds = min(runs.values())
    for round_ in range(rounds):
        for tool, argv in argvs.items():
            for _ in range(spread(runs[tool], rounds, round_)):
                samples[tool].append(measure(argv, tool in MUST_SUCCEED))
    return samples


def spread(runs: int, rounds: int, round_: int) -> int:
    """How many of `runs` fall in round `round_` of `rounds` when they are spread evenly."""
    return runs * (round_ + 1) // rounds - runs * round_ // rounds


# How tapaudit is started: its installed entry point (not `python -m`, which would put the
# checkout first on the path, as the runs' working directory), or the checkout with --dev.
TAPAUDIT = [sys.executable, "-m", "tapaudit"]


def install_tapaudit() -> list[str]:
    """Build the working tree into a wheel and install it into bench/.tapaudit (its dependencies
    the first time); the command that runs it."""
    python = INSTALLED / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(INSTALLED)], check=True)
    with tempfile.TemporaryDirectory() as built:
        subprocess.run([str(python), "-m", "pip", "wheel", "-q", "--no-deps", "-w", built, str(ROOT)],
                       check=True, capture_output=True)
        wheel = str(next(Path(built).glob("tapaudit-*.whl")))
        _pip(python, "--no-deps", "--force-reinstall", wheel)  # this tree, whatever the version says
        _pip(python, wheel)  # and any dependency it gained since the venv was made
    return [str(INSTALLED / "bin" / "tapaudit")]


def _pip(python: Path, *args: str) -> None:
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", *args], capture_output=True,
                          text=True)
    if proc.returncode:
        sys.exit(f"installing tapaudit into {INSTALLED} failed:\n{proc.stderr}")


def compile_bytecode() -> None:
    """--dev: write the checkout's .pyc files, as pip does when it installs a wheel. The warm-up
    run would write them too, except where PYTHONDONTWRITEBYTECODE is set: then every measured
    run would compile the modules it imports from source."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tapaudit")], check=True,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})


def install_peers() -> None:
    subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    proc = subprocess.run([str(PEERS / "bin" / "pip"), "install", "-q", "cfn-lint", "checkov"],
                          capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"installing the peers failed:\n{proc.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-runs", type=int, metavar="N",
                        help="runs of cfn-lint and checkov (default: --runs); they take 10-100x longer")
    parser.add_argument("--install-peers", action="store_true",
                        help="install cfn-lint and checkov into bench/.peers first")
    parser.add_argument("--only", action="append",
                        choices=["tapaudit", "json.load", "cfn-lint", "checkov"])
    parser.add_argument("--workload", action="append", metavar="TEXT",
                        help="only the workloads whose name contains TEXT (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--dev", action="store_true",
                        help="measure the development checkout, not the working tree's installed wheel")
    args = parser.parse_args()
    if args.install_peers:
        install_peers()
    global TAPAUDIT
    if args.dev:
        compile_bytecode()
    else:
        TAPAUDIT = install_tapaudit()
    tools = args.only or ["tapaudit", "json.load", "cfn-lint", "checkov"]

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
          f", {platform.platform()}")
    peer_runs = args.peer_runs or args.runs
    measured = "the development checkout" if args.dev else f"its wheel, installed in {INSTALLED}"
    print(f"tapaudit: {measured}")
    print(f"median of {args.runs} runs ({peer_runs} for the peers), each tool warmed up once; "
          "x tapaudit = the tool's time / tapaudit's\n")
    print("| workload | tool | wall s | CPU s | peak MiB | x tapaudit, wall | x tapaudit, CPU |")
    print("|---|---|---:|---:|---:|---:|---:|", flush=True)
    rows = []
    for label, argv in (("tapaudit --version", [*TAPAUDIT, "--version"]),
                        ("tapaudit rules", [*TAPAUDIT, "rules"])):
        measure(argv)  # warm-up: page cache, .pyc files
        rows.append(_row(label, "tapaudit", [measure(argv) for _ in range(args.runs)], None))
    warmed: set[str] = set()
    for workload in build_workloads():
        if args.workload and not any(text in workload.name for text in args.workload):
            continue
        argvs = {tool: argv for tool in tools
                 if (tool in ("tapaudit", "json.load") or workload.peers)
                 and (argv := commands(tool, workload)) is not None}
        for tool in argvs.keys() - warmed:  # page cache, .pyc files: once per tool is enough
            measure(argvs[tool])
            warmed.add(tool)
        samples = bench_interleaved(argvs, {tool: args.runs if tool in ("tapaudit", "json.load")
                                            else peer_runs for tool in argvs})
        base = samples.get("tapaudit")
        for tool, taken in samples.items():
            rows.append(_row(workload.name, tool, taken, base))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def _row(workload: str, tool: str, samples: list[Sample], base: list[Sample] | None) -> dict:
    """One result, printed as a table row as soon as it is measured (a long run shows progress)."""
    wall = statistics.median(s.wall for s in samples)
    cpu = statistics.median(s.cpu for s in samples)
    peak = max(s.peak for s in samples)
    ratios = ((wall / statistics.median(s.wall for s in base), cpu / statistics.median(s.cpu for s in base))
              if base and tool != "tapaudit" else None)
    shown = " | ".join(f"{r:.2f}x" if r < 1 else f"{r:.0f}x" for r in ratios) if ratios else " | "
    print(f"| {workload} | {tool} | {wall:.3f} | {cpu:.3f} | {peak:.0f} | {shown} |", flush=True)
    return {"workload": workload, "tool": tool, "seconds": wall, "cpu_seconds": cpu, "peak_mib": peak,
            "ratio": ratios[0] if ratios else None, "cpu_ratio": ratios[1] if ratios else None}


if __name__ == "__main__":
    main()
