"""The magic's background: a private event loop thread and the core objects living on it.

ipykernel runs its own asyncio loop in the kernel's main thread, so the magic cannot
``asyncio.run`` there. ``LoopThread`` owns one event loop in a daemon thread for the
life of the extension; ``KernelCore`` (the service, the job runner and ``Installs``,
the same objects the server builds) is created on it, so the index clients' connections
and the runner's jobs stay bound to that loop. The main thread submits coroutines and
blocks on their futures (``LoopThread.run``), draining progress while it waits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .service import EnvHelperService, _same_file

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


class KernelService(EnvHelperService):
    """The service whose default target, with no kernel named, is this interpreter."""

    async def resolve_environment(
        self, *, kernel: str | None = None, kernel_id: str | None = None
    ) -> Any:
        if kernel or kernel_id:
            return await super().resolve_environment(kernel=kernel, kernel_id=kernel_id)
        return await self.prober.probe(sys.executable, env=dict(os.environ))


class KernelCore:
    """Service, job runner and Installs of this kernel; built and used on the loop."""

    def __init__(self) -> None:
        from jupyter_client.kernelspec import KernelSpecManager

        from .installing import Installs, default_history_path
        from .jobs import JobConfig, JobRunner
        from .probing import Prober
        from .service import IndexSettings

        prober = Prober()
        self.service = KernelService(
            kernel_spec_manager=KernelSpecManager(),
            prober=prober,
            index_settings=IndexSettings(cache_dir=str(prober.cache_dir)),
        )
        runner = JobRunner(JobConfig(history_path=default_history_path()), prober=prober)
        self.installs = Installs(self.service, runner, read_only=False)

    async def environment(self) -> Any:
        return await self.service.resolve_environment()

    async def client(self) -> tuple[Any, Any]:
        env = await self.environment()
        return env, self.service.index_client(env)

    async def own_kernel_name(self) -> str | None:
        """The kernelspec that starts this interpreter, if there is one."""
        for target in await self.service.kernel_targets():
            if target.interpreter and _same_file(target.interpreter, sys.executable):
                return str(target.name)
        return None

    async def plan(
        self,
        requirements: list[str],
        *,
        pre: bool = False,
        upgrade: bool = False,
        modules: frozenset[str] | None = None,
        suggest: bool = True,
    ) -> dict[str, Any]:
        """``make_plan`` for this interpreter, wired like the server's ``plan``."""
        from .planning import make_plan

        env, client = await self.client()
        typosquat = await self.service.catalog.typosquat_check(client, env)
        own = await self.own_kernel_name()

        async def suggestions() -> list[dict[str, Any]]:
            return await self.service.kernel_suggestions(requirements, exclude=own)

        answer = await make_plan(
            requirements,
            env,
            client,
            allow_prereleases=pre,
            upgrade=upgrade,
            kernel=own,
            imported_modules=modules,
            typosquat=typosquat,
            suggest=suggestions if suggest else None,
        )
        return {"schema": 1, **answer.to_json()}

    async def run_job(
        self, request: dict[str, Any], sink: Sink
    ) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
        """Start a job through ``Installs`` (the server's path) and follow it to its end.

        ``sink(fraction, phase, message)`` gets each progress event (on this loop).
        Returns the job document and the import names of each distribution before it.
        """
        env = await self.environment()
        tops = {name: dist.top_level for name, dist in env.distributions.items()}
        answer = await self.installs.submit(kernel=None, kernel_id=None, **request)
        job_id = int(answer["job"]["id"])
        job = self.installs.runner.get(job_id)
        try:
            async for event in job.events():
                if event.line is None:
                    fraction = self.installs.view(job_id)["progress"]["fraction"]
                    sink(fraction, event.phase, event.message)
            await job.wait()
        except asyncio.CancelledError:  # the cell was interrupted: stop the installer too
            self.installs.runner.cancel(job_id)
            raise
        return self.installs.view(job_id), tops

    async def close(self) -> None:
        await self.installs.runner.close()
        await self.service.close()
