"""After ``No module named X``: which package provides X, can the target take it, and
which other kernels already have it. Every surface's rescue (the panel's banner, the
magic's hint) is this one document."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from ..errors import BadRequest, NotFound
from .documents import document
from .enable import (
    IMPORT_NAME,
    KERNEL_DISTRIBUTION,
    build_kernel_wheel,
    magic_state,
    wheel_folder,
)
from .targets import Target

if TYPE_CHECKING:
    from ..index import IndexClient
    from .usecases import Core

PROVIDER_MATCHES = ("import-name", "exact", "normalized")


async def rescue_document(
    core: Core, module: str, target: Target, *, wait: float, index_url: str | None
) -> dict[str, Any]:
    from .usecases import PlanOptions

    top = module.strip().partition(".")[0]
    if not top.isidentifier() or len(top) > 100:
        raise BadRequest(f"{module[:60]!r} is not a module name.")
    located = await core.locator.locate(target)
    env = located.require()
    here = [d for d in env.distributions.values() if top in d.top_level]
    if top == IMPORT_NAME and not here:
        # an editable install has no top_level.txt: ask by distribution name
        state = magic_state(env)
        if state["installed"]:
            here = [env.distributions[state["distribution"]]]
    client = core.indexes.client(env, index_url=index_url)
    # the other kernels are read while the index is asked (each probe is a process)
    others = asyncio.ensure_future(core.locator.probe_all(exclude=located.kernel_name))
    try:
        if top == IMPORT_NAME and not here:
            # the magic itself: its small kernel-side distribution, never JupyterLab
            hits = [await kernel_distribution_hit(core)]
        else:
            # What is known now first (the full project list, or the shipped popular data
            # while the list is still being built): "sklearn" is scikit-learn either way,
            # and the plan below reads that project's page, so it would say if the index
            # lacks it. Only a module nobody is known to provide is worth waiting for the
            # index's full project list.
            found = await core.catalog.search(client, top, env, limit=5, wait=0)
            hits = _providers(found)
            if hits and not found["complete"] and not await _on_index(client, hits[0]["name"]):
                hits = []  # well known, but not on this index: the full list may know better
            if not hits:
                hits = _providers(await core.catalog.search(client, top, env, limit=5, wait=wait))
        chosen = hits[0] if hits else None
        verdict, message, fingerprint = None, None, None
        suggestions: list[dict[str, Any]] = []
        if here:
            dist = here[0]
            verdict = "installed"
            message = (
                f"{dist.name} {dist.version} provides '{top}' and is installed here: the "
                "kernel was probably started before it was installed. Restart the kernel."
            )
        elif chosen is not None:
            wanted = chosen.get("requirement") or chosen["name"]
            answer = await core.answer(located, [wanted], PlanOptions(index_url=index_url))
            if answer.plan is not None:
                # the version the plan installs, not the search's newest (they can differ)
                name = canonicalize_name(chosen["name"])
                planned = next((a for a in answer.plan.actions if a.canonical_name == name), None)
                if planned is not None and planned.version:
                    chosen = {**chosen, "version": planned.version}
            verdict = "ok" if answer.verdict in ("ok", "info") else answer.verdict
            fingerprint = answer.fingerprint
            suggestions = answer.suggestions
            worst_first = sorted(
                answer.findings, key=lambda f: {"blocker": 0, "warning": 1}.get(f.severity, 2)
            )
            if verdict == "blocker":
                message = worst_first[0].message
            elif answer.plan is not None:
                count = len(answer.plan.changes)
                message = (
                    f"This kernel can take {chosen['name']} {chosen.get('version') or ''}".rstrip()
                    + (
                        f" and {count - 1} package{'s' if count > 2 else ''} it needs"
                        if count > 1
                        else ""
                    )
                    + (f"; {worst_first[0].message}" if verdict == "warning" else ".")
                )
                if chosen.get("requirement"):
                    message = (
                        f"%envhelp needs {chosen['name']} in this kernel: {count} small "
                        "packages, no JupyterLab."
                        + (f" {worst_first[0].message}" if verdict == "warning" else "")
                    )
        else:
            message = f"No package providing '{top}' was found on the index."
    except BaseException:
        others.cancel()
        raise
    elsewhere = [
        {
            "name": spec.name,
            "display_name": spec.display_name,
            "python_version": other.python_version,
            "distribution": dist.name,
            "version": dist.version,
        }
        for spec, other in await others
        for dist in [next((d for d in other.distributions.values() if top in d.top_level), None)]
        if dist is not None
    ]
    return document(
        module=top,
        kernel=located.kernel,
        distribution=chosen,
        candidates=hits[:3],
        installed_here=[{"name": d.name, "version": d.version} for d in here],
        verdict=verdict,
        message=message,
        fingerprint=fingerprint,
        suggestions=suggestions,
        kernels_with_module=elsewhere,
    )


async def kernel_distribution_hit(core: Core) -> dict[str, Any]:
    """What provides ``jupyter_envhelper`` to a kernel: the kernel-side distribution,
    pinned to the wheel this server builds (``requirement``)."""
    folder = wheel_folder(core.config.resolved_cache_dir)
    wheel = await asyncio.to_thread(build_kernel_wheel, folder)
    return {
        "name": KERNEL_DISTRIBUTION,
        "canonical_name": KERNEL_DISTRIBUTION,
        "match": "import-name",
        "why": "the %envhelp magic, without JupyterLab or the Jupyter server",
        "summary": "The %envhelp magic for this kernel (no JupyterLab)",
        "version": wheel.version,
        "requirement": wheel.requirement,
        "on_index": None,
        "installed_version": None,
        "typosquat": None,
    }


def _providers(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The search hits that provide the module (its import name or its own name)."""
    return [
        h for h in found["hits"] if h["match"] in PROVIDER_MATCHES and h["on_index"] is not False
    ]


async def _on_index(client: IndexClient, name: str) -> bool:
    """Whether the index has a page for ``name`` (the plan reads it next anyway)."""
    try:
        await client.get_project(name)
    except NotFound:
        return False
    return True
