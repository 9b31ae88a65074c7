"""The bridge between the synchronous resolver (a worker thread) and the asynchronous
index client (the caller's event loop).

The resolver thread asks for a project page or a file's metadata and waits on a
``run_coroutine_threadsafe`` future; the loop never blocks. Ahead of the resolver's
needs the bridge fetches speculatively: when a project is named, its page, then the
metadata of its most likely candidate, then the pages of *that* candidate's
dependencies, and so on, so a cold plan costs a few round trips of depth rather than
one round trip per package.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Iterable
from typing import Any, Protocol, TypeVar

from ..errors import IndexTimeout, NotFound
from ..index import CoreMetadata, DistributionFile, IndexClient, ProjectPage

T = TypeVar("T")
DEFAULT_TIMEOUT = 120.0
# what a plan read: its pages by name, and each file whose metadata it read
Used = tuple[dict[str, ProjectPage], list[tuple[DistributionFile, CoreMetadata]]]


class Speculator(Protocol):
    """What the bridge needs to guess ahead (the factory implements it)."""

    def likely_files(self, page: ProjectPage) -> list[DistributionFile]: ...

    def likely_dependencies(self, name: str, metadata: CoreMetadata | None) -> list[str]: ...


class IndexBridge:
    """Per-plan access to an ``IndexClient`` from the resolver's thread."""

    def __init__(
        self,
        client: IndexClient,
        loop: asyncio.AbstractEventLoop,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.client = client
        self.loop = loop
        self.timeout = timeout
        self.speculator: Speculator | None = None
        # Loop side (touched only by coroutines and callbacks on ``loop``).
        self._page_tasks: dict[str, asyncio.Task[ProjectPage]] = {}
        self._metadata_tasks: dict[str, asyncio.Task[CoreMetadata]] = {}
        self._speculation: set[asyncio.Task[None]] = set()
        self._speculated: set[str] = set()
        self._narrowed: set[str] = set()  # name + specifier, guessed within (see below)
        # Resolver side (touched only by the resolver's thread).
        self._pages: dict[str, ProjectPage | BaseException] = {}
        self._looked_at: set[str] = set()  # prefetch: names already seen in memory
        self._metadata: dict[str, CoreMetadata] = {}
        self._metadata_files: dict[str, DistributionFile] = {}
        self.page_requests = 0
        self.metadata_requests = 0
        self.round_trips = 0  # resolver-side cache misses that went to the loop

    # -- loop side -----------------------------------------------------------------------
    def _page_task(self, name: str) -> asyncio.Task[ProjectPage]:
        task = self._page_tasks.get(name)
        if task is None:
            task = self.loop.create_task(self.client.get_project(name))
            task.add_done_callback(_quiet)
            self._page_tasks[name] = task
            self.page_requests += 1
        return task

    def _metadata_task(self, file: DistributionFile) -> asyncio.Task[CoreMetadata]:
        task = self._metadata_tasks.get(file.url)
        if task is None:
            task = self.loop.create_task(self.client.get_metadata(file))
            task.add_done_callback(_quiet)
            self._metadata_tasks[file.url] = task
            self.metadata_requests += 1
        return task

    async def _await_page(self, name: str) -> ProjectPage:
        return await asyncio.shield(self._page_task(name))

    async def _await_metadata(self, file: DistributionFile) -> CoreMetadata:
        return await asyncio.shield(self._metadata_task(file))

    def _speculate(self, names: Iterable[str]) -> None:
        for name in names:
            if name in self._speculated:
                continue
            self._speculated.add(name)
            task = self.loop.create_task(self._follow(name))
            self._speculation.add(task)
            task.add_done_callback(self._speculation.discard)

    def _speculate_files(self, files: Iterable[DistributionFile]) -> None:
        for file in files:
            self._metadata_task(file)

    async def _follow(self, name: str) -> None:
        """Page, likely metadata, then the same for its dependencies (never raises)."""
        speculator = self.speculator
        try:
            page = await self._await_page(name)
            if speculator is None:
                return
            files = speculator.likely_files(page)
            if not files:
                self._speculate(speculator.likely_dependencies(name, None))
                return
            for metadata in await asyncio.gather(*(self._await_metadata(f) for f in files)):
                self._speculate(speculator.likely_dependencies(name, metadata))
                self._speculate_narrowed(metadata)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: S110 - a guess that failed; the real request reports it
            pass

    def _speculate_narrowed(
        self, metadata: CoreMetadata, extras: frozenset[str] = frozenset()
    ) -> None:
        """For requirements that rule the newest release out or ask for extras (torch
        pins its CUDA libraries with ``==``, through a package's extras): the metadata
        of the newest release they allow, and what its extras need, so the resolver
        does not ask for those one round trip at a time."""
        narrowed = getattr(self.speculator, "likely_narrowed", None)
        if narrowed is None:
            return
        for name, specifier, wanted in narrowed(metadata.name, metadata, extras):
            key = f"{name}[{','.join(sorted(wanted))}]{specifier}"
            if key in self._narrowed:
                continue
            self._narrowed.add(key)
            task = self.loop.create_task(self._follow_within(name, specifier, wanted))
            self._speculation.add(task)
            task.add_done_callback(self._speculation.discard)

    async def _follow_within(self, name: str, specifier: Any, extras: frozenset[str]) -> None:
        """``_follow`` for the newest release ``specifier`` allows (never raises)."""
        within = getattr(self.speculator, "likely_file_within", None)
        try:
            page = await self._await_page(name)
            files = within(page, specifier) if within is not None else []
            for metadata in await asyncio.gather(*(self._await_metadata(f) for f in files)):
                assert self.speculator is not None
                self._speculate(self.speculator.likely_dependencies(name, metadata))
                self._speculate_narrowed(metadata, extras)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: S110 - a guess that failed; the real request reports it
            pass

    def cancel_speculation(self) -> None:
        """Stop guessing (call on the loop when the plan is done)."""
        for task in list(self._speculation):
            task.cancel()
        for md_task in self._metadata_tasks.values():
            if not md_task.done():
                md_task.cancel()

    # -- resolver side -------------------------------------------------------------------
    def _wait(self, coro: Coroutine[Any, Any, T], what: str) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(self.timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise IndexTimeout(f"The package index did not answer in time for {what}.") from exc

    def page(self, name: str) -> ProjectPage:
        """The project's page; raises NotFound for an unknown project."""
        found = self._pages.get(name)
        if found is None:
            found = self.client.peek_project(name)
        if found is None:
            self.round_trips += 1
            try:
                found = self._wait(self._await_page(name), name)
            except NotFound as exc:
                found = exc
        # kept whichever way it came (a prefetch may have answered first), so that
        # known_page sees every page the resolver used
        self._pages[name] = found
        if isinstance(found, BaseException):
            raise found
        return found

    def known_page(self, name: str) -> ProjectPage | None:
        """The page if the resolver thread already has it (no waiting)."""
        found = self._pages.get(name)
        return found if isinstance(found, ProjectPage) else None

    def metadata(self, file: DistributionFile) -> CoreMetadata:
        found = self._metadata.get(file.url) or self.client.peek_metadata(file)
        if found is None:
            self.round_trips += 1
            found = self._wait(self._await_metadata(file), file.filename)
        self._metadata[file.url] = found
        self._metadata_files[file.url] = file
        return found

    def used(self) -> Used | None:
        """Every page and metadata the resolver read, or None when one was missing (a
        project the index does not have: nothing to check a later plan against)."""
        pages: dict[str, ProjectPage] = {}
        for name, found in self._pages.items():
            if not isinstance(found, ProjectPage):
                return None
            pages[name] = found
        metadata = [(self._metadata_files[u], m) for u, m in self._metadata.items()]
        return pages, metadata

    def prefetch(self, names: Iterable[str]) -> None:
        """Start fetching (and following) these projects; returns at once.

        What the client already holds is followed here, in the resolver's thread: a
        name whose page and likely metadata are in memory goes on to its likely
        dependencies, and only those missing something are handed to the loop. A
        warm plan then never wakes the loop (each hand-off costs a thread switch,
        milliseconds under the GIL: it was most of a warm plan's time)."""
        wanted = self._missing([n for n in names if n not in self._pages])
        if wanted:
            self.loop.call_soon_threadsafe(self._speculate, wanted)

    def _missing(self, names: list[str]) -> list[str]:
        speculator = self.speculator
        if speculator is None:
            return names
        missing: list[str] = []
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in self._looked_at:
                continue
            self._looked_at.add(name)
            page = self.client.peek_project(name)
            if page is None:
                missing.append(name)
                continue
            try:
                files = speculator.likely_files(page)
                if not files:
                    todo.extend(speculator.likely_dependencies(name, None))
                    continue
                known = [self.client.peek_metadata(f) for f in files]
                if any(m is None for m in known):
                    missing.append(name)
                    continue
                for metadata in known:
                    todo.extend(speculator.likely_dependencies(name, metadata))
            except Exception:  # a guess that failed: let the loop's follower try
                missing.append(name)
        return missing

    def prefetch_files(self, files: Iterable[DistributionFile]) -> None:
        wanted = [f for f in files if f.url not in self._metadata]
        if wanted:
            self.loop.call_soon_threadsafe(self._speculate_files, wanted)


def _quiet(task: asyncio.Task[Any]) -> None:
    # A speculative request nobody waited for must not log "exception never retrieved".
    if not task.cancelled():
        task.exception()
