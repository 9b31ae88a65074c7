"""Check ``environment``: can this environment take the install, and will it keep it?

- externally managed (PEP 668): pip refuses; a blocker with a way out;
- site-packages not writable: a blocker;
- a conda environment where pip would replace what conda installed: a warning
  (conda's records go stale, and its next update can undo or break pip's change);
- JupyterHub, with site-packages outside the home directory: on most hubs only the
  home directory survives a server restart, so the install may vanish: a warning.
"""

from __future__ import annotations

import os
from typing import Any

from ..environment import Distribution, Environment
from ..plan import Conflict, Finding, Plan
from .context import AdviceContext, Subject, join_words, switch_kernel_action

CHECK = "environment"
REPLACING = ("upgrade", "downgrade", "remove")


def _elsewhere(ctx: AdviceContext) -> tuple[str, dict[str, Any] | None]:
    if ctx.other_kernels:
        kernel = ctx.other_kernels[0]
        shown = kernel.get("display_name") or kernel.get("name")
        return (
            f" Use another kernel (for example {shown}) or a virtual environment.",
            switch_kernel_action(kernel),
        )
    return " Use another kernel or a virtual environment (python -m venv).", None


def _cannot_install(env: Environment, ctx: AdviceContext) -> list[Finding]:
    info = env.data.get("environment") or {}
    findings = []
    kernels = [dict(k) for k in ctx.other_kernels]
    managed = info.get("externally_managed")
    if managed:
        where, action = _elsewhere(ctx)
        message = (
            'This Python belongs to the operating system (PEP 668 "externally '
            'managed"), so pip refuses to install into it.' + where
        )
        details = {"marker": managed.get("marker"), "error": managed.get("error")}
        findings.append(Finding(CHECK, "blocker", message, action, {**details, "kernels": kernels}))
    if info.get("site_packages_writable") is False:
        where, action = _elsewhere(ctx)
        target = (env.data.get("paths") or {}).get("purelib")
        message = (
            f"You are not allowed to write to {target}, where this Python keeps its packages."
            + where
        )
        findings.append(
            Finding(CHECK, "blocker", message, action, {"purelib": target, "kernels": kernels})
        )
    return findings


def _installed_by_conda(dist: Distribution, env: Environment) -> bool:
    if (dist.installer or "").strip().lower() == "conda":
        return True
    conda = env.conda_packages
    return dist.installer is None and conda is not None and dist.canonical_name in conda


def _conda_owned(plan: Plan, env: Environment) -> list[Finding]:
    if env.kind != "conda" and not env.conda_packages:
        return []
    hits = []
    for action in plan.actions:
        if action.kind not in REPLACING:
            continue
        dist = env.installed(action.name)
        if dist is not None and _installed_by_conda(dist, env):
            hits.append((action, dist))
    if not hits:
        return []
    names = [f"{d.name} {d.version}" for _, d in hits]
    message = (
        f"conda installed {join_words(names)}; pip would replace "
        f"{'it' if len(hits) == 1 else 'them'} without conda knowing, and conda's next "
        "update can undo or break that. Prefer installing "
        f"{'it' if len(hits) == 1 else 'them'} with conda in this environment."
    )
    details = {
        "packages": [
            {
                "name": a.name,
                "kind": a.kind,
                "installed_version": d.version,
                "version": a.version,
                "installer": d.installer,
            }
            for a, d in hits
        ]
    }
    return [Finding(CHECK, "warning", message, None, details)]


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _not_persistent(env: Environment) -> list[Finding]:
    hub = env.jupyterhub_vars
    home = env.home
    target = (env.data.get("paths") or {}).get("purelib")
    if not hub or not home or not target or _inside(str(target), home):
        return []
    message = (
        f"This looks like a JupyterHub server: usually only your home directory ({home}) "
        f"is kept when the server restarts, and packages go to {target}, outside it. "
        "They may be gone after a restart; an environment inside your home directory "
        "keeps them."
    )
    details = {"home": home, "purelib": target, "jupyterhub": hub}
    return [Finding(CHECK, "warning", message, None, details)]


def check_environment(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if env.synthetic_env:
        return []
    findings = _cannot_install(env, ctx)
    if isinstance(subject, Conflict) or not subject.changes:
        return findings
    return findings + _conda_owned(subject, env) + _not_persistent(env)
