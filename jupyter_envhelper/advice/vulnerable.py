"""Check ``vulnerable``: known vulnerabilities of the versions the plan installs.

The index's JSON API (PyPI's ``/pypi/<name>/json``) lists advisories for one version
only, so each report says which version its records apply to; records for another
version are not evidence about this one and count as "unknown".
"""

from __future__ import annotations

from typing import Any

from packaging.version import InvalidVersion, Version

from ..environment import Environment
from ..plan import Action, Conflict, Finding
from .context import AdviceContext, Subject, VulnerabilityRecord, installing, join_words

CHECK = "vulnerable"


def _same_version(a: str, b: str | None) -> bool:
    if b is None:
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def fixed_version(current: str, records: list[VulnerabilityRecord]) -> str | None:
    """The lowest version above ``current`` that fixes every record (None: no such one)."""
    try:
        have = Version(current)
    except InvalidVersion:
        return None
    needed: Version | None = None
    for record in records:
        fixes = []
        for text in record.get("fixed_in") or ():
            try:
                fix = Version(text)
            except InvalidVersion:
                continue
            if fix > have:
                fixes.append(fix)
        if not fixes:
            return None
        lowest = min(fixes)
        needed = lowest if needed is None or lowest > needed else needed
    return str(needed) if needed is not None else None


def _finding(action: Action, records: list[VulnerabilityRecord]) -> Finding:
    assert action.version is not None
    ids = [str(r.get("id")) for r in records]
    first = records[0].get("summary") or (records[0].get("details") or "").split(". ")[0]
    if len(first) > 120:
        first = first[:117].rstrip() + "..."
    message = (
        f"{action.name} {action.version} has {len(records)} known "
        f"vulnerabilit{'y' if len(records) == 1 else 'ies'}: {join_words(ids)}"
        + (f" ({first.strip().rstrip('.')})" if first and len(records) == 1 else "")
        + "."
    )
    fix = fixed_version(action.version, records)
    action_button: dict[str, Any] | None = None
    if fix:
        message += f" {fix} fixes {'it' if len(records) == 1 else 'them'}."
        action_button = {
            "kind": "use-requirement",
            "requirement": f"{action.name}>={fix}",
            "label": f"Use {action.name} {fix} or newer",
        }
    else:
        message += " No fixed version is listed."
    details = {
        "name": action.name,
        "version": action.version,
        "fixed_version": fix,
        "vulnerabilities": [dict(r) for r in records],
    }
    return Finding(CHECK, "warning", message, action_button, details)


def check_vulnerable(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if isinstance(subject, Conflict) or ctx.vulnerabilities is None:
        return []
    findings = []
    unknown = []
    for action in installing(subject):
        assert action.version is not None
        report = ctx.vulnerabilities.get(action.canonical_name)
        records = report.get("records") if report else None
        if (
            report is None
            or records is None
            or not _same_version(action.version, report.get("version"))
        ):
            unknown.append(action)
        else:
            current = [r for r in records if not r.get("withdrawn")]
            if current:
                findings.append(_finding(action, current))
    if unknown:
        names = [f"{a.name} {a.version}" for a in unknown]
        message = (
            f"No vulnerability data from this index for {join_words(names[:5])}"
            + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            + "."
        )
        details = {"unknown": [{"name": a.name, "version": a.version} for a in unknown]}
        findings.append(Finding(CHECK, "info", message, None, details))
    return findings
