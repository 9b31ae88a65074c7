"""The ``merge`` strategy and find-links folders against the real local index: the
merged page has the files the eager merge had (first name wins), made only for the
versions asked, and a single source is its page as read (lazy)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jupyter_envhelper.index import IndexClient, IndexConfig, ProjectPage
from jupyter_envhelper.index.local import LocalIndexClient
from tests.indexserver import DistSpec, IndexServer, IndexServerFactory
from tests.indexserver.wheels import build_dist

pytest_plugins = ("tests.indexserver.fixtures",)


def _config(*servers: IndexServer, **options: object) -> IndexConfig:
    return IndexConfig(
        index_url=servers[0].index_url,
        extra_index_urls=tuple(s.index_url for s in servers[1:]),
        **options,  # type: ignore[arg-type]
    )


def _page(client: IndexClient, name: str) -> ProjectPage:
    async def go() -> ProjectPage:
        async with client:
            return await client.get_project(name)

    return asyncio.run(go())


def _eager_merge(pages: list[ProjectPage]) -> list[tuple[str, str]]:
    """What the merge gave before it was lazy: every file, first name wins."""
    seen: dict[str, str] = {}
    for page in pages:
        for file in page.files:
            seen.setdefault(file.filename, file.index_url)
    return list(seen.items())


def test_one_index_with_merge_is_its_page_as_read(sample_index: IndexServer) -> None:
    client = IndexClient(_config(sample_index, strategy="merge"), retries=0, use_netrc=False)
    page = _page(client, "alpha")
    assert page.is_lazy and page.files_made == 0
    alone = _page(IndexClient(_config(sample_index), retries=0, use_netrc=False), "alpha")
    assert page.all_versions() == alone.all_versions()
    assert [f.filename for f in page.files] == [f.filename for f in alone.files]


def test_merged_indexes_stay_lazy_and_first_name_wins(index_server: IndexServerFactory) -> None:
    shared = DistSpec("shared", "1.0")
    public = index_server([shared, DistSpec("shared", "3.0")])
    private = index_server([shared, DistSpec("shared", "2.0")])
    client = IndexClient(_config(public, private, strategy="merge"), retries=0, use_netrc=False)
    order = list(client.index_urls)
    parts = [
        _page(IndexClient(IndexConfig(index_url=u), retries=0, use_netrc=False), "shared")
        for u in order
    ]
    expected = _eager_merge(parts)

    page = _page(client, "shared")
    assert page.is_lazy and page.files_made == 0
    assert [str(v) for v in page.all_versions()] == ["3.0", "2.0", "1.0"]
    assert page.file_count == len(expected) == 3  # the shared wheel counted once
    (one,) = page.files_for("1.0")
    assert one.index_url == order[0]  # the first index with that name
    assert page.files_made == 2  # both copies of 1.0; nothing of 2.0 or 3.0
    assert [f.index_url for f in page.files_for("2.0")] == [private.index_url]
    assert [(f.filename, f.index_url) for f in page.files] == expected
    assert not page.is_lazy


def test_find_links_folder_merges_without_making_the_index_files(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    remote = index_server([DistSpec("gamma", str(n)) for n in range(1, 6)])
    for spec in (DistSpec("gamma", "1"), DistSpec("gamma", "9")):
        built = build_dist(spec)
        (tmp_path / built.filename).write_bytes(built.data)
    config = IndexConfig(index_url=remote.index_url, find_links=(str(tmp_path),))
    page = _page(LocalIndexClient(config, retries=0, use_netrc=False), "gamma")

    assert page.is_lazy and page.files_made == 2  # the folder's, none of the index's
    assert [str(v) for v in page.all_versions()] == ["9", "5", "4", "3", "2", "1"]
    assert page.file_count == 6
    (local,) = page.files_for("9")
    assert local.url.startswith("file:")
    (same,) = page.files_for("1")
    assert same.index_url == remote.index_url  # the index's file wins over the folder's
    assert page.files_made == 3  # one of the index's five


def test_only_a_find_links_folder_is_its_page(tmp_path: Path) -> None:
    built = build_dist(DistSpec("solo", "1.0"))
    (tmp_path / built.filename).write_bytes(built.data)
    config = IndexConfig(
        index_url="https://unused.invalid/simple/", find_links=(str(tmp_path),), no_index=True
    )
    page = _page(LocalIndexClient(config, retries=0, use_netrc=False), "solo")
    assert [f.filename for f in page.files] == [built.filename]
