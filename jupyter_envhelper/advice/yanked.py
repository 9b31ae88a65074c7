"""Check ``yanked``: a file its authors withdrew (PEP 592), with their reason."""

from __future__ import annotations

from ..environment import Environment
from ..plan import Conflict, Finding
from .context import AdviceContext, Subject, installing

CHECK = "yanked"


def check_yanked(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if isinstance(subject, Conflict):
        return []
    findings = []
    for action in installing(subject):
        if action.file is None or not action.file.yanked:
            continue
        reason = (action.file.yanked_reason or "").strip()
        message = (
            f"{action.name} {action.version} was withdrawn (yanked) by its authors"
            + (f": {reason.rstrip('.')}." if reason else ", without saying why.")
            + " It is only picked because nothing else fits; prefer another version."
        )
        details = {
            "name": action.name,
            "version": action.version,
            "filename": action.file.filename,
            "reason": reason or None,
        }
        findings.append(Finding(CHECK, "warning", message, None, details))
    return findings
