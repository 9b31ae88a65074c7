"""The searchable catalog of each package index a target uses.

A ``SearchIndex`` over an index's whole project list (PyPI's is ~700,000 names
and several seconds to fetch and build) is made off the event loop, kept, and
rebuilt in the background when it is older than ``max_age``. Until the first
build is done, queries are answered from the shipped popular-project data and
say so (``complete: False``), so the first keystroke never waits for a list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from ..environment import Environment
from ..errors import EnvHelperError
from ..index import IndexClient
from . import SearchHit, SearchIndex, canonicalize

log = logging.getLogger(__name__)

FILL_BUDGET = 2.0  # seconds spent filling in versions/summaries of the top hits
FILL_TOP = 5


@dataclass
class _Entry:
    index: SearchIndex | None = None
    names: frozenset[str] = frozenset()
    built_at: float = 0.0
    task: asyncio.Task[None] | None = None
    error: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Catalog:
    def __init__(self, *, max_age: float = 6 * 3600, first_build_wait: float = 3.0) -> None:
        self.max_age = max_age
        self.first_build_wait = first_build_wait
        self._entries: dict[tuple[str, ...], _Entry] = {}
        self._popular_only: SearchIndex | None = None
        self._popular_lock = asyncio.Lock()

    async def search(
        self,
        client: IndexClient,
        query: str,
        env: Environment | None,
        *,
        limit: int = 20,
        wait: float | None = None,
    ) -> dict[str, Any]:
        """``wait``: how long a first query may wait for the full catalog (default: brief)."""
        index, names, complete, note = await self._index_for(client, wait)
        installed = _installed(env)
        hits = index.search(
            query, installed=installed, import_names=_import_names(env), limit=limit
        )
        payload = [_hit_json(hit, names if complete else None) for hit in hits]
        await _fill_in(client, payload)
        return {
            "query": query,
            "complete": complete,
            "note": note,
            "hits": payload,
        }

    async def typosquat_check(
        self, client: IndexClient, env: Environment | None
    ) -> Callable[[str], dict[str, Any] | None]:
        """``name -> warning JSON or None``, by the index's catalog (popular data while it
        loads); what the target has installed is never flagged."""
        index, _, _, _ = await self._index_for(client)
        installed = _installed(env)

        def check(name: str) -> dict[str, Any] | None:
            warning = index.typosquat.check(name, installed=installed)
            return warning.to_json() if warning is not None else None

        return check

    # -- building ----------------------------------------------------------------------------

    async def _index_for(
        self, client: IndexClient, wait: float | None = None
    ) -> tuple[SearchIndex, frozenset[str], bool, str | None]:
        key = tuple(client.index_urls)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
            entry.task = asyncio.ensure_future(self._build(client, entry))
        if entry.index is None and not entry.done.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(entry.done.wait()),
                    self.first_build_wait if wait is None else wait,
                )
        elif (
            entry.index is not None
            and time.monotonic() - entry.built_at > self.max_age
            and (entry.task is None or entry.task.done())
        ):
            entry.task = asyncio.ensure_future(self._build(client, entry))
        if entry.index is not None:
            return entry.index, entry.names, True, None
        note = (
            f"The index's project list could not be read ({entry.error}); "
            "only well-known packages are searched."
            if entry.error
            else "The index's full project list is still loading; "
            "only well-known packages are searched for now."
        )
        return await self._popular(), frozenset(), False, note

    async def _build(self, client: IndexClient, entry: _Entry) -> None:
        try:
            names: list[str] = []
            for url in client.index_urls:
                names.extend(await client.project_list(url))
            index, known = await asyncio.to_thread(_build_index, names)
            entry.index, entry.names = index, known
            entry.built_at, entry.error = time.monotonic(), None
        except EnvHelperError as exc:
            entry.error = exc.message
            log.warning("envhelper: cannot build the search catalog: %s", exc.message)
        finally:
            entry.done.set()

    @staticmethod
    def warm_up() -> None:
        """Build the structures of the shipped popular data (about a second), e.g. at start."""
        from .index import warm_up

        warm_up()

    async def _popular(self) -> SearchIndex:
        async with self._popular_lock:
            if self._popular_only is None:
                self._popular_only = await asyncio.to_thread(SearchIndex, ())
            return self._popular_only


def _build_index(names: list[str]) -> tuple[SearchIndex, frozenset[str]]:
    """Seconds of CPU for a big index: run in a worker thread, never on the loop."""
    return SearchIndex(names), frozenset(canonicalize(n) for n in names)


def _installed(env: Environment | None) -> dict[str, str]:
    if env is None:
        return {}
    return {name: dist.version for name, dist in env.distributions.items()}


def _import_names(env: Environment | None) -> dict[str, list[str]] | None:
    if env is None:
        return None
    out: dict[str, list[str]] = {}
    for dist in env.distributions.values():
        for top in dist.top_level:
            out.setdefault(top, []).append(dist.name)
    return out


def _hit_json(hit: SearchHit, names: frozenset[str] | None) -> dict[str, Any]:
    doc = hit.to_json()
    doc["on_index"] = None if names is None else hit.canonical_name in names
    return doc


async def _fill_in(client: IndexClient, hits: list[dict[str, Any]]) -> None:
    """Latest version (and summary) of the top hits the shipped data knows nothing of."""
    todo = [h for h in hits[:FILL_TOP] if h["version"] is None and h["on_index"] is not False]
    if not todo:
        return
    tasks = [asyncio.ensure_future(_fill_one(client, h)) for h in todo]
    _, pending = await asyncio.wait(tasks, timeout=FILL_BUDGET)
    for task in pending:
        task.cancel()


async def _fill_one(client: IndexClient, hit: dict[str, Any]) -> None:
    try:
        page = await client.get_project(hit["name"])
    except EnvHelperError:
        hit["on_index"] = False if hit["on_index"] is None else hit["on_index"]
        return
    hit["on_index"] = True
    finals = []
    for file in page.files:
        try:
            version = Version(str(file.version))
        except InvalidVersion:
            continue
        if not file.yanked and not version.is_prerelease:
            finals.append((version, file))
    if not finals:
        return
    latest, _ = max(finals, key=lambda vf: vf[0])
    hit["version"] = str(latest)
    if hit["summary"] is None:
        files = sorted(
            (f for v, f in finals if v == latest), key=lambda f: (f.kind != "wheel", f.filename)
        )
        try:
            meta = await client.get_metadata(files[0])
        except EnvHelperError:
            return
        hit["summary"] = meta.summary
