"""From "install X" to a verdict: resolve, advise, and say where else it would work.

``assess`` is called by ``Core.plan`` and nothing else, so every surface gets the
same verdict for the same request. It resolves for the target Environment, gathers
what the advice checks need (vulnerability data for what would be installed, the
running kernel's imported modules, CPU builds of GPU frameworks, typo-squat checks)
and, when the verdict is a blocker, asks for the other kernels that could take the
request and offers them as ways out.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..advice import AdviceContext, run_checks
from ..advice.context import torch_index_url
from ..advice.cuda import recommendation_for
from ..environment import Environment
from ..errors import EnvHelperError
from ..index import DistributionFile, IndexClient, ProjectPage, check_compatibility
from ..plan import Conflict, Finding, Plan, ResolutionConflict, WayOut, worst
from ..resolver import plan_install
from .placement import with_placement
from .slots import PlanSlots

TypoCheck = Callable[[str], Optional[dict[str, Any]]]
UNSHARED_SLOTS = PlanSlots()  # for callers that pass none (the core passes its own)
VULNERABILITY_BUDGET = 3.0  # seconds a plan waits, once resolved, for advisories
MAX_EARLY_ADVISORIES = 256  # projects whose advisories are asked for while resolving
BACKEND_BUDGET = 3.0  # seconds spent confirming the recommended PyTorch build
BACKEND_RETRY = 300.0  # seconds before a backend index that failed is asked again
GPU_FRAMEWORKS = frozenset({"torch", "torchvision", "torchaudio"})


@dataclass
class PlanAnswer:
    plan: Plan | None
    conflict: Conflict | None
    findings: list[Finding]
    suggestions: list[dict[str, Any]]
    fingerprint: str

    @property
    def verdict(self) -> str:
        return worst(self.findings) or "ok"

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "state": "plan" if self.plan is not None else "conflict",
            "plan": self.plan.to_json() if self.plan is not None else None,
            "conflict": self.conflict.to_json() if self.conflict is not None else None,
            "findings": [f.to_json() for f in self.findings],
            "verdict": "ok" if verdict == "info" else verdict,
            "suggestions": self.suggestions,
            "fingerprint": self.fingerprint,
        }


def fingerprint(env: Environment) -> str:
    """What a job compares before acting: the installed name -> version map."""
    items = sorted((name, dist.version) for name, dist in env.distributions.items())
    digest = hashlib.sha256(repr((env.executable, items)).encode()).hexdigest()
    return digest[:16]


async def assess(
    requirements: Sequence[str],
    env: Environment,
    client: IndexClient,
    *,
    allow_prereleases: bool = False,
    allow_direct_urls: bool = False,
    upgrade: bool = False,
    kernel: str | None = None,
    imported_modules: frozenset[str] | None = None,
    typosquat: TypoCheck | Awaitable[TypoCheck] | None = None,
    suggest: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
    timeout: float | None = None,
    server_prefix: str | None = None,
    torch_index_template: str | None = None,
    backend_client: Callable[[str], IndexClient] | None = None,
    slots: PlanSlots | None = None,
) -> PlanAnswer:
    """``timeout``: how long the resolver may wait for one answer from the index
    (default: the resolver's own). ``server_prefix``: the Jupyter server's
    ``sys.prefix``, for the ``server-env`` check. ``torch_index_template`` and
    ``backend_client``: where PyTorch's backend indexes are, and a client for one, to
    confirm the build the ``gpu`` check will name (``_backend_alternatives``).
    ``slots``: taken while resolving (see ``slots.py``)."""
    plan: Plan | None = None
    conflict: Conflict | None = None
    advisories = _Advisories(client)
    try:
        try:
            # the JSON API of each project is asked for as soon as the resolver names it
            with client.watch_projects(advisories.start):
                plan = await (slots or UNSHARED_SLOTS).run(
                    plan_install(
                        requirements,
                        env,
                        client,
                        allow_prereleases=allow_prereleases,
                        allow_direct_urls=allow_direct_urls,
                        upgrade=upgrade,
                        kernel=kernel,
                        **({"timeout": timeout} if timeout is not None else {}),
                    )
                )
        except ResolutionConflict as exc:
            conflict = exc.conflict
        vulnerabilities, cpu, backends = await asyncio.gather(
            advisories.collect(plan),
            _cpu_alternatives(client, plan) if plan is not None else _nothing(),
            _backend_alternatives(plan, env, torch_index_template, backend_client),
        )
    finally:
        advisories.close()
    if typosquat is not None and not callable(typosquat):
        typosquat = await typosquat  # made while the plan resolved
    ctx = AdviceContext(
        vulnerabilities=vulnerabilities,
        typosquat=typosquat,
        imported_modules=imported_modules,
        cpu_alternatives=cpu,
        server_prefix=server_prefix,
        **_torch_context(torch_index_template, backends),
    )
    subject: Plan | Conflict = plan if plan is not None else conflict  # type: ignore[assignment]
    # the checks are CPU work (requirements parsed, markers evaluated, every action
    # looked at): in a worker thread, so the server's event loop answers meanwhile
    findings = await asyncio.to_thread(advise, subject, env, ctx, client)
    suggestions: list[dict[str, Any]] = []
    if (worst(findings) == "blocker") and suggest is not None:
        suggestions = await suggest()
        if conflict is not None:
            for s in suggestions:
                if s["rank"] == "new-environment":  # core/creating.py: the last resort
                    conflict.ways_out.append(
                        WayOut(
                            "other-python",
                            s["message"],
                            {
                                "kind": "new-environment",
                                **s["new_environment"],
                                "label": "Create a new environment",
                            },
                        )
                    )
                elif s["rank"] != "impossible":
                    conflict.ways_out.append(
                        WayOut(
                            "other-kernel",
                            f"{s['display_name']}: {s['message']}",
                            {
                                "kind": "switch-kernel",
                                "kernel": s["name"],
                                "label": f"Switch to {s['display_name']}",
                            },
                        )
                    )
    return PlanAnswer(plan, conflict, findings, suggestions, fingerprint(env))


def advise(
    subject: Plan | Conflict, env: Environment, ctx: AdviceContext, client: IndexClient
) -> list[Finding]:
    """Every finding on ``subject``, in the order a verdict shows them (synchronous:
    ``assess`` runs it in a worker thread)."""
    findings = with_placement(run_checks(subject, env, ctx), subject, env)
    # blockers first (run_checks' order); within a severity, the GPU fit first: it
    # decides which build to get before anything about the list of packages matters
    rank = {"blocker": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (rank.get(f.severity, 3), f.check != "gpu"))
    findings += installer_config_findings(client)
    if any(f.check in ("python", "platform") and f.severity == "blocker" for f in findings):
        # the specific finding says the same as the general conflict, in better words
        findings = [f for f in findings if f.check != "conflict"]
    return findings


def installer_config_findings(client: IndexClient) -> list[Finding]:
    """What the plan did with the kernel's own pip/uv configuration, when it matters:
    a server setting that overrides it, a strategy other than the installer's own,
    constraint files that could not be read."""
    config = client.config
    settings = config.installer
    if settings is None:
        return []
    tool = settings.installer
    out: list[Finding] = []
    if config.overrides:
        out.append(
            Finding(
                "installer-config",
                "info",
                f"This server overrides the kernel's {tool} configuration: "
                + "; ".join(config.overrides)
                + ". The plan and the install use the server's setting (c.EnvHelperApp).",
                details={"overrides": list(config.overrides)},
            )
        )
    own = settings.strategy
    if own is not None and own != config.strategy and len(config.search_order) > 1:
        how = {
            "merge": "combines the files of every index",
            "first-match": "takes each project from the first index that has it",
        }
        out.append(
            Finding(
                "installer-config",
                "info",
                f"{tool} {how[own]}; this server {how[config.strategy]} "
                f"(index_strategy = {config.strategy}), so a version can differ from what "
                f"{tool} install in this kernel would pick.",
                details={"installer_strategy": own, "server_strategy": config.strategy},
            )
        )
    for problem in settings.problems:
        out.append(Finding("installer-config", "warning", problem))
    return out


def _torch_context(template: str | None, found: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"backend_alternatives": found}
    if template:
        out["torch_index_template"] = template
    return out


async def _backend_alternatives(
    plan: Plan | None,
    env: Environment,
    template: str | None,
    client_for: Callable[[str], IndexClient] | None,
) -> dict[str, Any]:
    """The build the ``gpu`` check will recommend, as its backend's index has it:
    ``{backend: {"requirement", "index_url", "size"}}``; empty when the index does not
    answer within BACKEND_BUDGET or lacks a wheel for this target."""
    if plan is None or client_for is None or not template:
        return {}
    rec = recommendation_for(plan, env)
    url = torch_index_url(template, rec.backend) if rec is not None else None
    if rec is None or url is None:
        return {}
    page = await _torch_page(client_for(url))
    if page is None:
        return {}
    if page.index_url.rstrip("/") != url.rstrip("/"):
        return {}  # torch came from another index: that backend does not have it
    wanted = SpecifierSet(rec.torch)
    best = None
    local = rec.backend.replace("-", ".")
    for version in page.all_versions():  # newest first: the first that has a wheel here
        if version.local != local or not wanted.contains(version, prereleases=True):
            continue
        compatible = (f for f in page.files_for(version) if _compatible(f, env))
        best = next(compatible, None)
        if best is not None:
            break
    if best is None:
        return {}
    return {
        rec.backend: {
            "requirement": f"torch=={best.version}",
            "index_url": url,
            "size": best.size,
        }
    }


# torch's page being looked up on a backend index, or whose lookup failed, by client
# while BACKEND_RETRY has not passed, a plan does not wait BACKEND_BUDGET for it again
_BACKEND_LOOKUPS: weakref.WeakKeyDictionary[IndexClient, tuple[float, asyncio.Task[ProjectPage]]]
_BACKEND_LOOKUPS = weakref.WeakKeyDictionary()


async def _torch_page(client: IndexClient) -> ProjectPage | None:
    """torch's page on a backend index within BACKEND_BUDGET, or None. A lookup that
    is still running when its budget is spent goes on (a later plan finds it done)
    without being waited for again; one that failed is remembered for BACKEND_RETRY
    seconds, so an unreachable backend index (a closed network) costs one plan the
    budget, not every plan."""
    kept = _BACKEND_LOOKUPS.get(client)
    if kept is not None:
        started, task = kept
        failed = task.done() and (task.cancelled() or task.exception() is not None)
        if failed and time.monotonic() - started < BACKEND_RETRY:
            return None
        if task.done():
            del _BACKEND_LOOKUPS[client]
            kept = None
    if kept is None:
        started = time.monotonic()
        task = asyncio.ensure_future(client.get_project("torch"))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        _BACKEND_LOOKUPS[client] = (started, task)
    # one budget per lookup, whichever plans wait for it
    budget = BACKEND_BUDGET - (time.monotonic() - started)
    if budget <= 0 and not task.done():
        return None
    try:
        page = await asyncio.wait_for(asyncio.shield(task), max(budget, 0.0))
    except (asyncio.TimeoutError, EnvHelperError):
        return None
    _BACKEND_LOOKUPS.pop(client, None)  # found: the client keeps the page itself
    return page


def _compatible(file: DistributionFile, env: Environment) -> bool:
    return check_compatibility(file, env).status == "compatible"


async def _nothing() -> dict[str, Any]:
    return {}


class _Advisories:
    """Advisories for what the plan installs, as far as the index publishes them
    (``<root>/pypi/<name>/json``). Each project's document is asked for when the
    resolver first names the project (``start``), so most have arrived when the plan
    is made; ``collect`` then waits at most VULNERABILITY_BUDGET for the rest of the
    plan's, and ``close`` drops those the plan did not need."""

    def __init__(self, client: IndexClient) -> None:
        self.client = client
        self.tasks: dict[str, asyncio.Task[dict[str, Any]]] = {}

    def start(self, name: str) -> None:
        key = canonicalize_name(name)
        if key not in self.tasks and len(self.tasks) < MAX_EARLY_ADVISORIES:
            self._task(key)

    def _task(self, key: str) -> asyncio.Task[dict[str, Any]]:
        task = self.tasks.get(key)
        if task is None:
            task = self.tasks[key] = asyncio.ensure_future(self._one(key))
            # read, so an unexpected error of one the plan did not need is not logged
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return task

    async def _one(self, name: str) -> dict[str, Any]:
        try:
            doc = await self.client.project_json(name)
        except EnvHelperError:
            doc = None
        if doc is None:
            return {"version": None, "records": None}
        info = doc.get("info") or {}
        return {"version": info.get("version"), "records": doc.get("vulnerabilities")}

    async def collect(self, plan: Plan | None) -> dict[str, Any]:
        if plan is None:
            return {}
        names = [a.canonical_name for a in plan.changes if a.version is not None]
        if not names:
            return {}
        wanted = {name: self._task(name) for name in names}
        await asyncio.wait(wanted.values(), timeout=VULNERABILITY_BUDGET)
        return {
            name: task.result()
            for name, task in wanted.items()
            if task.done() and not task.cancelled() and task.exception() is None
        }

    def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()  # those still running: the plan is done without them


async def _cpu_alternatives(client: IndexClient, plan: Plan) -> dict[str, Any]:
    """For CUDA builds of torch and its family: the +cpu build of the same version, if any."""
    out: dict[str, Any] = {}
    for action in plan.changes:
        if action.canonical_name not in GPU_FRAMEWORKS or action.version is None:
            continue
        try:
            chosen = Version(action.version)
            page = await client.get_project(action.name)
        except (InvalidVersion, EnvHelperError):
            continue
        # by version: a lazy page makes only the files of the +cpu release
        cpu = [v for v in page.all_versions() if v.public == chosen.public and v.local == "cpu"]
        for file in (f for v in cpu for f in page.files_for(v)):
            if canonicalize_name(file.project) == action.canonical_name:
                out[action.canonical_name] = {
                    "requirement": f"{action.name}=={file.version}",
                    "index_url": file.index_url,
                    "size": file.size,
                }
                break
    return out
