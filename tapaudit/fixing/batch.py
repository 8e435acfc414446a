"""Fix every scanned file in memory: for `tapaudit fix` and, as report data, for the pipeline.

Below the gate and the pipeline: it takes the scan's plain values (result, sources, rules), not
the pipeline's outcome, so `pipeline.run(..., offer_fixes=True)` can put the offers on the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tapaudit.config import Config
from tapaudit.errors import InputError, interrupted
from tapaudit.findings import Finding, FixOffer, ScanResult
from tapaudit.fixing import editable, findings_by_file
from tapaudit.fixing.engine import FileFix, fix_source
from tapaudit.fixing.plan import SettingsError
from tapaudit.fixing.rules import SETTINGS
from tapaudit.fixing.sarif import fixable, fixes_by_finding
from tapaudit.loading.discovery import TemplateSource
from tapaudit.rules.model import Rule

_BOM = b"\xef\xbb\xbf"


def fix_all(result: ScanResult, sources: Sequence[TemplateSource], rules: Sequence[Rule],
            settings: dict[str, dict[str, Any]], partition: str) -> tuple[list[FileFix], list[str]]:
    """Every scanned file with findings, fixed in memory (nothing written), and the input errors
    (scan errors first). For reports: `sarif.fixable` and `sarif.fixes_by_finding` of each."""
    errors = [f"{e.file}: {e.message}" for e in result.errors]
    by_file = findings_by_file(result.findings)
    results = []
    for source in sources:
        findings = by_file.get(source.display, [])
        if not findings:
            continue
        if source.path is None:
            errors.append(f"{source.display}: tapaudit fix edits files; save standard input to a file first")
            continue
        try:
            results.append(_fix_file(source, findings, rules, settings, partition))
        except (InputError, OSError, UnicodeDecodeError) as exc:
            errors.append(f"{source.display}: {exc}")
        except RecursionError:
            errors.append(f"{source.display}: nesting too deep to fix")
        except Exception as exc:  # the last guard: a fixer bug must not hide other inputs
            if interrupted(exc):  # a Ctrl-C that landed here wrapped: the run ends
                raise KeyboardInterrupt from exc
            errors.append(f"{source.display}: internal error while fixing ({type(exc).__name__}: {exc})")
    return results, errors


def fix_offers(result: ScanResult, sources: Sequence[TemplateSource], rules: Sequence[Rule],
               settings: dict[str, dict[str, Any]], partition: str) -> dict[str, FixOffer]:
    """Finding fingerprint -> what `tapaudit fix --write` does for it. Findings of files it cannot
    fix (CDK output, standard input, unreadable) have no offer: not fixable. CDK output known
    from the source or the findings (cdk.out, aws:cdk:path) is passed over before it is read."""
    wanted = editable(sources, findings_by_file(result.findings))
    offers: dict[str, FixOffer] = {}
    for file_fix in fix_all(result, wanted, rules, settings, partition)[0]:
        fixes = fixes_by_finding(file_fix)
        for fingerprint, fixed in fixable(file_fix).items():
            offers[fingerprint] = FixOffer(fixed, tuple(fixes.get(fingerprint, ())) if fixed else ())
    return offers


def fix_settings(config: Config, rules: Sequence[Rule]) -> dict[str, dict[str, Any]]:
    """Each rule's `[rules.ID.fix]` table, checked, with its defaults."""
    found: dict[str, dict[str, Any]] = {}
    for rule in rules:
        table = config.rule_settings.get(rule.id)
        given = table.fix if table is not None else {}
        check = SETTINGS.get(rule.id)
        where = f"{config.file_name}: [{config.key_name(f'rules.{rule.id}.fix')}]"
        if check is None:
            if given:
                raise SettingsError(f"{where}: {rule.id} has no fix settings")
            continue
        try:
            found[rule.id] = check(rule, given)
        except SettingsError as exc:
            raise SettingsError(f"{where} {exc}") from None
    return found


def read_exact(path: Path) -> tuple[bytes, str]:
    """(byte-order mark or b"", text): the file's bytes are kept exactly, line endings included."""
    raw = path.read_bytes()
    bom = _BOM if raw.startswith(_BOM) else b""
    return bom, raw[len(bom):].decode("utf-8")


def _fix_file(source: TemplateSource, findings: list[Finding], rules: Sequence[Rule],
              settings: dict[str, dict[str, Any]], partition: str) -> FileFix:
    assert source.path is not None
    _, text = read_exact(source.path)
    return fix_source(source, text, findings, rules, settings, partition)
