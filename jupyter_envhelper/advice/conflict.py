"""Check ``conflict``: a failed resolution, as one blocker with its ways out."""

from __future__ import annotations

from ..environment import Environment
from ..plan import Conflict, Finding
from .context import AdviceContext, Subject

CHECK = "conflict"


def check_conflict(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if not isinstance(subject, Conflict):
        return []
    actions = [dict(w.action) for w in subject.ways_out if w.action]
    details = {
        "requirements": list(subject.requirements),
        "causes": [c.to_json() for c in subject.causes],
        "ways_out": [w.to_json() for w in subject.ways_out],
        "actions": actions,
    }
    message = subject.message
    if subject.ways_out:
        message += " " + " ".join(w.message for w in subject.ways_out)
    return [Finding(CHECK, "blocker", message, actions[0] if actions else None, details)]
