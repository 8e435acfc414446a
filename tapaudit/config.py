"""Project configuration: `[tool.tapaudit]` in pyproject.toml or `.tapaudit.toml`.

The effective configuration is defaults, then the file, then the command line; `origins` records
where each value came from, for `tapaudit config`. A wrong configuration is never ignored: every
problem is a `ConfigError` naming the file and the key (exit 2).
"""

from __future__ import annotations

import os
import re
import stat
from functools import cache
from pathlib import Path
from typing import Any

from msgspec import Struct, field
from msgspec.structs import fields

PYPROJECT = "pyproject.toml"
DOTFILE = ".tapaudit.toml"
DEFAULT, COMMAND_LINE = "default", "command line"
GATES = ("critical", "high", "medium", "low", "none")
SEVERITIES = GATES[:-1]
CDK_LANGUAGES = ("typescript", "python")
_PARTITION = re.compile(r"^aws(-[a-z]+)*$")


class NotApplied(Struct, frozen=True):
    """A configuration file the search found and did not apply, and why."""

    file: str
    reason: str

    @property
    def note(self) -> str:
        """One line, control characters of the file name escaped (it may come from the input)."""
        file = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                       for ch in self.file)
        return f"{file}: configuration not applied, {self.reason}; name it with --config to use it"

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason}


class ConfigError(Exception):
    """The configuration is wrong: one line naming the file, the key and what is wrong."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file, self.key, self.problem = file, key, problem


class RuleSettings(Struct):
    """Per-rule settings: `[tool.tapaudit.rules.TAP003]`."""

    severity: str | None = None
    include: list[str] = field(default_factory=list)  # cdk_path or logical id globs
    exclude: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    fix: dict[str, Any] = field(default_factory=dict)  # for `tapaudit fix`, checked by tapaudit.fixing


class Config(Struct):
    fail_on: str = "high"
    rules: list[str] = field(default_factory=list)
    skip_rules: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    baseline: str | None = None
    strict_suppressions: bool = False
    rules_dirs: list[str] = field(default_factory=list)
    cdk_language: str = "typescript"  # typescript | python: the language of CDK fixes
    partition: str = "aws"  # where a verdict depends on AWS::Partition / AWS::URLSuffix
    rule_settings: dict[str, RuleSettings] = field(default_factory=dict)
    source: Path | None = None  # the file it was read from, if any
    origins: dict[str, str] = field(default_factory=dict)  # key -> "default" | file | "command line"
    not_applied: list[NotApplied] = field(default_factory=list)  # files found and not trusted

    @property
    def base_dir(self) -> Path:
        """Relative paths of the file (exclude, baseline, rules_dirs) are relative to its folder."""
        return self.source.parent if self.source else Path.cwd()

    @property
    def file_name(self) -> str:
        from tapaudit.loading.discovery import display_name

        return display_name(self.source) if self.source else COMMAND_LINE

    def key_name(self, key: str) -> str:
        """A key as the file spells it: `tool.tapaudit.rules.TAP003` in pyproject.toml."""
        prefix = "tool.tapaudit." if self.source and self.source.name == PYPROJECT else ""
        return prefix + key

    def rule_table(self, rule_id: str) -> str:
        """How a user finds a rule's settings in the file: `[tool.tapaudit.rules.TAP003]`."""
        return f"[{self.key_name('rules.' + rule_id)}]"

    def origin(self, key: str) -> str:
        return self.origins.get(key, DEFAULT)

    def override(self, key: str, value: Any) -> None:
        """Set a value from the command line: it wins over the file."""
        setattr(self, key, value)
        self.origins[key] = COMMAND_LINE


# Keys a file may set, with what their values must be. `only_rules` is `rules` as a list, for files
# whose `rules` is the table of per-rule settings (TOML cannot make one key both).
_KEYS: dict[str, str] = {
    "fail_on": "gate", "rules": "rules", "only_rules": "ids", "skip_rules": "ids",
    "exclude": "globs", "baseline": "str", "strict_suppressions": "bool", "rules_dirs": "strs",
    "cdk_language": "language", "partition": "partition",
}
_RULE_KEYS = ("severity", "include", "exclude", "parameters", "fix")


def find_config(start: Path) -> Path | None:
    """The nearest `.tapaudit.toml`, or `pyproject.toml` with a `[tool.tapaudit]` table, from
    `start` upwards to the repository root (the folder holding `.git`): a file above the repository
    is not the project's. Outside any repository the search goes up to the filesystem root. In one
    folder `.tapaudit.toml` wins."""
    for folder in _search_folders(start.resolve()):
        dotfile = folder / DOTFILE
        if dotfile.is_file():
            return dotfile
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def _search_folders(start: Path) -> list[Path]:
    folders = [start, *start.parents]
    for i, folder in enumerate(folders):
        if (folder / ".git").exists():  # a folder or, in a worktree or submodule, a file
            return folders[:i + 1]
    return folders


def untrusted(path: Path) -> str | None:
    """Why a configuration file found by the search must not be applied, or None: one owned by
    another user (root excepted) or writable by its group or others could have been planted or
    changed by someone else, and it decides what the gate checks."""
    if not hasattr(os, "geteuid"):  # no POSIX ownership to check (Windows)
        return None
    try:
        info = path.stat()
    except OSError:
        return None  # reading it reports the problem
    if info.st_uid not in (os.geteuid(), 0):
        return f"owned by another user (uid {info.st_uid})"
    writable = [who for who, bit in (("its group", stat.S_IWGRP), ("others", stat.S_IWOTH))
                if info.st_mode & bit]
    if writable:
        return f"writable by {' and '.join(writable)} (chmod go-w {path.name})"
    return None


def _has_tool_table(path: Path) -> bool:
    """Whether a pyproject.toml configures tapaudit; a broken one that mentions it counts (so its
    error is reported rather than the file passed by)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return True
    mentions = b"tapaudit" in raw
    if not mentions and b"\\u" not in raw and b"\\U" not in raw:
        # The common case, decided without a TOML parser: the key is written out, or spelled
        # with escapes in a quoted key (`[tool."tap\\u0061udit"]`).
        return False
    import tomllib

    try:
        return isinstance(tomllib.loads(raw.decode("utf-8")).get("tool", {}).get("tapaudit"), dict)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return mentions


def load_config(path: Path | None = None, *, search_from: Path | None = None,
                use_files: bool = True) -> Config:
    """The configuration from `path`, or from the nearest file above `search_from` (default: the
    working directory); defaults only when `use_files` is false or no file exists. A file found by
    the search that is `untrusted` is not applied: defaults, with `not_applied` saying why. A file
    named with `path` (`--config`) is applied as it is."""
    if not use_files:
        return Config()
    if path is None:
        path = find_config(search_from or Path.cwd())
        if path is None:
            return Config()
        problem = untrusted(path)
        if problem:
            from tapaudit.loading.discovery import display_name

            return Config(not_applied=[NotApplied(display_name(path), problem)])
    elif not path.is_file():
        raise ConfigError(str(path), "--config", "file not found")
    return _from_file(path)


def _from_file(path: Path) -> Config:
    import tomllib

    from tapaudit.loading.discovery import display_name

    name = display_name(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, "(file)", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "(file)", f"invalid TOML: {exc}") from None
    prefix = ""
    if path.name == PYPROJECT:
        tool = data.get("tool")
        data = tool.get("tapaudit") if isinstance(tool, dict) else None
        prefix = "tool.tapaudit."
        if not isinstance(data, dict):
            raise ConfigError(name, "[tool.tapaudit]", "is not a table")
    config = Config(source=path.resolve())
    reader = _Reader(name, prefix)
    for key, value in data.items():
        if key not in _KEYS:
            raise ConfigError(name, prefix + key, "unknown key" + did_you_mean(key, _KEYS))
        reader.apply(config, key, value)
    return config


class _Reader:
    """Checks each value's type and records where it came from."""

    def __init__(self, name: str, prefix: str) -> None:
        self.name, self.prefix = name, prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.name, self.prefix + key, problem)

    def apply(self, config: Config, key: str, value: Any) -> None:
        kind = _KEYS[key]
        if key == "rules" and isinstance(value, dict):
            config.rule_settings = {rule_id.upper(): self.rule(rule_id, settings)
                                    for rule_id, settings in value.items()}
            config.origins["rule_settings"] = self.name
            return
        if kind == "gate":
            value = self.choice(key, value, GATES)
        elif kind == "language":
            value = self.choice(key, value, CDK_LANGUAGES)
        elif kind == "partition":
            if not isinstance(value, str) or not _PARTITION.match(value):
                raise self.fail(key, f"expected a partition such as \"aws\" or \"aws-cn\", got {value!r}")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise self.fail(key, f"expected true or false, got {value!r}")
        elif kind == "str":
            value = self.string(key, value)
        elif kind in ("ids", "rules"):
            value = [v.upper() for v in self.strings(key, value)]
        elif kind == "globs":
            value = self.strings(key, value)
            for pattern in value:
                problem = glob_problem(pattern)
                if problem:
                    raise self.fail(key, f"bad glob {pattern!r}: {problem}")
        else:
            value = self.strings(key, value)
        if key == "only_rules":
            key = "rules"
        setattr(config, key, value)
        config.origins[key] = self.name

    def choice(self, key: str, value: Any, choices: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value.lower() not in choices:
            raise self.fail(key, f"expected one of {', '.join(choices)}, got {value!r}"
                            + (did_you_mean(value, choices) if isinstance(value, str) else ""))
        return value.lower()

    def string(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def strings(self, key: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, f"expected a list of non-empty strings, got {value!r}")
        return list(value)

    def rule(self, rule_id: str, data: Any) -> RuleSettings:
        key = f"rules.{rule_id}"
        if not isinstance(data, dict):
            raise self.fail(key, f"expected a table of rule settings, got {data!r}")
        settings = RuleSettings()
        for name, value in data.items():
            if name not in _RULE_KEYS:
                raise self.fail(f"{key}.{name}", "unknown key" + did_you_mean(name, _RULE_KEYS))
            if name == "severity":
                settings.severity = self.choice(f"{key}.severity", value, SEVERITIES)
            elif name in ("parameters", "fix"):
                if not isinstance(value, dict):
                    raise self.fail(f"{key}.{name}", f"expected a table, got {value!r}")
                setattr(settings, name, dict(value))
            else:
                patterns = self.strings(f"{key}.{name}", value)
                for pattern in patterns:
                    if "[" in pattern and "]" not in pattern:
                        raise self.fail(f"{key}.{name}", f"bad glob {pattern!r}: unclosed [")
                setattr(settings, name, patterns)
        return settings


def glob_problem(pattern: str) -> str | None:
    """Why a path glob cannot be used, or None. `**` must be a whole path segment."""
    if pattern.count("[") != pattern.count("]"):
        return "unbalanced [ ]"
    if any("**" in part and part != "**" for part in pattern.split("/")):
        return "** must be a whole path segment (like test/**/x.json)"
    if pattern.startswith("/"):
        return "must be relative to the configuration file's folder"
    try:
        compile_glob(pattern)
    except ValueError as exc:  # e.g. an empty or reversed [] range
        return str(exc)
    return None


# One character of a glob segment: a literal, `?` (ANY), `*` (STAR), or a class
# (negated, ranges); a pattern is its segments, `**` (DEEP) standing for any number of them.
_ANY, _STAR, _DEEP = "?", "*", "**"
_Token = str | tuple[bool, tuple[tuple[str, str], ...]]
_Segment = tuple[_Token, ...]


@cache  # one compiled glob per pattern, not one per pattern and scanned file
def compile_glob(pattern: str) -> tuple[_Segment | str, ...]:
    """A path glob as segments of tokens: `*` and `?` stay inside one segment, `**` spans
    segments. Matched by `glob_matches` in time linear in the path for each star (never
    exponential, unlike a regular expression such as `d/*a*a*a*b` is in Python's `re`)."""
    parts = pattern.strip("/").split("/")
    return tuple(_DEEP if part == "**" else _segment(part) for part in parts)


def _segment(part: str) -> _Segment:
    tokens: list[_Token] = []
    i = 0
    while i < len(part):
        char = part[i]
        if char == "[":
            end = part.find("]", i + 1)
            if end < 0:
                raise ValueError("unclosed [")
            body = part[i + 1:end]
            negated = body.startswith("!")
            body = body[1:] if negated else body
            if not body:
                raise ValueError("empty [ ]")
            ranges = []
            j = 0
            while j < len(body):
                if j + 2 < len(body) and body[j + 1] == "-":
                    if body[j] > body[j + 2]:
                        raise ValueError(f"bad character range {body[j:j + 3]}")
                    ranges.append((body[j], body[j + 2]))
                    j += 3
                else:
                    ranges.append((body[j], body[j]))
                    j += 1
            tokens.append((negated, tuple(ranges)))
            i = end + 1
            continue
        tokens.append(char if char not in "*?" else (_STAR if char == "*" else _ANY))
        i += 1
    return tuple(tokens)


def _one(token: _Token, char: str) -> bool:
    if token == _ANY:
        return True
    if isinstance(token, str):
        return token == char
    negated, ranges = token
    return any(low <= char <= high for low, high in ranges) != negated


def _wildcard(pattern: tuple, text: list | str, many: Any, one: Any) -> bool:
    """Does `pattern` match all of `text`, where the element `many` matches any run of elements
    and `one(token, element)` decides the others? Greedy, going back only to the last `many`:
    at most len(pattern) x len(text) comparisons."""
    p = t = 0
    star, resume = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] != many and one(pattern[p], text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == many:
            star, resume = p, t
            p += 1
        elif star >= 0:
            resume += 1
            p, t = star + 1, resume
        else:
            return False
    return all(token == many for token in pattern[p:])


def glob_matches(glob: tuple[_Segment | str, ...], path: str) -> bool:
    """Does the whole of `path` (a relative POSIX path) match the compiled glob?"""
    if glob and glob[-1] == _DEEP:  # a trailing `**` needs one segment at least, like `x/**`
        glob = (*glob[:-1], _segment("*"), _DEEP)
    return _wildcard(glob, path.split("/"), _DEEP,
                     lambda segment, part: _wildcard(segment, part, _STAR, _one))


def path_excluded(path: Path, config: Config) -> str | None:
    """The `exclude` glob that matches `path` (or one of its folders), relative to the config's
    folder; None when the path is to be scanned."""
    if not config.exclude:
        return None
    resolved = path.resolve()
    try:
        relative = resolved.relative_to(config.base_dir.resolve()).as_posix()
    except ValueError:
        relative = resolved.as_posix()
    parts = relative.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in config.exclude:
        glob = compile_glob(pattern)
        if any(glob_matches(glob, candidate) for candidate in candidates):
            return pattern
    return None


def did_you_mean(word: str, choices: Any) -> str:
    """` (did you mean 'x'?)`, or the known choices when nothing is close."""
    import difflib

    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(map(str, choices))})"


def resolve_path(config: Config, value: str, key: str) -> str:
    """A path from the file is relative to the file's folder; from the command line, to the cwd."""
    if config.origin(key) == COMMAND_LINE or Path(value).is_absolute():
        return value
    return str(config.base_dir / value)


def effective(config: Config) -> list[tuple[str, Any, str]]:
    """(key, value, origin) of every setting, for `tapaudit config`."""
    rows = []
    for f in fields(Config):
        if f.name in ("source", "origins", "rule_settings", "not_applied"):
            continue
        rows.append((f.name, getattr(config, f.name), config.origin(f.name)))
    for rule_id, settings in sorted(config.rule_settings.items()):
        origin = config.origin("rule_settings")
        for name in _RULE_KEYS:
            value = getattr(settings, name)
            if value not in (None, [], {}):
                rows.append((f"rules.{rule_id}.{name}", value, origin))
    return rows
