"""Check ``size``: a download big enough that people should know before it starts."""

from __future__ import annotations

from ..environment import Environment
from ..plan import Conflict, Finding
from .context import AdviceContext, Subject, human_size, installing, join_words

CHECK = "size"


def check_size(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if isinstance(subject, Conflict):
        return []
    known = []
    unknown = []
    for action in installing(subject):
        if action.file is not None and action.file.size is not None:
            known.append((action.file.size, action))
        else:
            unknown.append(action.name)
    total = sum(size for size, _ in known)
    if total <= ctx.size_threshold:
        return []
    known.sort(key=lambda item: -item[0])
    largest = [f"{a.name} {a.version} ({human_size(size)})" for size, a in known[:3]]
    message = f"This downloads {human_size(total)}"
    if unknown:
        message += f" plus {len(unknown)} file{'s' if len(unknown) > 1 else ''} of unknown size"
    message += f". The largest: {join_words(largest)}."
    details = {
        "total": total,
        "complete": not unknown,
        "unknown_size": unknown,
        "threshold": ctx.size_threshold,
        "largest": [
            {"name": a.name, "version": a.version, "filename": a.file.filename, "size": size}
            for size, a in known[:5]
            if a.file is not None
        ],
    }
    return [Finding(CHECK, "warning", message, None, details)]
