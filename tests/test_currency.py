"""Keeping an environment current, through the core: outdated, why, updates as plans.

Real parts: a uv venv filled from the loopback index (``currency_fixtures``), the one
core (``build_core``), real jobs with the real installer, the real history and undo.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from jupyter_envhelper.core import Core, CoreConfig, JobRequest, Target, build_core
from jupyter_envhelper.errors import BadRequest, NotFound
from jupyter_envhelper.probe import Prober
from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)
from tests.currency_fixtures import CURRENCY_DISTS, make_env
from tests.indexserver.server import IndexServer


@pytest.fixture
def index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(CURRENCY_DISTS)
    return server


@pytest.fixture
def python(
    venv_factory: VenvFactory,  # noqa: F811
    index: IndexServer,
    tmp_path: Path,
    request: Any,
) -> Path:
    unique = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]
    return make_env(venv_factory, f"currency-{unique}", index, tmp_path)


@pytest.fixture
def config(tmp_path: Path, index: IndexServer) -> CoreConfig:
    return CoreConfig(
        cache_dir=str(tmp_path / "cache"),
        history_path=str(tmp_path / "history.sqlite"),
        index_url=index.index_url,
        extra_index_urls=(),
        installer="uv",
    )


@asynccontextmanager
async def opened(config: CoreConfig) -> AsyncIterator[Core]:
    built = build_core(config)
    try:
        yield built
    finally:
        await built.close()


def rows(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["canonical_name"]: r for r in doc["packages"]}


async def installed(python: Path, tmp_path: Path) -> dict[str, str]:
    env = await Prober(tmp_path / "fresh-probe").probe(str(python))
    return {name: d.version for name, d in env.distributions.items()}


async def wait(core: Core, started: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = (await core.wait_job(int(started["job"]["id"])))["job"]
    assert done["state"] == "succeeded", done
    return done


# -- outdated ---------------------------------------------------------------------------


async def test_outdated_reports_the_newest_and_the_newest_that_fits(
    config: CoreConfig, python: Path, index: IndexServer
) -> None:
    async with opened(config) as core:
        index.reset_stats()
        doc = await core.outdated(Target(python=str(python)))
        found = rows(doc)
        numx = found["numx"]
        # the newest release breaks pands; 1.5 is the newest that fits
        assert (numx["installed"], numx["latest"], numx["fit"]) == ("1.0", "2.0", "1.5")
        assert numx["status"] == "update"
        assert [b["name"] for b in numx["blocked"]] == ["pands"]
        assert "would break pands 1.0 (needs numx<2)" in numx["message"]
        assert "1.5 is the newest that fits" in numx["message"]
        # yanked 2.1 and the pre-release 3.0a1 are not updates, nor "newest"
        assert "2.1" not in numx["message"] and "3.0a1" not in numx["message"]
        assert found["tools"]["status"] == "update" and found["tools"]["fit"] == "1.1"
        # releases this kernel cannot use are no updates and hold nothing back (pip and
        # uv do not list them either); the row says why
        needsnew, winonly = found["needsnew"], found["winonly"]
        assert (needsnew["status"], needsnew["latest"], needsnew["fit"]) == ("current", "2.0", None)
        assert needsnew["blocked"][0]["kind"] == "python"
        assert "newest this kernel can use; 2.0 needs Python >=3.99" in needsnew["message"]
        assert (winonly["status"], winonly["latest"]) == ("current", "2.0")
        assert winonly["blocked"][0]["kind"] == "platform"
        assert doc["held_back"] == 0
        assert found["pands"]["status"] == "current" and found["top"]["status"] == "current"
        assert found["base"]["fit"] == "1.1"
        assert doc["outdated"] == 3  # numx, tools, base
        # only project pages were read: no metadata, no files
        paths = [p for _, p, _ in index.log]
        assert paths and all(p.startswith("/simple/") and p.endswith("/") for p in paths), paths
        assert doc["pages"] == len(found) - sum(r["status"] == "unmanaged" for r in found.values())


async def test_an_html_index_gives_the_same_rows_as_a_json_one(
    config: CoreConfig, python: Path, index_server: Any
) -> None:
    """The JSON pages are read in part (the newer releases only), an HTML page in
    full: the same answer either way."""
    from dataclasses import replace

    html = index_server(CURRENCY_DISTS, html_only=True)
    target = Target(python=str(python))
    async with opened(config) as core:
        by_json = await core.outdated(target)
    async with opened(replace(config, index_url=html.index_url,
                              cache_dir=config.cache_dir + "-html")) as core:  # fmt: skip
        by_html = await core.outdated(target)
    assert all(p.endswith("/") and "format=json" not in p for _, p, _ in html.log)

    def strip(doc: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "index_url"} for r in doc["packages"]]

    assert strip(by_html) == strip(by_json)
    assert rows(by_json)["numx"]["fit"] == "1.5" and by_json["outdated"] == 3


async def rows_both_ways(client: Any, env: Any, graph: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Outdated from the pages read in part (``read_releases``) and from the client's
    own fully parsed pages: (in part, in full, what was read in part)."""
    from jupyter_envhelper.currency.outdated import (
        find_outdated,
        read_releases,
        reads_pages_raw,
        unmanaged_reason,
        wanted,
    )
    from jupyter_envhelper.errors import EnvHelperError

    assert reads_pages_raw(client)
    looked_up = [d for d in wanted(env) if unmanaged_reason(d) is None]
    # in part first: afterwards the client holds the parsed pages, and uses them
    parts = await read_releases(client, looked_up)
    pages: dict[str, Any] = {}
    for dist in looked_up:
        try:
            pages[dist.canonical_name] = await client.get_project(dist.name)
        except EnvHelperError as exc:
            pages[dist.canonical_name] = exc
    by_parts = await find_outdated(env, client, graph=graph, releases=parts)
    by_client = await find_outdated(env, client, graph=graph, releases=pages)
    return by_parts, by_client, parts


async def test_with_two_indexes_the_first_that_has_a_project_gives_it(
    config: CoreConfig, python: Path, index_server: Any
) -> None:
    """First-match over two indexes, the page read in part, as the client's own fully
    parsed pages say: the same rows either way."""
    from dataclasses import replace

    from jupyter_envhelper.core.currency import graph_of
    from jupyter_envhelper.currency.releases import NewerReleases
    from tests.indexserver.wheels import DistSpec

    extra = index_server([DistSpec("numx", "1.0", module="numx"),
                          DistSpec("numx", "1.7", module="numx")])  # fmt: skip
    target = Target(python=str(python))
    async with opened(replace(config, extra_index_urls=(extra.index_url,))) as core:
        numx = rows(await core.outdated(target))["numx"]
        assert (numx["latest"], numx["fit"], numx["index_url"]) == ("1.7", "1.7", extra.index_url)
        located = await core.locator.locate(target)
        client = core.indexes.client(located.require())
        assert client.strategy == "first-match"
        graph = await graph_of(core, located)
        by_parts, by_client, parts = await rows_both_ways(client, located.require(), graph)
        assert all(isinstance(p, NewerReleases) and p.fast for p in parts.values()), parts
        assert [r.to_json() for r in by_parts.rows] == [r.to_json() for r in by_client.rows]


async def test_a_find_links_folder_adds_its_files_as_the_client_does(
    python: Path, index: IndexServer, tmp_path: Path
) -> None:
    from jupyter_envhelper.currency import DependencyGraph
    from jupyter_envhelper.currency.releases import MergedReleases
    from jupyter_envhelper.index import IndexConfig
    from jupyter_envhelper.index.local import LocalIndexClient
    from tests.indexserver.wheels import DistSpec, build_dist

    folder = tmp_path / "links"
    folder.mkdir()
    for spec in (DistSpec("tools", "1.2", module="tools"), DistSpec("tools", "1.1")):
        built = build_dist(spec)  # 1.1: the same name as the index's file, which wins
        (folder / built.filename).write_bytes(built.data)
    env = await Prober(tmp_path / "probe").probe(str(python))
    config = IndexConfig(index_url=index.index_url, find_links=(str(folder),))
    client = LocalIndexClient(config, retries=0, use_netrc=False)
    try:
        by_parts, by_client, parts = await rows_both_ways(client, env, DependencyGraph.build(env))
    finally:
        await client.aclose()
    assert isinstance(parts["tools"], MergedReleases)
    assert [r.to_json() for r in by_parts.rows] == [r.to_json() for r in by_client.rows]
    tools = next(r for r in by_parts.rows if r.canonical_name == "tools")
    assert (tools.latest, tools.fit) == ("1.2", "1.2")
    (file,) = parts["tools"].files_for(Version("1.1"))
    assert file.index_url == index.index_url


async def test_a_pre_release_is_an_update_for_a_pre_release(
    config: CoreConfig, python: Path, index: IndexServer, tmp_path: Path
) -> None:
    async with opened(config) as core:
        from tests.currency_fixtures import clean_env, uv

        uv(
            [
                "pip",
                "install",
                "--python",
                str(python),
                "--index-url",
                index.index_url,
                "--prerelease",
                "allow",
                "numx==3.0a1",
                "--no-deps",
            ],
            clean_env(tmp_path),
        )
        numx = rows(await core.outdated(Target(python=str(python))))["numx"]
        assert numx["installed"] == "3.0a1" and numx["status"] == "current"


# -- updates as plans -----------------------------------------------------------------------


async def test_update_all_that_fit_installs_only_those_and_undo_restores(
    config: CoreConfig, python: Path, tmp_path: Path
) -> None:
    async with opened(config) as core:
        target = Target(python=str(python))
        before = await installed(python, tmp_path)
        doc = await core.plan_update(target, mode="all-that-fit")
        assert sorted(doc["update"]["requirements"]) == ["base==1.1", "numx==1.5", "tools==1.1"]
        assert doc["state"] == "plan" and doc["plan"]["breaks"] == []
        changes = {a["name"]: a["version"] for a in doc["plan"]["actions"] if a["kind"] != "keep"}
        assert changes == {"base": "1.1", "numx": "1.5", "tools": "1.1"}
        base = next(p for p in doc["update"]["packages"] if p["name"] == "base")
        assert not base["requested"] and set(base["pulled_in_by"]) == {"top"}
        assert "you did not ask for it" in base["message"]
        # When it runs
        job = await wait(core, await core.start_update(target, doc["update"]["requirements"],
                                                       doc["fingerprint"]))  # fmt: skip
        after = await installed(python, tmp_path)
        assert after["numx"] == "1.5" and after["tools"] == "1.1" and after["base"] == "1.1"
        assert after["pands"] == "1.0" and after["needsnew"] == "1.0"
        # Then the history has it, the update is not "what you asked for", and numx is held back
        history = (await core.history(target))["jobs"]
        assert history[0]["id"] == job["id"] and history[0]["kind"] == "install"
        assert (await core.why(target, "base"))["requested"] is False
        numx = rows(await core.outdated(target))["numx"]
        assert numx["status"] == "held-back" and numx["latest"] == "2.0"
        # And undo puts back what was there
        await wait(core, await core.start_job(target, JobRequest("undo", job_id=job["id"])))
        assert await installed(python, tmp_path) == before


async def test_update_all_shows_what_the_newest_would_break(
    config: CoreConfig, python: Path
) -> None:
    async with opened(config) as core:
        doc = await core.plan_update(Target(python=str(python)), mode="all")
        assert "numx==2.0" in doc["update"]["requirements"]
        assert "needsnew==2.0" not in doc["update"]["requirements"]  # not for this kernel
        breaks = doc["plan"]["breaks"]
        assert [(b["name"], b["requirement"]) for b in breaks] == [("pands", "numx<2")]
        assert doc["verdict"] in ("warning", "blocker")
        numx = next(p for p in doc["update"]["packages"] if p["name"] == "numx")
        assert numx["fits"] is False and "would break pands" in numx["message"]


async def test_update_one_name_goes_to_the_newest_that_fits(
    config: CoreConfig, python: Path
) -> None:
    async with opened(config) as core:
        target = Target(python=str(python))
        doc = await core.plan_update(target, ["numx"])
        assert doc["update"]["requirements"] == ["numx==1.5"]
        explicit = await core.plan_update(target, ["numx==2.0"])
        assert explicit["update"]["requirements"] == ["numx==2.0"] and explicit["plan"]["breaks"]
        with pytest.raises(NotFound):
            await core.plan_update(target, ["notinstalled"])
        with pytest.raises(BadRequest):
            await core.start_update(target, ["numx>=1"], None)
        with pytest.raises(NotFound):
            await core.start_update(target, ["newthing==1.0"], None)


# -- why ---------------------------------------------------------------------------------


async def test_why_on_a_diamond(config: CoreConfig, python: Path) -> None:
    async with opened(config) as core:
        doc = await core.why(Target(python=str(python)), "base")
        assert sorted(c["text"] for c in doc["chains"]) == [
            "base ← left ← top",
            "base ← right ← top",
        ]
        assert all(c["root"] == "top" and c["requested"] for c in doc["chains"])
        assert {d["name"] for d in doc["required_by"]} == {"left", "right"}
        assert doc["orphan"] is False and doc["removal"] is None
        assert "you asked for top" in doc["message"]
        graph = await core.dependency_graph(Target(python=str(python)), "base")
        names = {n["canonical_name"]: n for n in graph["nodes"]}
        assert set(names) == {"top", "left", "right", "base"}
        assert names["top"]["depth"] == 0 and names["base"]["depth"] == 2
        assert names["base"]["required_by"] == 2  # shared: one node, two edges in
        assert {(e["parent"], e["child"]) for e in graph["edges"]} == {
            ("top", "left"), ("top", "right"), ("left", "base"), ("right", "base")
        }  # fmt: skip


async def test_an_orphan_is_named_and_removed_through_a_plan(
    config: CoreConfig, python: Path, tmp_path: Path
) -> None:
    async with opened(config) as core:
        target = Target(python=str(python))
        # Given hasdep installed through a job (lonely comes as its dependency), then removed
        plan = await core.plan(target, ["hasdep"])
        job = JobRequest("install", requirements=("hasdep",), fingerprint=plan["fingerprint"])
        await wait(core, await core.start_job(target, job))
        assert (await core.why(target, "lonely"))["chains"][0]["text"] == "lonely ← hasdep"
        plan = await core.plan_uninstall(target, ["hasdep"])
        job = JobRequest("uninstall", names=("hasdep",), fingerprint=plan["fingerprint"])
        await wait(core, await core.start_job(target, job))
        # Then lonely is an orphan (uv marks every package REQUESTED: the history tells)
        doc = await core.why(target, "lonely")
        assert doc["orphan"] is True and doc["required_by"] == [] and doc["chains"] == []
        assert doc["removal"] == {"kind": "uninstall", "names": ["lonely"]}
        assert "lonely" in (await core.dependency_graph(target))["orphans"]
        plan = await core.plan_uninstall(target, doc["removal"]["names"])
        assert plan["plan"]["breaks"] == []
        job = JobRequest("uninstall", names=("lonely",), fingerprint=plan["fingerprint"])
        await wait(core, await core.start_job(target, job))
        assert "lonely" not in await installed(python, tmp_path)
        with pytest.raises(NotFound):
            await core.why(target, "lonely")
        # a package others need is no orphan, and removing it would break them
        base = await core.why(target, "base")
        assert base["orphan"] is False and len(base["would_break"]) == 2


async def test_a_direct_url_install_is_not_managed_by_an_index(
    config: CoreConfig, python: Path, index: IndexServer, tmp_path: Path
) -> None:
    from tests.currency_fixtures import clean_env, uv

    wheel = next(b for b in index.projects["tools"] if b.filename.startswith("tools-1.0-"))
    url = index.file_url(wheel.filename)
    uv(["pip", "install", "--python", str(python), "--reinstall", f"tools @ {url}"],
       clean_env(tmp_path))  # fmt: skip
    async with opened(config) as core:
        target = Target(python=str(python))
        tools = rows(await core.outdated(target))["tools"]
        assert tools["status"] == "unmanaged" and tools["fit"] is None
        assert "not from an index" in tools["message"]
        assert (
            "tools==1.1"
            not in (await core.plan_update(target, mode="all"))["update"]["requirements"]
        )
        with pytest.raises(BadRequest):
            await core.plan_update(target, ["tools"])
