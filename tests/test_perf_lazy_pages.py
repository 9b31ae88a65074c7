"""Lazy project pages: the same files, warnings, releases and candidates as eager parsing.

A page shaped like PyPI's big ones (hundreds of versions, a dozen and more files each,
Requires-Python that changes over the years, yanked files, local labels, entries that
must be skipped) is read by the lazy parser and compared with ``make_file`` applied to
every entry (the eager way), and the factory's lazy releases with the rule they
replace, worked out by hand here for every version.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from jupyter_envhelper.environment import Environment
from jupyter_envhelper.index import DistributionFile, IndexClient, IndexConfig, ProjectPage
from jupyter_envhelper.index.pages import make_file, parse_project_html, parse_project_json
from jupyter_envhelper.resolver.candidates import ReleaseCandidate
from jupyter_envhelper.resolver.factory import Factory, Release, release_order
from jupyter_envhelper.resolver.fetching import IndexBridge
from jupyter_envhelper.resolver.requirements import SpecifierRequirement

PAGE_URL = "https://files.example/simple/bigproj/"
INDEX_URL = "https://files.example/simple/"
PYTHONS = ["37", "38", "39", "310", "311", "312", "313"]
PLATFORMS = ["manylinux_2_17_x86_64", "manylinux_2_28_aarch64", "macosx_11_0_arm64", "win_amd64"]


def _requires_python(major: int) -> str | None:
    return {0: None, 1: ">=3.6", 2: ">=3.7", 3: ">=3.8,<4", 4: ">=3.9", 5: ">=3.10"}.get(
        major, ">=3.11"
    )


def realistic_entries() -> list[dict[str, Any]]:
    """~300 versions (finals, pre-releases, post releases, local builds), each with
    CPython wheels for the Pythons of its time on four platforms, a pure wheel
    sometimes, an sdist, and a few entries that are skipped with a warning."""
    entries: list[dict[str, Any]] = []
    serial = 0
    for major in range(7):
        for minor in range(25):
            for tail in ("", "rc1", ".post1") if minor % 6 == 0 else ("",):
                version = f"{major}.{minor}{tail}"
                rp = _requires_python(major)
                pythons = PYTHONS[max(0, major - 1) : major + 3]
                files = [
                    f"bigproj-{version}-cp{py}-cp{py}-{plat}.whl"
                    for py in pythons
                    for plat in PLATFORMS
                ]
                if minor % 4 == 0:
                    files.append(f"bigproj-{version}-py3-none-any.whl")
                files.append(f"bigproj-{version}.tar.gz")
                for filename in files:
                    serial += 1
                    entry: dict[str, Any] = {
                        "filename": filename,
                        "url": f"https://files.example/packages/{serial:04x}/{filename}",
                        "hashes": {"sha256": f"{serial:064x}"},
                        "requires-python": rp,
                        "size": 1000 + serial,
                        "upload-time": f"2020-01-{1 + serial % 28:02d}T00:00:00Z",
                        "yanked": False,
                    }
                    if serial % 97 == 0:
                        entry["yanked"] = "broken build"
                    elif serial % 89 == 0:
                        entry["yanked"] = True
                    if serial % 3 == 0:
                        entry["core-metadata"] = {"sha256": f"{serial:064x}"}
                    entries.append(entry)
    # local builds of one release, as PyTorch publishes them
    for label in ("cpu", "cu121"):
        filename = f"bigproj-6.24+{label}-cp312-cp312-manylinux_2_17_x86_64.whl"
        entries.append(
            {"filename": filename, "url": f"../../packages/{label}/{filename}#sha256=ab"}
        )
    entries += [
        {"filename": "bigproj-notaversion-py3-none-any.whl", "url": "x.whl"},
        {"filename": "otherproj-1.0-py3-none-any.whl", "url": "x.whl"},
        {"filename": "bigproj-1.0-x1-py3-none-any.whl", "url": "x.whl"},  # bad build tag
        {"filename": "bigproj-1.0-py3--any.whl", "url": "x.whl"},  # empty tag component
        {"filename": "bigproj-1.0.exe", "url": "x.exe"},  # ignored quietly
        {"filename": "bigproj-1.0.egg", "url": "x.egg"},
        {"filename": "bigproj-1.0.rpm-ish", "url": "x"},
        {"filename": "bigproj-2.0.tar.gz", "url": "y", "requires-python": ">=3.6.*"},
        {"filename": "bigproj-2.0.tar.gz"},  # no URL
        {"url": "z"},  # no name
        {"filename": "bigproj-3.1.zip", "url": "relative/bigproj-3.1.zip", "yanked": " "},
    ]
    return entries


def page_bytes() -> bytes:
    return json.dumps(
        {"meta": {"api-version": "1.1"}, "name": "bigproj", "files": realistic_entries()}
    ).encode()


def eager(entries: list[dict[str, Any]]) -> tuple[list[DistributionFile], list[str]]:
    warnings: list[str] = []
    files = [make_file(e, PAGE_URL, INDEX_URL, "bigproj", warnings) for e in entries]
    return [f for f in files if f is not None], warnings


def facts(file: DistributionFile) -> tuple[Any, ...]:
    return (
        file.to_json(),
        file.project,
        str(file.requires_python) if file.requires_python is not None else None,
        file.metadata_hashes,
        file.tags,
    )


def test_a_lazy_page_has_the_files_and_warnings_of_an_eager_one() -> None:
    entries = realistic_entries()
    expected, expected_warnings = eager(entries)
    page = parse_project_json(page_bytes(), PAGE_URL, INDEX_URL, "bigproj")
    assert page.is_lazy and page.files_made == 0
    assert page.file_count == len(expected) > 3000
    # warnings are said when the page is read, not when a file is first asked for
    assert page.warnings == expected_warnings
    assert len(page.warnings) == 8
    assert page.all_versions() == sorted({f.version for f in expected}, reverse=True)
    for version in page.all_versions()[::7]:
        lazy = page.files_for(version)
        assert [facts(f) for f in lazy] == [facts(f) for f in expected if f.version == version]
    assert page.files_for("99.0") == []
    # all of them, in page order, when someone wants the list
    assert [facts(f) for f in page.files] == [facts(f) for f in expected]
    assert not page.is_lazy


def test_fragments_relative_urls_and_yanked_reasons_survive() -> None:
    page = parse_project_json(page_bytes(), PAGE_URL, INDEX_URL, "bigproj")
    (cpu,) = [f for f in page.files_for("6.24+cpu")]
    assert cpu.url == "https://files.example/packages/cpu/" + cpu.filename
    assert cpu.hashes == {"sha256": "ab"}
    (zipped,) = page.files_for("3.1")[-1:]
    assert zipped.url == PAGE_URL + "relative/bigproj-3.1.zip"
    assert zipped.yanked and zipped.yanked_reason is None
    reasons = {f.yanked_reason for f in page.files if f.yanked}
    assert reasons == {None, "broken build"}


def test_an_html_page_is_lazy_too_and_reads_the_same() -> None:
    entries = realistic_entries()[:400]
    rows = []
    for e in entries:
        rp = e.get("requires-python")
        attr = f' data-requires-python="{rp.replace(">", "&gt;")}"' if rp else ""
        if e.get("yanked"):
            attr += f' data-yanked="{e["yanked"] if isinstance(e["yanked"], str) else ""}"'
        url = e["url"] + f"#sha256={e['hashes']['sha256']}"
        rows.append(f'<a href="{url}"{attr}>{e["filename"]}</a>')
    body = ("<html><body>" + "\n".join(rows) + "</body></html>").encode()
    page = parse_project_html(body, PAGE_URL, INDEX_URL, "bigproj")
    assert page.is_lazy
    want = [(f["filename"], f["hashes"]["sha256"], f["requires-python"]) for f in entries]
    got = [(f.filename, f.sha256, f.requires_python_text) for f in page.files]
    assert got == want


# -- releases and candidates ---------------------------------------------------------------


def reference_releases(factory: Factory, files: list[DistributionFile]) -> list[Release]:
    """Every version's release worked out eagerly: what ``releases_of`` did before."""
    by_version: dict[Version, list[DistributionFile]] = {}
    for file in files:
        by_version.setdefault(file.version, []).append(file)
    out = []
    for version, group in by_version.items():
        fitting = [
            f
            for f in group
            if f.requires_python is None
            or f.requires_python.contains(factory.python, prereleases=True)
        ]
        ranked = [(r, f) for f in fitting if (r := factory.file_rank(f)) is not None]
        if ranked:
            ranked.sort(key=lambda item: (item[1].yanked, item[0]))
            out.append(Release(version, ranked[0][1]))
        elif not fitting:
            texts = [f.requires_python_text or str(f.requires_python) for f in group]
            out.append(Release(version, None, "requires-python", texts[0] if texts else None))
        else:
            out.append(Release(version, None, "no-compatible-file"))
    out.sort(key=release_order, reverse=True)
    return out


TARGETS = [
    ("3.8", "manylinux_2_28_x86_64"),
    ("3.11", "manylinux_2_17_x86_64"),
    ("3.12", "macosx_14_0_arm64"),
    ("3.13", "win_amd64"),
]


def _factory(python: str, platform: str, loop: asyncio.AbstractEventLoop) -> Factory:
    env = Environment.synthetic(python_version=python, platform=platform)
    client = IndexClient(IndexConfig(index_url=INDEX_URL), use_netrc=False)
    return Factory(env, IndexBridge(client, loop))


@pytest.mark.parametrize(("python", "platform"), TARGETS)
def test_lazy_releases_are_the_eager_ones(python: str, platform: str) -> None:
    loop = asyncio.new_event_loop()
    try:
        factory = _factory(python, platform, loop)
        page = parse_project_json(page_bytes(), PAGE_URL, INDEX_URL, "bigproj")
        eager_files, _ = eager(realistic_entries())
        expected = reference_releases(factory, eager_files)
        releases = factory.releases_of(page)
        # the newest usable release is found having made the files of the versions
        # down to it, and of no other
        first = next(r for r in releases if r.usable)
        assert first == next(r for r in expected if r.usable)
        public = Version(first.version.public)
        newer = [f for f in eager_files if Version(f.version.public) >= public]
        assert page.files_made == len(newer) < page.file_count // 2
        assert list(releases) == expected
        assert len(releases) == len(expected) and releases[3] == expected[3]
        assert releases[-1] == expected[-1] and releases[1:4] == expected[1:4]
        assert page.is_lazy  # releases never needed the whole list
    finally:
        loop.close()


def reference_matches(
    releases: list[Release], specifier: SpecifierSet, allow_pre: bool
) -> list[tuple[Version, str]]:
    """What ``find_matches`` returned before (no installed version): newest first,
    yanked only when pinned, pre-releases only when nothing else fits."""
    found = []
    for release in releases:
        if release.file is None or not specifier.contains(release.version, True):
            continue
        pinned = any(s.operator in ("==", "===") and "*" not in s.version for s in specifier)
        if release.yanked and not pinned:
            continue
        found.append(release)
    if not (allow_pre or specifier.prereleases):
        finals = [r for r in found if not r.version.is_prerelease]
        if finals:
            found = finals
    return [(r.version, r.file.filename if r.file else "") for r in found]


@pytest.mark.parametrize(
    "spec", ["", ">=3.0,<4", "<2", "==6.24", "==5.0rc1", ">=6.24.1", "~=2.18", "==4.*"]
)
@pytest.mark.parametrize(("python", "platform"), TARGETS[1:3])
def test_lazy_matches_are_the_eager_ones(spec: str, python: str, platform: str) -> None:
    loop = asyncio.new_event_loop()
    try:
        factory = _factory(python, platform, loop)
        page = parse_project_json(page_bytes(), PAGE_URL, INDEX_URL, "bigproj")
        factory.bridge._pages["bigproj"] = page  # the page as the resolver got it
        eager_files, _ = eager(realistic_entries())
        expected = reference_matches(
            reference_releases(factory, eager_files), SpecifierSet(spec), False
        )
        requirement = SpecifierRequirement.from_packaging(Requirement(f"bigproj{spec}"))
        lazy = factory.iter_matches("bigproj", [requirement], [])
        got = [(c.version, c.file.filename if c.file else "") for c in lazy()]
        assert got == expected
        assert [c for c in lazy()] == [c for c in lazy()]  # a fresh iterator each call
        listed = factory.find_matches("bigproj", [requirement], [])
        assert all(isinstance(c, ReleaseCandidate) for c in listed)
        assert [(c.version, c.file.filename if c.file else "") for c in listed] == expected
    finally:
        loop.close()


def test_a_page_built_from_files_is_not_lazy() -> None:
    files, _ = eager(realistic_entries()[:50])
    page = ProjectPage(name="bigproj", index_url=INDEX_URL, files=files)
    assert not page.is_lazy and page.files_made is None
    assert page.files_for(files[0].version) == [f for f in files if f.version == files[0].version]
    page.files.append(files[0])  # the list may still be changed, as merging pages does
    assert page.file_count == 51
