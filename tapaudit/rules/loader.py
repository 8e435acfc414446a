"""Load and validate rule files: the built-in ones and any `--rules-dir` the user adds."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from tapaudit.findings import Severity
from tapaudit.rules.model import Check, Fix, FixVariant, Rule
from tapaudit.rules.predicates import PREDICATES
from tapaudit.rules.selectors import SelectorError, compile_selector

_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")
_REQUIRED = ("id", "title", "severity", "rationale", "why", "resource_types", "fix", "checks")
_ID = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RuleFileError(Exception):
    """A rule file is malformed; the message names the file."""


def builtin_rules_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    packaged = here / "builtin_rules"  # inside an installed wheel
    return packaged if packaged.is_dir() else here.parent / "rules"


def load_rules(extra_dirs: Iterable[Path] = ()) -> list[Rule]:
    rules: dict[str, Rule] = {}
    for folder in (builtin_rules_dir(), *extra_dirs):
        if not folder.is_dir():
            raise RuleFileError(f"{folder}: rules directory not found")
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            rule = load_rule_file(path)
            if rule.id in rules:
                raise RuleFileError(f"{path}: rule id {rule.id} is already defined by "
                                    f"{rules[rule.id].source}")
            rules[rule.id] = rule
    return sorted(rules.values(), key=lambda r: r.id)


def load_rule_file(path: Path) -> Rule:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path}: cannot read rule file: {exc}") from None
    try:
        return _build(data, path)
    except (KeyError, TypeError, ValueError, SelectorError) as exc:
        raise RuleFileError(f"{path}: {exc}") from None


def _build(data: Any, path: Path) -> Rule:
    if not isinstance(data, dict):
        raise ValueError("a rule file is a mapping")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise ValueError(f"missing keys: {', '.join(missing)}")
    if not _ID.match(str(data["id"])):
        raise ValueError(f"rule id {data['id']!r} must be upper-case letters and digits")
    params = dict(data.get("parameters") or {})
    fill = _Filler(params)
    fix = data["fix"]
    examples = data.get("examples") or {}
    return Rule(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        title=fill.text(data["title"]),
        severity=Severity.parse(str(data["severity"])),
        analysis_item=str(data.get("analysis_item", "")),
        rationale=fill.text(data["rationale"]),
        why=fill.text(data["why"]),
        help_uri=str(data.get("help_uri", "")),
        tags=tuple(str(t) for t in data.get("tags") or ()),
        resource_types=tuple(str(t) for t in data["resource_types"]),
        parameters=params,
        fix=_fix(fix, fill),
        passes=fill.text(examples.get("passes", "")),
        fails=fill.text(examples.get("fails", "")),
        checks=tuple(_check(c, fill) for c in data["checks"]),
        applies_if=_check(data["applies_if"], fill) if data.get("applies_if") else None,
        skip_if=_check(data["skip_if"], fill) if data.get("skip_if") else None,
        source=path,
    )


def _fix(data: Any, fill: _Filler) -> Fix:
    """`fix: {summary, snippet}` (the simple shape), optionally with variants per input."""
    if not isinstance(data, dict) or "summary" not in data:
        raise ValueError("fix needs a summary")
    variants = []
    for variant in data.get("variants") or ():
        if not isinstance(variant, dict) or "text" not in variant:
            raise ValueError(f"a fix variant needs a text: {variant!r}")
        when = variant.get("when") or {}
        if not isinstance(when, dict):
            raise ValueError(f"a fix variant's when is a mapping: {when!r}")
        variants.append(FixVariant(
            when={str(k): tuple(str(v) for v in (vs if isinstance(vs, list) else [vs]))
                  for k, vs in when.items()},
            text=" ".join(fill.text(variant["text"]).split()),
            once=" ".join(fill.text(variant.get("once", "")).split())))
    tables = {}
    for name, table in (data.get("tables") or {}).items():
        if not isinstance(table, dict) or not isinstance(table.get("values"), dict):
            raise ValueError(f"fix table {name} needs `of` (a fact) and `values`")
        tables[str(name)] = (str(table.get("of", "")), {str(k): str(v) for k, v in table["values"].items()})
    subject = data.get("subject") or {}
    if subject and not (isinstance(subject, dict) and (subject.get("per") == "check"
                                                       or {"element", "ref"} <= set(subject))):
        raise ValueError("fix subject is `per: check`, or names an `element` list and its `ref`")
    return Fix(summary=" ".join(fill.text(data["summary"]).split()),
               snippet=fill.text(data.get("snippet", "")),
               cdk_python=str(data.get("cdk_python", "")),
               cdk_typescript=str(data.get("cdk_typescript", "")),
               cloudformation=str(data.get("cloudformation", "")),
               variants=tuple(variants), subject={str(k): str(v) for k, v in subject.items()},
               tables=tables)


def _check(data: Any, fill: _Filler) -> Check:
    if not isinstance(data, dict) or "predicate" not in data:
        raise ValueError(f"a check needs a predicate: {data!r}")
    name = str(data["predicate"])
    if name not in PREDICATES:
        raise ValueError(f"unknown predicate {name!r}; known: {', '.join(sorted(PREDICATES))}")
    selector = str(data.get("select", "$"))
    args = data.get("args") or {}
    if not isinstance(args, dict) or not all(isinstance(key, str) for key in args):
        raise ValueError(f"check {data.get('id', name)}: argument names must be strings "
                         "(YAML reads on/off/yes/no as booleans: quote them)")
    return Check(
        id=str(data.get("id", name)),
        predicate=name,
        steps=compile_selector(selector),
        args={key: fill.value(value) for key, value in args.items()},
        missing=fill.text(data["missing"]) if data.get("missing") else None,
    )


class _Filler:
    """Puts parameter values into `{name}` placeholders: whole values keep their type."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            whole = _PLACEHOLDER.match(value)
            if whole and whole.group(1) in self.params:
                return self.params[whole.group(1)]
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def text(self, value: Any) -> str:
        text = str(value)
        for key, param in self.params.items():
            shown = ", ".join(map(str, param)) if isinstance(param, list) else str(param)
            text = text.replace("{" + key + "}", shown)
        return text
