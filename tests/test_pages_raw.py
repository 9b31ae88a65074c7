"""A JSON page read where it is asked (``index/rawpage.py``) against the full parser
(``pages.parse_json_in_full``), version by version: the same versions, files (same
order, same facts), warnings (same order), counts and names, on pages of several
layouts -- the loopback index's, PyPI's, compact and indented ones, big synthetic
pages with odd entries -- and what it cannot vouch for is read in full.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from packaging.version import Version

from jupyter_envhelper.errors import IndexUnavailable
from jupyter_envhelper.index.models import DistributionFile, ProjectPage
from jupyter_envhelper.index.pages import parse_json_in_full, parse_project_json
from jupyter_envhelper.index.rawpage import RawEntries, read_json_page
from tests.indexserver import DistSpec, IndexServer
from tests.test_perf_lazy_pages import realistic_entries
from tests.test_perf_page_parse import odd_entries

pytest_plugins = ("tests.indexserver.fixtures",)

PAGE_URL = "https://files.example/simple/bigproj/"
INDEX_URL = "https://files.example/simple/"

Layout = Callable[[str, list[Any], list[str] | None], bytes]


def pypi(name: str, files: list[Any], versions: list[str] | None) -> bytes:
    """As PyPI sends it: keys sorted, files first, ", " and ": " separators."""
    page: dict[str, Any] = {"files": files, "meta": {"api-version": "1.4"}, "name": name}
    if versions is not None:
        page["versions"] = versions
    return json.dumps(page, sort_keys=True).encode()


def compact(name: str, files: list[Any], versions: list[str] | None) -> bytes:
    """Meta and versions first, files last, no blanks at all, keys reversed."""
    page: dict[str, Any] = {"meta": {"api-version": "1.1"}, "name": name}
    if versions is not None:
        page["versions"] = versions
    page["files"] = [dict(reversed(list(e.items()))) if type(e) is dict else e for e in files]
    return json.dumps(page, separators=(",", ":")).encode()


def indented(name: str, files: list[Any], versions: list[str] | None) -> bytes:
    """One key a line, as the loopback index and some mirrors send it; no api-version."""
    page: dict[str, Any] = {"name": name, "files": files}
    if versions is not None:
        page["versions"] = versions
    return json.dumps(page, indent=2).encode()


LAYOUTS = [pypi, compact, indented]


def facts(file: DistributionFile) -> tuple[Any, ...]:
    return (
        file.to_json(),
        file.project,
        str(file.requires_python) if file.requires_python is not None else None,
        file.metadata_hashes,
        file.tags,
        file.upload_time,
    )


def same_page(body: bytes, name: str, page_url: str = PAGE_URL) -> bool:
    """Read ``body`` both ways and compare everything, version by version (newest
    first, as the resolver reads); whether it was read the lazy way."""
    expected = parse_json_in_full(body, page_url, INDEX_URL, name)
    page = parse_project_json(body, page_url, INDEX_URL, name)
    raw = is_raw(page)
    assert page.warnings == expected.warnings
    assert (page.api_version, page.versions) == (expected.api_version, expected.versions)
    assert page.all_versions() == expected.all_versions()
    assert page.file_count == expected.file_count
    assert page.filenames() == expected.filenames()
    for version in expected.all_versions():
        got = page.files_for(version)
        assert [facts(f) for f in got] == [facts(f) for f in expected.files_for(version)]
        assert page.files_for(version) == got  # the same files when asked again
        assert all(a is b for a, b in zip(page.files_for(version), got, strict=True))
    assert [facts(f) for f in page.files] == [facts(f) for f in expected.files]
    # ``files`` on a fresh page: everything built at once, in page order
    fresh = parse_project_json(body, page_url, INDEX_URL, name)
    assert [facts(f) for f in fresh.files] == [facts(f) for f in expected.files]
    assert fresh.warnings == expected.warnings
    return raw


def is_raw(page: ProjectPage) -> bool:
    return isinstance(page._lazy, RawEntries)


def usual_entries() -> list[dict[str, Any]]:
    """The realistic page without the entries that send it to the full parser (an
    entry without a URL or without a name) and without its invalid Requires-Python."""
    return [
        e
        for e in realistic_entries()
        if "filename" in e and "url" in e and e.get("requires-python") != ">=3.6.*"
    ]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_files_with_an_invalid_requires_python_are_skipped_the_same(layout: Layout) -> None:
    """As on pyzmq's page (">=2.7,!=3.0*"): those files are skipped with the full
    parser's warnings, in page order, and their versions go when nothing else is left;
    the key sits after the name (PyPI) or before it (``compact`` reverses the keys)."""
    entries = usual_entries()[:400]
    for at in (0, 7, 8, 150, 151, 152, 399):
        entries[at] = dict(entries[at], **{"requires-python": ">=2.7,!=3.0*"})
    entries.insert(200, {"filename": "bigproj-77.0.tar.gz", "url": "u", "requires-python": "~=1"})
    body = layout("bigproj", entries, versions_of(entries))
    assert same_page(body, "bigproj")
    page = parse_project_json(body, PAGE_URL, INDEX_URL, "bigproj")
    assert len(page.warnings) == 8 and Version("77.0") not in page.all_versions()


def versions_of(entries: list[Any]) -> list[str]:
    found = []
    for entry in entries:
        filename = entry.get("filename", "") if type(entry) is dict else ""
        if filename.endswith(".whl"):
            found.append(filename.split("-")[1])
        elif filename.endswith((".tar.gz", ".zip")):
            found.append(filename.rsplit("-", 1)[-1].removesuffix(".zip").removesuffix(".tar.gz"))
    return sorted(set(found))


def odd_project_entries() -> list[Any]:
    """``test_perf_page_parse``'s odd names (bad build tags, other projects, other
    spellings, ignored kinds, a file twice...), renamed onto bigproj, without a
    Requires-Python that is not valid."""
    out = []
    for sent in odd_entries():
        if type(sent) is not dict or "filename" not in sent or "url" not in sent:
            continue
        entry = dict(sent)
        entry["filename"] = entry["filename"].replace("odd_proj", "bigproj")
        entry["filename"] = entry["filename"].replace("odd-proj", "bigproj")
        entry["filename"] = entry["filename"].replace("Odd.Proj", "BigProj")
        entry["filename"] = entry["filename"].replace("odd__proj", "big__proj")
        entry["url"] = entry["url"].replace("odd_proj", "bigproj")
        rp = entry.get("requires-python")
        if isinstance(rp, str) and rp.strip():
            entry["requires-python"] = ">=3.8"
        out.append(entry)
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("listed", [True, False])
def test_a_big_page_reads_the_same_version_by_version(layout: Layout, listed: bool) -> None:
    entries = usual_entries()
    body = layout("bigproj", entries, versions_of(entries) if listed else None)
    assert same_page(body, "bigproj"), "took the full parser"
    page = parse_project_json(body, PAGE_URL, INDEX_URL, "bigproj")
    assert len(page.all_versions()) > 200 and page.file_count > 3000


@pytest.mark.parametrize("layout", LAYOUTS)
def test_odd_entries_give_the_same_files_and_warnings_in_order(layout: Layout) -> None:
    entries = usual_entries()[:300]
    odd = odd_project_entries()
    mixed = odd[:5] + entries[:150] + odd[5:] + entries[150:]
    body = layout("bigproj", mixed, versions_of(mixed))
    assert same_page(body, "bigproj")
    page = parse_project_json(body, PAGE_URL, INDEX_URL, "bigproj")
    assert len(page.warnings) >= 8


def test_only_the_versions_asked_about_are_decoded() -> None:
    body = pypi("bigproj", usual_entries(), None)
    page = parse_project_json(body, PAGE_URL, INDEX_URL, "bigproj")
    lazy = page._lazy
    assert isinstance(lazy, RawEntries) and lazy.decoded == [] and lazy.built == 0
    newest = page.all_versions()[:2]
    made = [page.files_for(v) for v in newest]
    assert lazy.decoded == newest
    assert lazy.built == sum(len(m) for m in made) < page.file_count / 100
    assert page.files_made == lazy.built and page.is_lazy


def test_threads_reading_one_page_get_the_same_files() -> None:
    body = pypi("bigproj", usual_entries(), None)
    page = parse_project_json(body, PAGE_URL, INDEX_URL, "bigproj")
    versions = page.all_versions()[:20]
    seen: list[list[list[DistributionFile]]] = []

    def read() -> None:
        seen.append([page.files_for(v) for v in versions])

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4
    for other in seen[1:]:
        assert all(a is b for x, y in zip(seen[0], other) for a, b in zip(x, y, strict=True))


def test_the_loopback_index_pages_read_the_same() -> None:
    dists = [
        DistSpec("Loop.Proj", f"1.{n}", requires_python=">=3.8" if n % 2 else None)
        for n in range(6)
    ] + [
        DistSpec("loop-proj", "2.0rc1", yanked=True),
        DistSpec("loop-proj", "1.3", kind="sdist"),
        DistSpec("other", "0.1"),
    ]
    with IndexServer(dists) as server:
        for project in server.projects:
            body = server.project_json(project)
            assert same_page(body, project, f"{server.index_url}{project}/")
            page = parse_project_json(body, server.index_url, INDEX_URL, project)
            assert page.file_count == len(server.projects[project])


def test_the_loopback_index_through_the_client(sample_index: IndexServer) -> None:
    import asyncio

    from jupyter_envhelper.index import IndexClient, IndexConfig

    async def read() -> list[ProjectPage | None]:
        config = IndexConfig(index_url=sample_index.index_url)
        async with IndexClient(config, retries=0, use_netrc=False) as client:
            return [await client.get_project(p) for p in sorted(sample_index.projects)]

    for page in asyncio.run(read()):
        assert page is not None and is_raw(page)
        body = sample_index.project_json(page.name)
        expected = parse_json_in_full(body, f"{sample_index.index_url}{page.name}/", "", page.name)
        for version in expected.all_versions():
            urls = [f.url for f in page.files_for(version)]
            assert urls == [f.url for f in expected.files_for(version)]


def _with(entries: list[Any], **change: Any) -> list[Any]:
    out = [dict(e) for e in entries]
    out[len(out) // 2].update(change)
    return out


FALLBACKS: dict[str, Callable[[Layout], bytes]] = {
    "an escape": lambda lay: lay("bigproj", _with(usual_entries()[:80], yanked='say "no"'), None),
    "a file name not a string": lambda lay: lay(
        "bigproj", _with(usual_entries()[:80], filename=12), None
    ),
    "an entry without a URL": lambda lay: lay(
        "bigproj", [e for i, e in enumerate(usual_entries()[:80]) if i != 5 or e.pop("url")], None
    ),
    "one entry without a URL, another without a name": lambda lay: lay(
        "bigproj",
        [
            *usual_entries()[:40],
            {"filename": "bigproj-9.0.tar.gz"},
            {"url": "z"},
            *usual_entries()[40:80],
        ],
        None,
    ),
    "only entries without a name": lambda lay: lay("bigproj", [{"url": "z"}], None),
    "a URL not a string": lambda lay: lay("bigproj", _with(usual_entries()[:80], url=None), None),
    "an entry not an object": lambda lay: lay("bigproj", [*usual_entries()[:80], "x.whl"], None),
    "a list of versions not of strings": lambda lay: lay("bigproj", usual_entries()[:80], [1]),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", sorted(FALLBACKS))
def test_what_it_cannot_vouch_for_is_read_in_full(layout: Layout, case: str) -> None:
    body = FALLBACKS[case](layout)
    assert read_json_page(body, PAGE_URL, INDEX_URL, "bigproj") is None
    assert not same_page(body, "bigproj")


@pytest.mark.parametrize(
    "body",
    [
        b'{"meta": {"api-version": "2.0"}, "files": []}',
        b'{"files": [{"filename": "bigproj-1.0.tar.gz", "url": "x"}',
        b'{"files": {"filename": "bigproj-1.0.tar.gz", "url": "x"}}',
        b'{"meta": {"api-version": 2}, "files": []}',
        b"[]",
    ],
)
def test_a_bad_page_fails_as_the_full_parser_does(body: bytes) -> None:
    with pytest.raises(IndexUnavailable) as expected:
        parse_json_in_full(body, PAGE_URL, INDEX_URL, "bigproj")
    with pytest.raises(IndexUnavailable) as got:
        parse_project_json(body, PAGE_URL, INDEX_URL, "bigproj")
    assert str(got.value) == str(expected.value)


def test_an_entry_it_cannot_find_when_asked_is_read_in_full() -> None:
    """A "filename" nested inside an entry is no PEP 691 page (documented): the scan
    counts it, but the entry around it (nested after the entry's own name) cannot be
    decoded when its version is asked for, and then the page is parsed in full for
    every answer after."""
    entries = usual_entries()[:60]
    # (two objects: one nested name alone is seen at once, by the count of entries)
    nested = [{"note": "x"}, {"filename": "bigproj-99.0-py3-none-any.whl", "url": "x"}]
    entries[-1] = dict(entries[-1], zz=nested)  # sorted after "filename"
    body = pypi("bigproj", entries, None)
    expected = parse_json_in_full(body, PAGE_URL, INDEX_URL, "bigproj")
    page = parse_project_json(body, PAGE_URL, INDEX_URL, "bigproj")
    assert is_raw(page)
    owner = expected.files[-1].version
    assert [facts(f) for f in page.files_for(owner)] == [
        facts(f) for f in expected.files_for(owner)
    ]
    assert page.all_versions() == expected.all_versions()  # the full parser's from now on
    one = [*entries[:-1], dict(entries[-1], zz=nested[1:])]
    assert read_json_page(pypi("bigproj", one, None), PAGE_URL, INDEX_URL, "bigproj") is None
    assert [f.filename for f in page.files] == [f.filename for f in expected.files]


def test_a_page_without_files_is_empty() -> None:
    for layout in LAYOUTS:
        body = layout("bigproj", [], [])
        assert same_page(body, "bigproj")
        page = parse_project_json(body, PAGE_URL, INDEX_URL, "bigproj")
        assert page.all_versions() == [] and page.files_for(Version("1.0")) == []


def test_a_page_bigger_as_sent_than_parsed_is_parsed_in_full() -> None:
    """Kept as sent only where that is cheaper than the packed entries (``_ENTRY_BYTES``
    a file): a page padded with blanks is parsed in full, with the same answers."""
    entries = [{"filename": e["filename"], "url": e["url"]} for e in usual_entries()[:200]]
    body = json.dumps({"files": entries}, indent=60).encode()
    assert len(body) > 560 * len(entries)
    assert read_json_page(body, PAGE_URL, INDEX_URL, "bigproj") is None
    assert not same_page(body, "bigproj")
    lean = json.dumps({"files": entries}).encode()
    assert same_page(lean, "bigproj")


def test_a_page_that_is_not_utf8_fails_as_the_full_parser_does() -> None:
    body = pypi("bigproj", usual_entries()[:20], None).replace(b"2020-01-", b"2020-\xff-")
    with pytest.raises(IndexUnavailable) as expected:
        parse_json_in_full(body, PAGE_URL, INDEX_URL, "bigproj")
    with pytest.raises(IndexUnavailable) as got:
        parse_project_json(body, PAGE_URL, INDEX_URL, "bigproj")
    assert str(got.value) == str(expected.value)
    names = [{"filename": "bigproj-1.0-py3-none-any.whl", "url": "u", "yanked": "é"}]
    utf8 = json.dumps({"files": names}, ensure_ascii=False).encode()
    assert b"\\" not in utf8 and same_page(utf8, "bigproj")  # UTF-8 itself is fine
