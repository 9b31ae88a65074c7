"""Use cases for keeping an environment current: outdated, why, the graph, updates.

``Core.outdated`` / ``why`` / ``dependency_graph`` / ``plan_update`` / ``start_update``
call these. An update is an ordinary plan: the requirements are exact pins of the
versions chosen here (``name==version``), planned by ``Core.plan`` (so preview,
breakage, sizes, GPU findings and the restart advice come with it) and run by
``Core.start_job`` as an install (so it is in the history, and undo reverses it). The
job's request is marked ``purpose: update``, so an updated dependency does not count
as something the user asked for.

What the user asked for (the roots of "why"): the names of the history's succeeded
installs (not updates), and distributions with a REQUESTED file, except those a
recorded job installed as a dependency (a job pins every package of its plan, so the
installer marks all of them REQUESTED). An installer that marks every distribution
REQUESTED, dependencies too (uv does), tells nothing: for its distributions, those
that nothing requires count as asked for (what ``pip list --not-required`` shows).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..currency import DependencyGraph, find_outdated, why_document
from ..currency.outdated import read_releases, unmanaged_reason, wanted
from ..environment import Environment
from ..errors import BadRequest, NotFound
from .assess import fingerprint
from .documents import document
from .targets import Located, Target

if TYPE_CHECKING:
    from .usecases import Core

UpdateMode = Literal["names", "all", "all-that-fit"]
MODES = ("names", "all", "all-that-fit")
UPDATE_PURPOSE = "update"
MEMO_SIZE = 16  # graphs kept per core (environments x states)
# per core: graphs by environment state, outdated rows by index client
_MEMOS: weakref.WeakKeyDictionary[Core, dict[str, Any]] = weakref.WeakKeyDictionary()


async def requested_roots(core: Core, located: Located) -> tuple[set[str], dict[str, set[str]]]:
    """The names (canonical) the user asked for, and the extras asked with them."""
    env = located.require()
    asked: set[str] = set()
    extras: dict[str, set[str]] = {}
    as_dependency: set[str] = set()
    prefix = env.prefix
    rows: list[dict[str, Any]] = []
    if prefix and not env.synthetic_env:
        rows = await asyncio.to_thread(core.jobs.runner.store.list, prefix, limit=500)
    for row in reversed(rows):  # oldest first: a later request wins
        if row.get("kind") != "install" or row.get("state") != "succeeded":
            continue
        request = row.get("request") or {}
        for action in (row.get("plan") or {}).get("actions") or []:
            if action.get("kind") != "keep" and not action.get("requested"):
                as_dependency.add(canonicalize_name(str(action.get("name") or "")))
        if request.get("purpose") == UPDATE_PURPOSE:
            continue
        for text in request.get("requirements") or []:
            try:
                req = Requirement(str(text))
            except InvalidRequirement:
                continue
            key: str = canonicalize_name(req.name)
            asked.add(key)
            as_dependency.discard(key)
            if req.extras:
                extras.setdefault(key, set()).update(req.extras)
    plain = await _graph(core, env, (), {})
    blind = _uninformative_installers(env, plain)
    for key, dist in env.distributions.items():
        if key in as_dependency:
            continue
        if dist.installer in blind:
            if not plain.required_by(key):  # all we can tell: nothing requires it
                asked.add(key)
        elif dist.requested:
            asked.add(key)
    return asked, extras


def _uninformative_installers(env: Environment, graph: DependencyGraph) -> set[str | None]:
    """Installers whose REQUESTED files say nothing: every distribution they installed
    has one, dependencies included (uv marks them all)."""
    by_installer: dict[str | None, list[str]] = {}
    for key, dist in env.distributions.items():
        by_installer.setdefault(dist.installer, []).append(key)
    blind: set[str | None] = set()
    for installer, keys in by_installer.items():
        dists = [env.distributions[k] for k in keys]
        if all(d.requested for d in dists) and any(graph.required_by(k) for k in keys):
            blind.add(installer)
    return blind


async def graph_of(core: Core, located: Located) -> DependencyGraph:
    asked, extras = await requested_roots(core, located)
    return await _graph(core, located.require(), asked, extras)


async def _graph(
    core: Core, env: Environment, asked: Iterable[str], extras: Mapping[str, Iterable[str]]
) -> DependencyGraph:
    """The graph, built off the event loop (CPU work over every installed requirement),
    once per state of the environment and of what was asked for."""
    memo = _memo(core)
    key = (
        "graph",
        env.executable,
        fingerprint(env),
        frozenset(asked),
        frozenset((k, frozenset(v)) for k, v in extras.items()),
    )
    graph: DependencyGraph | None = memo["graphs"].get(key)
    if graph is None:
        graph = await asyncio.to_thread(DependencyGraph.build, env, asked, extras)
        graphs = memo["graphs"]
        if len(graphs) >= MEMO_SIZE:
            graphs.pop(next(iter(graphs)))
        graphs[key] = graph
    return graph


def _memo(core: Core) -> dict[str, Any]:
    found = _MEMOS.get(core)
    if found is None:
        found = _MEMOS[core] = {"graphs": {}, "rows": {}}
    return found


async def _report(core: Core, located: Located, index_url: str | None) -> tuple[Any, Any]:
    env = located.require()
    client = await core.indexes.client_off_loop(env, index_url=index_url)
    memo = _memo(core)["rows"]

    async def run() -> tuple[Any, DependencyGraph]:
        # the pages are read while the graph is built (a worker thread's CPU work)
        looked_up = [d for d in wanted(env) if unmanaged_reason(d) is None]
        reading = asyncio.ensure_future(read_releases(client, looked_up, memo=memo))
        try:
            graph = await graph_of(core, located)
        except BaseException:
            reading.cancel()
            raise
        releases = await reading
        report = await find_outdated(env, client, graph=graph, memo=memo, releases=releases)
        return report, graph

    return await core._within_plan_timeout(run())


async def outdated(core: Core, target: Target, *, index_url: str | None = None) -> dict[str, Any]:
    located = await core.locator.locate(target)
    report, _ = await _report(core, located, index_url)
    return document(kernel=located.kernel, **report.to_json())


async def why(core: Core, target: Target, name: str) -> dict[str, Any]:
    located = await core.locator.locate(target)
    graph = await graph_of(core, located)
    return document(kernel=located.kernel, **why_document(graph, name))


async def dependency_graph(core: Core, target: Target, name: str | None = None) -> dict[str, Any]:
    """The environment's graph (or ``name``'s neighbourhood: above it and below it)."""
    located = await core.locator.locate(target)
    graph = await graph_of(core, located)
    only = None
    if name is not None:
        key = canonicalize_name(name)
        if key not in graph.nodes:
            raise NotFound(f"{name[:80]} is not installed in this environment.")
        only = graph.neighbourhood(key)
    return document(
        kernel=located.kernel, focus=canonicalize_name(name) if name else None,
        orphans=graph.orphans(), **graph.to_json(only),
    )  # fmt: skip


def _chosen(
    rows: Sequence[dict[str, Any]], mode: UpdateMode, names: Sequence[str], env: Environment
) -> list[tuple[dict[str, Any], str]]:
    """(row, version) for each distribution to update."""
    by_name = {r["canonical_name"]: r for r in rows}
    out: list[tuple[dict[str, Any], str]] = []
    if mode == "all-that-fit":
        return [(r, r["fit"]) for r in rows if r["status"] == "update" and r["fit"]]
    if mode == "all":
        for r in rows:
            if r["status"] in ("update", "held-back") and r["latest_usable"]:
                out.append((r, r["latest_usable"]))
        return out
    if not names:
        raise BadRequest("Name the packages to update, or ask for all of them.")
    for text in names:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise BadRequest(f"{text[:80]!r} is not a package name: {exc}") from None
        key = canonicalize_name(req.name)
        if env.installed(key) is None:
            raise NotFound(f"{req.name} is not installed in this environment.")
        row = by_name.get(key)
        if row is None:
            continue
        if row["status"] == "unmanaged":
            raise BadRequest(f"{row['name']} is {row['reason']} Update it where it comes from.")
        pinned = [s.version for s in req.specifier if s.operator in ("==", "===")]
        if pinned:
            out.append((row, pinned[0]))
        elif row["fit"]:
            out.append((row, row["fit"]))
        elif row["latest_usable"]:
            out.append((row, row["latest_usable"]))  # no version fits: the plan says what breaks
    return out


async def plan_update(
    core: Core,
    target: Target,
    names: Sequence[str] = (),
    mode: str = "names",
    *,
    index_url: str | None = None,
) -> dict[str, Any]:
    """The plan of an update: "Update" (``names``), "Update all" (every newer release
    this kernel can use, whatever it breaks: the plan says what) or "Update all that
    fit" (only versions that break nothing installed)."""
    from .usecases import PlanOptions

    if mode not in MODES:
        raise BadRequest("`mode` must be names, all or all-that-fit.")
    located = await core.locator.locate(target)
    env = located.require()
    report, graph = await _report(core, located, index_url)
    rows = [r.to_json() for r in report.rows]
    chosen = _chosen(rows, cast(UpdateMode, mode), names, env)
    requirements = [f"{row['name']}=={version}" for row, version in chosen]
    update = {
        "mode": mode,
        "requirements": requirements,
        "packages": [
            {
                "name": row["name"],
                "from": row["installed"],
                "to": version,
                "latest": row["latest"],
                "fits": version == row["fit"],
                "requested": row["requested"],
                "pulled_in_by": [c["root"] for c in why_document(graph, row["name"])["chains"]]
                if not row["requested"]
                else [],
                "required_by": row["required_by"],
                "message": _update_words(row, version, graph),
            }
            for row, version in chosen
        ],
        "held_back": [
            r["message"]
            for r in rows
            if r["status"] in ("update", "held-back") and r["fit"] != r["latest"]
        ],
    }
    if not requirements:
        return document(
            kernel=located.kernel,
            state="up-to-date",
            plan=None,
            conflict=None,
            findings=[],
            verdict="ok",
            suggestions=[],
            fingerprint=None,
            update={**update, "message": "Nothing to update: every package is current, "
                    "or no newer version fits."},
        )  # fmt: skip
    doc = await core.plan(target, requirements, PlanOptions(index_url=index_url))
    doc["update"] = update
    return doc


def _update_words(row: dict[str, Any], version: str, graph: DependencyGraph) -> str:
    head = f"{row['name']} {row['installed']} → {version}"
    if not row["requested"]:
        chains = graph.chains(row["canonical_name"], limit=1)
        if chains and len(chains[0]) > 1:
            parent = graph.nodes[chains[0][-2]].name
            head += f" (you did not ask for it: {parent} pulled it in)"
    if version != row["fit"] and row["blocked"]:
        head += "; " + "; ".join(b["message"] for b in row["blocked"])
    return head


async def start_update(
    core: Core,
    target: Target,
    requirements: Sequence[str],
    fingerprint: str | None,
    *,
    index_url: str | None = None,
) -> dict[str, Any]:
    """Run an update plan (its ``update.requirements``) as one recorded install job."""
    from .usecases import JobRequest, PlanOptions

    if not requirements:
        raise BadRequest("Nothing to update: `requirements` is empty.")
    located = await core.locator.locate(target)
    env = located.require()
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise BadRequest(f"{text[:80]!r} is not a requirement: {exc}") from None
        pins = [s for s in req.specifier if s.operator == "=="]
        if req.url or req.extras or req.marker or len(pins) != 1 or len(req.specifier) != 1:
            raise BadRequest(f"{text[:80]!r}: an update is name==version, as its plan lists it.")
        dist = env.installed(req.name)
        if dist is None:
            raise NotFound(f"{req.name} is not installed here: that is an install, not an update.")
        try:
            Version(pins[0].version)
        except InvalidVersion:
            raise BadRequest(f"{text[:80]!r}: the version is not PEP 440.") from None
    request = JobRequest(
        "install",
        requirements=tuple(requirements),
        fingerprint=fingerprint,
        options=PlanOptions(index_url=index_url),
        purpose=UPDATE_PURPOSE,
    )
    return await core.start_job(target, request)
