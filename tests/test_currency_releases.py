"""``outdated`` reads only the newer part of each page (``currency/releases.py``): it
must find exactly the files the full parser finds for every release newer than the
installed one, on pages laid out as PyPI sends them and as other indexes do, and it
must take the quick way where it can (or the test would pass with the slow way only).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from packaging.version import Version

from jupyter_envhelper.currency.releases import (
    NewerReleases,
    Releases,
    newer_files,
    read_newer,
    version_of,
)
from jupyter_envhelper.errors import IndexUnavailable
from jupyter_envhelper.index.pages import JSON_TYPE, parse_json_in_full

PAGE_URL = "https://example.test/simple/demo-pkg/"
INDEX_URL = "https://example.test/simple/"
NAME = "demo-pkg"


def entry(filename: str, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "core-metadata": {"sha256": "ab" * 32},
        "data-dist-info-metadata": {"sha256": "ab" * 32},
        "filename": filename,
        "hashes": {"sha256": "cd" * 32},
        "requires-python": None,
        "size": 1234,
        "upload-time": "2024-01-01T00:00:00.000000Z",
        "url": f"https://files.example.test/{filename}",
        "yanked": False,
    }
    found.update(extra)
    return found


RELEASES = [
    entry("demo_pkg-0.9-py3-none-any.whl"),
    entry("demo-pkg-0.9.tar.gz"),
    entry("demo_pkg-1.0-py3-none-any.whl"),
    entry("demo_pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", **{"requires-python": ">=3.8"}),
    entry("demo-pkg-1.0.zip"),
    entry("demo_pkg-1.0.post1-py3-none-any.whl"),
    entry("demo_pkg-1.1rc1-py3-none-any.whl"),
    entry("demo_pkg-1.1-1-py3-none-any.whl"),  # a build tag
    entry("demo_pkg-1.1-py3-none-any.whl", yanked="broken {build}: use 1.2"),
    entry("demo-pkg-1.1.tar.gz"),
    entry("demo_pkg-1.2-py3-none-any.whl", **{"requires-python": ">=3.99"}),
    entry("demo_pkg-1.2+cpu-py3-none-any.whl"),
    entry("demo_pkg-10.0-py3-none-any.whl"),
    entry("demo-pkg-10.0.egg"),  # ignored by both
    entry("demo_pkg-2!0.5-py3-none-any.whl"),  # an epoch: newer than everything
]
VERSIONS = ["0.9", "1.0", "1.0.post1", "1.1rc1", "1.1", "1.2", "1.2+cpu", "10.0", "2!0.5"]
INSTALLED = ["0.1", "0.9", "1.0", "1.0.post1", "1.1rc1", "1.1", "1.2", "10.0", "2!0.5", "3!0"]


def pypi_layout(files: list[dict[str, Any]], versions: list[str] | None) -> bytes:
    """As PyPI sends it: keys sorted, ", " and ": " separators, versions at the end."""
    page: dict[str, Any] = {"files": files, "meta": {"api-version": "1.4"}, "name": NAME}
    if versions is not None:
        page["versions"] = versions
    return json.dumps(page).encode()


def other_layout(files: list[dict[str, Any]], versions: list[str] | None) -> bytes:
    """Another server's: meta and versions first, indented, compact separators."""
    page: dict[str, Any] = {"meta": {"api-version": "1.1"}, "name": NAME}
    if versions is not None:
        page["versions"] = versions
    page["files"] = [dict(reversed(list(e.items()))) for e in files]
    return json.dumps(page, indent=1, separators=(",", ":")).encode()


def full(body: bytes) -> Releases:
    return parse_json_in_full(body, PAGE_URL, INDEX_URL, NAME)


def quick(body: bytes, installed: str) -> Releases:
    return read_newer(body, JSON_TYPE, PAGE_URL, INDEX_URL, NAME, installed=Version(installed))


def same_files(body: bytes, installed: str) -> Releases:
    """Read ``body`` both ways; assert the newer releases and their files are equal."""
    page = quick(body, installed)
    at = Version(installed)
    expected = full(body)
    assert newer_files(page, at) == newer_files(expected, at), installed
    for version, _names in newer_files(expected, at):
        made = sorted((f.to_json() for f in page.files_for(version)), key=str)
        assert made == sorted((f.to_json() for f in expected.files_for(version)), key=str)
    return page


@pytest.mark.parametrize("layout", [pypi_layout, other_layout])
@pytest.mark.parametrize("installed", INSTALLED)
def test_the_quick_read_finds_what_the_full_parser_finds(layout: Any, installed: str) -> None:
    page = same_files(layout(RELEASES, VERSIONS), installed)
    assert isinstance(page, NewerReleases) and page.fast, "took the slow way"


def test_only_the_newer_files_are_decoded_and_made() -> None:
    page = quick(pypi_layout(RELEASES, VERSIONS), "1.1")
    assert isinstance(page, NewerReleases) and page.fast
    assert [str(v) for v in page.all_versions()] == ["2!0.5", "10.0", "1.2+cpu", "1.2"]
    assert page.files_for(Version("1.0")) == []  # older: not even decoded
    assert [f.filename for f in page.files_for(Version("10.0"))] == [
        "demo_pkg-10.0-py3-none-any.whl"
    ]


def test_a_current_distribution_reads_no_file_entry() -> None:
    page = quick(pypi_layout(RELEASES, VERSIONS), "3!0")
    assert isinstance(page, NewerReleases) and page.fast and page.all_versions() == []


@pytest.mark.parametrize(
    ("why", "files", "versions"),
    [
        # no PEP 700 versions list: every entry is decoded and filtered
        ("no versions", RELEASES, None),
        # an escaped character anywhere (here a yanked reason with quotes)
        ("escapes", [*RELEASES, entry("demo_pkg-11.0-py3-none-any.whl", yanked='see "x"')],
         [*VERSIONS, "11.0"]),
        # a listed release whose files are spelled another way (2.00 is 2.0)
        ("spelling", [*RELEASES, entry("demo_pkg-12.00-py3-none-any.whl")],
         [*VERSIONS, "12.0"]),
        # a listed release without files
        ("no files", RELEASES, [*VERSIONS, "13.0"]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("layout", [pypi_layout, other_layout])
def test_what_the_quick_read_cannot_vouch_for_is_read_in_full(
    why: str, files: list[dict[str, Any]], versions: list[str] | None, layout: Any
) -> None:
    body = layout(files, versions)
    page = same_files(body, "0.1")  # everything is newer, the odd release too
    assert isinstance(page, NewerReleases) and not page.fast, why
    for installed in INSTALLED:
        same_files(body, installed)


def test_a_bad_page_fails_as_the_full_parser_does() -> None:
    for body in (b"{not json", b'{"files": 3, "versions": []}', b"[]"):
        with pytest.raises(IndexUnavailable):
            quick(body, "1.0")
    newer_api = json.dumps({"meta": {"api-version": "2.0"}, "files": [], "versions": []})
    with pytest.raises(IndexUnavailable, match=r"version 2\.0"):
        quick(newer_api.encode(), "1.0")


def test_an_html_page_goes_to_the_full_parser() -> None:
    html = (
        b'<html><body><a href="https://files.example.test/demo_pkg-1.5-py3-none-any.whl">'
        b"demo_pkg-1.5-py3-none-any.whl</a></body></html>"
    )
    page = read_newer(html, "text/html", PAGE_URL, INDEX_URL, NAME, installed=Version("1.0"))
    assert not isinstance(page, NewerReleases)
    assert newer_files(page, Version("1.0")) == [
        (Version("1.5"), ["demo_pkg-1.5-py3-none-any.whl"])
    ]


def test_version_texts_are_split_as_the_parser_splits_them() -> None:
    assert version_of("demo_pkg-1.0-1-py3-none-any.whl") == "1.0"
    assert version_of("python-dateutil-2.9.0.post0.tar.gz") == "2.9.0.post0"
    assert version_of("demo-pkg-1.0.zip") == "1.0"
    assert version_of("demo.whl") is None and version_of("demo-1.0.egg") is None
