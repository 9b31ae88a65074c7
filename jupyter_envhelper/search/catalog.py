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
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..environment import Environment
from ..errors import EnvHelperError
from ..index import IndexClient
from . import SearchHit, SearchIndex, canonicalize
from .nameindex import NameIndex, start_build, store_path
from .nameindex import build as build_names

log = logging.getLogger(__name__)

FILL_BUDGET = 2.0  # seconds spent filling in versions/summaries of the top hits
FILL_TOP = 5
REMOTE_FIRST_WAIT = 1.0  # seconds a first query waits for a remote index's list


@dataclass
class _Entry:
    index: SearchIndex | None = None
    names: Container[str] = frozenset()
    built_at: float = 0.0  # time.time() of the list it was built from
    task: asyncio.Task[None] | None = None
    error: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    table: NameIndex | None = None


class Catalog:
    """``first_build_wait``: how long a first query waits for the list (then it is
    answered from the popular data, saying the full list is being built); at most
    ``REMOTE_FIRST_WAIT`` for a remote index with a disk cache.

    With a disk cache (the client's), the list is a persistent name index
    (``nameindex.py``) built by a separate process and opened by every later process
    in milliseconds; without one it is built in memory, as before."""

    def __init__(self, *, max_age: float = 6 * 3600, first_build_wait: float = 3.0) -> None:
        self.max_age = max_age
        self.first_build_wait = first_build_wait
        self._entries: dict[tuple[str, ...], _Entry] = {}
        self._popular_only: SearchIndex | None = None
        self._popular_lock = asyncio.Lock()
        self._preparing: asyncio.Future[SearchIndex] | None = None  # see prepare

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

    def prepare(self) -> None:
        """In a process that has built no catalog yet (a command line's), start reading
        the shipped popular data ``typosquat_check`` will fall back on (a few hundred
        ms): the caller goes on with other waits (probing its target) meanwhile."""
        if self._entries or self._popular_only is not None or self._preparing is not None:
            return
        self._preparing = asyncio.ensure_future(self._popular())
        self._preparing.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def typosquat_check(
        self, client: IndexClient, env: Environment | None
    ) -> Callable[[str], dict[str, Any] | None]:
        """``name -> warning JSON or None``, by the index's catalog (popular data while it
        loads); what the target has installed is never flagged.

        The checker reads the shipped popular table only, so a plan never waits for
        (nor starts fetching) the index's full project list for it."""
        entry = self._entries.get(tuple(client.index_urls))
        index = entry.index if entry is not None and entry.index is not None else None
        if index is None:
            index = await self._popular()
        installed = _installed(env)

        def check(name: str) -> dict[str, Any] | None:
            warning = index.typosquat.check(name, installed=installed)
            return warning.to_json() if warning is not None else None

        return check

    async def close(self) -> None:
        """Stop the list builds still running (the server is stopping): none is left
        pending on a closed event loop. A build's separate process carries on and
        leaves its name index for the next start."""
        tasks = [e.task for e in self._entries.values() if e.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for entry in self._entries.values():
            if entry.table is not None:
                entry.table.close()
                entry.table, entry.index = None, None

    # -- building ----------------------------------------------------------------------------

    async def _index_for(
        self, client: IndexClient, wait: float | None = None
    ) -> tuple[SearchIndex, Container[str], bool, str | None]:
        key = tuple(client.index_urls)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        store = _store_for(client)
        if entry.table is not None and entry.table.broken:  # damaged under us: rebuild
            entry.table.close()
            with contextlib.suppress(OSError):
                entry.table.path.unlink()
            entry.index, entry.table, entry.names = None, None, frozenset()
        if entry.index is None and store is not None:
            await self._open(entry, store)
        running = entry.task is not None and not entry.task.done()
        if entry.index is None:
            if not running:
                entry.done.clear()
                entry.task = asyncio.ensure_future(self._build(client, entry, store))
            limit = self.first_build_wait if wait is None else wait
            if store is not None and _remote(client.index_urls):
                # a remote list is built by another process in seconds to a minute:
                # waiting longer than this only delays the answer that says so
                limit = min(limit, REMOTE_FIRST_WAIT)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(entry.done.wait()), limit)
        elif time.time() - entry.built_at > self.max_age and not running:
            entry.task = asyncio.ensure_future(self._build(client, entry, store))
        if entry.index is not None:
            return entry.index, entry.names, True, None
        note = (
            f"The index's project list could not be read ({entry.error}); "
            "only well-known packages are searched."
            if entry.error
            else "The index's full project list is being built (the first time takes a "
            "few seconds); only well-known packages are searched for now."
        )
        return await self._popular(), frozenset(), False, note

    async def _open(self, entry: _Entry, store: Path) -> bool:
        table = await asyncio.to_thread(NameIndex.open, store)
        if table is None:
            return False
        index = await asyncio.to_thread(SearchIndex, (), table=table)
        if entry.table is not None and entry.table is not table:
            entry.table.close()
        # ``names`` says what the index has: the table, not the popular names searched too
        entry.index, entry.table, entry.names = index, table, table
        entry.built_at, entry.error = table.built_at, None
        return True

    async def _build(self, client: IndexClient, entry: _Entry, store: Path | None) -> None:
        try:
            if store is not None:
                await self._build_persistent(client, entry, store)
                return
            names: list[str] = []
            for url in client.index_urls:
                names.extend(await client.project_list(url))
            index, known = await asyncio.to_thread(_build_index, names)
            entry.index, entry.names = index, known
            entry.built_at, entry.error = time.time(), None
        except EnvHelperError as exc:
            entry.error = exc.message
            log.warning("envhelper: cannot build the search catalog: %s", exc.message)
        finally:
            entry.done.set()

    async def _build_persistent(self, client: IndexClient, entry: _Entry, store: Path) -> None:
        config = client.config
        cache = client.http_cache_dir
        request = {
            "index_url": config.index_url,
            "extra_index_urls": list(config.extra_index_urls),
            "find_links": list(config.find_links),
            "no_index": config.no_index,
            "http_cache": str(cache) if cache is not None else None,
            "key_urls": list(client.index_urls),
            "timeout": client.download_timeout or 120.0,
            "page_freshness": client.page_freshness,
        }
        if not _remote(client.index_urls):
            # a local index's list is small: a thread (its own loop and client)
            await asyncio.to_thread(build_names, store, request)
        else:
            # a remote one may be PyPI's 50 MB: a separate process, so this one never
            # holds it, and a command that started it may exit before it is done
            proc = start_build(store, request)
            if proc is None:
                entry.error = "the process that builds the name index could not be started"
                return
            while proc.poll() is None:
                await asyncio.sleep(0.2)
            if proc.returncode != 0:
                text = (proc.stderr.read() if proc.stderr else b"").decode("utf-8", "replace")
                lines = text.strip().splitlines()
                entry.error = lines[-1] if lines else f"the builder exited with {proc.returncode}"
                log.warning("envhelper: cannot build the name index: %s", entry.error)
                return
        await self._open(entry, store)

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


def _remote(index_urls: list[str]) -> bool:
    """Any index over the network (not a file, not this machine)?"""
    for url in index_urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname not in _LOOPBACK:
            return True
    return False


_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _store_for(client: IndexClient) -> Path | None:
    """Where this client's name index is kept: next to its HTTP cache; None without one."""
    cache = client.http_cache_dir
    if cache is None:
        return None
    return store_path(Path(cache).parent / "names", client.index_urls)


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


def _hit_json(hit: SearchHit, names: Container[str] | None) -> dict[str, Any]:
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
    # newest first, by version: a lazy page makes only the files of the release shown
    for latest in page.all_versions():
        finals = [f for f in page.files_for(latest) if not f.yanked]
        if finals and not latest.is_prerelease:
            break
    else:
        return
    hit["version"] = str(latest)
    if hit["summary"] is None:
        files = sorted(finals, key=lambda f: (f.kind != "wheel", f.filename))
        try:
            meta = await client.get_metadata(files[0])
        except EnvHelperError:
            return
        hit["summary"] = meta.summary
