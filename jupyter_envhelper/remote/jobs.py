"""``KernelJobRunner``: jobs for environments that live where a remote kernel runs.

A job for a remote interpreter (one ``KernelProber`` knows through its kernel) is the
same job as a local one: one lock per environment (keyed by its prefix, in this
server's lock directory), the history row, the before/after snapshots, the plan check
and the outcome. What differs is where the installer runs: the kernel starts it as
a subprocess of its own (``_RUN`` below, sent as a silent execute request), and its
output lines come back over iopub as they are printed. Cancel interrupts the kernel
(the code kills the installer's process group on ``KeyboardInterrupt``); the
deadline is enforced there too, and again here. The installer is pip (``python -m
pip`` of the kernel's own Python): the server's uv is not on the kernel's host.

What a remote job cannot do: check free disk space, or read the environment's files
after the job (RECORD sizes); the re-probe through the kernel still compares what is
installed with the plan.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from ..environment import Environment
from ..index.credentials import redact_url
from ..installers import Backend, Preference, Step
from ..installers.base import PIP_DROPPED_ENV, UV_DROPPED_ENV
from ..jobs import JobRunner
from ..jobs.failures import cancelled_failure, classify
from ..jobs.models import Failure, Job
from ..placement import refuse_other_owner
from ..plan import Plan
from .kernel import MARK, execute, isolated
from .probe import KernelProber, RemoteKernel

# Runs in the kernel: start argv, print its lines marked "o"/"e", then the exit record.
_RUN = r"""
import json, os, selectors, signal, subprocess, sys, tempfile, time

def _main(argv, env_set, env_unset, timeout):
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

_main(*json.loads(ARGS))
"""


class KernelJobRunner(JobRunner):
    """A ``JobRunner`` that runs the installer of a remote environment in its kernel."""

    prober: KernelProber

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

    def _check_space(self, plan: Plan, env: Environment) -> None:
        if self._remote(env.executable) is None:
            super()._check_space(plan, env)

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
            message=f"Running {backend.name} in the remote kernel.",
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
        args = json.dumps([step.argv, env_set, env_unset, remaining])
        code = isolated(
            _RUN.replace("json.loads(ARGS)", f"json.loads({args!r})"), "<envhelper-job>"
        )
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
            )
        except TimeoutError:
            return classify("\n".join(output), timed_out=True, deadline=self.config.deadline)
        finally:
            self.prober.busy.discard(kernel.kernel_id)
            watcher.cancel()
        on_stream("stdout", "\n")
        text = "\n".join(output)
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
