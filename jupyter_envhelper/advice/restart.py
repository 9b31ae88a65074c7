"""Check ``restart``: the kernel already imported a module the plan replaces."""

from __future__ import annotations

from ..environment import Environment
from ..plan import Conflict, Finding
from .context import AdviceContext, Subject, join_words

CHECK = "restart"
REPLACING = ("upgrade", "downgrade", "remove")


def check_restart(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if isinstance(subject, Conflict) or ctx.imported_modules is None:
        return []
    hits = []
    for action in subject.actions:
        if action.kind not in REPLACING:
            continue
        installed = env.installed(action.name)
        if installed is None:
            continue
        modules = sorted(m for m in installed.top_level if m in ctx.imported_modules)
        if modules:
            hits.append((action, modules))
    if not hits:
        return []
    modules = [m for _, found in hits for m in found]
    message = (
        f"Restart the kernel after installing: it has imported {join_words(modules)}, "
        "and the old version stays in memory until it restarts."
    )
    details = {
        "replaced": [
            {
                "name": a.name,
                "kind": a.kind,
                "installed_version": a.installed_version,
                "version": a.version,
                "modules": found,
            }
            for a, found in hits
        ]
    }
    button = {"kind": "restart-kernel", "label": "Restart kernel"}
    return [Finding(CHECK, "warning", message, button, details)]
