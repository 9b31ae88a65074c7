"""What one plan keeps for the next (resolver/memo.py), on the real loopback index:
a repeated plan is reused, and a changed environment or a changed index page never
gives the old plan."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from jupyter_envhelper.core import assess
from jupyter_envhelper.environment import Distribution, Environment
from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.plan import Plan
from jupyter_envhelper.resolver import plan_install
from jupyter_envhelper.resolver.memo import environment_key, memo_for
from tests.indexserver import DistSpec, IndexServer
from tests.indexserver.server import normalize
from tests.indexserver.wheels import build_dist

T = TypeVar("T")
LINUX = "manylinux_2_28_x86_64"
DISTS = [
    DistSpec("alpha", "1.0", requires_dist=("beta>=1.0",)),
    DistSpec("beta", "1.0"),
    DistSpec("beta", "1.5", requires_python=">=3.10"),
    DistSpec("other", "1.0"),
]


def target(python: str = "3.11") -> Environment:
    return Environment.synthetic(python_version=python, platform=LINUX)


def with_client(
    server: IndexServer, work: Callable[[IndexClient], Awaitable[T]], **options: Any
) -> T:
    async def run() -> T:
        config = IndexConfig(index_url=server.index_url)
        async with IndexClient(config, use_netrc=False, **options) as client:
            return await work(client)

    return asyncio.run(run())


def versions(plan: Plan) -> dict[str, str]:
    return {a.canonical_name: str(a.version) for a in plan.actions}


def test_a_repeated_plan_is_reused_without_asking_the_index() -> None:
    with IndexServer(DISTS) as server:

        async def work(client: IndexClient) -> tuple[Plan, Plan, int]:
            first = await plan_install(["alpha"], target(), client)
            asked = server.total_requests()
            second = await plan_install(["alpha"], target(), client)
            return first, second, server.total_requests() - asked

        first, second, asked = with_client(server, work)
    assert versions(first) == versions(second) == {"alpha": "1.0", "beta": "1.5"}
    assert second.stats["reused"] is True and "reused" not in first.stats
    assert second.stats["rounds"] == 0 and asked == 0
    # the caller gets its own lists: changing one plan leaves the kept one alone
    second.actions.clear()
    assert first.actions


def test_a_changed_environment_is_planned_afresh() -> None:
    with IndexServer(DISTS) as server:

        async def work(client: IndexClient) -> list[Plan]:
            env = target()
            plans = [await plan_install(["alpha"], env, client)]
            # beta 1.0 gets installed (a caller changes the same Environment object)
            env.distributions["beta"] = Distribution(name="beta", version="1.0")
            plans.append(await plan_install(["alpha"], env, client))
            # another Python: beta 1.5 needs 3.10
            plans.append(await plan_install(["alpha"], target("3.9"), client))
            return plans

        fresh, installed, older = with_client(server, work)
    assert versions(fresh) == {"alpha": "1.0", "beta": "1.5"}
    assert "reused" not in installed.stats
    beta = installed.action_for("beta")
    assert beta is not None and beta.kind == "keep" and beta.version == "1.0"
    assert "reused" not in older.stats and versions(older) == {"alpha": "1.0", "beta": "1.0"}


def test_a_page_read_again_is_planned_afresh() -> None:
    """A new release on the index: once the client reads the page again (here the
    page left its memory), the kept plan and releases are not used."""
    with IndexServer(DISTS) as server:

        async def work(client: IndexClient) -> list[Plan]:
            plans = [await plan_install(["alpha"], target(), client)]
            plans.append(await plan_install(["alpha"], target(), client))
            built = build_dist(DistSpec("beta", "2.0"))
            server.files[built.filename] = built
            server.projects[normalize("beta")].append(built)
            # the same page still in memory: the kept plan stands (nothing re-read)
            plans.append(await plan_install(["alpha"], target(), client))
            kept = client.max_pages
            client.max_pages = 0  # alpha's and beta's pages leave the client's memory
            await plan_install(["other"], target(), client)
            client.max_pages = kept
            plans.append(await plan_install(["alpha"], target(), client))
            return plans

        first, again, unchanged, after = with_client(server, work)
    assert again.stats.get("reused") and unchanged.stats.get("reused")
    assert versions(unchanged) == {"alpha": "1.0", "beta": "1.5"}
    assert "reused" not in after.stats
    assert versions(after) == {"alpha": "1.0", "beta": "2.0"}
    del first


def test_releases_are_kept_per_page_object_and_target() -> None:
    with IndexServer(DISTS) as server:

        async def work(client: IndexClient) -> None:
            env = target()
            await plan_install(["alpha"], env, client)
            memo = memo_for(client)
            from jupyter_envhelper.resolver.constraints import ResolverPolicy

            files = memo.file_filter(env, ResolverPolicy())
            page = client.peek_project("beta")
            assert page is not None
            kept = files.releases_of(page)
            assert files.releases_of(page) is kept  # the next plan's, for the same page
            assert [str(r.version) for r in kept if r.usable] == ["1.5", "1.0"]
            older = memo.file_filter(target("3.9"), ResolverPolicy())
            assert older is not files
            assert [str(r.version) for r in older.releases_of(page) if r.usable] == ["1.0"]
            assert memo.file_filter(env, ResolverPolicy(no_binary=frozenset({":all:"}))) is not (
                files
            )

        with_client(server, work)


def test_environment_key_follows_what_the_resolver_reads() -> None:
    env = target()
    key = environment_key(env)
    assert environment_key(target()) == key
    env.data["elapsed_ms"] = 12345  # the probe's own timing is no fact about the target
    assert environment_key(env) == key
    env.distributions["x"] = Distribution(name="x", version="1.0")
    changed = environment_key(env)
    assert changed != key
    env.distributions["x"] = Distribution(name="x", version="1.0", requires=("y",))
    assert environment_key(env) not in (key, changed)
    assert environment_key(target("3.12")) != key


def test_a_failed_backend_index_is_not_waited_for_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recommended PyTorch build's index did not answer: the next plan does not
    ask it again (nor wait for it) until BACKEND_RETRY has passed."""
    with IndexServer([DistSpec("other", "1.0")]) as server:

        async def work(client: IndexClient) -> list[Any]:
            found = [await assess._torch_page(client)]  # no torch on this index
            asked = server.total_requests()
            found.append(await assess._torch_page(client))
            found.append(server.total_requests() - asked)
            monkeypatch.setattr(assess, "BACKEND_RETRY", 0.0)
            found.append(await assess._torch_page(client))
            found.append(server.total_requests() - asked)
            return found

        first, second, asked, third, asked_later = with_client(server, work)
    assert first is None and second is None and third is None
    assert asked == 0 and asked_later > 0


def test_kept_plans_and_releases_keep_no_page_alive() -> None:
    """What the memo keeps is bounded by what the client keeps: a page the client let
    go of is freed, though a plan and its releases were kept."""
    with IndexServer(DISTS) as server:

        async def work(client: IndexClient) -> tuple[bool, Plan]:
            await plan_install(["alpha"], target(), client)
            page = client.peek_project("beta")
            assert page is not None
            gone = weakref.ref(page)
            del page
            kept = client.max_pages
            client.max_pages = 0
            await plan_install(["other"], target(), client)
            client.max_pages = kept
            gc.collect()
            freed = gone() is None  # while the client (and its memo) is still there
            # the kept plan of ["alpha"] is no longer valid: it is made afresh
            return freed, await plan_install(["alpha"], target(), client)

        freed, again = with_client(server, work)
    assert freed
    assert "reused" not in again.stats and versions(again) == {"alpha": "1.0", "beta": "1.5"}
