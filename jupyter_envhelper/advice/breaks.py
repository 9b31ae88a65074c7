"""Check ``breaks``: installed distributions whose requirements the plan would violate."""

from __future__ import annotations

from ..environment import Environment
from ..plan import Conflict, Finding
from .context import AdviceContext, Subject

CHECK = "breaks"


def check_breaks(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if isinstance(subject, Conflict):
        return []
    return [
        Finding(
            CHECK,
            "warning",
            f"{b.message} {b.name} may stop working.",
            None,
            b.to_json(),
        )
        for b in subject.breaks
    ]
