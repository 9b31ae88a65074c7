"""IndexClient against the real local index (tests/indexserver)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from jupyter_envhelper.core import error_document
from jupyter_envhelper.errors import IndexTimeout, IndexUnavailable, NotFound
from jupyter_envhelper.index import IndexClient, IndexConfig, ProjectPage
from tests.indexserver import DistSpec, Fault, IndexServer, IndexServerFactory

pytest_plugins = ("tests.indexserver.fixtures",)

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def client_for(*servers: IndexServer | str, **options: Any) -> IndexClient:
    urls = [s if isinstance(s, str) else s.index_url for s in servers]
    options.setdefault("retries", 0)
    options.setdefault("use_netrc", False)
    config = IndexConfig(
        index_url=urls[0],
        extra_index_urls=tuple(urls[1:]),
        strategy=options.pop("strategy", "first-match"),
    )
    return IndexClient(config, **options)


async def fetch_project(client: IndexClient, name: str) -> ProjectPage:
    async with client:
        return await client.get_project(name)


def by_name(page: ProjectPage) -> dict[str, Any]:
    return {f.filename: f for f in page.files}


# -- pages ---------------------------------------------------------------------------------


def test_json_page_carries_pep_592_658_700_fields(sample_index: IndexServer) -> None:
    page = run(fetch_project(client_for(sample_index), "Alpha"))

    accept = sample_index.log[0][2]["Accept"]
    assert accept.startswith("application/vnd.pypi.simple.v1+json")
    assert page.api_version == "1.1"
    files = by_name(page)
    yanked = files["alpha-2.1-py3-none-any.whl"]
    assert yanked.yanked and yanked.yanked_reason == "broken import on Windows"
    old = files["alpha-1.0-py3-none-any.whl"]
    assert old.requires_python == SpecifierSet(">=3.7") and not old.yanked
    assert old.size == len(sample_index.files[old.filename].data)
    assert old.upload_time is not None and old.upload_time.year == 2024
    assert old.sha256 == sample_index.files[old.filename].sha256
    assert old.has_metadata_file and old.metadata_hashes == {
        "sha256": sample_index.files[old.filename].metadata_sha256
    }
    assert files["alpha-1.0.tar.gz"].kind == "sdist"
    assert Version("3.1rc1") in page.all_versions()
    assert "3.1rc1" in page.versions


def test_html_page_gives_the_same_files(index_server: IndexServerFactory) -> None:
    dists = [
        DistSpec("alpha", "1.0", requires_python=">=3.7,<4"),
        DistSpec("alpha", "2.0", yanked="bad build"),
        DistSpec("alpha", "2.0", kind="sdist", yanked=True),
    ]
    as_json = run(fetch_project(client_for(index_server(dists)), "alpha"))
    as_html = run(fetch_project(client_for(index_server(dists, html_only=True)), "alpha"))

    for page in (as_json, as_html):
        files = by_name(page)
        assert set(files) == {
            "alpha-1.0-py3-none-any.whl",
            "alpha-2.0-py3-none-any.whl",
            "alpha-2.0.tar.gz",
        }
        assert files["alpha-1.0-py3-none-any.whl"].requires_python == SpecifierSet(">=3.7,<4")
        assert files["alpha-2.0-py3-none-any.whl"].yanked_reason == "bad build"
        assert files["alpha-2.0.tar.gz"].yanked and files["alpha-2.0.tar.gz"].yanked_reason is None
        assert all(f.has_metadata_file and f.sha256 for f in page.files)
    assert as_html.api_version == "1.1"
    assert by_name(as_html)["alpha-1.0-py3-none-any.whl"].size is None  # not in HTML


def test_wheel_tags_are_parsed(sample_index: IndexServer) -> None:
    page = run(fetch_project(client_for(sample_index), "compiled"))
    tags = {str(t) for f in page.files for t in f.tags}
    assert "cp39-cp39-manylinux2014_x86_64" in tags
    assert "cp312-cp312-macosx_11_0_arm64" in tags
    assert "cp311-cp311-win_amd64" in tags
    assert "py3-none-any" in tags
    assert len(page.files) == 11


def test_local_version_labels(sample_index: IndexServer) -> None:
    page = run(fetch_project(client_for(sample_index), "torchlike"))
    assert {str(v) for v in page.all_versions()} == {"2.1.0", "2.1.0+cpu", "2.1.0+cu121"}


def test_unknown_project_is_not_found(sample_index: IndexServer) -> None:
    with pytest.raises(NotFound) as caught:
        run(fetch_project(client_for(sample_index), "no-such-thing"))
    assert caught.value.message == f"No project named no-such-thing on {sample_index.index_url}."


def test_project_list(sample_index: IndexServer) -> None:
    async def go() -> list[str]:
        async with client_for(sample_index) as client:
            return await client.project_list()

    names = run(go())
    assert {"alpha", "beta", "torchlike", "gamma"} <= set(names)


# -- broken servers --------------------------------------------------------------------------


def test_broken_json_page_is_index_unavailable(sample_index: IndexServer) -> None:
    sample_index.set_fault(Fault("broken-page"), project="alpha")
    with pytest.raises(IndexUnavailable, match="not valid JSON"):
        run(fetch_project(client_for(sample_index), "alpha"))


def test_broken_html_page_skips_bad_files_with_warnings(index_server: IndexServerFactory) -> None:
    server = index_server([DistSpec("alpha", "1.0")], html_only=True)
    server.set_fault(Fault("broken-page"), project="alpha")
    client = client_for(server)
    page = run(fetch_project(client, "alpha"))
    assert page.files == []
    assert any("notaversion" in w or "broken-1.0-garbage" in w for w in page.warnings)
    assert client.warnings  # surfaced on the client too


def test_hang_is_a_quick_index_timeout(sample_index: IndexServer) -> None:
    sample_index.set_fault(Fault("hang", seconds=5))
    started = time.monotonic()
    with pytest.raises(IndexTimeout) as caught:
        run(fetch_project(client_for(sample_index, timeout=0.3, retries=2), "alpha"))
    assert time.monotonic() - started < 2
    assert f"{sample_index.index_url}alpha/" in caught.value.message
    assert caught.value.status == 504


def test_server_error_is_retried_then_unavailable(sample_index: IndexServer) -> None:
    sample_index.set_fault(Fault("status", status=500))
    client = client_for(sample_index, retries=2, backoff=0.01)
    with pytest.raises(IndexUnavailable, match="HTTP 500") as caught:
        run(fetch_project(client, "alpha"))
    assert "after 3 attempts" in caught.value.message
    assert sample_index.path_stats("/simple/alpha/").statuses == [500, 500, 500]
    assert client.stats.retries == 2


def test_transient_error_then_success(sample_index: IndexServer) -> None:
    sample_index.set_fault(Fault("status", status=503, times=1))
    page = run(fetch_project(client_for(sample_index, retries=2, backoff=0.01), "alpha"))
    assert page.files
    assert sample_index.path_stats("/simple/alpha/").statuses == [503, 200]


def test_connection_refused_is_unavailable(sample_index: IndexServer) -> None:
    url = sample_index.index_url
    sample_index.stop()
    with pytest.raises(IndexUnavailable, match="could not connect"):
        run(fetch_project(client_for(url, retries=1, backoff=0.01), "alpha"))


# -- metadata -------------------------------------------------------------------------------


def test_metadata_from_metadata_file(sample_index: IndexServer) -> None:
    async def go() -> Any:
        async with client_for(sample_index) as client:
            page = await client.get_project("beta")
            wheel = by_name(page)["beta-1.5-py3-none-any.whl"]
            return await client.get_metadata(wheel)

    meta = run(go())
    assert meta.source == "metadata-file"
    assert meta.summary == "Beta with extras"
    assert meta.provides_extra == ["fast", "docs"]
    assert str(meta.requires_dist[0]) == 'gamma>=0.5; extra == "fast"'
    assert meta.license_expression == "MIT"
    assert meta.import_names == ["beta"]
    assert sample_index.file_stats("beta-1.5-py3-none-any.whl.metadata").requests == 1
    assert sample_index.file_stats("beta-1.5-py3-none-any.whl").requests == 0


def test_metadata_by_range_requests_without_whole_download(sample_index: IndexServer) -> None:
    async def go() -> tuple[Any, IndexClient]:
        async with client_for(sample_index) as client:
            page = await client.get_project("delta")
            wheel = by_name(page)["delta-1.0-py3-none-any.whl"]
            assert not wheel.has_metadata_file
            return await client.get_metadata(wheel), client

    meta, client = run(go())
    assert meta.source == "range" and meta.summary == "Delta, big and without .metadata"
    stats = sample_index.file_stats("delta-1.0-py3-none-any.whl")
    size = len(sample_index.files["delta-1.0-py3-none-any.whl"].data)
    assert stats.full_downloads == 0
    assert set(stats.statuses) == {206}
    assert stats.bytes < size / 4
    assert client.stats.full_downloads == 0


def test_optimistic_metadata_file_when_not_advertised(index_server: IndexServerFactory) -> None:
    server = index_server([DistSpec("hidden", "1.0", padding=200_000)], hidden_metadata=["hidden"])

    async def go(optimistic: bool) -> Any:
        async with client_for(server, optimistic_metadata=optimistic) as client:
            page = await client.get_project("hidden")
            return await client.get_metadata(page.files[0])

    assert run(go(True)).source == "metadata-file"
    assert server.file_stats("hidden-1.0-py3-none-any.whl").requests == 0
    assert run(go(False)).source == "range"


def test_optimistic_guess_stops_after_a_404(index_server: IndexServerFactory) -> None:
    server = index_server(
        [DistSpec("plain", "1.0"), DistSpec("plain", "2.0")], no_metadata=["plain"]
    )

    async def go() -> list[Any]:
        async with client_for(server, optimistic_metadata=True) as client:
            page = await client.get_project("plain")
            return [await client.get_metadata(f) for f in page.files]

    assert [m.source for m in run(go())] == ["range", "range"]
    tried = [p for _m, p, _h in server.log if p.endswith(".metadata")]
    assert len(tried) == 1


def test_ranges_read_alongside_a_guess_answer_when_the_guess_is_slow(
    index_server: IndexServerFactory,
) -> None:
    # A .metadata guess whose miss is slow to arrive (a CDN asking its origin): the
    # ranges read meanwhile answer, and the plan does not wait for the 404.
    server = index_server(
        [DistSpec("slow", "1.0", padding=200_000, requires_dist=("requests>=2",))],
        no_metadata=["slow"],
    )
    server.set_fault(Fault("hang", seconds=30, files=True, suffix=".metadata"), "slow")
    guessed = "/files/slow-1.0-py3-none-any.whl.metadata"

    async def go() -> tuple[Any, list[int]]:
        async with client_for(server, optimistic_metadata=True) as client:
            client.ranged_guess_hosts = frozenset({"127.0.0.1"})
            page = await client.get_project("slow")
            meta = await client.get_metadata(page.files[0])
            # answered while the guess is still unanswered (the server records an
            # answer just before it sends it)
            unanswered = list(server.path_stats(guessed).statuses)
            server.clear_faults()
            return meta, unanswered

    meta, unanswered = run(go())
    assert meta.source == "range"
    assert [str(r) for r in meta.requires_dist] == ["requests>=2"]
    assert unanswered == []
    assert any(path == guessed for _m, path, _h in server.log)  # it was asked


def test_a_guess_that_answers_first_is_taken_over_the_ranges(
    index_server: IndexServerFactory,
) -> None:
    server = index_server([DistSpec("quick", "1.0", padding=200_000)], hidden_metadata=["quick"])
    server.set_fault(Fault("hang", seconds=30, files=True, suffix=".whl"), "quick")

    async def go() -> Any:
        async with client_for(server, optimistic_metadata=True) as client:
            client.ranged_guess_hosts = frozenset({"127.0.0.1"})
            page = await client.get_project("quick")
            meta = await client.get_metadata(page.files[0])
            server.clear_faults()
            return meta

    assert run(go()).source == "metadata-file"
    assert server.file_stats("quick-1.0-py3-none-any.whl").statuses == []


def test_sdist_metadata_is_pkg_info_from_a_counted_download(sample_index: IndexServer) -> None:
    async def go() -> tuple[Any, IndexClient]:
        async with client_for(sample_index) as client:
            page = await client.get_project("delta")
            sdist = by_name(page)["delta-1.0.tar.gz"]
            return await client.get_metadata(sdist), client

    meta, client = run(go())
    assert meta.source == "pkg-info"
    assert not meta.complete  # Metadata 2.1: Requires-Dist may differ once built
    assert client.stats.full_downloads == 1
    assert any("Downloaded all of delta-1.0.tar.gz" in w for w in client.warnings)


def test_sdist_with_metadata_2_2_is_complete(index_server: IndexServerFactory) -> None:
    server = index_server(
        [DistSpec("modern", "1.0", kind="sdist", metadata_version="2.2")], no_metadata=["modern"]
    )

    async def go() -> Any:
        async with client_for(server) as client:
            page = await client.get_project("modern")
            return await client.get_metadata(page.files[0])

    meta = run(go())
    assert meta.source == "pkg-info" and meta.complete


def test_invalid_metadata_entries_are_skipped_with_warnings(
    index_server: IndexServerFactory,
) -> None:
    spec = DistSpec(
        "sloppy",
        "1.0",
        requires_dist=("good>=1", "this is not ] a requirement"),
        extra_headers=(("Requires-Python", ">=3.x"),),
    )
    server = index_server([spec])

    async def go() -> Any:
        async with client_for(server) as client:
            page = await client.get_project("sloppy")
            return await client.get_metadata(page.files[0])

    meta = run(go())
    assert [str(r) for r in meta.requires_dist] == ["good>=1"]
    assert meta.requires_python is None
    assert any("invalid requirement" in w for w in meta.warnings)
    assert any("Requires-Python" in w for w in meta.warnings)


def test_parallel_metadata_fetch(index_server: IndexServerFactory) -> None:
    dists = [DistSpec(f"pkg{i}", "1.0", requires_dist=(f"dep{i}",)) for i in range(30)]
    server = index_server(dists, no_metadata=[f"pkg{i}" for i in range(0, 30, 2)])

    async def go() -> list[Any]:
        async with client_for(server, max_concurrency=8) as client:
            pages = await asyncio.gather(*(client.get_project(f"pkg{i}") for i in range(30)))
            return await client.prefetch_metadata([p.files[0] for p in pages])

    metas = run(go())
    assert [str(m.requires_dist[0]) for m in metas] == [f"dep{i}" for i in range(30)]
    assert {m.source for m in metas} == {"range", "metadata-file"}


def test_get_project_is_memoised_and_shared(sample_index: IndexServer) -> None:
    async def go() -> None:
        async with client_for(sample_index) as client:
            await asyncio.gather(*(client.get_project("alpha") for _ in range(5)))

    run(go())
    assert sample_index.path_stats("/simple/alpha/").requests == 1


def test_a_long_lived_client_sees_a_new_release_once_its_page_is_stale(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    server = index_server([DistSpec("fresh", "1.0")])

    async def go() -> None:
        async with client_for(server, cache_dir=tmp_path, page_freshness=0) as client:
            first = await client.get_project("fresh")
            server.publish(DistSpec("fresh", "2.0"))
            # within one view of the index (a plan, the next plan): the same page
            assert await client.get_project("fresh") is first
            assert server.path_stats("/simple/fresh/").requests == 1
            client.memo_seconds = 0.0  # as after the page freshness (a server's day)
            newer = await client.get_project("fresh")
            assert [str(v) for v in newer.all_versions()] == ["2.0", "1.0"]
            # unchanged since (a 304): the parsed page is given back, not parsed again
            again = await client.get_project("fresh")
            assert again is newer
            assert server.path_stats("/simple/fresh/").statuses == [200, 200, 304]

    run(go())


# -- several indexes -----------------------------------------------------------------------


def test_first_index_wins_versus_merge(index_server: IndexServerFactory) -> None:
    private = index_server([DistSpec("shared", "1.0")])
    public = index_server([DistSpec("shared", "99.0"), DistSpec("only-public", "1.0")])

    first = run(fetch_project(client_for(public, private), "shared"))  # extras searched first
    assert [str(v) for v in first.all_versions()] == ["1.0"]
    assert first.index_url == private.index_url

    merged = run(fetch_project(client_for(public, private, strategy="merge"), "shared"))
    assert [str(v) for v in merged.all_versions()] == ["99.0", "1.0"]
    assert {f.index_url for f in merged.files} == {public.index_url, private.index_url}

    fallback = run(fetch_project(client_for(public, private), "only-public"))
    assert fallback.index_url == public.index_url


# -- credentials --------------------------------------------------------------------------


def test_basic_auth_from_url_and_never_shown(index_server: IndexServerFactory) -> None:
    server = index_server([DistSpec("secretpkg", "1.0")], auth=("alice", "s3cr3t-pw"))
    client = client_for(server.index_url_with_auth)
    page = run(fetch_project(client, "secretpkg"))
    assert page.files and "s3cr3t" not in page.files[0].url
    assert "s3cr3t" not in repr(client) and "s3cr3t" not in repr(client.config)
    assert "s3cr3t" not in str(client.config.to_json()) + str(client.describe())

    wrong = server.index_url_with_auth.replace("s3cr3t-pw", "wr0ng-pw")
    with pytest.raises(IndexUnavailable) as caught:
        run(fetch_project(client_for(wrong, retries=3), "secretpkg"))
    text = f"{error_document(caught.value)} {caught.value!r}"
    assert "wr0ng" not in text and "alice" not in text
    assert "HTTP 401" in caught.value.message
    assert server.path_stats("/simple/secretpkg/").statuses[-1] == 401
    assert len(server.path_stats("/simple/secretpkg/").statuses) == 2  # 4xx: no retries


def test_basic_auth_from_netrc(
    index_server: IndexServerFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = index_server([DistSpec("secretpkg", "1.0")], auth=("bob", "n3trc-pw"))
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password n3trc-pw\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    page = run(fetch_project(client_for(server, use_netrc=True), "secretpkg"))
    assert page.files


# -- cache -----------------------------------------------------------------------------------


def test_cache_reuses_then_revalidates_with_304(sample_index: IndexServer, tmp_path: Path) -> None:
    run(fetch_project(client_for(sample_index, cache_dir=tmp_path), "alpha"))
    fresh = client_for(sample_index, cache_dir=tmp_path)
    run(fetch_project(fresh, "alpha"))
    assert fresh.stats.cache_hits == 1 and fresh.stats.requests == 0

    stale = client_for(sample_index, cache_dir=tmp_path, page_freshness=0)
    page = run(fetch_project(stale, "alpha"))
    assert page.files and stale.stats.revalidated == 1
    assert sample_index.path_stats("/simple/alpha/").statuses == [200, 304]
    assert "If-None-Match" in sample_index.log[-1][2]


def test_metadata_is_cached_forever(sample_index: IndexServer, tmp_path: Path) -> None:
    async def go() -> IndexClient:
        async with client_for(sample_index, cache_dir=tmp_path) as client:
            page = await client.get_project("delta")
            meta = await client.get_metadata(by_name(page)["delta-1.0-py3-none-any.whl"])
            assert meta.source == "range"
            return client

    run(go())
    second = run(go())
    assert second.stats.requests == 0
    assert sample_index.file_stats("delta-1.0-py3-none-any.whl").requests == 1
