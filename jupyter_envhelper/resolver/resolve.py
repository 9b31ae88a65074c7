"""``plan_install`` and ``plan_uninstall``: what a change would do, before it is done.

``plan_install`` runs resolvelib in a worker thread (``asyncio.to_thread``) while the
index client keeps working on the caller's event loop (see ``fetching.py``); the
result becomes a ``Plan`` that lists every action, or a ``ResolutionConflict`` whose
``Conflict`` explains itself (see ``explain.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version
from resolvelib import ResolutionImpossible, ResolutionTooDeep, Resolver
from resolvelib.resolvers import Result

from ..environment import Environment
from ..errors import BadRequest, EnvHelperError, IndexTimeout, NotFound
from ..index import IndexClient, redact_url
from ..plan import (
    Action,
    ActionKind,
    BuildForecast,
    Conflict,
    FileChoice,
    Plan,
    ResolutionConflict,
    TargetSummary,
)
from ..validation import parse_requirement, parse_requirements
from .breaks import find_breaks
from .builds import forecast_builds
from .candidates import Candidate, ExtrasCandidate, ReleaseCandidate
from .constraints import ResolverPolicy, explain_constraints
from .direct import DirectWheel, collect, direct_wheel
from .explain import Retry, UserRequirement, build_conflict, too_deep
from .factory import Factory, requirement_texts
from .fetching import DEFAULT_TIMEOUT, IndexBridge
from .memo import PlanRecord, environment_key, memo_for
from .provider import CountingReporter, Provider
from .requirements import PYTHON_IDENTIFIER, ResolverRequirement, SpecifierRequirement

MAX_ROUNDS = 2000
RETRY_ROUNDS = 300  # a way out that needs more searching than this is not offered
ResolverResult = Result[ResolverRequirement, Candidate, str]


def target_summary(env: Environment, kernel: str | None = None) -> TargetSummary:
    platforms = env.platform_tags()
    platform = next((p for p in platforms if not p.startswith("linux_")), None)
    return TargetSummary(
        python_version=env.python_version,
        implementation=env.implementation,
        platform=platform or (platforms[0] if platforms else "unknown"),
        executable=env.executable,
        kernel=kernel,
        synthetic=env.synthetic_env,
    )


def _resolve(
    factory: Factory,
    requirements: Sequence[SpecifierRequirement],
    reporter: CountingReporter,
    max_rounds: int = MAX_ROUNDS,
) -> ResolverResult:
    provider = Provider(factory, [r.identifier for r in requirements])
    resolver: Resolver[ResolverRequirement, Candidate, str] = Resolver(provider, reporter)
    return resolver.resolve(list(requirements), max_rounds=max_rounds)


def _retry(factory: Factory) -> Retry:
    """A bounded resolution with other requirements, for checking a way out."""

    def retry(requirements: list[SpecifierRequirement]) -> dict[str, Version] | None:
        try:
            result = _resolve(factory, requirements, CountingReporter(), RETRY_ROUNDS)
        except (ResolutionImpossible, ResolutionTooDeep):
            return None
        return {
            c.name: c.version for c in result.mapping.values() if isinstance(c, ReleaseCandidate)
        }

    return retry


def _constrained_versions(factory: Factory) -> dict[str, list[str]]:
    """Usable versions, newest first, of every constrained project the index has."""
    out: dict[str, list[str]] = {}
    for name in factory.policy.constraints:
        releases = factory.releases(name)
        if releases:
            out[name] = [str(r.version) for r in releases if r.usable]
    return out


def _resolve_or_explain(
    factory: Factory,
    user: Sequence[UserRequirement],
    target: TargetSummary,
    reporter: CountingReporter,
) -> tuple[ResolverResult, dict[str, BuildForecast]] | Conflict:
    """Runs in the worker thread: the result and its build forecasts, or the conflict."""
    requested = [u.requirement for u in user]
    try:
        result = _resolve(factory, requested, reporter)
    except ResolutionImpossible as exc:
        conflict = build_conflict(list(exc.causes), factory, user, target, _retry(factory))
        return explain_constraints(conflict, factory.policy, _constrained_versions(factory))
    except ResolutionTooDeep:
        return too_deep(user, target, reporter, factory)
    chosen = [c for c in result.mapping.values() if isinstance(c, ReleaseCandidate)]
    return result, forecast_builds(factory, chosen, requested, _retry(factory))


def _file_choice(
    candidate: ReleaseCandidate, factory: Factory, build: BuildForecast | None = None
) -> FileChoice | None:
    file = candidate.file
    if file is None:
        return None
    wheel = factory.direct.get(candidate.name)
    if wheel is not None and file.direct_url:
        return FileChoice(
            filename=file.filename,
            url=redact_url(file.url),
            index_url="",
            kind="wheel",
            size=factory.bridge.client.known_size(file),
            sha256=file.sha256,
            direct_url=True,
            install_url=wheel.url,
        )
    return FileChoice(
        filename=file.filename,
        url=redact_url(file.url),
        index_url=redact_url(file.index_url),
        kind=file.kind,
        size=file.size,
        sha256=file.sha256,
        yanked=file.yanked,
        yanked_reason=file.yanked_reason,
        requires_python=file.requires_python_text,
        build=build if file.kind == "sdist" else None,
    )


def _kind(candidate: ReleaseCandidate, installed: str | None) -> ActionKind:
    if candidate.is_installed:
        return "keep"
    if installed is None:
        return "install"
    try:
        old = Version(installed)
    except InvalidVersion:
        return "upgrade"
    if candidate.version == old:
        return "keep"
    return "upgrade" if candidate.version > old else "downgrade"


def build_actions(
    result: ResolverResult,
    factory: Factory,
    user: Sequence[UserRequirement],
    builds: Mapping[str, BuildForecast] | None = None,
) -> list[Action]:
    requested = {u.requirement.name: i for i, u in enumerate(user)}
    extras: dict[str, set[str]] = {}
    required_by: dict[str, list[str]] = {}
    for identifier, criterion in result.criteria.items():
        if identifier == PYTHON_IDENTIFIER:
            continue
        for info in criterion.information:
            name = info.requirement.name
            parent = info.parent
            extras.setdefault(name, set()).update(info.requirement.extras)
            if parent is None or (isinstance(parent, ExtrasCandidate) and parent.name == name):
                continue
            shown = f"{parent.format_for_error()} ({info.requirement.format_for_error()})"
            if shown not in required_by.setdefault(name, []):
                required_by[name].append(shown)
    actions: list[Action] = []
    for identifier, candidate in result.mapping.items():
        if not isinstance(candidate, ReleaseCandidate):
            continue
        name = candidate.name
        dist = factory.env.installed(name)
        kind = _kind(candidate, dist.version if dist else None)
        wheel = factory.direct.get(name)
        reinstall = wheel is not None and dist is not None and kind == "keep"
        if reinstall and wheel and dist and not wheel.installed_from_here(dist.direct_url):
            # The same version, built elsewhere: the user asked for this very file.
            kind = "install"
            factory.warn(
                f"{dist.name} {dist.version} is installed already, but not from "
                f"{wheel.shown}: the plan installs the wheel from that URL in its place."
            )
        chosen = sorted(extras.get(name, ()))
        if kind != "keep":
            factory.note_metadata(candidate)
        deps = factory.active_requirements(candidate)
        if chosen:
            deps += factory.active_requirements(candidate, frozenset(chosen))
        actions.append(
            Action(
                kind=kind,
                name=factory.display_names.get(name, candidate.display_name),
                canonical_name=name,
                version=str(candidate.version),
                installed_version=dist.version if dist else None,
                requested=name in requested,
                extras=tuple(chosen),
                required_by=tuple(required_by.get(name, ())),
                file=_file_choice(candidate, factory, (builds or {}).get(name))
                if kind != "keep"
                else None,
                dependencies=tuple(dict.fromkeys(requirement_texts(deps))),
            )
        )
        del identifier
    actions.sort(key=lambda a: (requested.get(a.canonical_name, len(user)), a.canonical_name))
    return actions


def _user_requirements(
    requirements: Sequence[str], env: Environment, client: IndexClient, allow_direct_urls: bool
) -> tuple[list[UserRequirement], list[str], dict[str, DirectWheel]]:
    """Parsed and checked; ``name @ URL`` only with ``allow_direct_urls`` (validation
    refuses it otherwise) and only for wheels over http(s) (``direct.py``). Texts are
    redacted: they reach the Plan, the Conflict and every surface."""
    parsed = parse_requirements(requirements, allow_urls=allow_direct_urls)
    user: list[UserRequirement] = []
    warnings: list[str] = []
    wheels: list[DirectWheel] = []
    for text, req in zip(requirements, parsed):
        shown = redact_url(text.strip())
        wheel = direct_wheel(req, client) if req.url else None
        if req.marker is not None and not req.marker.evaluate({**env.markers, "extra": ""}):
            warnings.append(f"{shown} is skipped: its marker does not apply here.")
            continue
        requirement = SpecifierRequirement.from_packaging(req)
        if wheel is not None:
            wheels.append(wheel)
            requirement = replace(requirement, url=wheel.shown)
        user.append(UserRequirement(shown, requirement))
    return user, warnings, collect(wheels)


async def _read_direct_metadata(
    client: IndexClient, wheels: Sequence[DirectWheel], timeout: float
) -> None:
    """Core metadata of the wheels named by URL, before resolving: they are certainly
    needed, and a URL that cannot be read is an error about that URL, said as such."""

    async def one(wheel: DirectWheel) -> None:
        try:
            await asyncio.wait_for(client.get_metadata(wheel.file), timeout)
        except asyncio.TimeoutError:
            raise IndexTimeout(
                f"{wheel.display_name} @ {wheel.shown}: the server did not answer in time "
                f"({timeout:g} s) for the wheel's metadata."
            ) from None
        except EnvHelperError as exc:
            raise type(exc)(
                f"{wheel.display_name} @ {wheel.shown}: the wheel could not be read. "
                + redact_url(exc.message),
                detail=exc.detail,
            ) from exc

    await asyncio.gather(*(one(w) for w in wheels))


async def plan_install(
    requirements: Sequence[str],
    env: Environment,
    client: IndexClient,
    *,
    allow_prereleases: bool = False,
    allow_direct_urls: bool = False,
    upgrade: bool = False,
    kernel: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Plan:
    """What installing ``requirements`` into ``env`` would do.

    Raises ``BadRequest`` for invalid input and ``ResolutionConflict`` (its ``conflict``
    explains itself) when the request cannot be satisfied, including an unknown project
    (a cause of kind ``not-found``, with a "did you mean" where one exists).

    With ``allow_direct_urls``, ``name @ https://host/name-1.0-py3-none-any.whl`` is
    planned from that wheel alone (see ``direct.py``); its action's file has
    ``direct_url`` set and its pin is ``name @ URL``. Without it, URLs are refused.
    """
    started = time.perf_counter()
    texts = [str(r) for r in requirements]
    user, warnings, direct = _user_requirements(texts, env, client, allow_direct_urls)
    memo = memo_for(client)
    # the same request for the same target a moment ago, if nothing it read changed
    key = (tuple(texts), environment_key(env), allow_prereleases, allow_direct_urls, upgrade,
           kernel)  # fmt: skip
    reused = memo.plans.get(key) if user and not direct else None
    if reused is not None and reused.still_valid(client):
        return _again(reused.plan, started)
    target = target_summary(env, kernel)
    before = client.stats.to_json()
    loop = asyncio.get_running_loop()
    bridge = IndexBridge(client, loop, timeout=timeout)
    # the target's own installer configuration: constraints, only/no-binary, pre
    policy = ResolverPolicy.from_settings(client.config.installer, env.markers)
    factory = Factory(
        env,
        bridge,
        allow_prereleases=allow_prereleases or policy.prereleases,
        upgrade=[u.requirement.name for u in user] if upgrade else (),
        direct=direct,
        policy=policy,
        memo=memo,
    )
    bridge.speculator = factory
    reporter = CountingReporter()
    if user:
        bridge.prefetch(u.requirement.name for u in user if u.requirement.name not in direct)
        bridge.metadata_requests += len(direct)
        try:
            await _read_direct_metadata(client, list(direct.values()), timeout)
        except BaseException:
            bridge.cancel_speculation()
            raise
        try:
            outcome = await asyncio.to_thread(_resolve_or_explain, factory, user, target, reporter)
        finally:
            bridge.cancel_speculation()
    else:
        outcome = None
    if isinstance(outcome, Conflict):
        raise ResolutionConflict(outcome)
    actions = build_actions(outcome[0], factory, user, outcome[1]) if outcome else []
    changes = {
        a.canonical_name: (f"{a.name} {a.version}", Version(a.version))
        for a in actions
        if a.is_change and a.version is not None
    }
    after = client.stats.to_json()
    stats: dict[str, Any] = {
        key: after.get(key, 0) - before.get(key, 0)
        for key in ("requests", "bytes_downloaded", "full_downloads", "cache_hits")
    }
    stats.update(
        project_pages=bridge.page_requests,
        metadata_requests=bridge.metadata_requests,
        round_trips=bridge.round_trips,
        rounds=reporter.rounds,
        backtracks=reporter.backtracks,
    )
    plan = Plan(
        requirements=[u.text for u in user] if user else [redact_url(t) for t in texts],
        target=target,
        actions=actions,
        breaks=find_breaks(env, changes),
        index_urls=[redact_url(u) for u in client.index_urls],
        index_strategy=client.config.strategy,
        warnings=warnings + policy.warnings + factory.warnings,
        resolve_ms=round((time.perf_counter() - started) * 1000, 1),
        stats=stats,
    )
    used = bridge.used() if user and not direct else None
    if used is not None:
        memo.plans.put(key, PlanRecord.of(_again(plan, started), used))
    return plan


def _again(plan: Plan, started: float) -> Plan:
    """A kept plan, given anew: its own lists, this call's time, and stats that say
    it cost nothing (``reused``: checked against the pages the client holds)."""
    stats = {key: 0 for key in plan.stats}
    stats["reused"] = True
    return replace(
        plan,
        requirements=list(plan.requirements),
        actions=list(plan.actions),
        breaks=list(plan.breaks),
        index_urls=list(plan.index_urls),
        warnings=list(plan.warnings),
        resolve_ms=round((time.perf_counter() - started) * 1000, 1),
        stats=stats,
    )


def plan_uninstall(names: Sequence[str], env: Environment, *, kernel: str | None = None) -> Plan:
    """Remove ``names`` from ``env``; ``breaks`` lists what would lose a dependency."""
    started = time.perf_counter()
    if not names:
        raise BadRequest("Give at least one package to remove.")
    actions: list[Action] = []
    for text in names:
        req: Requirement = parse_requirement(text)
        if req.specifier or req.extras or req.marker:
            raise BadRequest(f"{text.strip()!r}: give the package name alone to remove it.")
        dist = env.installed(req.name)
        if dist is None:
            raise NotFound(f"{req.name} is not installed in this environment.")
        if any(a.canonical_name == dist.canonical_name for a in actions):
            continue
        actions.append(
            Action(
                kind="remove",
                name=dist.name,
                canonical_name=dist.canonical_name,
                version=None,
                installed_version=dist.version,
                requested=True,
            )
        )
    removed: dict[str, tuple[str, Version | None]] = {
        a.canonical_name: (f"{a.name} {a.installed_version}", None) for a in actions
    }
    return Plan(
        requirements=[str(n).strip() for n in names],
        target=target_summary(env, kernel),
        actions=actions,
        breaks=find_breaks(env, removed),
        resolve_ms=round((time.perf_counter() - started) * 1000, 1),
    )
