"""One index client per index configuration, shared by every request of a process.

Which indexes a target uses: an explicit URL given with the request (the command
line's and the magic's ``--index-url``), else the configured ``index_url`` /
``extra_index_urls``, else the target's own pip/uv configuration, else PyPI
(``index.resolve_index_config``). Clients are kept, so their connections and caches
serve the next request.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import replace
from typing import Any

from ..environment import Environment
from ..index import IndexClient, IndexConfig, resolve_index_config
from ..index.config import PYPI_SIMPLE, environment_installer, ssl_context_from_env
from ..index.local import LocalIndexClient
from .config import CoreConfig, index_url_problem


class IndexPool:
    def __init__(self, config: CoreConfig, *, bulk_helper: bool = False) -> None:
        self.config = config
        self.bulk_helper = bulk_helper  # see IndexClient: a command line's pool
        self._clients: dict[tuple[Any, ...], IndexClient] = {}
        self._usable: set[str] = set()  # index URLs given with requests, checked once
        self._lock = threading.Lock()  # ``client`` is called from worker threads too
        self._prewarmed = False  # once per pool: each call starts a thread

    def prewarm(self, index_url: str | None = None) -> None:
        """In a process with no client yet (a command line's), start connecting to the
        index a plan will most likely read (``index_url``, else the configured one,
        else PyPI and its file host) while the caller does something else: the
        target's own configuration is only known once it is probed."""
        if self._clients or self._prewarmed:  # once: concurrent first plans too
            return
        self._prewarmed = True
        if index_url and index_url_problem(index_url, "--index-url") is not None:
            index_url = None  # refused when the plan asks: not connected to either
        url = index_url or self.config.index_url or PYPI_SIMPLE

        def connect() -> None:
            # the HTTP modules are imported here too, while the caller probes; a
            # command line may have started this already (probe/early.py)
            from ..index.threaded import connect_ahead

            connect_ahead(url, verify=ssl_context_from_env)

        threading.Thread(target=connect, name="envhelper-prewarm", daemon=True).start()

    async def client_off_loop(
        self,
        env: Environment | None,
        *,
        index_url: str | None = None,
        first_index: str | None = None,
    ) -> IndexClient:
        """``client``, in a worker thread: a new client loads a CA bundle into an SSL
        context (tens of milliseconds), and the configuration is read from the probe's
        facts; neither may stall the server's event loop."""
        return await asyncio.to_thread(
            self.client, env, index_url=index_url, first_index=first_index
        )

    def client(
        self,
        env: Environment | None,
        *,
        index_url: str | None = None,
        first_index: str | None = None,
    ) -> IndexClient:
        """``first_index``: an index the core chose (a PyTorch backend) asked before
        the others, so first-match takes torch and its family from it."""
        config = self.config
        if index_url and index_url not in self._usable:
            problem = index_url_problem(index_url, "--index-url")
            if problem is not None:
                raise problem
            with self._lock:
                self._usable.add(index_url)
        index = resolve_index_config(
            (env.data.get("index") if env is not None else None) or None,
            index_url=index_url or config.index_url or None,
            extra_index_urls=config.extra_index_urls,
            strategy=config.index_strategy,
            installer=environment_installer(env.data) if env is not None else "pip",
        )
        if first_index:
            index = replace(index, extra_index_urls=(first_index, *index.extra_index_urls))
        # The target's installer settings (constraints, find-links, binary policy) are
        # part of the key: two kernels with other pip.conf files get other clients.
        key = (index.search_order, index.strategy, index.find_links, index.no_index,
               index.installer)  # fmt: skip
        with self._lock:  # one client per key, whichever thread asks first
            return self._client_for(key, index)

    def _client_for(self, key: tuple[Any, ...], index: IndexConfig) -> IndexClient:
        config = self.config
        client = self._clients.get(key)
        if client is None:
            http_cache = os.path.join(config.resolved_cache_dir, "http")
            client = LocalIndexClient(
                index,
                cache_dir=http_cache,
                timeout=config.index_timeout,
                # the whole request, not only the gaps between bytes: a slow-drip
                # answer must not hold a plan for longer than the setting says
                total_timeout=config.index_timeout,
                download_timeout=config.plan_timeout,
                bulk_helper=self.bulk_helper,
            )
            self._clients[key] = client
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
