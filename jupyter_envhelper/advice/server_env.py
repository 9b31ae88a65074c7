"""Check ``server-env``: the target is the environment the Jupyter server runs from.

A kernelspec whose ``argv[0]`` is a bare ``python`` runs (as jupyter_client starts
it) with the server's own interpreter, so installing "into the kernel" changes the
environment JupyterLab and the Jupyter server themselves import from. Every plan
for that environment says so (a warning); a plan that downgrades or removes the
server, JupyterLab or one of what they require is a blocker, because a mismatch
there can stop JupyterLab from starting, this very server included, and nothing in
the browser could then undo it.

The fact comes from the core: ``AdviceContext.server_prefix`` is the server's
``sys.prefix``; the target's prefix is the probe's. Unknown (None) stays silent.
"""

from __future__ import annotations

import os

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..environment import Environment
from ..kept import remember, remembered
from ..plan import Action, Conflict, Finding
from .context import AdviceContext, Subject, join_words

CHECK = "server-env"
#: What the server and the panel are made of; their own requirements are added from
#: what is installed (so the set follows the versions really there).
SERVER_PROJECTS = (
    "jupyter-server",
    "jupyterlab",
    "jupyterlab-server",
    "notebook",
    "jupyter-envhelper",
)
RISKY = ("downgrade", "remove")


def same_prefix(one: str | None, other: str | None) -> bool:
    if not one or not other:
        return False
    try:
        return os.path.samefile(one, other)
    except OSError:
        return os.path.realpath(one) == os.path.realpath(other)


def server_core(env: Environment) -> frozenset[str]:
    """Canonical names of the server's projects and of what they require (not extras);
    worked out once per environment (``kept.py``: every plan for the server's own
    environment asks, and parsing those requirements is milliseconds of CPU)."""
    known: frozenset[str] | None = remembered(env, CHECK)
    if known is None:
        known = remember(env, CHECK, frozenset(_server_core(env)))
    return known


def _server_core(env: Environment) -> set[str]:
    core: set[str] = set()
    markers = {**env.markers, "extra": ""}
    for project in SERVER_PROJECTS:
        dist = env.installed(project)
        if dist is None:
            continue
        core.add(dist.canonical_name)
        for text in dist.requires:
            try:
                req = Requirement(text)
                if req.marker is not None and not req.marker.evaluate(markers):
                    continue
            except (
                InvalidRequirement,
                InvalidMarker,
                UndefinedComparison,
                UndefinedEnvironmentName,
            ):
                continue
            core.add(canonicalize_name(req.name))
    return core


def check_server_env(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if not same_prefix(env.prefix, ctx.server_prefix):
        return []
    details = {"server_prefix": ctx.server_prefix, "prefix": env.prefix}
    findings = [
        Finding(
            CHECK,
            "warning",
            f"This kernel runs in the Jupyter server's own environment ({env.prefix}): "
            "what you install here changes the environment JupyterLab and the Jupyter "
            "server run from, and a broken package can stop JupyterLab from starting. "
            "A separate environment for the kernel is safer.",
            None,
            details,
        )
    ]
    if isinstance(subject, Conflict):
        return findings
    core = server_core(env)
    risky: list[Action] = [
        a for a in subject.actions if a.kind in RISKY and a.canonical_name in core
    ]
    if risky:
        words = [
            f"{a.name} {a.installed_version} to {a.version}"
            if a.kind == "downgrade"
            else f"{a.name} {a.installed_version} (removed)"
            for a in risky
        ]
        findings.append(
            Finding(
                CHECK,
                "blocker",
                "This plan would downgrade or remove what the Jupyter server runs on "
                f"({join_words(words)}), in the server's own environment: JupyterLab and "
                "the server running it could fail to start, and "
                "nothing in the browser could undo it then. Do this from a terminal with the "
                "server stopped, or install into another kernel's environment.",
                None,
                {**details, "packages": [a.name for a in risky]},
            )
        )
    return findings
