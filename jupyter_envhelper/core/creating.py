"""When no kernel fits: a new environment with its own kernel.

``Core.environments`` (one ``Creating`` per core) answers, for every surface:

- ``interpreters()``: the Pythons here that could host a new environment
  (``environments.discover``) and whether uv could download another one;
- ``plan(request)``: the plan for "a new venv with Python X" (the planner's imagined
  target), for the request plus ``ipykernel``. Without a chosen Python it plans
  against each interpreter's version, newest first, and stops at the first that
  resolves without a blocker. Nothing is created;
- ``start(request)``: the same plan again, then ``uv venv`` in the environments
  folder (``c.EnvHelperApp.environments_dir``), the marker file, and a job of kind
  ``create`` through the one job runner (progress, cancel, deadline, history) that
  installs the plan and registers the kernelspec. A failure at any step removes the
  folder and kernelspec this request created, and nothing else;
- ``list_all()`` and ``delete(name)``: the environments this project created (the
  marker), never any other.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..environments import (
    DownloadCheck,
    Interpreter,
    ManagedEnvironment,
    check_downloads,
    create_venv,
    discover,
    find_managed,
    inspect_interpreter,
    kernelspec_is_ours,
    list_managed,
    remove_environment,
    remove_kernelspec,
    write_kernelspec,
    write_marker,
)
from ..environments.create import check_name, discard_new
from ..environments.interpreters import newest_first
from ..environments.registry import folder_size
from ..errors import BadRequest, ChangesDisabled, EnvHelperError, NotFound
from ..installers.uv import find_uv
from ..jobs.hooks import JobHooks
from ..jobs.models import Failure, Job, Refused
from ..plan import ResolutionConflict
from .assess import PlanAnswer
from .documents import document
from .targets import Target

if TYPE_CHECKING:
    from .usecases import Core, PlanOptions

KERNEL_PACKAGE = "ipykernel"
VERSION = re.compile(r"^3\.\d{1,2}(\.\d{1,2})?$")
DISCOVERY_TTL = 60.0  # seconds a discovery is reused (the suggestions ask often)
PROPOSE_TRIES = 3  # a suggestion plans against at most this many Pythons, newest first
PLAN_KEPT = 600.0  # seconds the plan a user was shown is what "create" installs


@dataclass(frozen=True)
class NewEnvironmentRequest:
    """What to make. ``name``: the kernel's and the folder's name; ``python_version``
    (``3.12``) or ``python`` (a path) picks the interpreter, neither: the newest that
    fits; ``allow_download``: let uv download a missing version (when reachable)."""

    name: str | None
    requirements: tuple[str, ...]
    python_version: str | None = None
    python: str | None = None
    display_name: str | None = None
    allow_download: bool = False
    options: PlanOptions | None = None

    def as_planned(self, plan: dict[str, Any]) -> NewEnvironmentRequest:
        """This request with the Python its shown ``plan`` chose, so the job makes
        what the user saw (and does not choose again)."""
        if self.python or self.python_version:
            return self
        python = plan["python"]
        if python.get("path"):
            return replace(self, python=python["path"])
        return replace(self, python_version=python["python_version"])


@dataclass(frozen=True)
class Candidate:
    """One interpreter to plan against; ``interpreter`` None: uv downloads ``version``."""

    version: str  # full when known (3.12.1), else 3.X
    interpreter: Interpreter | None

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    def to_json(self) -> dict[str, Any]:
        if self.interpreter is not None:
            return {**self.interpreter.to_json(), "download": False}
        return {
            "path": None,
            "version": self.version,
            "python_version": self.minor,
            "implementation": "CPython",
            "sources": ["uv-download"],
            "kernels": [],
            "is_venv": False,
            "download": True,
        }


@dataclass
class Chosen:
    candidate: Candidate
    answer: PlanAnswer
    requirements: list[str]
    tried: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.answer.plan is not None and self.answer.verdict != "blocker"


def this_platform() -> str:
    """The wheel platform tag of this machine, as an imagined target takes it."""
    machine = platform.machine() or "x86_64"
    system = str(sys.platform)  # a str, not a literal mypy narrows to this machine's
    if system.startswith("linux"):
        libc, version = platform.libc_ver()
        bits = version.split(".")
        if libc == "glibc" and len(bits) >= 2 and bits[0].isdigit() and bits[1].isdigit():
            return f"manylinux_{bits[0]}_{bits[1]}_{machine}"
        return f"linux_{machine}"
    if system == "darwin":
        major = (platform.mac_ver()[0] or "11").split(".")[0]
        return f"macosx_{major}_0_{'arm64' if machine == 'arm64' else 'x86_64'}"
    if system == "win32":
        return "win_arm64" if machine.upper() == "ARM64" else "win_amd64"
    return f"linux_{machine}"


def with_kernel(requirements: Sequence[str]) -> list[str]:
    """``requirements`` plus ipykernel, unless they name it already."""
    names = set()
    for text in requirements:
        try:
            names.add(canonicalize_name(Requirement(text).name))
        except ValueError:
            continue
    return [*requirements, *(() if KERNEL_PACKAGE in names else (KERNEL_PACKAGE,))]


class Creating:
    def __init__(self, core: Core) -> None:
        self.core = core
        self._found: tuple[float, list[Interpreter]] | None = None
        self._names: set[str] = set()  # names being created by this process now
        # the plans shown (plan()), so that the job installs what the user saw
        self._shown: dict[tuple[Any, ...], tuple[float, Chosen]] = {}

    # -- settings ------------------------------------------------------------------------

    @property
    def root(self) -> str:
        return self.core.config.resolved_environments_dir

    @property
    def kernels_dir(self) -> str:
        """The user's kernels folder, as the server's kernelspec manager sees it."""
        found = getattr(self.core.locator.kernel_spec_manager, "user_kernel_dir", None)
        if isinstance(found, str) and found:
            return found
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "kernels")

    @staticmethod
    def uv() -> str | None:
        return find_uv()

    # -- what is there -------------------------------------------------------------------

    async def discovered(self, *, refresh: bool = False) -> list[Interpreter]:
        if (
            not refresh
            and self._found is not None
            and time.monotonic() - self._found[0] < DISCOVERY_TTL
        ):
            return self._found[1]
        kernels = {
            t.name: t.interpreter
            for t in await self.core.locator.kernel_targets()
            if t.is_python and t.interpreter
        }
        found = await asyncio.to_thread(discover, kernels, uv_path=self.uv())
        self._found = (time.monotonic(), found)
        return found

    async def interpreters(self, *, downloads: bool = True) -> dict[str, Any]:
        found = await self.discovered(refresh=True)
        check = await asyncio.to_thread(check_downloads, self.uv()) if downloads else None
        return document(
            interpreters=[i.to_json() for i in found],
            versions=[i.minor for i in newest_first(found)],
            downloads=check.to_json() if check is not None else None,
            environments_dir=self.root,
        )

    async def list_all(self) -> dict[str, Any]:
        found = await asyncio.to_thread(list_managed, self.root)
        entries = await asyncio.gather(*(asyncio.to_thread(self._entry, m) for m in found))
        return document(environments=list(entries), environments_dir=self.root)

    def _entry(self, env: ManagedEnvironment) -> dict[str, Any]:
        kernel = env.kernelspec_dir
        return {
            **env.to_json(),
            "kernel_registered": bool(kernel and kernelspec_is_ours(kernel, env.path)),
            "python_exists": os.path.exists(env.python),
            "size": folder_size(env.path),
        }

    # -- what would happen ---------------------------------------------------------------

    async def _candidates(self, request: NewEnvironmentRequest) -> list[Candidate]:
        if request.python:
            path = os.path.abspath(os.path.expanduser(request.python))
            found = await asyncio.to_thread(inspect_interpreter, path)
            if found is None:
                raise BadRequest(f"{path} is not a Python interpreter that runs here.")
            return [Candidate(found.version, replace(found, sources=("given",)))]
        interpreters = newest_first(await self.discovered())
        if request.python_version:
            wanted = request.python_version.strip()
            if not VERSION.match(wanted):
                raise BadRequest(f"Give a Python version like 3.12, not {wanted[:20]!r}.")
            minor = ".".join(wanted.split(".")[:2])
            every = await self.discovered()
            exact = [i for i in every if i.version == wanted and i.implementation == "CPython"]
            same = [i for i in interpreters if i.minor == minor]
            picked = (exact or same)[:1]
            if picked:
                return [Candidate(picked[0].version, picked[0])]
            check = await asyncio.to_thread(check_downloads, self.uv())
            if request.allow_download and check.reachable and minor in check.versions:
                return [Candidate(minor, None)]
            have = ", ".join(i.minor for i in interpreters) or "none"
            way = (
                f"uv can download it from {check.host}: ask again allowing the download."
                if check.reachable and minor in check.versions
                else check.message
            )
            raise NotFound(f"There is no Python {minor} on this machine (found: {have}). {way}")
        if not interpreters:
            raise NotFound(
                "No Python interpreter was found here to make a new environment with "
                "(looked at the kernels, PATH, pyenv, conda and uv)."
            )
        return [Candidate(i.version, i) for i in interpreters]

    async def _answer(
        self, candidate: Candidate, requirements: list[str], options: PlanOptions
    ) -> PlanAnswer:
        located = await self.core.locator.locate(
            Target(synthetic=(candidate.version, this_platform()))
        )
        return await self.core.answer(
            located, requirements, replace(options, suggest=False, imported_modules=frozenset())
        )

    async def choose(self, request: NewEnvironmentRequest, *, most: int | None = None) -> Chosen:
        """The newest interpreter whose plan resolves without a blocker (or the one
        picked, whatever its plan says)."""
        from .usecases import PlanOptions

        self.core.validate(request.requirements)
        if not request.requirements:
            raise BadRequest("Name what the new environment should have, like ['pandas>=2'].")
        requirements = with_kernel(request.requirements)
        options = request.options or PlanOptions()
        candidates = (await self._candidates(request))[:most]
        tried: list[dict[str, Any]] = []
        chosen: Chosen | None = None
        for candidate in candidates:
            answer = await self._answer(candidate, requirements, options)
            current = Chosen(candidate, answer, requirements, tried)
            tried.append(
                {
                    "python_version": candidate.minor,
                    "version": candidate.version,
                    "interpreter": candidate.interpreter.path if candidate.interpreter else None,
                    "verdict": answer.verdict if answer.plan is not None else "blocker",
                    "message": _why(answer),
                }
            )
            chosen = chosen or current  # the newest, when none fits
            if current.ready:
                chosen = current
                break
        assert chosen is not None
        chosen.tried = tried
        return chosen

    async def plan(self, request: NewEnvironmentRequest) -> dict[str, Any]:
        """What a new environment for ``request`` would be; nothing is created."""
        if request.name is not None:
            check_name(request.name)
        chosen = await self.choose(request)
        doc = self._plan_document(request, chosen)
        if chosen.ready:
            now = time.monotonic()
            self._shown = {k: v for k, v in self._shown.items() if now - v[0] < PLAN_KEPT}
            for asked in (request, request.as_planned(doc)):
                self._shown[_key(asked)] = (now, chosen)
        return doc

    async def _chosen_for(self, request: NewEnvironmentRequest) -> Chosen:
        """The plan this request was shown (a few minutes ago), else a new one."""
        kept = self._shown.get(_key(request))
        if kept is not None and time.monotonic() - kept[0] < PLAN_KEPT:
            interpreter = kept[1].candidate.interpreter
            if interpreter is None or os.path.exists(interpreter.path):
                return kept[1]
        return await self.choose(request)

    def _plan_document(self, request: NewEnvironmentRequest, chosen: Chosen) -> dict[str, Any]:
        name = request.name or f"py{chosen.candidate.minor.replace('.', '')}-env"
        doc = chosen.answer.to_json()
        return document(
            name=name,
            kernel_name=name,
            display_name=request.display_name or _display(name, chosen.candidate.minor),
            directory=os.path.join(self.root, name),
            environments_dir=self.root,
            python=chosen.candidate.to_json(),
            requirements=list(request.requirements),
            planned_requirements=chosen.requirements,
            tried=chosen.tried,
            ready=chosen.ready,
            kernel=None,
            **doc,
        )

    async def propose(
        self, requirements: Sequence[str], index_url: str | None
    ) -> dict[str, Any] | None:
        """The suggestion that ends a blocked plan's list: a new environment with the
        newest Python that takes ``requirements`` (None when none here does)."""
        from .usecases import PlanOptions

        if self.core.config.read_only:
            return None  # nothing can be made here
        client = self.core.indexes.client(None, index_url=index_url)
        try:
            for text in requirements:  # a project the index lacks: no Python helps
                await client.get_project(Requirement(text).name)
        except (EnvHelperError, ValueError):
            return None
        try:
            chosen = await self.choose(
                NewEnvironmentRequest(
                    None, tuple(requirements), options=PlanOptions(index_url=index_url)
                ),
                most=PROPOSE_TRIES,
            )
        except EnvHelperError:
            return None
        if not chosen.ready:
            return None
        minor = chosen.candidate.minor
        asked = ", ".join(requirements)
        return {
            "name": None,
            "display_name": f"A new environment with Python {minor}",
            "python_version": minor,
            "rank": "new-environment",
            "message": f"Create a new environment with Python {minor} and {asked}",
            "new_environment": {
                "python_version": minor,
                "python": chosen.candidate.interpreter.path
                if chosen.candidate.interpreter
                else None,
                "requirements": list(requirements),
                "name": f"py{minor.replace('.', '')}-{_slug(requirements)}",
            },
        }

    # -- changes -------------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self.core.config.read_only:
            raise ChangesDisabled(
                "Changes are turned off here (c.EnvHelperApp.read_only): no new "
                "environments or kernels can be made or deleted."
            )

    async def _check_free(self, name: str) -> str:
        folder = os.path.join(self.root, name)
        if name in self._names or os.path.lexists(folder):
            raise BadRequest(
                f"There already is an environment named {name!r} ({folder}); choose another name."
            )
        specs = await self.core.locator.kernel_targets()
        if any(t.name == name for t in specs) or os.path.lexists(
            os.path.join(self.kernels_dir, name)
        ):
            raise BadRequest(f"There already is a kernel named {name!r}; choose another name.")
        return folder

    async def start(self, request: NewEnvironmentRequest) -> dict[str, Any]:
        """Create the environment and start its job; the job's document."""
        self._check_writable()
        name = check_name(request.name)
        folder = await self._check_free(name)
        uv = self.uv()
        if uv is None:
            raise Refused(
                "Making an environment needs uv, and none is installed beside the server "
                "(pip install uv).",
                reason="no-uv",
            )
        self.core.validate(request.requirements)
        chosen = await self._chosen_for(request)
        if chosen.answer.plan is None:
            assert chosen.answer.conflict is not None
            raise ResolutionConflict(chosen.answer.conflict)
        blockers = [f for f in chosen.answer.findings if f.severity == "blocker"]
        if blockers:
            raise Refused(blockers[0].message, reason="blocker")
        candidate = chosen.candidate
        options = request.options
        client = self.core.indexes.client(
            None, index_url=options.index_url if options is not None else None
        )
        plan = await self.core._with_sizes(chosen.answer.plan, client)
        display = request.display_name or _display(name, candidate.minor)
        self._names.add(name)
        try:
            return await self._create(request, name, display, folder, uv, candidate, plan)
        finally:
            self._names.discard(name)

    async def _create(  # noqa: PLR0917
        self,
        request: NewEnvironmentRequest,
        name: str,
        display: str,
        folder: str,
        uv: str,
        candidate: Candidate,
        plan: Any,
    ) -> dict[str, Any]:
        os.makedirs(self.root, exist_ok=True)
        base = candidate.interpreter.path if candidate.interpreter else candidate.minor
        try:
            python = await asyncio.to_thread(
                create_venv,
                uv,
                base,
                folder,
                timeout=min(self.core.config.job_deadline, 600.0),
                allow_download=candidate.interpreter is None,
                cwd=self.root,
            )
        except BaseException:
            await asyncio.to_thread(discard_new, folder)
            raise
        managed = ManagedEnvironment(
            name=name,
            path=folder,
            kernel_name=name,
            display_name=display,
            python=python,
            base_python=base,
            python_version=candidate.version,
            created=time.time(),
            kernelspec_dir=None,
        )
        kernels_dir = self.kernels_dir
        written: list[str] = []

        def after_install(job: Job) -> Failure | None:
            job.emit_threadsafe(phase="installing", message=f"Registering the kernel {display}.")
            try:
                spec = write_kernelspec(kernels_dir, name, display, python, folder)
            except (EnvHelperError, OSError) as exc:
                words = exc.message if isinstance(exc, EnvHelperError) else str(exc)
                return Failure(
                    "other",
                    f"The packages are installed but the kernel could not be registered: {words}",
                    "Choose another name and try again.",
                )
            written.append(spec)
            write_marker(replace(managed, kernelspec_dir=spec, job_id=job.id))
            return None

        def discard(_job: Job) -> str | None:
            for spec in written:
                remove_kernelspec(spec, folder)
            remove_environment(folder)
            return f"The new environment ({folder}) and its kernel were removed again."

        try:
            await asyncio.to_thread(write_marker, managed)
            # as the kernel will run: its kernelspec clears PYTHONPATH (write_kernelspec)
            probe_env = {**os.environ, "PYTHONPATH": ""}
            env = await self.core.prober.probe(python, env=probe_env, refresh=True)
            plan = replace(
                plan,
                target=replace(plan.target, executable=python, kernel=name, synthetic=False),
            )
            job = await self.core.jobs.runner.submit(
                plan,
                env,
                kind="create",
                request={
                    "requirements": list(request.requirements),
                    "name": name,
                    "display_name": display,
                    "python": base,
                    "python_version": candidate.version,
                    "environment": folder,
                },
                probe_env=probe_env,
                hooks=JobHooks(after_install=after_install, discard=discard),
            )
        except BaseException:
            await asyncio.to_thread(remove_environment, folder)
            raise
        job.emit(message=f"Created {folder} with Python {candidate.version}.")
        return document(job=self.core.jobs.view(job.id), environment=managed.to_json())

    async def delete(self, name: str) -> dict[str, Any]:
        """Remove an environment this project created, and its kernelspec."""
        self._check_writable()
        check_name(name)
        managed = await asyncio.to_thread(find_managed, self.root, name)
        if managed is None:
            folder = os.path.join(self.root, name)
            if os.path.lexists(folder):
                raise Refused(
                    f"{folder} was not made by jupyter-envhelper (it has no "
                    f"{'marker'} of ours), so it is left alone.",
                    reason="not-ours",
                )
            raise NotFound(f"There is no environment named {name!r} made by jupyter-envhelper.")
        self.core.jobs.runner.ensure_free(managed.path)
        kernel_removed = False
        spec = managed.kernelspec_dir or os.path.join(self.kernels_dir, managed.kernel_name)
        if os.path.isdir(spec):
            kernel_removed = await asyncio.to_thread(remove_kernelspec, spec, managed.path)
        removed = await asyncio.to_thread(remove_environment, managed.path)
        self.core.prober.invalidate(managed.python)
        self._found = None
        return document(
            deleted={
                **managed.to_json(),
                "environment_removed": removed,
                "kernel_removed": kernel_removed,
            }
        )


def _key(request: NewEnvironmentRequest) -> tuple[Any, ...]:
    options = request.options
    return (
        tuple(request.requirements),
        request.python,
        request.python_version,
        request.allow_download,
        options.allow_prereleases if options is not None else False,
        options.index_url if options is not None else None,
    )


def _why(answer: PlanAnswer) -> str:
    if answer.plan is None:
        return answer.conflict.message if answer.conflict is not None else "It does not resolve."
    blockers = [f for f in answer.findings if f.severity == "blocker"]
    if blockers:
        return blockers[0].message
    return f"{len(answer.plan.changes)} packages to install."


def _display(name: str, minor: str) -> str:
    return f"Python {minor} ({name})"


def _slug(requirements: Sequence[str]) -> str:
    names = []
    for text in requirements[:2]:
        try:
            names.append(canonicalize_name(Requirement(text).name))
        except ValueError:
            continue
    slug = "-".join(names) or "env"
    return re.sub(r"[^a-z0-9._-]", "-", slug)[:40]


def downloads_document(check: DownloadCheck) -> dict[str, Any]:
    return check.to_json()
