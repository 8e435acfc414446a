"""The documentation: rule pages current with the rule files, the site builds with every link and
anchor checked, the README short, and no install instruction that cannot work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path

import pytest

from tapaudit.reporting.explain import REGENERATE, render_rule, rule_page
from tapaudit.rules.loader import load_rule_file
from tests.conftest import ROOT, require_module

RULE_PAGES = ROOT / "docs" / "rules"
# Documents read on GitHub, outside the mkdocs site: their links are checked here.
REPO_DOCUMENTS = ("README.md", "CONTRIBUTING.md", "CHANGELOG.md", "bench/README.md")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)


def test_rule_pages_are_current(rules):
    stale = [f"docs/rules/{rule.id}.md" for rule in rules
             if not (RULE_PAGES / f"{rule.id}.md").is_file()
             or (RULE_PAGES / f"{rule.id}.md").read_text(encoding="utf-8") != rule_page(rule)]
    orphans = sorted(page.name for page in RULE_PAGES.glob("*.md")
                     if page.name != "index.md" and page.stem not in {rule.id for rule in rules})
    assert not stale, f"stale rule pages {stale}: regenerate them with `{REGENERATE}`"
    assert not orphans, f"pages of rules that do not exist: {orphans} (delete them)"


def test_rule_page_parameters_are_the_rule_defaults_as_toml(rules):
    for rule in rules:
        block = re.search(r"```toml\n(.*?)```", render_rule(rule), re.S)
        assert block, rule.id
        parsed = tomllib.loads(block.group(1))["tool"]["tapaudit"]["rules"][rule.id]["parameters"]
        assert parsed == {k: v for k, v in rule.parameters.items() if v is not None}, rule.id


def test_documented_custom_rule_loads_and_shows_only_its_sections(tmp_path):
    """The example of docs/writing-rules.md is a rule that loads; `explain` of it leaves out the
    sections it does not have."""
    text = (ROOT / "docs" / "writing-rules.md").read_text(encoding="utf-8")
    example = next(b for b in CODE_BLOCK.findall(text) if b.startswith("id: ORG001"))
    (tmp_path / "ORG001.yaml").write_text(example, encoding="utf-8")
    page = render_rule(load_rule_file(tmp_path / "ORG001.yaml"))
    assert page.startswith("# ORG001: Queues must keep messages for 14 days\n")
    for absent in ("## Passes", "## Fails", "From the failure analysis", "AWS documentation",
                   "CDK (Python)", "None", "{'"):
        assert absent not in page
    assert "days_in_seconds = 1209600" in page
    assert "sqs.Queue(..., retention_period=Duration.days(14))" in page
    assert "## Fix\n\nset retention_period=Duration.days(14)" in page


def test_mkdocs_builds_strict_with_links_and_anchors_checked(tmp_path):
    require_module("mkdocs")
    require_module("material")
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr[-4000:]
    for page in ("index.html", "verdicts/index.html", "rules/TAP003/index.html"):
        assert (site / page).is_file(), page


def test_mkdocs_config_checks_anchors_and_lists_every_rule_page(rules):
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["validation"]["anchors"] == "warn"  # warnings fail a --strict build
    assert config["validation"]["not_found"] == "warn"
    nav = yaml.safe_dump(config["nav"])
    for rule in rules:
        assert f"rules/{rule.id}.md" in nav


def test_readme_is_short_and_keeps_the_ci_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    test_command = 'pip install -e ".[test,cdk]" && python -m pytest'
    assert f"```sh\n{test_command}\n```" in readme
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "```sh\npip install . && tapaudit scan fixtures/flawed\n```" in readme


@pytest.mark.parametrize("document", REPO_DOCUMENTS)
def test_repository_documents_link_to_what_exists(document):
    source = ROOT / document
    for target in LINK.findall(source.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # an external address
        path, _, anchor = target.partition("#")
        file = (source.parent / path).resolve() if path else source
        assert file.exists(), f"{document}: link to {target}: no such file"
        if anchor:
            assert anchor in _anchors(file), f"{document}: link to {target}: no such heading"


def _anchors(markdown_file: Path) -> set[str]:
    """The ids mkdocs (and, for these headings, GitHub) give the headings of a Markdown file."""
    text = CODE_BLOCK.sub("", markdown_file.read_text(encoding="utf-8"))
    headings = re.findall(r"^#{1,6} (.+)$", text, re.M)
    return {_slug(heading.replace("`", "")) for heading in headings}


def _slug(heading: str) -> str:
    """Python-Markdown's toc slugify, which mkdocs uses."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def test_no_install_from_an_index_or_a_tag_that_does_not_exist():
    """tapaudit is on no package index and has no release tag: no example may install it from one."""
    code = [(str(f.relative_to(ROOT)), f.read_text(encoding="utf-8"))
            for f in (ROOT / "action.yml", ROOT / ".pre-commit-hooks.yaml")]
    for document in [*REPO_DOCUMENTS, *(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]:
        text = (ROOT / document).read_text(encoding="utf-8")
        code += [(document, block) for block in CODE_BLOCK.findall(text)]
    from_index = re.compile(r"pip3? install (?:-[-\w]+ )*[\"']?tapaudit(?:\[[\w,]+\])?"
                            r"(?:[<>=~!]=?[\w.*]+)?(?!\s*@|[\w/.-])")
    tag_pin = re.compile(r"tapaudit@v\d|rev: v\d")
    for where, block in code:
        assert not from_index.search(block), f"{where}: installs tapaudit from a package index"
        assert not tag_pin.search(block), f"{where}: pins a tag that does not exist"
