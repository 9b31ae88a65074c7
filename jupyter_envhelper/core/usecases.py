"""The use cases: every question and every change, once, for every surface.

The server's handlers, the command line and the magic parse their input into a
``Target`` and options, call one method here, and render the document it returns.
Defaults live here and nowhere else: every plan gets the typo-squat check, the
configured URL policy and indexes, kernel suggestions when it is blocked, and the
running kernel's imported modules when it is one; every job re-plans the same way,
refuses a stale or blocked plan, and is recorded in the one history.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..errors import BadRequest, ChangesDisabled
from ..jobs.models import EnvironmentChanged, Refused
from ..jobs.undo import index_checker
from ..plan import ResolutionConflict
from ..probe import Prober
from ..resolver import plan_install, plan_uninstall
from ..search.catalog import Catalog
from ..validation import parse_requirements
from .assess import PlanAnswer, assess, fingerprint
from .board import JobBoard
from .config import CoreConfig
from .documents import document, environment_document
from .indexes import IndexPool
from .rescue import rescue_document
from .suggestions import suggest_kernels
from .targets import Located, Locator, Target

Action = Literal["install", "uninstall", "undo"]
ACTIONS = ("install", "uninstall", "undo")


@dataclass(frozen=True)
class PlanOptions:
    """How to plan. ``index_url``: an index given with this request (command line and
    magic only; the server's indexes come from its configuration).
    ``imported_modules``: what the kernel has imported, when the surface knows it (the
    magic does; for a running kernel the core asks it)."""

    allow_prereleases: bool = False
    upgrade: bool = False
    index_url: str | None = None
    imported_modules: frozenset[str] | None = None
    suggest: bool = True


@dataclass(frozen=True)
class JobRequest:
    """A change to make. ``fingerprint``: the plan's, as the user saw it (a job refuses
    to run when the environment changed since)."""

    action: Action
    requirements: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    job_id: int | None = None
    fingerprint: str | None = None
    options: PlanOptions = field(default_factory=PlanOptions)


class Core:
    """Built by ``build_core``; nothing is set on it afterwards."""

    def __init__(
        self,
        *,
        config: CoreConfig,
        locator: Locator,
        indexes: IndexPool,
        catalog: Catalog,
        jobs: JobBoard,
        log: logging.Logger,
    ) -> None:
        self.config = config
        self.locator = locator
        self.indexes = indexes
        self.catalog = catalog
        self.jobs = jobs
        self.log = log

    @property
    def prober(self) -> Prober:
        return self.locator.prober

    # -- what is there ---------------------------------------------------------------------

    async def kernels(self) -> dict[str, Any]:
        targets = await self.locator.kernel_targets()
        entries = await asyncio.gather(*(self.locator.kernel_entry(t) for t in targets))
        return document(kernels=list(entries))

    async def environment(self, target: Target, *, refresh: bool = False) -> dict[str, Any]:
        found = await self.locator.locate(target, refresh=refresh)
        return document(
            kernel=found.kernel,
            state=found.state,
            reason=found.reason,
            detail=found.detail,
            environment=environment_document(found.env) if found.env is not None else None,
        )

    async def search(
        self,
        query: str,
        target: Target | None,
        *,
        index_url: str | None = None,
        limit: int = 20,
        wait: float | None = None,
    ) -> dict[str, Any]:
        env = (await self.locator.locate(target)).require() if target is not None else None
        client = self.indexes.client(env, index_url=index_url)
        found = await self.catalog.search(client, query, env, limit=limit, wait=wait)
        return document(**found)

    async def package(
        self, name: str, target: Target | None, *, index_url: str | None = None
    ) -> dict[str, Any]:
        """Package details with each version's fit for the target, and a typo-squat check."""
        from ..index.details import package_details

        env = (await self.locator.locate(target)).require() if target is not None else None
        client = self.indexes.client(env, index_url=index_url)
        details = await package_details(client, name, env)
        details["typosquat"] = (await self.catalog.typosquat_check(client, env))(name)
        return document(**details)

    # -- what would happen -----------------------------------------------------------------

    async def plan(
        self,
        target: Target,
        requirements: Sequence[str],
        options: PlanOptions | None = None,
    ) -> dict[str, Any]:
        """What installing ``requirements`` would do in the target, and the advice on it."""
        self.validate(requirements)
        located = await self.locator.locate(target)
        answer = await self.answer(located, requirements, options or PlanOptions())
        return document(kernel=located.kernel, **answer.to_json())

    async def plan_uninstall(self, target: Target, names: Sequence[str]) -> dict[str, Any]:
        """What removing ``names`` would do: the plan, and what it would break."""
        located = await self.locator.locate(target)
        env = located.require()
        plan = plan_uninstall(list(names), env, kernel=located.kernel_name)
        answer = PlanAnswer(plan, None, [], [], fingerprint(env))
        doc = answer.to_json()
        if plan.breaks:
            doc["verdict"] = "warning"
        return document(kernel=located.kernel, **doc)

    async def answer(
        self, located: Located, requirements: Sequence[str], options: PlanOptions
    ) -> PlanAnswer:
        """The one way a plan is made: resolve, advise, and (when blocked) suggest."""
        env = located.require()
        client = self.indexes.client(env, index_url=options.index_url)
        modules = options.imported_modules
        if modules is None and located.target.kernel_id:
            modules = await self.locator.imported_modules(located.target.kernel_id)
        typosquat = await self.catalog.typosquat_check(client, env)
        kernel = located.kernel_name

        async def suggestions() -> list[dict[str, Any]]:
            return await self._suggestions(requirements, kernel, options.index_url)

        wants_suggestions = options.suggest and not env.synthetic_env
        return await assess(
            requirements,
            env,
            client,
            allow_prereleases=options.allow_prereleases,
            allow_direct_urls=self.config.allow_direct_urls,
            upgrade=options.upgrade,
            kernel=kernel,
            imported_modules=modules,
            typosquat=typosquat,
            suggest=suggestions if wants_suggestions else None,
        )

    async def kernel_suggestions(
        self,
        requirements: Sequence[str],
        *,
        target: Target | None = None,
        index_url: str | None = None,
    ) -> dict[str, Any]:
        """Every other Python kernel, ranked by how well it could take ``requirements``."""
        self.validate(requirements)
        exclude = await self.locator.kernel_name(target) if target is not None else None
        return document(suggestions=await self._suggestions(requirements, exclude, index_url))

    async def rescue(
        self,
        module: str,
        target: Target,
        *,
        wait: float = 30.0,
        index_url: str | None = None,
    ) -> dict[str, Any]:
        """After ``No module named X``: who provides X, can the target take it, who has it."""
        return await rescue_document(self, module, target, wait=wait, index_url=index_url)

    async def undo_preview(
        self, target: Target, job_id: int | None = None, *, index_url: str | None = None
    ) -> dict[str, Any]:
        """What undoing ``job_id`` (default: the target's latest successful job) would do."""
        located = await self.locator.locate(target)
        env = located.require()
        if job_id is None:
            prefix = located.require_prefix()
            job_id = await self.jobs.latest_done(prefix)
            if job_id is None:
                raise BadRequest(f"No recorded change of {prefix} to undo.")
        client = self.indexes.client(env, index_url=index_url)
        proposal = await self.jobs.runner.plan_undo(
            job_id, checker=index_checker(client), probe_env=located.probe_env
        )
        return document(kernel=located.kernel, job_id=job_id, **proposal.to_json())

    # -- changes ---------------------------------------------------------------------------

    async def start_job(self, target: Target, request: JobRequest) -> dict[str, Any]:
        """Start an install, uninstall or undo in the target; the job's document."""
        if self.config.read_only:
            raise ChangesDisabled(
                "Changes are turned off here (c.EnvHelperApp.read_only); ask the "
                "administrator, or use another environment."
            )
        if request.action not in ACTIONS:
            raise BadRequest("`action` must be install, uninstall or undo.")
        if request.action == "install":
            if not request.requirements:
                raise BadRequest("Install needs `requirements`, like ['pandas>=2'].")
            self.validate(request.requirements)
        elif request.action == "uninstall" and not request.names:
            raise BadRequest("Uninstall needs `names`, the packages to remove.")
        elif request.action == "undo" and request.job_id is None:
            raise BadRequest("Undo needs the `job_id` of the job to undo.")
        located = await self.locator.locate(target)
        env = located.require()
        runner = self.jobs.runner
        options = request.options
        if request.action == "undo":
            assert request.job_id is not None
            client = self.indexes.client(env, index_url=options.index_url)
            job = await runner.undo(
                request.job_id, checker=index_checker(client), probe_env=located.probe_env
            )
        else:
            if request.fingerprint is not None and request.fingerprint != fingerprint(env):
                raise EnvironmentChanged(
                    "The environment changed since this plan was made; look at the new plan "
                    "and confirm again."
                )
            if request.action == "uninstall":
                plan = plan_uninstall(list(request.names), env, kernel=located.kernel_name)
                body: dict[str, Any] = {"names": list(request.names)}
            else:
                # The same plan as the user saw: suggestions are moot for a job (a blocked
                # plan is refused) and so is the restart advice (the outcome says it).
                answer = await self.answer(
                    located,
                    request.requirements,
                    replace(options, suggest=False, imported_modules=frozenset()),
                )
                if answer.plan is None:
                    assert answer.conflict is not None
                    raise ResolutionConflict(answer.conflict)
                blockers = [f for f in answer.findings if f.severity == "blocker"]
                if blockers:
                    raise Refused(blockers[0].message, reason="blocker")
                plan = answer.plan
                body = {"requirements": list(request.requirements)}
            job = await runner.submit(
                plan,
                env,
                kind=request.action,
                request=body,
                probe_env=located.probe_env,
                index_urls=(options.index_url,) if options.index_url else (),
            )
        imported = options.imported_modules
        if imported is None and located.target.kernel_id:
            imported = await self.locator.imported_modules(located.target.kernel_id)
        self.jobs.watch(job, env, imported)
        return document(job=self.jobs.view(job.id))

    def job(self, job_id: int) -> dict[str, Any]:
        return document(job=self.jobs.view(job_id))

    def job_events(self, job_id: int, since: int = 0) -> AsyncIterator[dict[str, Any]]:
        return self.jobs.events(job_id, since)

    async def wait_job(self, job_id: int) -> dict[str, Any]:
        return document(job=await self.jobs.wait(job_id))

    def cancel_job(self, job_id: int) -> dict[str, Any]:
        return self.jobs.cancel(job_id)

    async def history(self, target: Target) -> dict[str, Any]:
        prefix = (await self.locator.locate(target)).require_prefix()
        return document(jobs=await self.jobs.history(prefix))

    async def close(self) -> None:
        await self.jobs.runner.close()
        await self.indexes.close()

    # -- shared steps ----------------------------------------------------------------------

    def validate(self, requirements: Sequence[str]) -> None:
        """Refuse bad requirement strings before anything is probed or fetched."""
        parse_requirements(requirements, allow_urls=self.config.allow_direct_urls)

    async def _suggestions(
        self, requirements: Sequence[str], exclude: str | None, index_url: str | None
    ) -> list[dict[str, Any]]:
        parsed = parse_requirements(requirements, allow_urls=self.config.allow_direct_urls)
        targets = [t for t in await self.locator.kernel_targets() if t.name != exclude]

        async def planner(reqs: Sequence[str], env: Any, client: Any) -> Any:
            return await plan_install(
                reqs, env, client, allow_direct_urls=self.config.allow_direct_urls
            )

        return await suggest_kernels(
            targets,
            parsed,
            prober=self.prober,
            client_for=lambda env: self.indexes.client(env, index_url=index_url),
            planner=planner,
        )
