"""AWS's SAM translator as the oracle for tapaudit's own SAM expansion (test-only helper).

`translate` runs aws-sam-translator offline on a SAM template (local code locations rewritten
to s3:// URIs, as `sam package` would); `source_verdicts` and `translated_verdicts` give
tapaudit's verdict per (rule, SAM resource) on the SAM source and on the translated template.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tapaudit.errors import InputError
from tapaudit.loading.parse import parse_document
from tapaudit.model.template import Template
from tapaudit.rules.engine import Verdict, evaluate_rule
from tapaudit.transforms import expand

_CODE_LOCATIONS = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri",
                   "AWS::Serverless::StateMachine": "DefinitionUri", "AWS::Serverless::Api": "DefinitionUri",
                   "AWS::Serverless::HttpApi": "DefinitionUri"}


def _packaged(data: dict) -> dict:
    """Local paths become s3:// URIs, as `sam package` writes them; the rules never read them."""
    data = copy.deepcopy(data)
    data.setdefault("Transform", "AWS::Serverless-2016-10-31")  # SAM's own test inputs omit it
    for body in (data.get("Resources") or {}).values():
        if not isinstance(body, dict) or not isinstance(body.get("Properties"), dict):
            continue
        key = _CODE_LOCATIONS.get(body.get("Type"))
        props = body["Properties"]
        if key and isinstance(props.get(key), str) and not props[key].startswith("s3://"):
            props[key] = "s3://bucket/code.zip"
        if body.get("Type") == "AWS::Serverless::Function" and "CodeUri" not in props \
                and "InlineCode" not in props and "ImageUri" not in props:
            props["CodeUri"] = "s3://bucket/code.zip"
    function_globals = (data.get("Globals") or {}).get("Function")
    if isinstance(function_globals, dict) and isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = "s3://bucket/code.zip"
    return data


class _NoPolicies:
    def load(self) -> dict:
        return {}


def translate(data: dict) -> dict:
    """The deployed template, or an exception when the translator refuses the template offline."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.translator.transform import transform

    return transform(_packaged(data), {}, _NoPolicies())


def sam_templates(paths: Iterable[Path]) -> Iterator[tuple[Path, dict]]:
    """The readable templates among `paths` that hold SAM resources (with or without the
    Transform line); files refused for duplicate keys are pinned in test_corpus."""
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        if "AWS::Serverless::" not in text:
            continue
        try:
            data = parse_document(text).data
        except InputError:
            continue
        if isinstance(data, dict) and sam_ids(data):
            yield path, data


def sam_ids(data: dict) -> list[str]:
    resources = data.get("Resources")
    return [name for name, body in (resources.items() if isinstance(resources, dict) else ())
            if isinstance(body, dict) and str(body.get("Type", "")).startswith("AWS::Serverless::")]


def _verdicts(template: Template, rules, owner) -> dict[tuple[str, str], str]:
    """(rule, source resource) -> "fail", "unknown" or "exempt"; passes are left out. A source
    resource is exempt only when every result mapped to it is (as the engine merges them), so an
    exemption one side grants and the other does not shows up as a difference."""
    seen: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        for result in evaluate_rule(rule, template):
            verdict = (result.verdict.value if result.verdict in (Verdict.FAIL, Verdict.UNKNOWN)
                       else "exempt" if result.exempt_reason is not None else "pass")
            seen.setdefault((rule.id, owner(result.logical_id)), set()).add(verdict)
    return {key: next(v for v in ("fail", "unknown", "exempt") if v in verdicts)
            for key, verdicts in seen.items() if verdicts & {"fail", "unknown"} or verdicts == {"exempt"}}


def source_verdicts(data: dict, rules) -> dict[tuple[str, str], str]:
    expansion = expand(data)
    template = Template(expansion.data)
    template.provenance = expansion.provenance
    return _verdicts(template, rules, lambda logical_id: logical_id)


def translated_verdicts(data: dict, translated: dict, rules) -> dict[tuple[str, str], str]:
    """Verdicts on the translator's output, each generated resource mapped to the SAM resource
    whose logical id is the longest prefix of its own (SAM names what it generates that way)."""
    sources = sorted(sam_ids(data), key=len, reverse=True)
    written = set(data.get("Resources") or {})

    def owner(logical_id: str) -> str:
        if logical_id in written:  # the user's own resources keep their ids
            return logical_id
        return next((s for s in sources if logical_id.startswith(s)), logical_id)

    return _verdicts(Template(translated), rules, owner)


def sam_resources_checked(data: dict) -> int:
    types: dict[str, Any] = {"AWS::Serverless::Function", "AWS::Serverless::StateMachine",
                             "AWS::Serverless::SimpleTable", "AWS::Serverless::Connector"}
    return sum(1 for name in sam_ids(data) if data["Resources"][name]["Type"] in types)
