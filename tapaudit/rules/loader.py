"""Load and validate rule files: the built-in ones and any `--rules-dir` the user adds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tapaudit.config import Config, ConfigError, RuleSettings, did_you_mean
from tapaudit.findings import Severity
from tapaudit.model.values import shape_of
from tapaudit.rules.model import Check, Fix, FixVariant, Rule
from tapaudit.rules.patterns import PatternError, compile_pattern
from tapaudit.rules.predicates import FIX_VALUES, PREDICATES, REGEX_ARGS
from tapaudit.rules.selectors import SelectorError, compile_selector

_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")
_REQUIRED = ("id", "title", "severity", "rationale", "why", "resource_types", "fix", "checks")
_ID = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")
# A rule file's budget: the built-in ones hold at most a few hundred values, nested six deep.
MAX_RULE_NODES = 100_000
MAX_RULE_DEPTH = 100


class RuleFileError(Exception):
    """A rule file is malformed; the message names the file."""


# Inside an installed wheel, each built-in rule file has this twin: the same data, parsed when the
# wheel was built (hatch_build.py), so a run reads it with `json` and need not import PyYAML.
PARSED_SUFFIX = ".parsed.json"


def _packaged_rules_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "builtin_rules"  # inside an installed wheel


def builtin_rules_dir() -> Path:
    packaged = _packaged_rules_dir()
    return packaged if packaged.is_dir() else packaged.parent.parent / "rules"


def load_rules(extra_dirs: Iterable[Path] = (), config: Config | None = None) -> list[Rule]:
    """Every rule file, built-in and from `extra_dirs`, with the configuration's per-rule settings
    (parameters, severity, scope) applied; a setting for an unknown rule is a ConfigError."""
    rules: dict[str, Rule] = {}
    packaged = _packaged_rules_dir()
    for folder in (builtin_rules_dir(), *extra_dirs):
        if not folder.is_dir():
            raise RuleFileError(f"{folder}: rules directory not found")
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            parsed = path.with_name(path.stem + PARSED_SUFFIX) if folder == packaged else None
            rule = load_rule_file(path, config, parsed if parsed and parsed.is_file() else None)
            if rule.id in rules:
                raise RuleFileError(f"{path}: rule id {rule.id} is already defined by "
                                    f"{rules[rule.id].source}")
            rules[rule.id] = rule
    for rule_id in sorted(set(config.rule_settings) - set(rules)) if config else ():
        raise ConfigError(config.file_name, config.rule_table(rule_id),
                          "unknown rule id" + did_you_mean(rule_id, sorted(rules)))
    return sorted(rules.values(), key=lambda r: r.id)


def _parse_yaml(text: str) -> Any:
    """The file's data, if its YAML stays within MAX_RULE_NODES once aliases are expanded."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # the C parser where installed
    try:
        node = loader.get_single_node()
        if node is None:  # an empty file
            return None
        _within_budget(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None
    except RecursionError:  # composing is recursive: a file nested thousands deep
        raise ValueError(f"nesting deeper than {MAX_RULE_DEPTH} levels") from None
    finally:
        loader.dispose()


def _within_budget(root: Any) -> None:
    """Count the composed nodes as the data would hold them: an alias counts its whole target again
    (and merge keys copy theirs), so a few lines of nested aliases cannot grow into gigabytes of
    values, here or in the placeholder filling that copies every value. The walk stops at the budget."""
    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_RULE_NODES:
            raise ValueError(f"more than {MAX_RULE_NODES:,} values once YAML aliases are expanded")
        if depth > MAX_RULE_DEPTH:
            raise ValueError(f"nesting deeper than {MAX_RULE_DEPTH} levels")
        children = node.value if isinstance(node.value, list) else ()
        for child in children:
            pairs = child if isinstance(child, tuple) else (child,)  # a mapping's (key, value)
            stack.extend((item, depth + 1) for item in pairs)


def load_rule_file(path: Path, config: Config | None = None, parsed: Path | None = None) -> Rule:
    """The rule of one YAML file; from `parsed`, its JSON twin built with the wheel, when given."""
    try:
        text = (parsed or path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(f"{path}: cannot read rule file: {exc}") from None
    try:
        data = json.loads(text) if parsed else _parse_yaml(text)
    except ValueError as exc:
        raise RuleFileError(f"{path}: cannot read rule file: {exc}") from None
    try:
        return _build(data, path, config)
    except (KeyError, TypeError, ValueError, SelectorError) as exc:
        rule_id = str(data.get("id")) if isinstance(data, dict) else ""
        settings = config.rule_settings.get(rule_id) if config else None
        hint = (f" (with the parameters set in {config.file_name})"
                if config is not None and settings is not None and settings.parameters else "")
        raise RuleFileError(f"{path}: {exc}{hint}") from None


def _build(data: Any, path: Path, config: Config | None = None) -> Rule:
    if not isinstance(data, dict):
        raise ValueError("a rule file is a mapping")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise ValueError(f"missing keys: {', '.join(missing)}")
    if not _ID.match(str(data["id"])):
        raise ValueError(f"rule id {data['id']!r} must be upper-case letters and digits")
    params = dict(data.get("parameters") or {})
    settings = config.rule_settings.get(str(data["id"])) if config else None
    if settings is not None and config is not None:
        # Before the placeholders are filled, so every parameter drives the checks and the texts.
        params = _overridden(params, settings, str(data["id"]), config)
    # A parameter may default to others (`suggested_name: "{partition_key.name}-..."`).
    params = {name: _Filler(params).text(value) if isinstance(value, str) and "{" in value else value
              for name, value in params.items()}
    severity = settings.severity if settings and settings.severity else str(data["severity"])
    fix = data["fix"]
    fill = _Filler(params, _derived(fix, params))
    examples = data.get("examples") or {}
    return Rule(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        title=fill.text(data["title"]),
        severity=Severity.parse(severity),
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
        skip_if=_checks(data["skip_if"], fill) if data.get("skip_if") else None,
        source=path,
        include=tuple(settings.include) if settings else (),
        exclude=tuple(settings.exclude) if settings else (),
        scope_source=config.rule_table(str(data["id"])) if settings and config else "",
    )


def _overridden(params: dict[str, Any], settings: RuleSettings, rule_id: str,
                config: Config) -> dict[str, Any]:
    """The rule's parameters with the configured values; a value must have its default's shape."""
    result = dict(params)
    for name, value in settings.parameters.items():
        key = config.key_name(f"rules.{rule_id}.parameters.{name}")
        if name not in params:
            raise ConfigError(config.file_name, key, "unknown parameter"
                              + did_you_mean(name, sorted(params) or ["(the rule has none)"]))
        default = params[name]
        if isinstance(default, dict) and isinstance(value, dict):
            for sub, sub_value in value.items():
                if sub not in default:
                    raise ConfigError(config.file_name, f"{key}.{sub}",
                                      "unknown field" + did_you_mean(sub, sorted(default)))
                _same_shape(default[sub], sub_value, config, f"{key}.{sub}")
            value = {**default, **value}  # a table may give only the fields it changes
        _same_shape(default, value, config, key)
        result[name] = value
    return result


def _shape(value: Any) -> str:
    """A value's shape in TOML's words (the configuration file's language)."""
    return {"a mapping": "a table", "a boolean": "true or false"}.get(shape_of(value), shape_of(value))


def _same_shape(default: Any, value: Any, config: Config, key: str) -> None:
    if default is None or _shape(default) == _shape(value):
        return
    expected = _shape(default)
    if isinstance(default, dict):
        expected += " like { " + ", ".join(f"{k} = {v!r}" for k, v in default.items()) + " }"
    raise ConfigError(config.file_name, key, f"expected {expected}, got {value!r}")


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
               cdk_python=fill.text(data.get("cdk_python", "")),
               cdk_typescript=fill.text(data.get("cdk_typescript", "")),
               cloudformation=fill.text(data.get("cloudformation", "")),
               variants=tuple(variants), subject={str(k): str(v) for k, v in subject.items()},
               tables=tables, parameters=dict(_flat(fill.params)),
               values_from=_provider(data.get("values")), parameter_tables=dict(fill.params))


def _provider(name: Any) -> str:
    if name is None:
        return ""
    if str(name) not in FIX_VALUES:
        raise ValueError(f"unknown fix values {name!r}; known: {', '.join(sorted(FIX_VALUES))}")
    return str(name)


def _checks(data: Any, fill: _Filler) -> Check | tuple[Check, ...]:
    """One check, or a list of checks of which any may hold (skip_if)."""
    if isinstance(data, list):
        return tuple(_check(item, fill) for item in data)
    return _check(data, fill)


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
    filled = {key: fill.value(value) for key, value in args.items()}
    for arg in REGEX_ARGS.get(name, ()):
        for pattern in filled.get(arg) if isinstance(filled.get(arg), list) else [filled.get(arg)]:
            try:
                compile_pattern(str(pattern))
            except PatternError as exc:
                raise ValueError(f"check {data.get('id', name)}: {arg} {pattern!r} is not a regular "
                                 f"expression ({exc})") from None
    return Check(
        id=str(data.get("id", name)),
        predicate=name,
        steps=compile_selector(selector),
        args=filled,
        missing=fill.text(data["missing"]) if data.get("missing") else None,
    )


def _flat(params: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Scalar parameters by dotted name (`partition_key.name`); lists are not placeholders."""
    for key, value in params.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        elif not isinstance(value, list):
            yield f"{prefix}{key}", str(value)


def _derived(fix: Any, params: dict[str, Any]) -> dict[str, str]:
    """Values the fix's `tables` give for a parameter (`pk_type: {of: partition_key.type, ...}`):
    placeholders of every text of the rule, so code examples follow the configuration too."""
    flat = dict(_flat(params))
    tables = fix.get("tables") if isinstance(fix, dict) else None
    derived = {}
    for name, table in (tables or {}).items() if isinstance(tables, dict) else ():
        if isinstance(table, dict) and isinstance(table.get("values"), dict):
            value = flat.get(str(table.get("of", "")))
            if value is not None and value in {str(k) for k in table["values"]}:
                derived[str(name)] = str({str(k): v for k, v in table["values"].items()}[value])
    return derived


_FILTERED = re.compile(r"\{([\w.]+)\|(\w+)\}")


def _bytes(value: str) -> str:
    """1073741824 -> 1 GiB: a size as people say it (exact, or in bytes)."""
    number = int(value)
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if number >= size and number % size == 0:
            return f"{number // size} {unit}"
    return f"{number:,} bytes"


# `{name|filter}`: a parameter as a text says it.
_FILTERS = {"bytes": _bytes}


class _Filler:
    """Puts parameter values into `{name}` placeholders: whole values keep their type. `extra`:
    placeholders derived from parameters (see `_derived`); `{name|bytes}` formats a size."""

    def __init__(self, params: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        self.params = params
        self.extra = extra or {}

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
        if "." in text:  # `{partition_key.name}`: a field of a table parameter
            for key, shown in _flat(self.params):
                text = text.replace("{" + key + "}", shown)
        for key, shown in self.extra.items():
            text = text.replace("{" + key + "}", shown)
        return _FILTERED.sub(self._filtered, text)

    def _filtered(self, match: re.Match[str]) -> str:
        value = dict(_flat(self.params)).get(match.group(1))
        apply = _FILTERS.get(match.group(2))
        if value is None or apply is None:
            raise ValueError(f"cannot fill {match.group(0)}: unknown parameter or filter "
                             f"(filters: {', '.join(_FILTERS)})")
        try:
            return apply(value)
        except ValueError:
            raise ValueError(f"cannot fill {match.group(0)}: {value!r} is not a size") from None
