"""One index client per index configuration, shared by every request of a process.

Which indexes a target uses: an explicit URL given with the request (the command
line's and the magic's ``--index-url``), else the configured ``index_url`` /
``extra_index_urls``, else the target's own pip/uv configuration, else PyPI
(``index.resolve_index_config``). Clients are kept, so their connections and caches
serve the next request.
"""

from __future__ import annotations

import os
from typing import Any

from ..environment import Environment
from ..index import IndexClient, resolve_index_config
from .config import CoreConfig


class IndexPool:
    def __init__(self, config: CoreConfig) -> None:
        self.config = config
        self._clients: dict[tuple[Any, ...], IndexClient] = {}

    def client(self, env: Environment | None, *, index_url: str | None = None) -> IndexClient:
        config = self.config
        index = resolve_index_config(
            (env.data.get("index") if env is not None else None) or None,
            index_url=index_url or config.index_url or None,
            extra_index_urls=config.extra_index_urls,
            strategy=config.index_strategy,
        )
        key = (index.search_order, index.strategy)
        client = self._clients.get(key)
        if client is None:
            http_cache = os.path.join(config.resolved_cache_dir, "http")
            client = IndexClient(index, cache_dir=http_cache, timeout=config.index_timeout)
            self._clients[key] = client
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
