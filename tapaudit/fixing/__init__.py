"""`tapaudit fix`: apply findings' fixes to hand-written CloudFormation and SAM templates.

`command.run_fix` is the command; `engine.fix_source` fixes one template; `batch.fix_all` every
scanned file, and `batch.fix_offers` gives the pipeline each finding's `fixable` flag and SARIF
`fixes` (`sarif.fixes_by_finding`) for the reports. Planners (rule knowledge) live in `fixing.rules`,
the text surgery (no rule knowledge) in `document`, `edits` and `render`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tapaudit.findings import Finding
    from tapaudit.loading.discovery import TemplateSource


def known_cdk_output(source: TemplateSource, findings: Sequence[Finding]) -> bool:
    """CDK output by what is known before the file is read (a stack of a cloud assembly, or a
    finding on a construct path): `fix` never edits it (the CDK app is the source to change)."""
    return source.stack is not None or bool(source.cdk_paths) or any(f.cdk_path for f in findings)


def findings_by_file(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.file, []).append(finding)
    return by_file


def editable(sources: Sequence[TemplateSource], by_file: dict[str, list[Finding]]) -> list[TemplateSource]:
    """The sources with findings that `fix` may edit, as far as is known before they are read.
    Cheap on purpose: the pipeline asks it before it loads the rest of this package."""
    return [source for source in sources
            if source.display in by_file and not known_cdk_output(source, by_file[source.display])]
