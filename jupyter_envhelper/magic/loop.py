"""The magic's data layer: the one core, on a private event loop, aimed at this kernel.

ipykernel runs its own asyncio loop in the kernel's main thread, so the magic cannot
``asyncio.run`` there. ``LoopThread`` owns one event loop in a daemon thread for the
life of the extension; ``KernelSession`` builds the core there (``build_core``, the
same object graph as the server and the command line, with the same configuration),
so the index clients' connections and the runner's jobs stay bound to that loop. The
main thread submits coroutines and blocks on their futures (``LoopThread.run``),
draining progress while it waits. Every ``KernelSession`` method returns the core's
document, unchanged: the magic only renders it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..core import Core, CoreConfig, JobRequest, PlanOptions, Target, build_core

T = TypeVar("T")
Sink = Callable[[Any, str, "str | None"], None]


class LoopThread:
    """A private asyncio loop in a daemon thread; IndexClient and JobRunner live on it."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="envhelper-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        drain: Callable[[], None] | None = None,
        timeout: float | None = None,
    ) -> T:
        """Block this (main) thread until ``coro`` is done, calling ``drain`` meanwhile.

        After ``timeout`` seconds the coroutine is cancelled (not waited for) and
        ``TimeoutError`` raised; Ctrl-C (interrupt the kernel) cancels it too.
        """
        future = self.submit(coro)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                try:
                    result = future.result(timeout=0.1)
                except concurrent.futures.TimeoutError:
                    if drain is not None:
                        drain()
                    if deadline is not None and time.monotonic() > deadline:
                        future.cancel()
                        raise TimeoutError(f"no answer within {timeout:.0f} seconds") from None
                    continue
                if drain is not None:
                    drain()
                return result
        except KeyboardInterrupt:
            future.cancel()
            raise

    def stop(self, cleanup: Coroutine[Any, Any, Any] | None = None) -> None:
        if self._loop is None:
            if cleanup is not None:
                cleanup.close()
            return
        loop, thread = self._loop, self._thread
        if cleanup is not None:
            with contextlib.suppress(Exception):  # best effort at unload
                asyncio.run_coroutine_threadsafe(cleanup, loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        self._loop = self._thread = None


class KernelSession:
    """The core's documents for this interpreter, from the kernel's main thread."""

    def __init__(self, target: Target | None = None) -> None:
        self.loop = LoopThread()
        self.target = target or Target.this_interpreter()  # another target: tests only
        self._core: Core | None = None

    async def core(self) -> Core:
        """The core, built on the loop on first use."""
        if self._core is None:
            self._core = build_core(CoreConfig.from_jupyter_config())
        return self._core

    def run(
        self,
        use: Callable[[Core], Coroutine[Any, Any, T]],
        drain: Callable[[], None] | None = None,
        timeout: float | None = None,
    ) -> T:
        async def call() -> T:
            return await use(await self.core())

        return self.loop.run(call(), drain, timeout)

    # -- the documents ---------------------------------------------------------------------

    def environment(self) -> dict[str, Any]:
        return self.run(lambda core: core.environment(self.target))

    def search(self, query: str, *, index_url: str | None = None) -> dict[str, Any]:
        return self.run(lambda core: core.search(query, self.target, index_url=index_url))

    def package(self, name: str, *, index_url: str | None = None) -> dict[str, Any]:
        return self.run(lambda core: core.package(name, self.target, index_url=index_url))

    def plan(self, requirements: list[str], options: PlanOptions) -> dict[str, Any]:
        return self.run(lambda core: core.plan(self.target, requirements, options))

    def plan_uninstall(self, names: list[str]) -> dict[str, Any]:
        return self.run(lambda core: core.plan_uninstall(self.target, names))

    def kernel_suggestions(
        self, requirements: list[str], *, index_url: str | None = None
    ) -> dict[str, Any]:
        """Every kernelspec, this kernel's own included ("which kernels have it?")."""
        return self.run(
            lambda core: core.kernel_suggestions(requirements, target=None, index_url=index_url)
        )

    def history(self) -> dict[str, Any]:
        return self.run(lambda core: core.history(self.target))

    def undo_preview(self, job_id: int | None, *, index_url: str | None = None) -> dict[str, Any]:
        return self.run(lambda core: core.undo_preview(self.target, job_id, index_url=index_url))

    def rescue(
        self, module: str, *, index_url: str | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        budget = 3.0 if timeout is None else max(1.0, timeout / 3)
        return self.run(
            lambda core: core.rescue(module, self.target, wait=budget, index_url=index_url),
            timeout=timeout,
        )

    def export(
        self, fmt: str, *, only_requested: bool = False, index_url: str | None = None
    ) -> dict[str, Any]:
        return self.run(
            lambda core: core.export(
                self.target, fmt, only_requested=only_requested, index_url=index_url
            )
        )

    # -- jobs ------------------------------------------------------------------------------

    async def follow(self, request: JobRequest, sink: Sink) -> dict[str, Any]:
        """Start a job and follow it to its end, on the loop; the final job document.

        ``sink(fraction, phase, message)`` gets each progress event (on the loop).
        """
        core = await self.core()
        started = await core.start_job(self.target, request)
        job_id = int(started["job"]["id"])
        try:
            async for event in core.job_events(job_id):
                if event["type"] == "progress":
                    fraction = core.job(job_id)["job"]["progress"]["fraction"]
                    sink(fraction, event["phase"], event.get("message"))
            return await core.wait_job(job_id)
        except asyncio.CancelledError:  # the cell was interrupted: stop the installer too
            core.cancel_job(job_id)
            raise

    def run_job(
        self, request: JobRequest, sink: Sink, drain: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        return self.loop.run(self.follow(request, sink), drain)

    def start_job(
        self, request: JobRequest, sink: Sink
    ) -> concurrent.futures.Future[dict[str, Any]]:
        """``follow`` in the background (the widgets' Confirm button)."""
        return self.loop.submit(self.follow(request, sink))

    def close(self) -> None:
        core, self._core = self._core, None
        self.loop.stop(core.close() if core is not None else None)
