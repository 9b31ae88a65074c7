"""Which other kernels could take a request: "if not here, where?".

Every other Python kernelspec is probed (in parallel, cached) and ranked:
already satisfied > resolvable without changing its existing packages >
resolvable with changes > impossible (with the reason).

A kernel that runs in the Jupyter server's own environment (``server_prefix``: a
bare-``python`` kernelspec resolves there) is no place to send a beginner: installing
there changes what JupyterLab runs from. It is left out whenever another kernel fits,
and when it is all that fits it says so (``server_env: true`` and a warning).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from packaging.requirements import Requirement

from ..advice.server_env import same_prefix
from ..environment import Environment
from ..errors import EnvHelperError
from ..index import IndexClient
from ..kernels import KernelTarget
from ..plan import Plan, ResolutionConflict
from ..probe import Prober

RANKS = ("satisfied", "no-changes", "changes", "impossible")

Planner = Callable[[Sequence[str], Environment, IndexClient], Awaitable[Plan]]


def satisfied(env: Environment, requirements: Sequence[Requirement]) -> bool:
    """Every requirement already met by what is installed (markers evaluated for env)."""
    for req in requirements:
        if req.marker is not None and not req.marker.evaluate({**env.markers, "extra": ""}):
            continue
        dist = env.installed(req.name)
        if dist is None or not req.specifier.contains(dist.version, prereleases=True):
            return False
    return True


async def suggest_kernels(
    targets: Sequence[KernelTarget],
    requirements: Sequence[Requirement],
    *,
    prober: Prober,
    client_for: Callable[[Environment], IndexClient],
    planner: Planner,
    server_prefix: str | None = None,
) -> list[dict[str, Any]]:
    texts = [str(r) for r in requirements]

    async def evaluate(target: KernelTarget) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": target.name,
            "display_name": target.display_name,
            "python_version": None,
        }
        if target.interpreter is None:
            return {**entry, "rank": "impossible", "message": target.resolution.reason}
        try:
            env = await prober.probe(target.interpreter, env=target.probe_env())
        except EnvHelperError as exc:
            return {**entry, "rank": "impossible", "message": f"Cannot inspect it: {exc.message}"}
        entry["python_version"] = env.python_version
        if satisfied(env, requirements):
            what = ", ".join(_installed_words(env, requirements))
            return {**entry, "rank": "satisfied", "message": f"Already has {what}."}
        blocked = _cannot_change(env)
        if blocked:
            return {**entry, "rank": "impossible", "message": blocked}
        try:
            plan = await planner(texts, env, client_for(env))
        except ResolutionConflict as exc:
            return {**entry, "rank": "impossible", "message": exc.conflict.message}
        except EnvHelperError as exc:
            return {**entry, "rank": "impossible", "message": exc.message}
        touched = [a for a in plan.changes if a.installed_version is not None]
        if not touched and not plan.breaks:
            count = len(plan.changes)
            return {
                **entry,
                "rank": "no-changes",
                "message": f"Can take it without changing what it has ({count} new "
                f"package{'s' if count != 1 else ''}).",
            }
        return {
            **entry,
            "rank": "changes",
            "message": f"Can take it, changing {len(touched)} installed package"
            f"{'s' if len(touched) != 1 else ''}"
            + (f" and breaking {len(plan.breaks)}" if plan.breaks else "")
            + ".",
        }

    async def evaluated(target: KernelTarget) -> dict[str, Any]:
        entry = await evaluate(target)
        # flagged only where it could be a target (an impossible row needs no flag)
        if entry["rank"] == "impossible" or target.interpreter is None or not server_prefix:
            return entry
        try:  # cached since evaluate() probed it
            env = await prober.probe(target.interpreter, env=target.probe_env())
        except EnvHelperError:
            return entry
        if same_prefix(env.prefix, server_prefix):
            entry["server_env"] = True
        return entry

    results = await asyncio.gather(*(evaluated(t) for t in targets if t.is_python))
    return only_fitting_server_env(
        sorted(results, key=lambda r: (RANKS.index(r["rank"]), r["display_name"]))
    )


SERVER_ENV_WORDS = (
    " It runs in JupyterLab's own environment: installing there can break JupyterLab, "
    "so a separate environment is safer."
)


def only_fitting_server_env(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the server's environment when another kernel fits; else keep it, warned."""
    others_fit = any(r["rank"] != "impossible" and not r.get("server_env") for r in results)
    kept = []
    for row in results:
        if row.get("server_env"):
            if others_fit:
                continue
            row = {**row, "message": row["message"] + SERVER_ENV_WORDS}  # noqa: PLW2901
        kept.append(row)
    return kept


def _installed_words(env: Environment, requirements: Sequence[Requirement]) -> list[str]:
    words = []
    for req in requirements:
        dist = env.installed(req.name)
        if dist is not None:
            words.append(f"{dist.name} {dist.version}")
    return words


def _cannot_change(env: Environment) -> str | None:
    facts = env.data.get("environment") or {}
    if facts.get("externally_managed"):
        return "Its Python is managed by the system (PEP 668): nothing can be installed there."
    if facts.get("site_packages_writable") is False:
        return "Its environment is not writable for you."
    return None
