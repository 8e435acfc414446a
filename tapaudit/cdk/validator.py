"""tapaudit inside `cdk synth`: a CDK policy validation plugin (the stable IPolicyValidationPlugin).

    from tapaudit.cdk import TapauditValidator
    cdk.Validations.of(app).add_plugins(TapauditValidator())

CDK hands the plugin the synthesized templates; the plugin scans them through `pipeline.run`, so
the configuration, tapaudit's metadata suppressions and the baseline mean what they mean on the
command line. Every finding becomes a violation. Its CDK severity is `error` when it reaches the
gate (`fail_on`) and `warning` below it: CDK recomputes a report's success from those two words
after it applies acknowledgments (`Validations.of(scope).acknowledge(...)`, id `tapaudit::TAP006`),
so the words must agree with the gate. tapaudit's own severity is in the rule metadata.

This module imports aws-cdk-lib; `tapaudit.cdk` loads it only when `TapauditValidator` is used.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import aws_cdk as cdk
import jsii
from msgspec.structs import replace

from tapaudit import __version__
from tapaudit.config import Config
from tapaudit.findings import INVALID_RULE_ID, Finding, Invalid, ScanError, ScanResult, SuppressionProblem
from tapaudit.gate import decide, reaches_gate
from tapaudit.loading.discovery import nested_templates
from tapaudit.pipeline import load_configured_rules, run
from tapaudit.triage import acknowledgments

PLUGIN_NAME = "tapaudit"
# Violations that are not rule findings: an input tapaudit could not scan, a suppression problem.
SCAN_ERROR, SUPPRESSION_PROBLEM = "scan-error", "suppression-problem"


@jsii.implements(cdk.IPolicyValidationPlugin)
class TapauditValidator:
    """Runs tapaudit's rules on every template CDK synthesizes; fails the synth at the gate.

    `config` is tapaudit's configuration (default: the project's file, found from the working
    directory as the CLI finds it); `fail_on` overrides its gate.
    """

    def __init__(self, config: Config | None = None, *, fail_on: str | None = None) -> None:
        config = config or _project_config()
        if config.origins.get("cdk_language", "default") == "default":
            # This plugin runs inside a Python CDK app: its fixes are Python unless configured.
            config = replace(config, cdk_language="python")
        self._config = replace(config, fail_on=fail_on) if fail_on else config
        # Load the rules now: a wrong configuration fails where the plugin is created, not mid-synth.
        self._rule_ids = [rule.id for rule in load_configured_rules(self._config)]

    # jsii reads these as properties; plain attributes fail the synth with a TypeError.
    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return __version__

    @property
    def rule_ids(self) -> list[str]:
        return list(self._rule_ids)

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        templates = _with_nested(Path(p).resolve() for p in context.template_paths)
        unrecorded = _unrecorded_acknowledgments(templates)
        for note in unrecorded:
            print(f"tapaudit: note: {note}", file=sys.stderr)
        # One process: scanning is fast, and forking beside jsii's Node child is asking for trouble.
        outcome = run([str(t) for t in templates], self._config, jobs=1)
        result = outcome.result
        fail_on = self._config.fail_on
        code, reason = decide(result, fail_on, self._config.strict_suppressions)
        violations = [_finding_violation(f, reaches_gate(f.severity, fail_on)) for f in result.findings]
        violations += [_finding_violation(f, False) for f in result.unknown]
        violations += [_error_violation(e) for e in result.errors]
        violations += [_invalid_violation(i) for i in result.invalid]
        violations += [_problem_violation(p, self._config.strict_suppressions)
                       for p in result.suppression_problems]
        return cdk.PolicyValidationPluginReport(
            success=code == 0, violations=violations, plugin_version=__version__,
            metadata={**_summary(result, reason), "run": outcome.record.line(),
                      **({"unrecorded-acknowledgments": " ".join(unrecorded)} if unrecorded else {})})


def _project_config() -> Config:
    """The project's configuration file (nearest from the working directory, as the CLI finds it)."""
    from tapaudit.config import load_config

    config = load_config()
    for ignored in config.not_applied:  # CDK has no channel for a note: the synth's stderr
        print(f"tapaudit: note: {ignored.note}", file=sys.stderr)
    return config


def _unrecorded_acknowledgments(templates: Sequence[Path]) -> list[str]:
    """A note for each tapaudit acknowledgment made above every stack (on the App, a Stage, or a
    construct holding stacks): CDK applies it at synth but records it in no artifact of the cloud
    assembly, so `tapaudit scan cdk.out`, the hook and the Action cannot honour it. CDK hands the
    plugin no construct, so the app is found among the live objects, by its output folder."""
    import gc

    apps = {id(o): o for o in gc.get_objects() if isinstance(o, cdk.App)}.values()
    notes = []
    for app in apps:
        outdir = Path(app.outdir).resolve()
        if not any(t.is_relative_to(outdir) for t in templates):
            continue  # another app of this process
        metadata: dict[str, list[dict]] = {}
        pending = [app]
        while pending:
            construct = pending.pop()
            metadata[construct.node.path] = [{"type": e.type, "data": e.data}
                                             for e in construct.node.metadata]
            pending += [c for c in construct.node.children if not cdk.Stack.is_stack(c)]
        for rule_id, paths in sorted(acknowledgments.recorded(metadata).items()):
            for path in sorted(paths):
                where = path or "the App"
                notes.append(
                    f"the acknowledgment of {acknowledgments.NAMESPACE}{rule_id} on {where} holds "
                    "only inside cdk synth: CDK records an acknowledgment above a stack nowhere in "
                    "the cloud assembly, so `tapaudit scan cdk.out` (the tapaudit-cdk hook, the "
                    "Action) still reports it. Acknowledge on the stack or a construct in it, or use "
                    f'tapaudit.cdk.suppress(construct, "{rule_id}", reason=...).')
    return notes


def _with_nested(templates: Iterable[Path]) -> list[Path]:
    """The stack templates and the nested stack templates they name (CDK passes stacks only)."""
    found: list[Path] = []
    for template in templates:
        for path in [template, *nested_templates(template.parent, template)]:
            if path not in found:
                found.append(path)
    return found


def _finding_violation(finding: Finding, at_gate: bool) -> cdk.PolicyViolation:
    # CDK's severity word carries the gate; tapaudit's own severity leads the description.
    description = f"[{finding.severity.label}] {finding.message}"
    if finding.unknown:
        description = f"[unknown] could not be verified, not a violation: {finding.message}"
    metadata = {"severity": finding.severity.label, "title": finding.title,
                "checks": ", ".join(finding.checks), "fingerprint": finding.fingerprint}
    if finding.why:
        metadata["why"] = finding.why
    if finding.unverified:
        metadata["unverified"] = "; ".join(finding.unverified)
    return cdk.PolicyViolation(
        rule_name=finding.rule_id,
        description=description,
        fix=finding.fix or None,
        severity="info" if finding.unknown else "error" if at_gate else "warning",
        rule_metadata=metadata,
        violating_resources=[cdk.PolicyViolatingResource(
            resource_logical_id=finding.resource,
            template_path=str(Path(finding.file).resolve()),
            construct_path=finding.cdk_path,  # None: CDK finds it from the logical id
            locations=_locations(finding.path))])


def _locations(path: Sequence[str | int]) -> list[str]:
    """`Properties.Targets.0.DeadLetterConfig`: CDK's property-path form, below the resource;
    none for a finding on the resource as a whole."""
    below = list(path[2:]) if len(path) >= 2 and path[0] == "Resources" else list(path)
    return [".".join(str(part) for part in below)] if below else []


def _error_violation(error: ScanError) -> cdk.PolicyViolation:
    return cdk.PolicyViolation(
        rule_name=SCAN_ERROR, description=f"tapaudit could not scan this template: {error.message}",
        severity="error", violating_resources=[cdk.PolicyViolatingResource(
            template_path=str(Path(error.file).resolve()), locations=[])])


def _invalid_violation(entry: Invalid) -> cdk.PolicyViolation:
    """A resource CloudFormation rejects for its shape (e.g. an escape hatch's override)."""
    return cdk.PolicyViolation(
        rule_name=INVALID_RULE_ID, description=entry.message, severity="error",
        violating_resources=[cdk.PolicyViolatingResource(
            resource_logical_id=entry.resource, template_path=str(Path(entry.file).resolve()),
            construct_path=entry.cdk_path,
            locations=[] if entry.path == "the resource" else [entry.path])])


def _problem_violation(problem: SuppressionProblem, strict: bool) -> cdk.PolicyViolation:
    detail = f" ({problem.detail})" if problem.detail else ""
    return cdk.PolicyViolation(
        rule_name=SUPPRESSION_PROBLEM,
        description=f"tapaudit suppression of {problem.rule_id or 'a rule'}: {problem.problem}{detail}",
        severity="error" if strict else "warning",
        violating_resources=[cdk.PolicyViolatingResource(
            resource_logical_id=problem.resource, template_path=str(Path(problem.file).resolve()),
            locations=[])])


def _summary(result: ScanResult, reason: str) -> dict[str, str]:
    counts = {key: str(value) for key, value in result.summary().items()}
    return {**counts, "templates": str(len(result.templates)), "gate": reason}
