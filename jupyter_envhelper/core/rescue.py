"""After ``No module named X``: which package provides X, can the target take it, and
which other kernels already have it. Every surface's rescue (the panel's banner, the
magic's hint) is this one document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import BadRequest
from .documents import document
from .targets import Target

if TYPE_CHECKING:
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
    client = core.indexes.client(env, index_url=index_url)
    # a rescue is worth waiting for the index's full project list
    found = await core.catalog.search(client, top, env, limit=5, wait=wait)
    hits = [
        h for h in found["hits"] if h["match"] in PROVIDER_MATCHES and h["on_index"] is not False
    ]
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
        answer = await core.answer(located, [chosen["name"]], PlanOptions(index_url=index_url))
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
                f"This kernel can take {chosen['name']}"
                + (f" ({count} packages)" if count > 1 else "")
                + (f"; {worst_first[0].message}" if verdict == "warning" else ".")
            )
    else:
        message = f"No package providing '{top}' was found on the index."
    elsewhere = [
        {
            "name": spec.name,
            "display_name": spec.display_name,
            "python_version": other.python_version,
            "distribution": dist.name,
            "version": dist.version,
        }
        for spec, other in await core.locator.probe_all(exclude=located.kernel_name)
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
