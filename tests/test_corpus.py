"""Every template of the shared real-world corpus scans without a traceback."""

from __future__ import annotations

import json
import os

import pytest

from tapaudit.loading.discovery import TemplateSource
from tapaudit.scan import scan_source
from tests.conftest import CORPUS, run_cli

FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".md"
               and p.name != "manifest.json") if CORPUS.is_dir() else []


@pytest.fixture(scope="module", autouse=True)
def _corpus_present():
    if not FILES and not os.environ.get("CI"):
        pytest.skip("../shared/corpus is not here")
    assert len(FILES) > 1400


def test_every_corpus_file_scans_or_reports_a_clean_error(rules):
    for path in FILES:
        # debug=True: an internal error raises here instead of becoming a report line.
        report = scan_source(TemplateSource(str(path), path=path), rules, debug=True)
        if report.error is not None:
            assert "\n" not in report.error.message, path


def test_broken_corpus_files_are_errors_not_crashes(rules):
    for path in sorted((CORPUS / "broken").iterdir()):
        report = scan_source(TemplateSource(path.name, path=path), rules, debug=True)
        assert report.error is not None or report.is_template


def test_whole_corpus_through_the_cli():
    proc = run_cli("scan", str(CORPUS), "--format", "json", "--fail-on", "none")
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert proc.returncode == 2  # corpus/broken holds files that are not well-formed
    assert len(report["templates"]) > 1400
    assert all("internal error" not in e["message"] for e in report["errors"])
    # Only the not-well-formed files and two templates whose Resources is a list or empty.
    folders = {e["file"].split("/")[-2] for e in report["errors"]}
    assert folders <= {"broken", "awslabs-aws-cloudformation-templates"}
