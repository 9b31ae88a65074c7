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
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..advice.context import torch_index_url
from ..advice.cuda import package_gpu
from ..errors import BadRequest, ChangesDisabled, IndexTimeout, NotFound
from ..gpu_facts import TORCH_BACKENDS
from ..index import IndexClient
from ..jobs.models import EnvironmentChanged, Refused
from ..jobs.undo import index_checker
from ..kept import remember, remembered
from ..plan import Plan, ResolutionConflict
from ..probe import Prober
from ..resolver import plan_install, plan_uninstall
from ..resolver.breaks import find_breaks
from ..resolver.memo import environment_key, tag_ranks
from ..search.catalog import Catalog
from ..validation import parse_project_name, parse_requirements
from .assess import PlanAnswer, assess, fingerprint
from .board import JobBoard
from .config import CoreConfig
from .documents import document, environment_document
from .enable import enable_document, with_kernel_wheel
from .indexes import IndexPool
from .rescue import rescue_document
from .slots import PlanSlots
from .suggestions import suggest_kernels
from .targets import Located, Locator, Target

if TYPE_CHECKING:
    from ..environment import Environment
    from .creating import Creating

T = TypeVar("T")
Action = Literal["install", "uninstall", "undo"]
ACTIONS = ("install", "uninstall", "undo")
MAX_JOB_ID = 2**63 - 1  # the history's ids are SQLite integers


def known_job_id(job_id: int) -> int:
    """``job_id``, or NotFound when no job can have it (negative, or too big for the
    history: SQLite would answer with an OverflowError)."""
    if isinstance(job_id, bool) or not isinstance(job_id, int) or not 0 <= job_id <= MAX_JOB_ID:
        raise NotFound(f"There is no job {str(job_id)[:30]}.")
    return job_id


async def kept_environment_document(env: Environment) -> dict[str, Any]:
    """``env`` in words (every distribution): made once per environment, in a worker
    thread (CPU work, like a plan's), then the very same dict while ``env`` is
    unchanged (``kept.py``), so a surface may keep what it made
    of it (the server keeps its JSON text). Read it; never change it."""
    known: dict[str, Any] | None = remembered(env, "environment_document")
    if known is None:
        made = await asyncio.to_thread(environment_document, env)
        known = remember(env, "environment_document", made)
    return known


def read_for_plans(env: Environment) -> asyncio.Future[None]:
    """What a plan works out from ``env`` on the event loop (``plan_install``): its key
    (a hash of it all, a millisecond or two), its wheel tags and, for a new plan, every installed
    distribution's Requires-Dist (``find_breaks``; parsing them is tens of ms of CPU
    the first time), worked out in a worker thread instead, once per environment
    (both are kept): started by the first plan, or by ``environment(prepare_plans=
    True)`` before it, and awaited by every plan until it is done."""
    loop = asyncio.get_running_loop()
    known: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None
    known = remembered(env, "read_for_plans")
    # (one of another loop that never finished, its loop closed, is not waited for)
    if known is None or (known[0] is not loop and not known[1].done()):
        known = (loop, asyncio.ensure_future(asyncio.to_thread(_read_for_plans, env)))
        remember(env, "read_for_plans", known)
    return known[1]


def _read_for_plans(env: Environment) -> None:
    try:
        environment_key(env)
        tag_ranks(env)
        find_breaks(env, {})  # nothing changes, nothing breaks: it only reads them all
    except Exception:  # a plan works it out again itself, and says what is wrong
        logging.getLogger("jupyter_envhelper").debug("read_for_plans", exc_info=True)


@dataclass(frozen=True)
class PlanOptions:
    """How to plan. ``index_url``: an index given with this request (command line and
    magic only; the server's indexes come from its configuration).
    ``imported_modules``: what the kernel has imported, when the surface knows it (the
    magic does; for a running kernel the core asks it).
    ``torch_backend``: plan against one of PyTorch's backend indexes (``cu126``, ``cpu``,
    a name from ``gpu_facts.TORCH_BACKENDS``, as a GPU finding's action names it); the
    core turns the name into the URL (``torch_backend_url``): a request never carries
    an index URL, so every surface may pass it."""

    allow_prereleases: bool = False
    upgrade: bool = False
    index_url: str | None = None
    imported_modules: frozenset[str] | None = None
    suggest: bool = True
    torch_backend: str | None = None


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
    # "update" (core/currency.py): recorded with the job, so an updated dependency is
    # not taken for something the user asked for
    purpose: str | None = None


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
        # every resolution of this core takes one (slots.py: no stall under load)
        self.plan_slots = PlanSlots()

    @property
    def prober(self) -> Prober:
        return self.locator.prober

    @functools.cached_property
    def environments(self) -> Creating:
        """New environments with their own kernel, listed and deleted (creating.py)."""
        from .creating import Creating

        return Creating(self)

    # -- what is there ---------------------------------------------------------------------

    async def kernels(self) -> dict[str, Any]:
        targets = await self.locator.kernel_targets()
        entries = await asyncio.gather(*(self.locator.kernel_entry(t) for t in targets))
        return document(kernels=list(entries))

    async def environment(
        self, target: Target, *, refresh: bool = False, prepare_plans: bool = False
    ) -> dict[str, Any]:
        """``prepare_plans``: also start working out, in a worker thread, what a plan
        for this environment reads (``read_for_plans``): a long-running process (the
        server), where a plan usually follows, does it while the answer is read."""
        found = await self.locator.locate(target, refresh=refresh)
        env = found.env
        if env is not None and prepare_plans:
            read_for_plans(env)
        return document(
            kernel=found.kernel,
            state=found.state,
            reason=found.reason,
            detail=found.detail,
            environment=await kept_environment_document(env) if env is not None else None,
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

        name = parse_project_name(name)  # before anything is probed or fetched
        env = (await self.locator.locate(target)).require() if target is not None else None
        client = self.indexes.client(env, index_url=index_url)
        details = await package_details(client, name, env)
        details["typosquat"] = (await self.catalog.typosquat_check(client, env))(name)
        details["gpu"] = (
            package_gpu(
                details["name"],
                details["fit"]["version"] or details["latest"],
                details.get("requires_dist"),
                env,
                torch_index_template=self.config.torch_backend_url,
            )
            if env is not None
            else None
        )
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
        options = options or PlanOptions()
        # while the target is probed: the typo-squat data is read, the index connected
        self.catalog.prepare()
        self.indexes.prewarm(options.index_url)
        located = await self.locator.locate(target)
        answer = await self.answer(located, requirements, options)
        # a big plan's document is CPU work too: off the event loop, like its advice
        return document(kernel=located.kernel, **await asyncio.to_thread(answer.to_json))

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
        # the kernel-side distribution (core/enable.py) comes from a local wheel folder
        env = await with_kernel_wheel(
            located.require(), requirements, self.config.resolved_cache_dir
        )
        reading = read_for_plans(env)  # (meanwhile: the client, the kernel's modules)
        backend_url = self.torch_backend_index(options.torch_backend)
        client = await self.indexes.client_off_loop(
            env, index_url=options.index_url, first_index=backend_url
        )
        modules = options.imported_modules
        if modules is None and located.target.kernel_id:
            modules = await self.locator.imported_modules(located.target.kernel_id)
        # read while the plan resolves (the shipped popular data: a few hundred ms)
        typosquat = asyncio.ensure_future(self.catalog.typosquat_check(client, env))
        typosquat.add_done_callback(lambda t: t.cancelled() or t.exception())
        kernel = located.kernel_name

        async def suggestions() -> list[dict[str, Any]]:
            return await self._suggestions(requirements, kernel, options.index_url)

        wants_suggestions = options.suggest and not env.synthetic_env
        try:
            if not reading.done():
                await asyncio.shield(reading)
            return await self._within_plan_timeout(
                assess(
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
                    timeout=self._resolver_wait,
                    server_prefix=self.locator.server_prefix,
                    slots=self.plan_slots,
                    torch_index_template=self.config.torch_backend_url,
                    backend_client=lambda url: self.indexes.client(env, first_index=url),
                )
            )
        finally:
            typosquat.cancel()  # done already, unless the plan failed before it was read

    def torch_backend_index(self, backend: str | None) -> str | None:
        """The index URL of a PyTorch backend name; BadRequest for a name outside the
        allow-list (the only index a request can choose, and only by name)."""
        if backend is None:
            return None
        url = torch_index_url(self.config.torch_backend_url, backend)
        if url is None:
            known = ", ".join(TORCH_BACKENDS)
            raise BadRequest(f"`torch_backend` must be one of {known}, not {backend[:40]!r}.")
        return url

    async def _with_sizes(self, plan: Plan, client: IndexClient) -> Plan:
        """``plan`` with the sizes its index pages did not give (PEP 503 HTML pages have
        none) asked of the files' server, so the job's disk-space check, which refuses
        before anything runs, counts every file and not only those a page sized."""
        missing = [
            a
            for a in plan.changes
            if a.file is not None and a.file.size is None and a.file.url and not a.file.direct_url
        ]
        if not missing:
            return plan
        asked = [asyncio.ensure_future(client.size_of(a.file.url)) for a in missing if a.file]
        done, pending = await asyncio.wait(asked, timeout=self.config.index_timeout)
        for task in pending:
            task.cancel()
        sizes: dict[str, int] = {}
        for action, task in zip(missing, asked):
            if task in done and not task.cancelled() and task.exception() is None:
                size = task.result()
                if size is not None:
                    sizes[action.canonical_name] = size
        if not sizes:
            return plan
        actions = [
            replace(a, file=replace(a.file, size=sizes[a.canonical_name]))
            if a.file is not None and a.canonical_name in sizes
            else a
            for a in plan.actions
        ]
        return replace(plan, actions=actions)

    @property
    def _resolver_wait(self) -> float:
        # How long the resolver's thread waits for one answer: a little past the whole
        # plan's limit, so that limit (and its message) always comes first, while a
        # resolver left running after it still ends soon.
        return self.config.plan_timeout + 1.0

    async def _within_plan_timeout(self, work: Awaitable[T]) -> T:
        """``work``, or IndexTimeout once ``plan_timeout`` has passed (the index is
        what a plan waits for; a single slow request fails sooner, at index_timeout)."""
        limit = self.config.plan_timeout
        try:
            return await asyncio.wait_for(work, limit)
        except asyncio.TimeoutError:
            raise IndexTimeout(
                f"Planning took longer than {limit:g} s (c.EnvHelperApp.plan_timeout): the "
                "package index is slow or too much had to be read. Try again, or raise "
                "the limit."
            ) from None

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
        found = await self._within_plan_timeout(self._suggestions(requirements, exclude, index_url))
        return document(suggestions=found)

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

    async def enable_magic(self, target: Target) -> dict[str, Any]:
        """Whether ``%load_ext jupyter_envhelper`` works in the target, and the plan of
        the kernel-side distribution when it does not (``core/enable.py``); installing
        it is an ordinary install job of ``requirement``."""
        return await enable_document(self, target)

    async def undo_preview(
        self, target: Target, job_id: int | None = None, *, index_url: str | None = None
    ) -> dict[str, Any]:
        """What undoing ``job_id`` (default: the target's latest successful job) would do."""
        if job_id is not None:
            known_job_id(job_id)
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

    async def export(
        self,
        target: Target,
        fmt: str,
        *,
        only_requested: bool = False,
        index_url: str | None = None,
    ) -> dict[str, Any]:
        """The target's environment written down: requirements with hashes, a PEP 751
        lock, or a conda environment.yml (``reproduce.export``)."""
        from ..reproduce import export_environment

        located = await self.locator.locate(target)
        env = located.require()
        requested: list[str] = []
        if only_requested:
            requested = await self.jobs.requested_names(located.require_prefix())
        client = self.indexes.client(env, index_url=index_url)
        result = await export_environment(
            env, client, fmt, only_requested=only_requested, requested=requested
        )
        return document(kernel=located.kernel, **result.to_json())

    async def needs(self, target: Target, notebook: Mapping[str, Any]) -> dict[str, Any]:
        """What ``notebook`` (its JSON) needs that the target has, lacks or has at another
        version (``reproduce.needs``); ``missing`` is what an install would ask for."""
        from ..reproduce.needs import notebook_needs
        from ..search import ImportNameMap, load_import_names

        located = await self.locator.locate(target)
        env = located.require()
        names = ImportNameMap(load_import_names())
        found = await asyncio.to_thread(notebook_needs, notebook, env, names)
        return document(kernel=located.kernel, **found)

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
        elif request.action == "undo":
            if request.job_id is None:
                raise BadRequest("Undo needs the `job_id` of the job to undo.")
            known_job_id(request.job_id)
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
            runner.ensure_free(located.require_prefix())
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
                plan = await self._with_sizes(
                    answer.plan,
                    self.indexes.client(
                        env,
                        index_url=options.index_url,
                        first_index=self.torch_backend_index(options.torch_backend),
                    ),
                )
                body = {"requirements": list(request.requirements)}
                if request.purpose:
                    body["purpose"] = request.purpose
                env = await with_kernel_wheel(
                    env, request.requirements, self.config.resolved_cache_dir
                )
                if options.torch_backend:
                    body["torch_backend"] = options.torch_backend  # recorded with the job
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
        return document(job=self.jobs.view(known_job_id(job_id)))

    def job_events(self, job_id: int, since: int = 0) -> AsyncIterator[dict[str, Any]]:
        return self.jobs.events(known_job_id(job_id), since)

    async def wait_job(self, job_id: int) -> dict[str, Any]:
        return document(job=await self.jobs.wait(known_job_id(job_id)))

    def cancel_job(self, job_id: int) -> dict[str, Any]:
        return self.jobs.cancel(known_job_id(job_id))

    # -- keeping current (core/currency.py) -----------------------------------------------

    async def outdated(self, target: Target, *, index_url: str | None = None) -> dict[str, Any]:
        """Each installed distribution's newest release, and the newest that fits."""
        from . import currency

        return await currency.outdated(self, target, index_url=index_url)

    async def why(self, target: Target, name: str) -> dict[str, Any]:
        """Why ``name`` is installed: chains from what was asked for, who needs it."""
        from . import currency

        return await currency.why(self, target, name)

    async def dependency_graph(self, target: Target, name: str | None = None) -> dict[str, Any]:
        from . import currency

        return await currency.dependency_graph(self, target, name)

    async def plan_update(
        self,
        target: Target,
        names: Sequence[str] = (),
        mode: str = "names",
        *,
        index_url: str | None = None,
    ) -> dict[str, Any]:
        """The normal plan of an update ("Update", "Update all", "Update all that fit")."""
        from . import currency

        return await currency.plan_update(self, target, names, mode, index_url=index_url)

    async def start_update(
        self,
        target: Target,
        requirements: Sequence[str],
        fingerprint: str | None = None,
        *,
        index_url: str | None = None,
    ) -> dict[str, Any]:
        """An update plan's pins as one recorded (undoable) install job."""
        from . import currency

        return await currency.start_update(
            self, target, requirements, fingerprint, index_url=index_url
        )

    async def history(self, target: Target) -> dict[str, Any]:
        prefix = (await self.locator.locate(target)).require_prefix()
        return document(jobs=await self.jobs.history(prefix))

    async def close(self) -> None:
        self.locator.close()
        await self.catalog.close()
        await self.plan_slots.close()
        await self.jobs.close()
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
            return await self.plan_slots.run(
                plan_install(
                    reqs,
                    env,
                    client,
                    allow_direct_urls=self.config.allow_direct_urls,
                    timeout=self._resolver_wait,
                )
            )

        found = await suggest_kernels(
            targets,
            parsed,
            prober=self.prober,
            client_for=lambda env: self.indexes.client(env, index_url=index_url),
            planner=planner,
            server_prefix=self.locator.server_prefix,
        )
        # the list ends with the last way out, a new environment (core/creating.py);
        # when no kernel fits (the server's own environment does not count), only it
        nothing_fits = all(s["rank"] == "impossible" or s.get("server_env") for s in found)
        proposal = await self.environments.propose(requirements, index_url)
        if proposal is not None:
            if nothing_fits:
                found = [s for s in found if not s.get("server_env")]
            found.append(proposal)
        return found
