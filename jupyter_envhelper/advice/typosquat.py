"""Check ``typosquat``: a requested name that looks like a popular project's."""

from __future__ import annotations

from ..environment import Environment
from ..plan import Conflict, Finding
from .context import AdviceContext, Subject
from .python_support import requirement_name

CHECK = "typosquat"


def requested_names(subject: Subject) -> list[str]:
    """The names the user typed, in order, once each."""
    names = [requirement_name(r) for r in subject.requirements]
    if not isinstance(subject, Conflict):
        names += [a.name for a in subject.actions if a.requested]
    seen: set[str] = set()
    out = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def check_typosquat(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if ctx.typosquat is None:
        return []
    findings = []
    for name in requested_names(subject):
        flagged = ctx.typosquat(name)
        if not flagged:
            continue
        suggestion = flagged.get("suggestion")
        message = str(flagged.get("message") or f"{name} looks like {suggestion}.")
        action = (
            {
                "kind": "use-requirement",
                "requirement": str(suggestion),
                "label": f"Install {suggestion} instead",
            }
            if suggestion
            else None
        )
        details = {"name": name, **dict(flagged)}
        findings.append(Finding(CHECK, "warning", message, action, details))
    return findings
