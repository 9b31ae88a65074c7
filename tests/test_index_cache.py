"""The disk cache of index pages and metadata blobs (index/cache.py), on a real directory."""

from __future__ import annotations

import time
from pathlib import Path

from jupyter_envhelper.index.cache import HttpCache

URL = "https://example.org/simple/demo/"
ACCEPT = "application/vnd.pypi.simple.v1+json"


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_page_reads_back_as_stored(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    body = b'{"name": "demo"}\n\n{"second line": true}\n'  # newlines in the body survive
    headers = {"content-type": ACCEPT, "etag": '"abc"', "server": "dropped"}
    cache.store(URL, ACCEPT, 200, headers, body)
    entry = cache.load(URL, ACCEPT)
    assert entry is not None
    assert (entry.status, entry.body) == (200, body)
    assert entry.headers == {"content-type": ACCEPT, "etag": '"abc"'}
    assert entry.is_fresh(600.0)
    assert entry.validators() == {"If-None-Match": '"abc"'}
    assert cache.load(URL, "text/html") is None  # another variant is another entry


def test_a_refresh_keeps_the_body_and_renews_the_validators(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    cache.store(URL, ACCEPT, 200, {"etag": '"1"'}, b"page")
    entry = cache.load(URL, ACCEPT)
    assert entry is not None
    entry.stored_at = time.time() - 3600
    cache.refresh(entry, ACCEPT, {"etag": '"2"', "cache-control": "max-age=60"})
    again = cache.load(URL, ACCEPT)
    assert again is not None
    assert (again.body, again.headers["etag"], again.max_age) == (b"page", '"2"', 60.0)
    assert again.is_fresh(0.0)


def test_a_damaged_entry_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    cache.store(URL, ACCEPT, 200, {}, b"page")
    (path,) = [p for p in _files(tmp_path) if p.suffix == ".json"]  # what it says of the page
    for damaged in (b"", b"not json", b"[1, 2]", b'{"status": 200}'):
        path.write_bytes(damaged)
        assert cache.load(URL, ACCEPT) is None
    cache.store(URL, ACCEPT, 200, {}, b"new")
    entry = cache.load(URL, ACCEPT)
    assert entry is not None and entry.body == b"new"


def test_no_store_is_not_kept_and_blobs_round_trip(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path)
    assert cache.store(URL, ACCEPT, 200, {"cache-control": "no-store"}, b"x") is None
    assert cache.load(URL, ACCEPT) is None
    assert cache.get_blob("metadata\nurl\nsha") is None
    cache.put_blob("metadata\nurl\nsha", b"Metadata-Version: 2.1\n")
    assert cache.get_blob("metadata\nurl\nsha") == b"Metadata-Version: 2.1\n"
