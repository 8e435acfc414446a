"""Issue 16 and 18: a report file is written whole or not at all, every one is named on stderr, a
device is written as a device, and input-derived text on stderr cannot forge a line."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest

from tapaudit.reporting import formats
from tests.cli.inprocess import invoke, lines
from tests.conftest import FIXTURES

FLAWED = str(FIXTURES / "flawed")


def test_every_report_is_named_on_stderr(tmp_path):
    sarif, junit = tmp_path / "x.sarif", tmp_path / "out" / "junit.xml"
    result = invoke("scan", FLAWED, "-o", str(sarif), "-f", "sarif", "--report", f"junit={junit}")
    assert result.exit_code == 1
    assert f"tapaudit: wrote sarif report to {sarif}" in lines(result.stderr)
    assert f"tapaudit: wrote junit report to {junit}" in lines(result.stderr)
    assert json.loads(sarif.read_text())["version"] == "2.1.0" and junit.read_text().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["junit.xml", "out", "x.sarif"]  # no temp left


def failing_writer(monkeypatch, fails: str) -> None:
    """The `fails` format writes half its report, then the disk is full."""
    real = formats.writer

    def writer(name: str):
        if name != fails:
            return real(name)

        def write(result, context, stream):
            stream.write("<?xml version='1.0'?><testsuites>")
            stream.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        return write

    monkeypatch.setattr(formats, "writer", writer)


def test_a_failed_write_leaves_the_previous_report_whole(tmp_path, monkeypatch):
    good = tmp_path / "junit.xml"
    assert invoke("scan", FLAWED, "-f", "junit", "-o", str(good)).exit_code == 1
    before = good.read_bytes()
    failing_writer(monkeypatch, "junit")
    result = invoke("scan", FLAWED, "-f", "junit", "-o", str(good))
    assert result.exit_code == 2
    assert good.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["junit.xml"]
    assert lines(result.stderr) == [f"tapaudit: error: {good}: cannot write report: No space left on device",
                                    f"tapaudit: exit 2: 1 report could not be written (junit={good})"]


def test_with_several_reports_each_is_attempted_and_each_failure_named(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    blocked = tmp_path / "file" / "x.sarif"
    stale = tmp_path / "report.json"
    stale.write_text("stale from the previous run")
    failing_writer(monkeypatch, "junit")
    result = invoke("scan", FLAWED, "--report", f"sarif={blocked}", "--report",
                    f"junit={tmp_path / 'junit.xml'}", "--report", f"json={stale}")
    assert result.exit_code == 2
    errors = [line for line in lines(result.stderr) if line.startswith("tapaudit: error: ")]
    assert [line.split(": ")[2] for line in errors] == [str(blocked), str(tmp_path / "junit.xml")]
    assert not (tmp_path / "junit.xml").exists()
    assert len(json.loads(stale.read_text())["findings"]) == 6  # written after the failures
    assert lines(result.stdout)[-1] == ("exit 2: 2 reports could not be written "
                                        f"(sarif={blocked}, junit={tmp_path / 'junit.xml'})")


def test_a_replaced_report_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path):
    kept = tmp_path / "kept.json"
    kept.write_text("{}")
    kept.chmod(0o640)
    assert invoke("scan", FLAWED, "-f", "json", "-o", str(kept)).exit_code == 1
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    umask = os.umask(0o022)
    try:
        assert invoke("scan", FLAWED, "-f", "json", "-o", str(tmp_path / "new.json")).exit_code == 1
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


def test_a_character_device_is_written_not_replaced():
    result = invoke("scan", FLAWED, "-f", "json", "-o", os.devnull)
    assert result.exit_code == 1
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_full_device_is_one_error_line_and_exit_2():
    result = invoke("scan", FLAWED, "-o", "/dev/full")
    assert result.exit_code == 2 and result.stdout == ""
    assert lines(result.stderr) == [
        "tapaudit: error: /dev/full: cannot write report: No space left on device",
        "tapaudit: exit 2: 1 report could not be written (console=/dev/full)"]
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_text_that_cannot_be_encoded_is_escaped_not_fatal(tmp_path, monkeypatch):
    def writer(name: str):
        return lambda result, context, stream: stream.write("queue \ud800 name\n")

    monkeypatch.setattr(formats, "writer", writer)
    result = invoke("scan", FLAWED, "-f", "json", "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 1
    assert (tmp_path / "r.json").read_text() == "queue \\ud800 name\n"


def test_a_file_name_cannot_forge_a_line_on_stderr(tmp_path):
    """A workflow command smuggled in a file name (GitHub reads `::error::` at a line's start)."""
    forged = tmp_path / "bad\n::error::forged.yaml"
    forged.write_text("Resources: [\n")
    for args in (["scan", str(tmp_path)], ["scan", str(forged)], ["scan", str(forged), "-f", "github"],
                 ["scan", "--missing-ok", str(tmp_path / "gone\n::error::x.yaml")]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert not any(line.startswith("::") for line in result.stderr.splitlines()), result.stderr
        assert "bad\\n::error::forged.yaml" in result.stderr or "gone\\n::error::x.yaml" in result.stderr


def test_control_characters_are_escaped_on_stderr():
    from tapaudit.cli import _printable

    assert _printable("a\nb\r\x1b[31m\x07\t\u2028z") == "a\\nb\\r\\x1b[31m\\x07\\t\\u2028z"
    assert _printable("plain/path é.yaml") == "plain/path é.yaml"


def test_reports_land_inside_the_named_folder_only(tmp_path):
    target = tmp_path / "deep" / "er" / "report.md"
    assert invoke("scan", FLAWED, "--report", f"markdown={target}").exit_code == 1
    assert [p.relative_to(tmp_path) for p in sorted(tmp_path.rglob("*"))] == [
        Path("deep"), Path("deep/er"), Path("deep/er/report.md")]
