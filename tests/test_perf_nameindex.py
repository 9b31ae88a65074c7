"""The persistent name index: built once, opened by a fresh process, rebuilt when the
index's list changes or the file is damaged. Against the real loopback index."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.search.catalog import Catalog, _store_for
from jupyter_envhelper.search.nameindex import NameIndex, store_path, write
from jupyter_envhelper.search.names import NameTable
from tests.indexserver import DistSpec, IndexServer
from tests.indexserver.server import normalize
from tests.indexserver.wheels import build_dist

NAMES = ["Flask", "flask_cors", "Flask-Login", "zope.interface", "zope-event", "a", "numpy"]


def test_a_written_index_answers_as_the_in_memory_table(tmp_path: Path) -> None:
    path = store_path(tmp_path, ["https://example/simple/"])
    assert write(path, [*NAMES, "FLASK"], ["https://example/simple/"])  # FLASK: a duplicate
    table, index = NameTable(NAMES), NameIndex.open(path)
    assert index is not None and len(index) == len(table) == 7
    for name in ("flask", "flask-cors", "zope-interface", "a", "nothere", "flas"):
        assert (name in index) == (name in table)
        assert index.display(name) == table.display(name)
    for prefix in ("f", "flask", "zope-", "x", ""):
        assert list(index.with_prefix(prefix, limit=3)) == list(table.with_prefix(prefix, limit=3))
    # the same names again: the file is kept, only its build time renewed
    before = index.built_at
    time.sleep(0.01)
    assert not write(path, list(reversed(NAMES)), ["https://example/simple/"])
    again = NameIndex.open(path)
    assert again is not None and again.identity == index.identity and again.built_at > before


def test_a_damaged_file_is_removed_not_read(tmp_path: Path) -> None:
    path = store_path(tmp_path, ["https://example/simple/"])
    path.write_bytes(b"this is not sqlite" * 100)
    assert NameIndex.open(path) is None
    assert not path.exists()
    # a sqlite file of something else is not a name index either
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE other (x)")
    assert NameIndex.open(path) is None and not path.exists()


def _catalog_client(server: IndexServer, cache: Path) -> IndexClient:
    config = IndexConfig(index_url=server.index_url)
    return IndexClient(config, cache_dir=cache / "http", page_freshness=0, use_netrc=False)


def _add_project(server: IndexServer, name: str) -> None:
    """The index gains a project, as when someone uploads one."""
    built = build_dist(DistSpec(name, "1.0"))
    server.files[built.filename] = built
    server.projects[normalize(name)] = [built]
    server.display_names[normalize(name)] = name


async def _search_until(
    catalog: Catalog, client: IndexClient, query: str, wanted: str, seconds: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        found = await catalog.search(client, query, None, wait=5)
        if any(h["canonical_name"] == wanted and h["on_index"] for h in found["hits"]):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{wanted} never found: {found}")
        await asyncio.sleep(0.2)


def test_a_damaged_index_is_rebuilt_and_a_changed_list_refreshes_it(tmp_path: Path) -> None:
    with IndexServer([DistSpec("alpha", "1.0"), DistSpec("beta-tools", "2.0")]) as server:

        async def go() -> None:
            async with _catalog_client(server, tmp_path) as client:
                store = _store_for(client)
                assert store is not None
                store.parent.mkdir(parents=True)
                store.write_bytes(b"garbage")
                found = await _search_until(Catalog(), client, "beta-tools", "beta-tools")
                assert found["complete"] is True
                assert NameIndex.open(store) is not None  # rebuilt in place
                # the list changes; a catalog whose copy is old refreshes it
                _add_project(server, "gamma-new")
                fresh = Catalog(max_age=0)
                await _search_until(fresh, client, "gamma-new", "gamma-new")
                opened = NameIndex.open(store)
                assert opened is not None and "gamma-new" in opened

        asyncio.run(go())


def _cli_search(server: IndexServer, home: Path, query: str) -> dict[str, Any]:
    env = {**os.environ, "XDG_CACHE_HOME": str(home)}
    argv = [sys.executable, "-m", "jupyter_envhelper", "search", query]
    argv += ["--index-url", server.index_url, "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.timeout(300)
def test_a_fresh_process_answers_from_the_index_without_the_list(tmp_path: Path) -> None:
    with IndexServer([DistSpec("alpha", "1.0"), DistSpec("obscure-thing", "0.1")]) as server:
        _cli_search(server, tmp_path, "obscure-thing")  # builds it (before it exits)
        stores = list((tmp_path / "jupyter-envhelper" / "names").glob("*.sqlite"))
        assert len(stores) == 1 and NameIndex.open(stores[0]) is not None
        listed = server.path_stats("/simple/").requests
        second = _cli_search(server, tmp_path, "obscure-thing")
        assert second["complete"] is True and second.get("note") is None
        hit = next(h for h in second["hits"] if h["canonical_name"] == "obscure-thing")
        assert hit["on_index"] is True
        assert server.path_stats("/simple/").requests == listed  # not fetched again
