"""Wheel build step: the built-in rule files are parsed here, once, and shipped as JSON beside
the YAML they come from, so an installed tapaudit reads them with `json` and a scan of a JSON
template never imports PyYAML (issue 15). A rule file JSON cannot carry unchanged fails the build.
Rule folders a user adds are read from YAML at every run, as before."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PARSED_SUFFIX = ".parsed.json"  # tapaudit/rules/loader.py reads these, and only in the package


class ParsedRulesHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return  # an editable install reads rules/ itself
        out = Path(tempfile.mkdtemp(prefix="tapaudit-rules-"))
        for source in sorted(Path(self.root, "rules").glob("*.yaml")):
            data = yaml.load(source.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
                             if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader)
            text = json.dumps(data, ensure_ascii=False, sort_keys=False)
            if json.loads(text) != data:
                raise ValueError(f"{source}: holds values JSON cannot carry unchanged")
            target = out / (source.stem + PARSED_SUFFIX)
            target.write_text(text, encoding="utf-8")
            build_data["force_include"][str(target)] = f"tapaudit/builtin_rules/{target.name}"
