"""Issue 16: a folder scan never drops a file without a word, never opens a FIFO or a device, never
reads past the size limit; a cloud assembly never makes tapaudit read outside its folder.

Each hostile input is a file in `tests/loading/hostile/` or is made in tmp (FIFOs, symlinks, large
or unreadable files). Every case must end with an error for that input and the good template
beside it still scanned.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from tapaudit.errors import InputError
from tapaudit.loading import assembly as assembly_module
from tapaudit.loading.discovery import MAX_BYTES, TemplateSource, discover, read_text
from tapaudit.loading.quoting import excerpt
from tapaudit.pipeline import run
from tests.conftest import run_cli

HOSTILE = Path(__file__).parent / "hostile"
GOOD = HOSTILE / "good" / "Good.template.json"


def _folder_with(tmp_path: Path, *names: str) -> Path:
    """A folder holding the good template and copies of the named hostile files."""
    folder = tmp_path / "repo"
    folder.mkdir()
    shutil.copy(GOOD, folder / "good.json")
    for name in names:
        shutil.copy(HOSTILE / name, folder / name)
    return folder


def _errors(result) -> dict[str, str]:
    return {Path(e.file).name: e.message for e in result.errors}


@pytest.mark.parametrize(("name", "message"), [
    ("latin1-comment.yaml", "not UTF-8 text (byte 44, 0xE9 at line 2)"),
    ("nul-byte.json", "binary file, not a template"),
    ("utf16-bom.json", "UTF-16 text; CloudFormation templates must be UTF-8"),
    ("utf16le-no-bom.json", "UTF-16 text; CloudFormation templates must be UTF-8"),
    ("utf32-bom.yaml", "UTF-32 text; CloudFormation templates must be UTF-8"),
    ("utf32be-no-bom.yaml", "UTF-32 text; CloudFormation templates must be UTF-8"),
])
def test_undecodable_candidate_in_a_folder_is_an_error(tmp_path, name, message):
    result = run([str(_folder_with(tmp_path, name))]).result
    assert _errors(result) == {name: message}
    assert [Path(t).name for t in result.templates] == ["good.json"]


def test_file_over_the_size_limit_in_a_folder_is_an_error(tmp_path):
    folder = _folder_with(tmp_path)
    with open(folder / "huge.yaml", "wb") as handle:  # sparse: no disk is used
        handle.truncate(MAX_BYTES + 1)
    result = run([str(folder)]).result
    assert _errors(result) == {"huge.yaml": "file is 32.0 MiB, over the 32 MiB limit"}
    assert len(result.templates) == 1


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc")
def test_file_whose_size_fstat_understates_is_read_whole_and_within_the_limit():
    """A /proc file says it is empty and is not: reading stops at the end of what it holds, or
    is refused past the limit, not at the size fstat gave."""
    from tapaudit.loading.reading import read_bounded

    status = Path("/proc/self/status")
    assert os.stat(status).st_size == 0
    assert read_bounded(status).startswith(b"Name:")
    with pytest.raises(InputError, match="over the 0 MiB limit"):
        read_bounded(status, limit=100)


def _deny(monkeypatch, path: Path, function: str) -> None:
    """As root, chmod 0 does not stop a read: make `os.<function>` refuse `path` instead."""
    real = getattr(os, function)

    def refusing(target, *args, **kwargs):
        if Path(os.fsdecode(target)) == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        return real(target, *args, **kwargs)

    monkeypatch.setattr(os, function, refusing)


def test_unreadable_file_and_folder_are_errors(tmp_path, monkeypatch):
    folder = _folder_with(tmp_path)
    secret = folder / "secret.yaml"
    shutil.copy(GOOD, secret)
    hidden = folder / "hidden"
    hidden.mkdir()
    shutil.copy(GOOD, hidden / "inner.json")
    if os.geteuid() == 0:
        _deny(monkeypatch, secret, "open")
        _deny(monkeypatch, hidden, "scandir")
    else:
        secret.chmod(0)
        hidden.chmod(0)
    try:
        result = run([str(folder)], jobs=1).result
    finally:
        hidden.chmod(0o755)
        secret.chmod(0o644)
    assert _errors(result) == {"secret.yaml": "cannot read: Permission denied",
                               "hidden": "cannot read folder: Permission denied"}
    assert [Path(t).name for t in result.templates] == ["good.json"]


def test_non_template_in_a_folder_is_listed_as_skipped(tmp_path):
    folder = _folder_with(tmp_path)
    (folder / "chart.yaml").write_text("apiVersion: v2\nname: web\n")
    (folder / "values.yaml").write_text("replicas: [1\n")  # not even YAML, and no template section
    outcome = run([str(folder)])
    assert {Path(s.file).name for s in outcome.result.skipped} == {"chart.yaml", "values.yaml"}
    assert outcome.result.errors == []


def test_console_lists_folder_errors_and_exits_2(tmp_path):
    folder = _folder_with(tmp_path, "latin1-comment.yaml")
    proc = run_cli("scan", str(folder), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "repo/latin1-comment.yaml: not UTF-8 text" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- FIFOs, devices and symlinks: never opened in a folder walk, never read past the limit ---

def test_fifo_and_device_symlink_in_a_folder_are_not_opened(tmp_path):
    folder = _folder_with(tmp_path)
    os.mkfifo(folder / "pipe.yaml")
    (folder / "zero.json").symlink_to("/dev/zero")
    (folder / "dangling.json").symlink_to(folder / "nowhere.json")
    sources, errors = discover([str(folder)])
    assert [Path(s.display).name for s in sources] == ["good.json"]
    assert {Path(e.file).name: e.message for e in errors} == {
        "pipe.yaml": "a FIFO (named pipe), not a regular file: not read",
        "zero.json": "a character device, not a regular file: not read",
        "dangling.json": "cannot read: No such file or directory"}


def test_fifo_named_directly_says_what_it_is(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    sources, errors = discover([str(tmp_path / "pipe.yaml")])
    assert sources == []
    assert errors[0].message == "a FIFO (named pipe), not a regular file: not read"


def test_device_named_directly_is_not_read(tmp_path):
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    sources, errors = discover([str(tmp_path / "zero.json")])
    assert sources == [] and errors[0].message == "a character device, not a regular file: not read"


def test_read_text_refuses_special_files_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.json")  # opening it for reading would block without O_NONBLOCK
    with pytest.raises(InputError, match="FIFO"):
        read_text(TemplateSource("pipe.json", path=tmp_path / "pipe.json"))
    with pytest.raises(InputError, match="character device"):
        read_text(TemplateSource("zero", path=Path("/dev/zero")))


def test_stdin_over_the_size_limit_says_so():
    proc = run_cli("scan", "-", stdin=b"#" * (MAX_BYTES + 1))
    assert proc.returncode == 2
    assert "<stdin>: standard input is over the 32 MiB limit" in proc.stderr


# --- cloud assemblies: nothing outside the folder is read; a broken manifest costs only itself ---

def test_long_values_are_quoted_as_short_escaped_excerpts():
    assert excerpt("\x1b[31m" + "a" * 100) == "'\\x1b[31m" + "a" * 55 + "'..."


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(HOSTILE / name, target)
    return target


def test_manifest_entries_outside_the_assembly_are_errors_and_never_read(tmp_path, monkeypatch):
    folder = _copy("assembly-escape", tmp_path)
    read: list[Path] = []
    real = assembly_module.read_bounded
    monkeypatch.setattr(assembly_module, "read_bounded", lambda p, *a: read.append(p) or real(p, *a))
    result = run([str(folder)], jobs=1).result
    assert {Path(t).name for t in result.templates} == {"Good.template.json", "SideFile.template.json"}
    messages = sorted(e.message for e in result.errors)
    assert messages == [
        "artifact 'Absolute': templateFile '/etc/passwd' is outside the cloud assembly's folder; not read",
        "artifact 'Relative': templateFile '../../../../../../../../etc/passwd' is outside the cloud "
        "assembly's folder; not read",
        "artifact 'SideFile': additionalMetadataFile '/etc/passwd' is outside the cloud assembly's "
        "folder; not read",
        "nested stack 'Nested': aws:asset:path '../../../../../../../../etc/passwd\\n::error::x.template."
        "json' is outside the cloud assembly's folder; not read"]
    assert all(p.resolve().is_relative_to(folder.resolve()) for p in read)
    assert "root:" not in str(result.errors)


def test_symlink_out_of_the_assembly_is_refused(tmp_path):
    folder = _copy("assembly-self-nesting", tmp_path)
    (tmp_path / "outside.json").write_text('{"Resources": {}}')
    (folder / "Good.template.json").unlink()
    (folder / "Good.template.json").symlink_to(tmp_path / "outside.json")
    sources, errors = discover([str(folder)])
    assert sources == []
    assert "artifact 'Good': templateFile 'Good.template.json' is outside the cloud assembly's folder; " \
           "not read" in [e.message for e in errors]


def test_self_nesting_assembly_ends_with_an_error(tmp_path):
    folder = _copy("assembly-self-nesting", tmp_path)
    sources, errors = discover([str(folder)])
    assert [Path(s.display).name for s in sources] == ["Good.template.json"]
    assert [e.message for e in errors] == ["artifact 'Loop': directoryName '.' nests the assembly in itself"]


def test_manifest_with_properties_not_an_object_costs_only_that_artifact(tmp_path):
    broken = _copy("assembly-bad-properties", tmp_path)
    result = run([str(broken), str(GOOD)], jobs=1).result
    assert [e.message for e in result.errors] == [
        "artifact 'Broken': `properties` is not an object; not read"]
    assert len(result.templates) == 2


def test_cli_names_the_manifest_entry_and_exits_2(tmp_path):
    folder = _copy("assembly-escape", tmp_path)
    proc = run_cli("scan", str(folder), "-f", "json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "root:" not in proc.stdout + proc.stderr
    assert "\n::error::x" not in proc.stderr


# --- issue 15: one manifest read per assembly, however many of its templates are named ---

def test_named_templates_of_one_assembly_read_its_manifest_once(tmp_path, monkeypatch):
    folder = tmp_path / "cdk.out"
    folder.mkdir()
    artifacts = {}
    for index in range(30):
        name = f"Stack{index}"
        (folder / f"{name}.template.json").write_text('{"Resources": {}}')
        artifacts[name] = {"type": "aws:cloudformation:stack",
                           "properties": {"templateFile": f"{name}.template.json"}}
    (folder / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    reads: list[Path] = []
    real = assembly_module.read_manifest
    monkeypatch.setattr(assembly_module, "read_manifest", lambda p: reads.append(p) or real(p))
    sources, errors = discover([str(p) for p in sorted(folder.glob("*.template.json"))])
    assert errors == [] and len(sources) == 30
    assert {s.stack for s in sources} == {f"Stack{i}" for i in range(30)}
    assert reads == [folder / "manifest.json"]


def test_a_whole_run_opens_the_manifest_once_acknowledgments_included(tmp_path, monkeypatch):
    """CDK acknowledgments come from the manifest discovery read: the run's cost stays linear in
    the number of stacks (each stack's acknowledgments once re-read the whole manifest)."""
    import io

    folder = tmp_path / "cdk.out"
    folder.mkdir()
    function = {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12"}}
    artifacts = {}
    for index in range(12):
        name = f"Stack{index}"
        (folder / f"{name}.template.json").write_text(json.dumps({"Resources": {"Fn": function}}))
        metadata = {f"/{name}/Fn/Resource": [{"type": "aws:cdk:logicalId", "data": "Fn"}]}
        if index % 2:
            metadata[f"/{name}"] = [{"type": "aws:cdk:acknowledged-rules",
                                     "data": {"tapaudit::TAP006": "batch jobs"}}]
        artifacts[name] = {"type": "aws:cloudformation:stack", "metadata": metadata,
                           "properties": {"templateFile": f"{name}.template.json"}}
    (folder / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    opened: list[str] = []

    def counting(real):
        def opener(file, *args, **kwargs):
            if str(file).endswith("manifest.json"):
                opened.append(str(file))
            return real(file, *args, **kwargs)
        return opener

    monkeypatch.setattr(os, "open", counting(os.open))
    monkeypatch.setattr(io, "open", counting(io.open))
    result = run([str(folder)], jobs=1).result
    assert len(opened) == 1

    def stack(finding) -> str:
        return Path(finding.file).name.removesuffix(".template.json")

    assert {stack(f) for f in result.findings if f.rule_id == "TAP006"} == {
        f"Stack{i}" for i in range(0, 12, 2)}
    assert {(stack(f), f.suppression.acknowledged_at) for f in result.suppressed} == {
        (f"Stack{i}", f"Stack{i}") for i in range(1, 12, 2)}


def test_lone_surrogate_escape_is_refused_with_its_line(tmp_path):
    """`"\\ud800"` is valid JSON syntax but not Unicode: no report could encode it (issue 16).
    A pair (an emoji) and an escaped backslash followed by `ud800` are fine."""
    folder = _folder_with(tmp_path, "lone-surrogate.json")
    result = run([str(folder)], jobs=1).result
    assert _errors(result) == {"lone-surrogate.json": "lone surrogate \\ud800 at line 3: not Unicode text"}
    assert len(result.templates) == 1


def test_a_file_name_that_is_not_utf8_is_scanned_and_reported_escaped(tmp_path):
    """A byte that is not UTF-8 in a file name (Python gives it as a lone surrogate) once made
    the finding's fingerprint an internal error; the template is scanned like any other."""
    from tests.conftest import FIXTURES, run_cli

    flawed = FIXTURES / "flawed" / "TransactionMigration-Primary.template.json"
    shutil.copy(flawed, os.fsencode(tmp_path) + b"/x\xff.json")
    for fmt in ("json", "console", "junit", "github"):
        proc = run_cli("scan", str(tmp_path), "-f", fmt)
        assert proc.returncode == 1 and "internal error" not in proc.stdout + proc.stderr, fmt
    report = json.loads(run_cli("scan", str(tmp_path), "-f", "json").stdout)
    assert len(report["findings"]) == 6 and report["errors"] == []
    assert all(f["file"].endswith("x\udcff.json") for f in report["findings"])
