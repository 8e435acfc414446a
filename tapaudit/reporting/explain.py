"""A rule as Markdown: what `tapaudit explain ID` shows and what `docs/rules/ID.md` holds.

The rule is rendered as loaded, so its texts and parameters are the configured ones. Sections the
rule does not have are left out. `python -m tapaudit.reporting.explain --write docs/rules` writes
the documentation's rule pages from the built-in rules, with their defaults.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tapaudit.rules.model import Rule

REGENERATE = "python -m tapaudit.reporting.explain --write docs/rules"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_INLINE_WIDTH = 100  # a longer array is written one element per line


def render_rule(rule: Rule) -> str:
    """The rule in Markdown: header, why, passes, fails, fix, checks, parameters."""
    sections = [_header(rule), *_sections(rule)]
    return "\n\n".join(part.strip("\n") for part in sections if part.strip()) + "\n"


def _header(rule: Rule) -> str:
    types = ", ".join(f"`{t}`" for t in rule.resource_types)
    lines = [f"# {rule.id}: {rule.title}", "",
             f"Severity: **{rule.severity.label}** · resources: {types}"]
    if rule.why.strip():
        lines += ["", f"Impact: {rule.why.strip()}"]
    if rule.analysis_item.strip():
        lines += ["", f"From the failure analysis: {rule.analysis_item.strip()}"]
    if rule.help_uri.strip():
        lines += ["", f"AWS documentation: <{rule.help_uri.strip()}>"]
    return "\n".join(lines)


def _sections(rule: Rule) -> Iterator[str]:
    if rule.rationale.strip():
        yield f"## Why\n\n{rule.rationale.strip()}"
    if rule.passes.strip():
        yield f"## Passes\n\n{rule.passes.strip()}"
    if rule.fails.strip():
        yield f"## Fails\n\n{rule.fails.strip()}"
    yield _fix(rule)
    yield "## Checks\n\n" + "\n".join(f"- `{c.id}` (predicate `{c.predicate}`)" for c in rule.checks)
    if rule.parameters:
        yield (f"## Parameters\n\nSet them in `pyproject.toml` (in `.tapaudit.toml`, drop the "
               f"`tool.tapaudit.` prefix):\n\n```toml\n{parameters_toml(rule)}```")


def _fix(rule: Rule) -> str:
    parts = ["## Fix", rule.fix.summary.strip()]
    examples = [("CloudFormation", "yaml", rule.fix.cloudformation),
                ("CDK (Python)", "python", rule.fix.cdk_python),
                ("CDK (TypeScript)", "typescript", rule.fix.cdk_typescript)]
    if not (rule.fix.cdk_python.strip() or rule.fix.cdk_typescript.strip()):
        examples.append(("CDK", "", rule.fix.snippet))  # the simple `fix: {summary, snippet}` shape
    for label, language, code in examples:
        if code.strip():
            parts.append(f"{label}:\n\n```{language}\n{code.strip(chr(10))}\n```")
    return "\n\n".join(part for part in parts if part)


def parameters_toml(rule: Rule) -> str:
    """The rule's parameters as a TOML table, ready to paste into pyproject.toml."""
    lines = [f"[tool.tapaudit.rules.{rule.id}.parameters]"]
    for name, value in rule.parameters.items():
        if value is None:  # TOML has no null: such a parameter has no default to show
            lines.append(f"# {_key(name)} has no default")
        else:
            lines.append(f"{_key(name)} = {_toml_value(value, len(_key(name)) + 3)}")
    return "\n".join(lines) + "\n"


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _toml_value(value: Any, indent: int = 0) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dict):
        items = ", ".join(f"{_key(str(k))} = {_toml_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, list | tuple):
        elements = [_toml_value(v) for v in value]
        inline = "[" + ", ".join(elements) + "]"
        if indent + len(inline) <= _INLINE_WIDTH:
            return inline
        return "[\n" + "".join(f"    {element},\n" for element in elements) + "]"
    return _toml_string(str(value))


def _toml_string(text: str) -> str:
    """A literal string ('...') where it reads better (regular expressions), else a basic one."""
    if "\\" in text and "'" not in text and text.isprintable():
        return f"'{text}'"
    return json.dumps(text, ensure_ascii=False)  # JSON's escapes are TOML's


def write_pages(rules: list[Rule], folder: Path) -> list[Path]:
    """Write `ID.md` for each rule into `folder`; returns the pages written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in rules:
        page = folder / f"{rule.id}.md"
        page.write_text(rule_page(rule), encoding="utf-8")
        written.append(page)
    return written


def rule_page(rule: Rule) -> str:
    """A documentation page: the rendered rule, marked as generated."""
    return (f"<!-- Generated from rules/{rule.id}.yaml by `{REGENERATE}`: edit the rule file, "
            f"not this page. -->\n\n{render_rule(rule)}")


def main(argv: list[str] | None = None) -> int:
    from tapaudit.rules.loader import load_rules

    parser = argparse.ArgumentParser(prog="python -m tapaudit.reporting.explain",
                                     description="Write the built-in rules' documentation pages.")
    parser.add_argument("--write", type=Path, required=True, metavar="DIR",
                        help="folder for the pages (docs/rules)")
    args = parser.parse_args(argv)
    for page in write_pages(load_rules(), args.write):
        print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
