"""The bridge guesses ahead along pinned and extra requirements too.

Against the loopback index: ``top`` pins ``pinned==1.0`` (2.0 is newer) and asks for
``kit[gpu]==1.0``, whose ``gpu`` extra pins ``lib==1.0``. Following only the newest
releases would fetch ``pinned 2.0`` and ``kit 2.0`` and never ``lib``, leaving the
resolver to ask for each one round trip at a time; the bridge must have asked for the
releases the pins allow, and what their extras need, before the resolver does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from jupyter_envhelper.environment import Environment
from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.resolver.factory import Factory
from jupyter_envhelper.resolver.fetching import IndexBridge
from tests.indexserver import IndexServer
from tests.indexserver.wheels import DistSpec

pytest_plugins = ("tests.indexserver.fixtures",)

DISTS = (
    DistSpec("top", "1.0", requires_dist=("pinned==1.0", "kit[gpu]==1.0")),
    DistSpec("pinned", "1.0", requires_dist=("leaf",)),
    DistSpec("pinned", "2.0"),
    DistSpec("kit", "1.0", extras=("gpu",), requires_dist=('lib==1.0; extra == "gpu"',)),
    DistSpec("kit", "2.0"),
    DistSpec("lib", "1.0"),
    DistSpec("lib", "2.0"),
    DistSpec("leaf", "1.0"),
)


def test_pinned_and_extra_requirements_are_fetched_ahead(
    index_server: Callable[..., IndexServer],
) -> None:
    server = index_server(DISTS)

    async def go() -> set[str]:
        env = Environment.synthetic(python_version="3.12", platform="manylinux_2_28_x86_64")
        async with IndexClient(IndexConfig(index_url=server.index_url), use_netrc=False) as client:
            bridge = IndexBridge(client, asyncio.get_running_loop())
            bridge.speculator = Factory(env, bridge)
            bridge.prefetch(["top"])
            await asyncio.sleep(0)
            while bridge._speculation:  # every guess followed to its end
                await asyncio.gather(*list(bridge._speculation), return_exceptions=True)
            return {url.rsplit("/", 1)[-1] for url in bridge._metadata_tasks}

    fetched = asyncio.run(go())
    assert "pinned-1.0-py3-none-any.whl" in fetched  # the pin, not only the newest
    assert "kit-1.0-py3-none-any.whl" in fetched
    assert "lib-1.0-py3-none-any.whl" in fetched  # what kit's gpu extra pins
    assert "leaf-1.0-py3-none-any.whl" in fetched  # and on, from the pinned release
