"""The cheap paths of reading pages and talking HTTP give the answers of the slow ones.

- ``LazyEntries.add_many`` looks each distinct wheel head, tag triple and
  Requires-Python text up once per page; every odd filename must still end where
  ``make_file`` puts it (the same file, or the same warning).
- The fetcher's transport (http.client on worker threads) keeps connections alive:
  requests over a kept connection must work (``test_index_threaded.py`` has the rest).
- The HTTP client (and its CA bundle) is made on the first request, not before.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.index.pages import make_file, parse_project_html, parse_project_json
from jupyter_envhelper.index.threaded import ThreadedTransport
from tests.indexserver import IndexServer

pytest_plugins = ("tests.indexserver.fixtures",)

PAGE_URL = "https://files.example/simple/odd-proj/"
INDEX_URL = "https://files.example/simple/"

ODD_FILENAMES = [
    "odd_proj-1.0-py3-none-any.whl",
    "odd_proj-1.0-1-py3-none-any.whl",  # a build tag
    "odd_proj-1.0-1x-py3-none-any.whl",  # a build tag with a suffix
    "odd_proj-1.0-x1-py3-none-any.whl",  # not a build tag
    "odd_proj-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "Odd.Proj-2.0-py2.py3-none-any.whl",  # another spelling of the name
    "odd__proj-2.0-py3-none-any.whl",  # a double underscore is not allowed
    "odd-proj-2.0-py3-none-any.whl",  # a dash in the name: too many parts
    "odd_proj-3.0.whl",  # too few parts
    "odd_proj-none-any.whl",
    "other-1.0-py3-none-any.whl",  # another project
    "odd_proj-notaversion-py3-none-any.whl",
    "odd_proj-4.0-py3-none-any-extra.whl",  # six dashes
    "odd_proj-1.0.tar.gz",
    "odd-proj-1.5.zip",
    "odd_proj-1.0.post1.tar.gz",
    "odd_proj-0.9-r1.tar.gz",  # an sdist whose version is not one
    "odd_proj-1.0.egg",  # ignored, no warning
    "odd_proj-1.0.exe",
    "odd_proj-1.0.rpm",
    "odd_proj-1.0.txt",  # neither a wheel nor an sdist
    "-1.0.tar.gz",
    "odd_proj-1.0-py3-none-any.whl",  # the same file twice
]


def odd_entries() -> list[Any]:
    entries: list[Any] = []
    for number, filename in enumerate(ODD_FILENAMES):
        entry: dict[str, Any] = {
            "filename": filename,
            "url": f"../../files/{filename}#sha256={number:064x}",
            "hashes": {"sha256": f"{number:064x}"} if number % 2 else {},
            "size": number * 100,
            "upload-time": "2024-01-02T03:04:05Z",
            "yanked": "broken" if number % 5 == 0 else False,
        }
        if number % 3 == 0:
            entry["requires-python"] = ">=3.8"
        elif number % 3 == 1:
            entry["requires-python"] = ">=2.7,!=3.0*"  # not a valid specifier
        entries.append(entry)
    entries.append({"filename": "odd_proj-5.0.tar.gz"})  # no URL
    entries.append({"url": "x"})  # no filename
    entries.append(
        {"filename": "odd_proj-6.0-py3-none-any.whl", "url": "a.whl", "requires-python": " "}
    )
    entries.append(
        {"filename": "odd_proj-6.0-py3-none-any.whl", "url": "b.whl", "core-metadata": True}
    )
    return entries


def facts(file: Any) -> tuple[Any, ...]:
    return (file.to_json(), file.project, str(file.requires_python), file.tags, file.url)


def test_odd_filenames_end_where_make_file_puts_them() -> None:
    entries = odd_entries()
    expected_warnings: list[str] = []
    made = [make_file(e, PAGE_URL, INDEX_URL, "odd-proj", expected_warnings) for e in entries]
    expected = [f for f in made if f is not None]
    body = json.dumps({"meta": {"api-version": "1.1"}, "files": [*entries, "not a dict"]})
    page = parse_project_json(body.encode(), PAGE_URL, INDEX_URL, "odd-proj")
    assert page.warnings[:-1] == expected_warnings
    assert "malformed" in page.warnings[-1]
    assert len(expected_warnings) >= 12
    versions = page.all_versions()
    assert versions == sorted({f.version for f in expected}, reverse=True)
    for version in versions:
        assert [facts(f) for f in page.files_for(version)] == [
            facts(f) for f in expected if f.version == version
        ]
    assert page.file_count == len(expected)


def test_an_html_page_reads_the_same_odd_filenames() -> None:
    links = "\n".join(
        f'<a href="../../files/{name}" data-requires-python="&gt;=3.8">{name}</a>'
        for name in ODD_FILENAMES
    )
    body = f"<html><body>{links}</body></html>".encode()
    page = parse_project_html(body, PAGE_URL, INDEX_URL, "odd-proj")
    warnings: list[str] = []
    entries = [
        {"filename": name, "url": f"../../files/{name}", "requires-python": ">=3.8"}
        for name in ODD_FILENAMES
    ]
    made = [make_file(e, PAGE_URL, INDEX_URL, "odd-proj", warnings) for e in entries]
    expected = [f for f in made if f is not None]
    assert page.warnings == warnings
    assert sorted(f.filename for f in page.files) == sorted(f.filename for f in expected)


def test_requests_reuse_one_kept_alive_connection(sample_index: IndexServer) -> None:
    async def go() -> tuple[list[str], bool, int]:
        config = IndexConfig(index_url=sample_index.index_url)
        client = IndexClient(config, retries=0, use_netrc=False)
        fetcher = client._fetcher
        made_before = fetcher._client is not None
        async with client:
            names = []
            for name in ("alpha", "beta", "alpha"):
                page = await client.get_project(name)
                names.append(page.name)
            transport = fetcher.client._transport
            assert isinstance(transport, ThreadedTransport)
            return names, made_before, transport.connections_made

    names, made_before, connections = asyncio.run(go())
    assert names == ["alpha", "beta", "alpha"]
    assert not made_before  # no HTTP client (nor CA bundle) before the first request
    assert connections == 1  # kept alive and reused


def test_a_client_that_never_asked_closes_without_making_one() -> None:
    async def go() -> bool:
        client = IndexClient(IndexConfig(index_url="https://files.example/simple/"))
        async with client:
            pass
        return client._fetcher._client is None

    assert asyncio.run(go())
