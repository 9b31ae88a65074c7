"""How many plans resolve at once: fewer than the event loop's default executor has
threads.

A plan's resolver runs in a worker thread of the loop's default executor and waits
there for the index client, which works on the loop. The loop in turn needs that same
executor for some of its own steps (``getaddrinfo`` for every new connection, among
others). With as many plans at once as the executor has threads (a mistyped name
planned for every kernel is enough on a small machine), every thread waited for the
loop, the loop waited for a thread, and every plan stalled until its timeout. So
plans take a slot first; there are always threads left over.

A slot is given back when the resolution really ends, not when its caller stops
waiting (a plan past ``plan_timeout``): the resolver's thread runs on until its own
wait ends, and it still holds an executor thread until then.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# concurrent.futures.ThreadPoolExecutor's default size, which asyncio's default
# executor uses (Python 3.8+)
DEFAULT_EXECUTOR_THREADS = min(32, (os.cpu_count() or 1) + 4)
SPARE_THREADS = 2


class PlanSlots:
    """``await slots.run(resolution)``; one semaphore per loop."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size or max(1, DEFAULT_EXECUTOR_THREADS - SPARE_THREADS)
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._by_loop = weakref.WeakKeyDictionary()
        self._running: set[asyncio.Task[Any]] = set()

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """``work`` once a slot is free; the slot is held until ``work`` has ended,
        even when the caller is cancelled first."""
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.size)
        try:
            await semaphore.acquire()
        except BaseException:
            work.close()  # never started
            raise
        task = loop.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(lambda done: _release(semaphore, done))
        return await asyncio.shield(task)

    async def close(self) -> None:
        """Stop the resolutions still running on this loop (the core is closing)."""
        loop = asyncio.get_running_loop()
        here = [t for t in self._running if t.get_loop() is loop and not t.done()]
        for task in here:
            task.cancel()
        if here:
            await asyncio.gather(*here, return_exceptions=True)


def _release(semaphore: asyncio.Semaphore, task: asyncio.Task[Any]) -> None:
    semaphore.release()
    if not task.cancelled():
        task.exception()  # retrieved: a caller that stopped waiting is not told twice
