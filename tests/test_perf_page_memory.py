"""Page entries kept packed (index/pages.py ``_pack``): the files a page makes from
them are the very files ``make_file`` makes from the entries as sent, for the shapes
PyPI sends and for the unusual ones that stay unpacked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_envhelper.index.pages import make_file, parse_json_in_full, parse_project_json

PAGE_URL = "https://pypi.example/simple/pkg/"
INDEX_URL = "https://pypi.example/simple/"
HOST = "https://files.example/packages/ab/cd/0123456789"


def entry(filename: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "filename": filename,
        "url": f"{HOST}/{filename}",
        "hashes": {"sha256": "a" * 64},
        "size": 123456,
        "upload-time": "2024-05-06T07:08:09.123456Z",
        "yanked": False,
        "requires-python": ">=3.8",
        "core-metadata": {"sha256": "b" * 64},
        "data-dist-info-metadata": {"sha256": "b" * 64},
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not ...}


ENTRIES = [
    entry("pkg-1.0-py3-none-any.whl"),  # PyPI's usual shape
    entry("pkg-1.0.tar.gz", **{"core-metadata": ..., "data-dist-info-metadata": ...}),
    entry("pkg-1.1-py3-none-any.whl", yanked="broken build", **{"upload-time": None}),
    entry("pkg-1.2-py3-none-any.whl", **{"core-metadata": True}),
    entry("pkg-1.3-py3-none-any.whl", **{"core-metadata": "sha256=" + "c" * 64}),
    entry("pkg-1.4-py3-none-any.whl", **{"core-metadata": False, "requires-python": ...}),
    entry(
        "pkg-1.5-py3-none-any.whl", url="../../files/pkg-1.5-py3-none-any.whl#sha256=" + "d" * 64
    ),
    entry("pkg-1.6-py3-none-any.whl", url="https://elsewhere.example/download?id=7"),
    entry("pkg-1.7-py3-none-any.whl", hashes={"sha256": "e" * 64, "md5": "f" * 32}),
    entry("pkg-1.8-py3-none-any.whl", hashes={}),
    entry("pkg-1.9-py3-none-any.whl", hashes=...),
    entry("pkg-2.0-py3-none-any.whl", url=f"{HOST}/odd\x01/pkg-2.0-py3-none-any.whl"),
    entry("pkg-2.1-py3-none-any.whl", **{"upload-time": "2024\x00-01-01"}),
    entry("pkg-2.2-py3-none-any.whl", **{"core-metadata": {"sha256": "1", "md5": "2"}}),
    entry("pkg-2.3-py3-none-any.whl", **{"upload-time": 12}),
]


def facts(file: Any) -> tuple[Any, ...]:
    return (file.to_json(), file.project, str(file.requires_python), file.tags, file.url)


@pytest.mark.parametrize("parse", [parse_json_in_full, parse_project_json])
def test_packed_entries_make_the_files_make_file_makes(parse: Any) -> None:
    warnings: list[str] = []
    made = [make_file(e, PAGE_URL, INDEX_URL, "pkg", warnings) for e in ENTRIES]
    expected = [f for f in made if f is not None]
    assert len(expected) == len(ENTRIES)
    body = json.dumps({"meta": {"api-version": "1.1"}, "files": ENTRIES})
    page = parse(body.encode(), PAGE_URL, INDEX_URL, "pkg")
    assert page.filenames() == [e["filename"] for e in ENTRIES]
    versions = page.all_versions()
    built = [facts(f) for v in reversed(versions) for f in page.files_for(v)]
    assert built == [facts(f) for f in expected]
    usual = page.files_for(versions[-1])[0]  # pkg 1.0, the wheel: packed and unpacked
    assert usual.url == f"{HOST}/pkg-1.0-py3-none-any.whl"
    assert usual.hashes == {"sha256": "a" * 64} and usual.metadata_hashes == {"sha256": "b" * 64}


def test_usual_entries_are_kept_as_one_string() -> None:
    # (what a page read in full keeps: an HTML page, a JSON page with escapes...)
    body = json.dumps({"files": [entry(f"pkg-{n}.0-py3-none-any.whl") for n in range(50)]})
    page = parse_json_in_full(body.encode(), PAGE_URL, INDEX_URL, "pkg")
    lazy = page._lazy
    assert lazy is not None and lazy.built == 0
    kept = lazy._entries  # type: ignore[attr-defined]
    assert all(type(e) is tuple and type(e[0]) is str for e in kept)
    # nothing of the JSON's dicts is kept: the hashes live in the packed string
    assert not any(isinstance(v, dict) for e in kept for v in e)
