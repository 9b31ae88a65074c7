"""``JobRunner``: executes Plans into environments, one job per environment at a time.

    runner = JobRunner(JobConfig(history_path=..., installer="auto"), prober=prober)
    job = await runner.submit(plan, env, kind="install", request={...})
    async for event in job.events(since=0): ...
    runner.cancel(job.id); await job.wait(); job.to_json()
    runner.history(env.prefix); await runner.undo(job.id)

``submit`` refuses at once (raising a domain error, nothing recorded) when the job
cannot run: the environment is externally managed (PEP 668) or not writable, there
is not enough disk space for the plan, another job holds the environment
(``EnvironmentBusy``: we refuse rather than queue, because a plan made before that
job ends describes an environment that will no longer exist), or the environment
changed since the plan was made (``EnvironmentChanged``). Otherwise the job is in the
history, running, and ``submit`` returns it.

The installer runs in a worker thread through ``process.run`` (own process group);
its lines become events on the loop via ``call_soon_threadsafe``. Cancel and the
deadline stop the whole process group (SIGTERM, then SIGKILL). After the installer,
the environment is probed again and compared with the Plan and with the
before-snapshot, and verified; all of it is the job's ``Outcome``.

A job's time is the installer's plus what the guarantees cost, so the steps around it
take as few hand-offs as they can: where the environment's files are read here, the
start (probe cache check, "unchanged since the plan", the files' problems, the
history row, in one sqlite transaction) is one worker thread, and the rest (installer,
the re-read of the distribution directories, verification, the history's end) is
another; ``Job.timings`` says where the time went.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import os
import shutil
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from .. import process
from ..environment import Environment
from ..errors import BadRequest, EnvHelperError, NotFound, ProbeError
from ..index.credentials import redact_url
from ..installers import Backend, BackendOptions, CredentialStore, Preference, Step, choose_backend
from ..plan import Plan
from ..probe import Prober
from . import undo as undo_mod
from .failures import cancelled_failure, classify
from .history import History
from .hooks import JobHooks
from .locks import EnvironmentLock, default_lock_dir
from .models import (
    EnvironmentChanged,
    Failure,
    Job,
    JobKind,
    JobState,
    Outcome,
    Refused,
    Snapshot,
    diff_snapshots,
    fingerprint,
    snapshot_from_json,
    snapshot_of,
    snapshot_to_json,
)
from .verify import before_problems, compare_with_plan, verify_environment

DEFAULT_DEADLINE = 15 * 60.0
LOG_TAIL_LINES = 200


@dataclass(frozen=True)
class JobConfig:
    """How jobs run. ``index_urls``: configured index URLs *with* credentials; plans
    carry clean URLs and the installer gets the credentials back from here."""

    history_path: str | os.PathLike[str]
    # One lock file per environment, shared by every process of this user whatever its
    # settings; tests give their own directory.
    lock_dir: str | os.PathLike[str] | None = None  # default: <user cache>/locks
    installer: Preference = "auto"
    deadline: float = DEFAULT_DEADLINE
    break_system_packages: bool = False
    allow_externally_managed: bool = False
    uv_path: str | None = None
    index_urls: tuple[str, ...] = ()
    unpack_factor: float = 3.0
    min_free_bytes: int = 20 * 1024 * 1024
    base_env: Mapping[str, str] | None = field(default=None, repr=False)

    @property
    def locks(self) -> Path:
        if self.lock_dir is not None:
            return Path(self.lock_dir)
        return default_lock_dir()


class JobRunner:
    """Runs jobs on the current event loop; one instance per server."""

    def __init__(self, config: JobConfig, *, prober: Prober | None = None) -> None:
        self.config = config
        self.prober = prober or Prober()
        self.store = History(config.history_path)
        self._jobs: dict[int, Job] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._cancels: dict[int, threading.Event] = {}
        self._probe_envs: dict[str, dict[str, str]] = {}  # interpreter -> its kernel's env
        # job -> what the environment's files looked like before the installer ran
        self._problems_before: dict[int, list[dict[str, Any]]] = {}
        self._hooks: dict[int, JobHooks] = {}  # job -> its extra steps (a new environment)

    # ------------------------------------------------------------ public

    async def submit(
        self,
        plan: Plan,
        env: Environment,
        *,
        kind: JobKind = "install",
        request: Mapping[str, Any] | None = None,
        undo_of: int | None = None,
        probe_env: Mapping[str, str] | None = None,
        index_urls: Sequence[str] = (),
        hooks: JobHooks | None = None,
    ) -> Job:
        """Start executing ``plan`` in ``env`` (the Environment the plan was made for).

        ``probe_env``: the environment variables ``env`` was probed with (a kernel's
        own, from its kernelspec), so the check "unchanged since the plan" compares
        like with like. ``index_urls``: index URLs given with this request (with their
        credentials), on top of the configured ones.
        """
        submitted = time.perf_counter()
        python = env.executable
        if probe_env is not None and python:
            self._probe_envs[python] = dict(probe_env)
        if env.synthetic_env or not python or not env.prefix:
            raise BadRequest("A plan for an imagined environment cannot be installed.")
        if not plan.changes:
            raise BadRequest("The plan changes nothing, so there is nothing to run.")
        self._check_allowed(env)
        backend = self._backend(env, index_urls)
        self._check_space(plan, env)
        lock = EnvironmentLock(self.config.locks, self._lock_key(env))
        lock.acquire()
        try:
            if self._files_here:
                # one worker thread for all of it: each hand-off to a thread and back
                # is a wake-up on a busy machine, and a job's start is on the user's clock
                started = await asyncio.to_thread(
                    self._prepare_sync, plan, env, backend, kind, request, undo_of
                )
            else:
                current = await self._probe(python, fresh=False)
                self._check_unchanged(env, current)
                started = await self._prepare(plan, current, backend, kind, request, undo_of)
            job = self._start(plan, started, backend, kind, request, undo_of, lock, hooks)
            job.timings["submitted"] = submitted
        except BaseException:
            lock.release()
            raise
        return job

    def get(self, job_id: int) -> Job:
        """A job of this process (running or finished since start-up)."""
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"There is no job {job_id} running on this server.")
        return job

    def ensure_free(self, prefix: str) -> None:
        """``EnvironmentBusy`` now if another job (of any process) holds ``prefix``: a
        busy environment is the first thing to say, before "it changed since the plan"
        (which a running job is about to make true)."""
        lock = EnvironmentLock(self.config.locks, prefix)
        lock.acquire()
        lock.release()

    def find(self, job_id: int) -> Job | None:
        """A job of this process (running or finished since start-up), or None."""
        return self._jobs.get(job_id)

    def cancel(self, job_id: int) -> Job:
        """Stop a running job (its whole process tree); a finished one is left as is."""
        job = self.get(job_id)
        if not job.finished:
            event = self._cancels.get(job_id)
            if event is not None and not event.is_set():
                event.set()
                job.emit(message="Cancelling: stopping the installer.")
        return job

    def history(self, env_prefix: str | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
        return self.store.list(env_prefix, limit=limit)

    async def history_async(
        self, env_prefix: str | None = None, *, limit: int = 100
    ) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.store.list, env_prefix, limit=limit)

    async def plan_undo(
        self,
        job_id: int,
        *,
        checker: undo_mod.Checker | None = None,
        probe_env: Mapping[str, str] | None = None,
    ) -> undo_mod.UndoPlan:
        """What undoing ``job_id`` would do, against the environment as it is now."""
        record = await asyncio.to_thread(self.store.get, job_id)
        if record is None:
            raise NotFound(f"There is no job {job_id}.")
        if record["state"] == "running":
            raise BadRequest(f"Job {job_id} is still running; cancel it or wait for it first.")
        if record.get("before") is None or record.get("after") is None:
            raise BadRequest(f"Job {job_id} has no record of the environment before and after it.")
        if probe_env is not None:
            self._probe_envs[record["interpreter"]] = dict(probe_env)
        current = await self._probe(record["interpreter"], fresh=False)
        return await undo_mod.plan_undo(
            job_id=job_id,
            before=snapshot_from_json(record["before"]),
            after=snapshot_from_json(record["after"]),
            current=current,
            index_urls=(record.get("plan") or {}).get("index_urls") or [],
            checker=checker,
        )

    async def undo(
        self,
        job_id: int,
        *,
        checker: undo_mod.Checker | None = None,
        allow_partial: bool = False,
        probe_env: Mapping[str, str] | None = None,
    ) -> Job:
        """Bring what job ``job_id`` changed back to its versions before; itself a job."""
        proposal = await self.plan_undo(job_id, checker=checker, probe_env=probe_env)
        if proposal.unavailable and not allow_partial:
            raise Refused(
                "Undo cannot restore everything: " + " ".join(proposal.unavailable),
                reason="undo-unavailable",
            )
        plan = proposal.plan
        if proposal.unavailable:
            missing = {
                a.canonical_name for a in plan.actions if _named_in(a.name, proposal.unavailable)
            }
            plan.actions = [a for a in plan.actions if a.canonical_name not in missing]
        if not plan.changes:
            raise BadRequest(f"The environment already is as it was before job {job_id}.")
        record = await asyncio.to_thread(self.store.get, job_id) or {}
        env = await self._probe(str(record["interpreter"]), fresh=False)
        return await self.submit(
            plan, env, kind="undo", request={"undo_of": job_id}, undo_of=job_id
        )

    async def close(self) -> None:
        """Cancel every running job and wait for them (server shutdown)."""
        for job_id in list(self._tasks):
            event = self._cancels.get(job_id)
            if event is not None:
                event.set()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self.store.close()

    def _backend(
        self, env: Environment, index_urls: Sequence[str], preference: Preference | None = None
    ) -> Backend:
        return choose_backend(
            env,
            preference or self.config.installer,
            options=BackendOptions(
                credentials=CredentialStore((*self.config.index_urls, *index_urls)),
                break_system_packages=self.config.break_system_packages,
                base_env=self.config.base_env,
            ),
            uv_path=self.config.uv_path,
        )

    # ------------------------------------------------------------ checks

    def _check_allowed(self, env: Environment) -> None:
        info = env.data.get("environment") or {}
        managed = info.get("externally_managed")
        if managed and not self.config.allow_externally_managed:
            detail = managed.get("error") if isinstance(managed, dict) else None
            raise Refused(
                "This Python belongs to the operating system (PEP 668: it is marked "
                "externally managed), so jupyter-envhelper does not install into it. "
                "Create a virtual environment, register it as a kernel, and install there. "
                "An administrator can allow it in the configuration "
                "(allow_externally_managed).",
                reason="externally-managed",
                detail=detail,
            )
        if info.get("site_packages_writable") is False:
            where = (env.data.get("paths") or {}).get("purelib")
            raise Refused(
                f"You cannot write to {where}, so nothing can be installed into this "
                "environment. Use a virtual environment you own, or ask its owner.",
                reason="not-writable",
            )

    def _check_space(self, plan: Plan, env: Environment) -> None:
        size = plan.download_size
        if size is None:  # count what is known
            size = sum(
                a.file.size for a in plan.changes if a.file is not None and a.file.size is not None
            )
        need = int(size * self.config.unpack_factor) + self.config.min_free_bytes
        where = (env.data.get("paths") or {}).get("purelib") or env.prefix or "."
        free = self._free_bytes(env, where)
        if free is None:
            return
        if need > free:
            raise Refused(
                f"Not enough disk space: the plan downloads {_size(size)} and needs about "
                f"{_size(need)} free where the environment lives ({where}), but only "
                f"{_size(free)} is free. Free some space (clearing the pip or uv cache "
                "often helps) and try again.",
                reason="no-space",
            )

    def _lock_key(self, env: Environment) -> str:
        """What this process's lock file for ``env`` is keyed by: its prefix."""
        return env.prefix or ""

    def _free_bytes(self, env: Environment, where: str) -> int | None:
        """Free bytes on the file system of ``where`` (its nearest existing folder);
        None when that cannot be told."""
        probe_dir = where
        while probe_dir and not os.path.exists(probe_dir):
            probe_dir = os.path.dirname(probe_dir)
        try:
            return shutil.disk_usage(probe_dir or ".").free
        except OSError:
            return None

    async def _problems(
        self,
        env: Environment,
        touched: Collection[str],
        before: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """``before_problems`` of ``env`` (``before`` given: ``verify_environment``),
        reading its files here, off the loop (a remote runner reads them where they are)."""
        if before is None:
            return await asyncio.to_thread(before_problems, env, touched)
        return await asyncio.to_thread(
            functools.partial(verify_environment, env, before=before, touched=touched)
        )

    @staticmethod
    def _check_unchanged(planned: Environment, current: Environment) -> None:
        old, new = fingerprint(planned), fingerprint(current)
        if old == new:
            return
        diffs = []
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                diffs.append(f"{key} {old.get(key) or '(absent)'} -> {new.get(key) or '(absent)'}")
        shown = ", ".join(diffs[:5]) + (" ..." if len(diffs) > 5 else "")
        raise EnvironmentChanged(
            f"The environment changed since this plan was made ({shown}); plan again."
        )

    async def _probe(self, python: str, *, fresh: bool) -> Environment:
        if fresh:
            self.prober.invalidate(python)
        # Without ``fresh`` the prober's cache is still checked against the stat
        # signature of every site directory, so a change since the last probe is seen.
        env = self._probe_envs.get(python)
        return await asyncio.to_thread(self.prober.probe_sync, python, env, refresh=fresh)

    # ------------------------------------------------------------ running

    @property
    def _files_here(self) -> bool:
        """Whether the environment's files are read in this process (``_problems`` as
        defined here): then checks, history and verification run in one worker thread
        each side of the installer. A subclass that reads them elsewhere (a remote
        kernel) gets the awaited steps one by one."""
        return type(self)._problems is JobRunner._problems

    def _record(  # noqa: PLR0917
        self,
        plan: Plan,
        current: Environment,
        backend: Backend,
        kind: JobKind,
        request: Mapping[str, Any] | None,
        undo_of: int | None,
    ) -> tuple[int, Snapshot]:
        """The job's row (state ``running``), in one transaction (a worker thread)."""
        prefix = current.prefix or ""
        kept: list[Snapshot] = []

        def before_of(last_after: Mapping[str, Any] | None) -> Mapping[str, Any]:
            # How each distribution got there (index URL) is known from our own last job.
            previous = snapshot_from_json(last_after) if last_after else None
            kept.append(snapshot_of(current, None, previous))
            return snapshot_to_json(kept[-1])

        job_id, _ = self.store.begin(
            prefix=prefix,
            before=before_of,
            interpreter=current.executable or "",
            kind=kind,
            request=dict(request or {}),
            plan=plan.to_json(),
            backend=backend.name,
            undo_of=undo_of,
        )
        return job_id, kept[-1]

    def _prepare_sync(  # noqa: PLR0917
        self,
        plan: Plan,
        env: Environment,
        backend: Backend,
        kind: JobKind,
        request: Mapping[str, Any] | None,
        undo_of: int | None,
    ) -> _Started:
        """In a worker thread, holding the lock: the environment as it is now (the
        probe's cache, checked against the stat signature of every site directory),
        unchanged since the plan, its files' problems read before anything runs (so
        that the job's own damage is never called "preexisting"), and the row."""
        python = env.executable or ""
        current = self.prober.probe_sync(python, self._probe_envs.get(python))
        self._check_unchanged(env, current)
        problems = before_problems(current, {a.canonical_name for a in plan.actions})
        job_id, before = self._record(plan, current, backend, kind, request, undo_of)
        return _Started(current, job_id, before, problems)

    async def _prepare(  # noqa: PLR0917
        self,
        plan: Plan,
        current: Environment,
        backend: Backend,
        kind: JobKind,
        request: Mapping[str, Any] | None,
        undo_of: int | None,
    ) -> _Started:
        """``_prepare_sync`` after the probe, with ``_problems`` awaited (a subclass
        may read the files elsewhere): the files are read while the history is
        written, neither needs the other."""
        planned = {a.canonical_name for a in plan.actions}
        recording = asyncio.ensure_future(
            asyncio.to_thread(self._record, plan, current, backend, kind, request, undo_of)
        )
        try:
            problems_before = await self._problems(current, planned)
        except BaseException:
            with contextlib.suppress(Exception):  # no job runs: its row says so
                written, _ = await recording
                await asyncio.to_thread(
                    self.store.update, written, state="failed", ended=time.time()
                )
            raise
        job_id, before = await recording
        return _Started(current, job_id, before, problems_before)

    def _start(  # noqa: PLR0917
        self,
        plan: Plan,
        started: _Started,
        backend: Backend,
        kind: JobKind,
        request: Mapping[str, Any] | None,
        undo_of: int | None,
        lock: EnvironmentLock,
        hooks: JobHooks | None = None,
    ) -> Job:
        current, job_id = started.current, started.job_id
        lock.set_holder(job_id)
        self._problems_before[job_id] = started.problems
        if hooks is not None:
            self._hooks[job_id] = hooks
        job = Job(
            job_id,
            kind=kind,
            plan=plan,
            environment=current,
            request=request,
            backend=backend.name,
            undo_of=undo_of,
        )
        job.before = started.before
        job.started = time.time()
        job.timings["started"] = time.perf_counter()
        self._jobs[job_id] = job
        cancel = threading.Event()
        self._cancels[job_id] = cancel
        job.emit(phase="resolving", message=starting_message(plan))
        task = asyncio.create_task(self._run(job, backend, lock, current, cancel))
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(job_id, None))
        return job

    def _steps(self, backend: Backend, plan: Plan) -> list[Step]:
        steps = []
        removals = [a.name for a in plan.actions if a.kind == "remove"]
        if removals:
            steps.append(backend.uninstall_step(removals))
        if plan.pins:
            steps.append(
                backend.install_step(plan.pins, plan.index_urls, strategy=plan.index_strategy)
            )
        return steps

    async def _run(
        self,
        job: Job,
        backend: Backend,
        lock: EnvironmentLock,
        current: Environment,
        cancel: threading.Event,
    ) -> None:
        log: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        try:
            if self._files_here:
                # installer, reading the result, verifying and the history: one worker
                # thread from start to end, no hand-off back to the loop in between
                state, outcome, after = await asyncio.to_thread(
                    self._run_sync, job, backend, current, cancel, log
                )
            else:
                state, failure = await asyncio.to_thread(
                    self._install_sync, job, backend, cancel, log
                )
                job.emit(**_VERIFYING)
                earlier = self._problems_before.pop(job.id, [])  # read before it ran
                inspection = await self._inspect(job, state, current, earlier)
                state, outcome, after = await asyncio.to_thread(
                    self._conclude, job, state, failure, inspection, log
                )
            job.after = after
            job.finish(state, outcome)
        except Exception as exc:  # never leave a job (or the history) "running"
            outcome = Outcome(message=f"The job stopped unexpectedly: {exc!r}")
            outcome.failure = Failure("other", outcome.message, "Look at the environment.", None)
            await asyncio.to_thread(
                self.store.update,
                job.id,
                state="failed",
                ended=time.time(),
                outcome=outcome.to_json(),
                log_tail="\n".join(log),
            )
            job.finish("failed", outcome)
        finally:
            self._cancels.pop(job.id, None)
            self._problems_before.pop(job.id, None)
            leftover = self._hooks.pop(job.id, None)  # _conclude did not get to it
            if leftover is not None and leftover.discard is not None:
                await asyncio.to_thread(leftover.discard, job)
            lock.release()

    def _execute(  # noqa: PLR0917
        self,
        job: Job,
        backend: Backend,
        step: Step,
        cancel: threading.Event,
        deadline: float,
        log: collections.deque[str],
    ) -> Failure | None:
        """Run one step (in a worker thread); None when it succeeded."""
        sizes = {
            a.canonical_name: a.file.size
            for a in job.plan.changes
            if a.file is not None and a.file.size is not None and a.pin is not None
        }
        total = sum(sizes.values()) if step.purpose == "install" and sizes else None
        # the files this step fetches: one per package it installs (a pin each)
        files_total = len(step.packages) if step.purpose == "install" else None
        done: set[str] = set()
        shown = " ".join(step.display_argv)
        log.append("$ " + shown)
        phase = "downloading" if step.purpose == "install" else "installing"
        counts = _Counts(files_total, total, sizes, frozenset(step.packages))
        job.emit_threadsafe(
            phase=phase,
            message=step_message(step),
            line="$ " + shown,
            **counts.fields(done),
        )

        def on_line(stream: str, line: str) -> None:
            text = redact_url(line)
            log.append(text)
            hint = backend.parse_line(stream, line)
            fields: dict[str, Any] = {"line": text}
            if hint is not None:
                if hint.phase is not None:
                    fields["phase"] = hint.phase
                if hint.package is not None:
                    fields["package"] = hint.package
                if hint.file_done is not None:
                    done.add(hint.file_done)
                if hint.all_downloaded:
                    done.update(step.packages)
                    done.update(sizes)
                if hint.building is not None:  # its sdist is here; the build takes a while
                    done.add(hint.building)
                    fields["phase"] = "building"
                    fields["message"] = (
                        f"building {hint.building} from source (this can take minutes)"
                    )
                if hint.file_done or hint.all_downloaded or hint.building:
                    fields.update(counts.fields(done))
                    if "message" not in fields and fields.get("phase", job.phase) == "downloading":
                        fields["message"] = counts.message(done)
                if hint.phase == "installing" and step.purpose == "install":
                    fields.setdefault("message", installing_message(len(step.packages)))
            job.emit_threadsafe(**fields)

        def on_start(pid: int) -> None:
            job.pids.append(pid)

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return classify("", timed_out=True, deadline=self.config.deadline)
        job.timings.setdefault("installer", time.perf_counter())
        try:
            result = process.run(
                step.argv,
                env=step.env,
                # Not the server's working directory (the notebooks): `python -m pip`
                # would import a planted pip/ from there, and uv reads config from it.
                cwd=str(self.config.locks),
                timeout=remaining,
                on_line=on_line,
                cancel=cancel,
                on_start=on_start,
            )
        except OSError as exc:
            return Failure(
                "other",
                f"The installer could not be started: {exc.strerror or exc}.",
                "Check that the environment's Python and the installer still exist.",
                None,
            )
        job.timings["installer_done"] = time.perf_counter()
        output = result.stdout + result.stderr
        if result.cancelled:
            return cancelled_failure(redact_url(result.stderr_tail(lines=10)) or None)
        if result.timed_out:
            return classify(output, timed_out=True, deadline=self.config.deadline)
        if result.returncode != 0:
            return classify(output, returncode=result.returncode)
        return None

    def _install_sync(
        self, job: Job, backend: Backend, cancel: threading.Event, log: collections.deque[str]
    ) -> tuple[JobState, Failure | None]:
        """The installer's steps, then the job's ``after_install`` hook (a worker thread)."""
        failure: Failure | None = None
        state: JobState = "succeeded"
        try:
            deadline = time.monotonic() + self.config.deadline
            for step in self._steps(backend, job.plan):
                if cancel.is_set():
                    return "cancelled", cancelled_failure()
                failure = self._execute(job, backend, step, cancel, deadline, log)
                if failure is not None:
                    return ("cancelled" if failure.kind == "cancelled" else "failed"), failure
            hooks = self._hooks.get(job.id)
            if hooks is not None and hooks.after_install:
                failure = hooks.after_install(job)
                state = "failed" if failure is not None else state
        except EnvHelperError as exc:
            failure = Failure("other", exc.message, "Plan again.", exc.detail)
            state = "failed"
        return state, failure

    def _run_sync(
        self,
        job: Job,
        backend: Backend,
        current: Environment,
        cancel: threading.Event,
        log: collections.deque[str],
    ) -> tuple[JobState, Outcome, Snapshot | None]:
        """A whole job after its start, in one worker thread (files read here)."""
        state, failure = self._install_sync(job, backend, cancel, log)
        job.emit_threadsafe(**_VERIFYING)
        earlier = self._problems_before.pop(job.id, [])  # read before the installer ran
        found = self._inspect_sync(job, state, current, earlier)
        return self._conclude(job, state, failure, found, log)

    def _inspect_sync(
        self, job: Job, state: JobState, current: Environment, earlier: list[dict[str, Any]]
    ) -> _Inspection:
        """The environment after the installer, as its files say (a worker thread)."""
        found = _Inspection()
        try:
            after = self.prober.rescan_sync(job.interpreter, current, since=job.created)
            found.after = snapshot_of(after, job.plan, job.before)
            found.problems = verify_environment(
                after, before=earlier, touched=self._touched(job, found.after)
            )
            if state == "succeeded":
                found.differences = compare_with_plan(job.plan, after)
        except ProbeError as exc:
            found.probe_failed(exc)
        return found

    async def _inspect(
        self, job: Job, state: JobState, current: Environment, earlier: list[dict[str, Any]]
    ) -> _Inspection:
        """``_inspect_sync`` with ``_problems`` awaited (a subclass reads elsewhere)."""
        found = _Inspection()
        try:
            after = await asyncio.to_thread(
                self.prober.rescan_sync, job.interpreter, current, since=job.created
            )
            found.after = snapshot_of(after, job.plan, job.before)
            touched = self._touched(job, found.after)
            found.problems = await self._problems(after, touched, before=earlier)
            if state == "succeeded":
                found.differences = compare_with_plan(job.plan, after)
        except ProbeError as exc:
            found.probe_failed(exc)
        return found

    @staticmethod
    def _touched(job: Job, after: Snapshot) -> set[str]:
        """The files of what the job touched (and of what it found there) are checked."""
        return {a.canonical_name for a in job.plan.actions} | {
            canonicalize_name(c.name) for c in diff_snapshots(job.before, after)
        }

    def _conclude(
        self,
        job: Job,
        state: JobState,
        failure: Failure | None,
        found: _Inspection,
        log: collections.deque[str],
    ) -> tuple[JobState, Outcome, Snapshot | None]:
        """The job's outcome from what was found, written to the history before the
        job says it has finished (a worker thread)."""
        job.timings["inspected"] = time.perf_counter()
        problems, differences, after_snapshot = found.problems, found.differences, found.after
        changes = diff_snapshots(job.before, after_snapshot) if after_snapshot is not None else []
        damaged = any(not p.get("preexisting") for p in problems)
        if state == "succeeded" and (differences or damaged):
            state = "failed"
            failure = Failure(
                "damaged" if damaged else "plan-mismatch",
                "The installer finished, but the environment is not what the plan promised."
                if differences
                else "The installer finished, but the environment is damaged.",
                "Undo this job to restore the environment as it was before.",
                "\n".join(
                    differences + [p["message"] for p in problems if not p.get("preexisting")]
                ),
            )
        outcome = Outcome(
            message=_message(state, failure, changes, damaged=damaged),
            failure=failure,
            changes=changes,
            differences=differences,
            problems=problems,
            damaged=damaged,
        )
        if changes and state != "succeeded":
            touched = {canonicalize_name(c.name) for c in changes}
            outcome.restore = {
                "undo_of": job.id,
                "message": "Undo this job to bring back the versions from before it.",
                "before": {k: v.version for k, v in job.before.items() if k in touched},
            }
        hooks = self._hooks.pop(job.id, None)
        if state != "succeeded" and hooks is not None and hooks.discard is not None:
            note = hooks.discard(job)  # what this job created
            outcome.restore = None  # nothing is left to undo
            if note:
                outcome.message = f"{outcome.message} {note}"
        self.store.update(
            job.id,
            state=state,
            ended=time.time(),
            after=snapshot_to_json(after_snapshot) if after_snapshot is not None else None,
            outcome=outcome.to_json(),
            log_tail="\n".join(log),
        )
        job.timings["recorded"] = time.perf_counter()
        return state, outcome, after_snapshot


@dataclass
class _Inspection:
    """What the environment looked like after the installer."""

    after: Snapshot | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    def probe_failed(self, exc: ProbeError) -> None:
        self.problems.append(
            {
                "kind": "probe-failed",
                "name": None,
                "preexisting": False,
                "message": "The environment could not be inspected after the job: " + exc.message,
            }
        )


_VERIFYING: dict[str, Any] = {
    "phase": "verifying",
    "message": "Checking that what was installed is complete and can be imported.",
}


@dataclass(frozen=True)
class _Started:
    """What a job's start found: the environment now, its row, its files' problems."""

    current: Environment
    job_id: int
    before: Snapshot
    problems: list[dict[str, Any]]


def _named_in(name: str, sentences: list[str]) -> bool:
    return any(s.startswith(f"{name} ") for s in sentences)


def _message(
    state: JobState, failure: Failure | None, changes: list[Any], *, damaged: bool = False
) -> str:
    changed = ", ".join(f"{c.name} {c.after}" if c.after else f"{c.name} removed" for c in changes)
    if state == "succeeded":
        return f"Done: {changed}." if changed else "Done: nothing changed."
    head = failure.message if failure is not None else "The job did not finish."
    tail = f" Already changed: {changed}." if changed else " Nothing was changed."
    if damaged and (failure is None or failure.kind != "damaged"):
        tail += " The environment is damaged (see the problems)"
        tail += ": undo this job to restore it." if changes else "."
    return head + tail


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


# ------------------------------------------------------------------ progress words


@dataclass(frozen=True)
class _Counts:
    """Files and bytes of one install step, counted as its output tells."""

    files_total: int | None
    bytes_total: int | None
    sizes: dict[str, int]
    packages: frozenset[str]

    def files_done(self, done: set[str]) -> int | None:
        if self.files_total is None:
            return None
        return min(self.files_total, len(done & self.packages))

    def fields(self, done: set[str]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if self.files_total is not None:
            fields["files_done"] = self.files_done(done)
            fields["files_total"] = self.files_total
        if self.bytes_total is not None:
            fields["bytes_done"] = sum(self.sizes.get(n, 0) for n in done)
            fields["bytes_total"] = self.bytes_total
        return fields

    def message(self, done: set[str]) -> str:
        """ "Downloaded 2 of 5 files (1.2 MB of 3.4 MB)."""
        files = self.files_done(done)
        text = f"Downloaded {files} of {_plural(self.files_total or 0, 'file')}"
        if self.bytes_total is not None:
            got = sum(self.sizes.get(n, 0) for n in done)
            text += f" ({_size(got)} of {_size(self.bytes_total)})"
        return text + "."


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def starting_message(plan: Plan) -> str:
    """What the first moment of a job does, in plain words."""
    changes = len(plan.changes)
    if not changes:
        return "Checking the plan."
    return f"Getting ready to change {_plural(changes, 'package')}."


def step_message(step: Step) -> str:
    """What one installer run does, in plain words (the installer is in the log)."""
    count = len(step.packages)
    if step.purpose == "install":
        return f"Downloading {_plural(count, 'file')} ({_plural(count, 'package')})."
    return f"Removing {_plural(count, 'package')}."


def installing_message(count: int) -> str:
    return f"Installing {_plural(count, 'package')} into the environment."
