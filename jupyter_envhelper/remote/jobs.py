"""``KernelJobRunner``: jobs for environments that live where a remote kernel runs.

A job for a remote interpreter (one ``KernelProber`` knows through its kernel) is the
same job as a local one: the history row, the before/after snapshots, the plan check,
the deadline, cancel and the outcome. What differs is where things happen, and each
happens on the kernel's host, where the environment is:

- the installer is started by the kernel as a subprocess of its own (``_RUN`` below,
  sent as a silent execute request); its output lines come back over iopub as they
  are printed. Its argv and environment (an index's password among them, in
  ``PIP_INDEX_URL``) are not part of the code: they are the answer to the code's
  ``input()``, sent over the stdin channel (``remote.kernel.execute(stdin_text=)``),
  so no log or history that shows the code shows them;
- the lock: the one lock file of that environment *on the kernel's host*, the same
  file (same path rule, ``paths.user_cache_dir`` and ``jobs.locks._key``, sent as
  source) that the magic and the command line take there, so a job of this server,
  of another user's server and of the magic exclude each other. It is checked when
  the job is asked for (busy: refused at once, 409), taken by the kernel when the
  job's first installer starts and held there, across its steps (an uninstall, then
  an install) and the checks after them, until the job's file check in the kernel
  has ended (``_LOCK``: kept in the kernel process, with a lease, so a server that
  goes away cannot leave it held for longer than the job's deadline and
  ``LEASE_MARGIN_S``); this server's own lock file is held as for a local job;
- the free-space check reads ``shutil.disk_usage`` in the kernel;
- after the job, the files the distributions' RECORDs list (and duplicate or
  RECORD-less ``.dist-info``) are checked in the kernel (``jobs.verify``'s own
  functions, sent as source); requirements are checked here, from the re-probe.

Cancel interrupts the kernel (the code kills the installer's process group on
``KeyboardInterrupt``); the deadline is enforced there too, and again here. The
installer is pip (``python -m pip`` of the kernel's own Python): the server's uv is
not on the kernel's host.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import json
import os
import threading
import time
import uuid
from collections.abc import Collection, Sequence
from typing import Any

from .. import paths
from ..environment import Environment
from ..errors import ProbeError
from ..index.credentials import redact_url
from ..installers import Backend, Preference, Step
from ..installers.base import PIP_DROPPED_ENV, UV_DROPPED_ENV
from ..jobs import EnvironmentLock, JobRunner, locks, verify
from ..jobs.failures import cancelled_failure, classify
from ..jobs.models import EnvironmentBusy, Failure, Job
from ..placement import refuse_other_owner
from ..plan import Plan
from .kernel import MARK, Execution, execute, isolated
from .probe import KernelProber, RemoteKernel

# Runs in the kernel: the environment's lock file on the kernel's host, by the same
# rule as jobs/locks.py (whose _key, and paths.user_cache_dir, are sent as source).
# A job's lock outlives the execute request that took it: it is kept, by job id, in
# a dict on the kernel's ``sys`` module (every request's code runs in a namespace of
# its own), until ``_release_job`` (the job's file check, at its end) or its lease.
_LOCK = r"""
import hashlib, json, os, sys, threading
from pathlib import Path
try:
    import fcntl
except ImportError:  # Windows: no flock; the job runs unlocked there
    fcntl = None

def _take_lock(prefix, job):
    # (fd, None) when taken (fd -1: no locking here), (None, holder) when busy
    if fcntl is None:
        return -1, None
    folder = user_cache_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (_key(prefix) + ".lock")
    fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        try:
            holder = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            holder = {}
        return None, holder if isinstance(holder, dict) else {}
    uv = os.path.join(prefix, ".lock")
    try:
        ufd = os.open(uv, os.O_RDWR)
    except OSError:
        ufd = None
    if ufd is not None:
        try:
            fcntl.flock(ufd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(ufd, fcntl.LOCK_UN)
        except OSError:
            _drop_lock(fd)
            return None, {"uv": uv}
        finally:
            os.close(ufd)
    data = json.dumps({"job": job, "pid": os.getpid(), "prefix": prefix}).encode()
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    return fd, None

def _drop_lock(fd):
    if fd is None or fd < 0:
        return
    try:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

def _jobs_held():
    held = getattr(sys, "_jupyter_envhelper_locks", None)
    if not isinstance(held, dict):
        held = {}
        sys._jupyter_envhelper_locks = held
    return held

def _hold_for_job(prefix, job, lease, key):
    # (True, None) when the job (``key``: its server's token and its id) holds prefix's
    # lock, taken now or by an earlier step; (False, holder) when it is busy
    held = _jobs_held()
    if key in held:
        return True, None
    fd, holder = _take_lock(prefix, job)
    if fd is None:
        return False, holder
    timer = threading.Timer(lease, _release_job, (key,))
    timer.daemon = True
    held[key] = (fd, timer)
    timer.start()
    return True, None

def _release_job(key):
    entry = _jobs_held().pop(key, None)  # (one pop wins: the lease's or ours)
    if entry is not None:
        entry[1].cancel()
        _drop_lock(entry[0])
"""

# Runs in the kernel: start argv, print its lines marked "o"/"e", then the exit record.
_RUN = r"""
import json, os, selectors, signal, subprocess, sys, tempfile, time

def _main(argv, env_set, env_unset, timeout, lock):
    # the lock stays held after this step: the job releases it once it has checked
    # the files (or its lease ends)
    held, holder = _hold_for_job(*lock)
    if not held:
        sys.stdout.write("\x1e" + "x" + json.dumps({"busy": holder}) + "\n")
        sys.stdout.flush()
        return
    _run(argv, env_set, env_unset, timeout)

def _run(argv, env_set, env_unset, timeout):
    env = dict(os.environ)
    for k in env_unset:
        env.pop(k, None)
    env.update(env_set)
    mark = "\x1e"
    out = {"returncode": None, "timed_out": False, "cancelled": False, "error": None}
    try:
        proc = subprocess.Popen(argv, env=env, cwd=tempfile.gettempdir(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as e:
        out["error"] = str(e.strerror or e)
        sys.stdout.write(mark + "x" + json.dumps(out) + "\n")
        return
    sys.stdout.write(mark + "p" + str(proc.pid) + "\n"); sys.stdout.flush()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "o")
    sel.register(proc.stderr, selectors.EVENT_READ, "e")
    bufs = {"o": b"", "e": b""}
    end = time.monotonic() + timeout
    def stop():
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        open_streams = 2
        while open_streams:
            left = end - time.monotonic()
            if left <= 0:
                out["timed_out"] = True
                stop()
                break
            for key, _ in sel.select(min(left, 0.5)):
                chunk = os.read(key.fileobj.fileno(), 65536)
                name = key.data
                if not chunk:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    if bufs[name]:
                        sys.stdout.write(mark + name + bufs[name].decode("utf-8", "replace") + "\n")
                        bufs[name] = b""
                    continue
                lines = (bufs[name] + chunk).split(b"\n")
                bufs[name] = lines.pop()
                for line in lines:
                    text = line.decode("utf-8", "replace").rstrip("\r")
                    sys.stdout.write(mark + name + text + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        out["cancelled"] = True
        stop()
    proc.wait()
    out["returncode"] = proc.returncode
    sys.stdout.write(mark + "x" + json.dumps(out) + "\n")
    sys.stdout.flush()

# The arguments come as the answer to input() (an input_reply over the stdin channel),
# not in this code: the environment may hold an index's password (PIP_INDEX_URL).
_main(*json.loads(input()))
"""

# Runs in the kernel before a job is accepted: free space where it installs, and
# whether the environment's lock is free (taken and given back at once).
_PREFLIGHT = r"""
import shutil
def _free(where):
    while where and not os.path.exists(where):
        where = os.path.dirname(where)
    try:
        return shutil.disk_usage(where or ".").free
    except OSError:
        return None
_fd, _holder = _take_lock(PREFIX, None)
_drop_lock(_fd)
sys.stdout.write("\x1e" + json.dumps({"free": _free(WHERE), "holder": _holder}) + "\n")
sys.stdout.flush()
"""

# Runs in the kernel after a job: jobs/verify.py's file checks, where the files are.
_VERIFY = r"""
import csv, json, os, re, sys
def canonicalize_name(name):  # packaging's rule, which the kernel may not have
    return re.sub(r"[-_.]+", "-", name).lower()
class _Env:
    def __init__(self, paths):
        self.data = {"paths": paths}
        self.distribution_dirs = list(paths.get("distribution_dirs") or [])
_e = _Env(json.loads(PATHS))
try:
    _found = _metadata_problems(_e) + record_problems(_e, json.loads(TOUCHED))
finally:
    if JOB is not None:  # the job's last look at its environment: its lock goes
        _release_job(JOB)
sys.stdout.write("\x1e" + json.dumps(_found) + "\n")
sys.stdout.flush()
"""

# Runs in the kernel when a job ended without its file check: its lock goes.
_RELEASE = r"""
_release_job(JOB)
sys.stdout.write("\x1e" + json.dumps({"released": JOB}) + "\n")
sys.stdout.flush()
"""

LEASE_MARGIN_S = 120.0  # how long past its deadline a job's lock may stay held


def _sources(*objects: Any) -> str:
    return "\n\n".join(inspect.getsource(o) for o in objects)


def _kernel_code(body: str, name: str, *functions: Any, **values: object) -> str:
    """``body`` with the lock helpers, ``functions`` (as source) and ``values`` (as
    literals) ahead of it."""
    head = "from __future__ import annotations\n" + _LOCK
    head += _sources(paths.user_cache_dir, locks._key, *functions) + "\n"
    for key, value in values.items():
        head += f"{key} = {value!r}\n"
    return isolated(head + body, name)


def _remote_step_message(step: Step) -> str:
    """What one installer run in a remote kernel does, in plain words."""
    count = len(step.packages)
    what = f"{count} package" + ("" if count == 1 else "s")
    if step.purpose == "install":
        return f"Installing {what} in the remote kernel's environment."
    return f"Removing {what} from the remote kernel's environment."


def _busy_message(holder: dict[str, Any]) -> str:
    if holder.get("uv"):
        return (
            "This environment is busy: a uv command on the kernel's host is changing it "
            f"(it holds {holder['uv']}). Wait until it has finished, then plan again."
        )
    job = holder.get("job")
    owner = f"job {job}" if isinstance(job, int) else "another job"
    return (
        f"This environment is busy: {owner} on the kernel's host is changing it. Wait "
        "until it has finished, then plan again (its result changes what a new plan "
        "would do)."
    )


async def _run_for_report(kernel: RemoteKernel, code: str, timeout: float) -> Execution:
    """Run ``code`` (which prints one marked line) in the kernel, reading iopub until
    that line has arrived whole (through a gateway it may come after the idle status)."""
    seen: list[str] = []

    def arrived() -> bool:
        text = "".join(seen)
        return MARK in text and text.endswith("\n")

    return await execute(
        kernel.manager(),
        code,
        timeout=timeout,
        on_stream=lambda name, text: seen.append(text) if name == "stdout" else None,
        until=arrived,
    )


def _last_report(lines: list[str], kind: type) -> Any:
    """The last marked line that is JSON of ``kind`` (None when there is none)."""
    for line in reversed(lines):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, kind):
            return value
    return None


class KernelJobRunner(JobRunner):
    """A ``JobRunner`` that runs the installer of a remote environment in its kernel."""

    prober: KernelProber

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._remote_free: dict[str, int | None] = {}  # prefix -> free bytes (kernel)
        # prefix -> (kernel, job id): a job whose lock the kernel may hold (see _LOCK)
        self._kernel_locks: dict[str, tuple[RemoteKernel, str]] = {}
        # what names this server's jobs in a kernel (job ids repeat across servers)
        self._token = uuid.uuid4().hex[:12]

    def _remote(self, python: str | None) -> RemoteKernel | None:
        return self.prober.remote_kernel(python) if isinstance(self.prober, KernelProber) else None

    def _backend(
        self, env: Environment, index_urls: Sequence[str], preference: Preference | None = None
    ) -> Backend:
        if self._remote(env.executable) is not None:
            preference = "pip"  # uv is a program of this host, not of the kernel's
        return super()._backend(env, index_urls, preference)

    def _check_allowed(self, env: Environment) -> None:
        super()._check_allowed(env)
        refuse_other_owner(env)  # a shared environment is its owner's to change

    async def submit(self, plan: Plan, env: Environment, **kwargs: Any) -> Job:
        kernel = self._remote(env.executable)
        if kernel is not None and env.prefix and plan.changes and not env.synthetic_env:
            # a job of this server holds it: refused at once (the kernel is busy with
            # that job's installer and would answer the preflight only after it)
            mine = EnvironmentLock(self.config.locks, self._lock_key(env))
            mine.acquire()
            mine.release()
            if kernel.kernel_id in self.prober.busy:
                raise EnvironmentBusy(_busy_message({}))
            facts = await self._preflight(kernel, env)
            holder = facts.get("holder")
            if isinstance(holder, dict):
                raise EnvironmentBusy(_busy_message(holder), job_id=None)
            free = facts.get("free")
            self._remote_free[env.prefix] = free if isinstance(free, int) else None
        try:
            return await super().submit(plan, env, **kwargs)
        finally:
            self._remote_free.pop(env.prefix or "", None)

    async def _preflight(self, kernel: RemoteKernel, env: Environment) -> dict[str, Any]:
        """In the kernel: free space where the environment installs, and its lock."""
        where = (env.data.get("paths") or {}).get("purelib") or env.prefix
        code = _kernel_code(_PREFLIGHT, "<envhelper-preflight>", PREFIX=env.prefix, WHERE=where)
        try:
            answer = await _run_for_report(kernel, code, self.prober.timeout)
        except TimeoutError as exc:
            raise EnvironmentBusy(
                "The remote kernel did not answer in time: it may be running a cell. "
                "Try again when it is idle."
            ) from exc
        return _last_report(answer.marked_lines(), dict) or {}

    def _lock_key(self, env: Environment) -> str:
        # The environment's own lock is the one on the kernel's host (taken there);
        # this server's lock file for it must be another file, even where the two
        # hosts share a home directory.
        key = super()._lock_key(env)
        return key if self._remote(env.executable) is None else f"remote-kernel:{key}"

    def _free_bytes(self, env: Environment, where: str) -> int | None:
        if self._remote(env.executable) is None:
            return super()._free_bytes(env, where)
        return self._remote_free.get(env.prefix or "")  # measured in the kernel (submit)

    async def _problems(
        self,
        env: Environment,
        touched: Collection[str],
        before: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        kernel = self._remote(env.executable)
        if kernel is None:
            return await super()._problems(env, touched, before)
        # after the job (``before`` given): the file check is its last step, and
        # releases the job's lock in the kernel as it ends
        held = self._kernel_locks.get(env.prefix or "") if before is not None else None
        try:
            found = await self._remote_file_problems(
                kernel, env, touched, lock_key=held[1] if held is not None else None
            )
        except ProbeError:
            if before is None:
                return []  # before the job: not known, nothing to compare with
            raise
        found += await asyncio.to_thread(verify.requirement_problems, env)
        known = {(p["kind"], p["message"]) for p in before or ()}
        for problem in found:
            problem["preexisting"] = (problem["kind"], problem["message"]) in known
        return found

    async def _remote_file_problems(
        self,
        kernel: RemoteKernel,
        env: Environment,
        touched: Collection[str],
        *,
        lock_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """``jobs.verify``'s checks of the environment's files, run in the kernel;
        ``lock_key`` (a job's, ``_job_key``): then its lock there is released as
        they end."""
        code = _kernel_code(
            _VERIFY,
            "<envhelper-verify>",
            verify._site_dirs,
            verify._metadata_problems,
            verify._record_rows,
            verify.record_problems,
            MAX_SHOWN=verify.MAX_SHOWN,
            PATHS=json.dumps(env.data.get("paths") or {}),
            TOUCHED=json.dumps(sorted(touched)),
            JOB=lock_key,
        )
        try:
            answer = await _run_for_report(kernel, code, self.prober.timeout)
        except TimeoutError as exc:
            raise ProbeError("The remote kernel did not answer in time.") from exc
        if lock_key is not None:  # the kernel ran it: the lock is gone (see _VERIFY)
            held = self._kernel_locks.get(env.prefix or "")
            if held is not None and held[1] == lock_key:
                del self._kernel_locks[env.prefix or ""]
        found = _last_report(answer.marked_lines(), list)
        if found is None:
            raise ProbeError(
                f"The remote kernel could not check the environment's files: {answer.error}."
            )
        return [p for p in found if isinstance(p, dict)]

    async def _run(
        self,
        job: Job,
        backend: Backend,
        lock: EnvironmentLock,
        current: Environment,
        cancel: threading.Event,
    ) -> None:
        try:
            await super()._run(job, backend, lock, current, cancel)
        finally:
            # the file check did not run (the re-probe failed, the job stopped): the
            # lock its steps took in the kernel goes now
            prefix = job.environment.prefix or ""
            held = self._kernel_locks.get(prefix)
            if held is not None and held[1] == self._job_key(job):
                del self._kernel_locks[prefix]
                await self._release_kernel_lock(held[0], held[1])

    def _job_key(self, job: Job) -> str:
        """What a job's lock is kept under in the kernel (``_LOCK``)."""
        return f"{self._token}:{job.id}"

    async def _release_kernel_lock(self, kernel: RemoteKernel, lock_key: str) -> None:
        code = _kernel_code(_RELEASE, "<envhelper-release>", JOB=lock_key)
        # (a kernel that is gone holds nothing; for a stuck one the lease ends it)
        with contextlib.suppress(TimeoutError, KeyError, RuntimeError, OSError):
            await _run_for_report(kernel, code, self.prober.timeout)

    def _execute(  # noqa: PLR0917
        self,
        job: Job,
        backend: Backend,
        step: Step,
        cancel: threading.Event,
        deadline: float,
        log: collections.deque[str],
    ) -> Failure | None:
        kernel = self._remote(job.interpreter)
        if kernel is None:
            return super()._execute(job, backend, step, cancel, deadline, log)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return classify("", timed_out=True, deadline=self.config.deadline)
        shown = " ".join(step.display_argv)
        log.append("$ " + shown)
        job.emit_threadsafe(
            phase="downloading" if step.purpose == "install" else "installing",
            message=_remote_step_message(step),
            line="$ " + shown,
        )
        future = asyncio.run_coroutine_threadsafe(
            self._run_remote(kernel, job, backend, step, cancel, remaining, log), kernel.loop
        )
        return future.result()

    async def _run_remote(  # noqa: PLR0917
        self,
        kernel: RemoteKernel,
        job: Job,
        backend: Backend,
        step: Step,
        cancel: threading.Event,
        remaining: float,
        log: collections.deque[str],
    ) -> Failure | None:
        here = os.environ
        env_set = {k: v for k, v in step.env.items() if here.get(k) != v}
        dropped = set(PIP_DROPPED_ENV) | set(UV_DROPPED_ENV)
        env_unset = sorted(k for k in (set(here) | dropped) if k not in step.env)
        # argv and environment (credentials among them) go out of band: see _RUN
        prefix = job.environment.prefix or ""
        key = self._job_key(job)
        lock = [prefix, job.id, remaining + LEASE_MARGIN_S, key]  # held past this step
        self._kernel_locks[prefix] = (kernel, key)
        args = json.dumps([step.argv, env_set, env_unset, remaining, lock])
        code = _kernel_code(_RUN, "<envhelper-job>")
        output: list[str] = []
        record: dict[str, Any] = {}
        pending = [""]

        def on_stream(name: str, text: str) -> None:
            if name != "stdout":
                return
            lines = (pending[0] + text).split("\n")
            pending[0] = lines.pop()
            for line in lines:
                if not line.startswith(MARK) or len(line) < 2:
                    continue
                kind, body = line[1], line[2:]
                if kind == "p" and body.isdigit():
                    job.pids.append(int(body))
                elif kind == "x":
                    record.update(json.loads(body))
                elif kind in "oe":
                    stream = "stdout" if kind == "o" else "stderr"
                    output.append(body)
                    text_line = redact_url(body)
                    log.append(text_line)
                    fields: dict[str, Any] = {"line": text_line}
                    hint = backend.parse_line(stream, body)
                    if hint is not None and hint.phase is not None:
                        fields["phase"] = hint.phase
                    if hint is not None and hint.package is not None:
                        fields["package"] = hint.package
                    job.emit(**fields)

        stop = asyncio.Event()

        async def watch() -> None:
            while not cancel.is_set():
                await asyncio.sleep(0.1)
            stop.set()

        watcher = asyncio.ensure_future(watch())
        self.prober.busy.add(kernel.kernel_id)
        try:
            answer = await execute(
                kernel.manager(),
                code,
                timeout=remaining + 30,
                on_stream=on_stream,
                cancel=stop,
                until=lambda: bool(record),
                stdin_text=args,
            )
        except TimeoutError:
            return classify("\n".join(output), timed_out=True, deadline=self.config.deadline)
        finally:
            self.prober.busy.discard(kernel.kernel_id)
            watcher.cancel()
        on_stream("stdout", "\n")
        text = "\n".join(output)
        if isinstance(record.get("busy"), dict):
            return Failure(
                "other",
                _busy_message(record["busy"]),
                "Wait until the other job has finished, then plan again.",
                None,
            )
        if record.get("cancelled") or (cancel.is_set() and not record):
            return cancelled_failure(redact_url("\n".join(output[-10:])) or None)
        if record.get("timed_out"):
            return classify(text, timed_out=True, deadline=self.config.deadline)
        if record.get("error") or not record:
            reason = record.get("error") or answer.error or "no answer from the kernel"
            return Failure(
                "other",
                f"The installer could not be run in the remote kernel: {reason}.",
                "Check that the kernel is running and its environment has pip.",
                None,
            )
        if record.get("returncode") != 0:
            return classify(text, returncode=int(record["returncode"]))
        return None
