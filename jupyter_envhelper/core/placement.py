"""Where a change lives, as the finding a plan shows (``jupyter_envhelper/placement.py``
decides it; the job runner enforces the "another user's environment" part)."""

from __future__ import annotations

from ..environment import Environment
from ..placement import placement
from ..plan import Conflict, Finding, Plan

CHECK = "placement"


def placement_findings(subject: Plan | Conflict, env: Environment) -> list[Finding]:
    """The finding a plan shows before anything is installed (none when it is ours)."""
    if isinstance(subject, Plan) and not subject.changes:
        return []
    where = placement(env)
    if where.kind == "other-user":
        return [Finding(CHECK, "blocker", where.message or "", None, where.details)]
    if where.kind == "image" and isinstance(subject, Plan):
        return [Finding(CHECK, "warning", where.message or "", None, where.details)]
    return []


def with_placement(
    findings: list[Finding], subject: Plan | Conflict, env: Environment
) -> list[Finding]:
    """``findings`` with the placement finding; it says what the environment check's
    "JupyterHub, outside your home" warning says, more exactly, so that one goes."""
    extra = placement_findings(subject, env)
    if any(f.details.get("container") for f in extra):
        findings = [
            f for f in findings if not (f.check == "environment" and "jupyterhub" in f.details)
        ]
    return findings + extra
