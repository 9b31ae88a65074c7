"""Search and package details through a real server, against the real local test index."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from tests.indexserver.fixtures import SAMPLE_DISTS, SAMPLE_NO_METADATA
from tests.indexserver.server import Fault, IndexServer
from tests.indexserver.wheels import DistSpec

ADVISORY = {
    "id": "PYSEC-2099-1",
    "aliases": ["CVE-2099-0001"],
    "summary": "beta before 1.6 evaluates untrusted input",
    "fixed_in": ["1.6"],
    "link": "https://osv.dev/vulnerability/PYSEC-2099-1",
}


@pytest.fixture
def test_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(
        [*SAMPLE_DISTS, DistSpec("reqeusts", "1.0", summary="not what you think")],
        no_metadata=SAMPLE_NO_METADATA,
        vulnerabilities={"beta": [ADVISORY], "alpha": []},
    )
    return server


@pytest.fixture
def jp_server_config(jp_server_config: Config, test_index: IndexServer) -> Config:
    jp_server_config["EnvHelperApp"]["index_url"] = test_index.index_url
    jp_server_config["EnvHelperApp"]["index_timeout"] = 3.0
    return jp_server_config


async def get_json(jp_fetch: Any, *parts: str, **params: str) -> dict[str, Any]:
    response = await jp_fetch(*parts, params=params)
    assert response.code == 200
    payload: dict[str, Any] = json.loads(response.body)
    assert payload["schema"] == 1
    return payload


async def error_of(jp_fetch: Any, *parts: str, **params: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, params=params)
    assert info.value.response is not None
    body: dict[str, Any] = json.loads(info.value.response.body)
    assert "traceback" not in body
    return info.value.code, body


# -- search -----------------------------------------------------------------------------------


async def test_search_by_exact_name_puts_it_first_with_its_latest_version(jp_fetch: Any) -> None:
    payload = await get_json(jp_fetch, "envhelper", "search", q="alpha", kernel="python3")
    assert payload["complete"] is True
    first = payload["hits"][0]
    assert (first["name"], first["match"], first["on_index"]) == ("alpha", "exact", True)
    # 3.1rc1 is a pre-release and 2.1 is yanked: the latest final release is 3.0
    assert first["version"] == "3.0"


async def test_search_fills_in_the_summary_from_the_index(jp_fetch: Any) -> None:
    payload = await get_json(jp_fetch, "envhelper", "search", q="beta")
    first = payload["hits"][0]
    assert (first["name"], first["summary"], first["version"]) == (
        "beta",
        "Beta with extras",
        "1.5",
    )


async def test_search_marks_what_the_kernel_has_installed(jp_fetch: Any) -> None:
    payload = await get_json(jp_fetch, "envhelper", "search", q="packaging", kernel="python3")
    hit = next(h for h in payload["hits"] if h["canonical_name"] == "packaging")
    assert hit["installed_version"]


async def test_search_by_import_name(jp_fetch: Any) -> None:
    payload = await get_json(jp_fetch, "envhelper", "search", q="cv2")
    assert payload["hits"][0]["name"] == "opencv-python"
    assert payload["hits"][0]["match"] == "import-name"
    # it is a well-known package, but this index does not have it: say so
    assert payload["hits"][0]["on_index"] is False


async def test_search_by_purpose(jp_fetch: Any) -> None:
    payload = await get_json(jp_fetch, "envhelper", "search", q="dataframe")
    names = [h["canonical_name"] for h in payload["hits"][:10]]
    assert "pandas" in names and "polars" in names


async def test_search_with_a_typo_finds_the_project(jp_fetch: Any) -> None:
    payload = await get_json(jp_fetch, "envhelper", "search", q="alpah")
    assert payload["hits"][0]["name"] == "alpha"


@pytest.mark.parametrize("query", ["", "   ", "x" * 500])
async def test_bad_queries_are_400(jp_fetch: Any, query: str) -> None:
    code, body = await error_of(jp_fetch, "envhelper", "search", q=query)
    assert code == 400
    assert body["message"]


# -- package details --------------------------------------------------------------------------


async def test_details_say_which_version_fits_this_kernel(jp_fetch: Any) -> None:
    doc = await get_json(jp_fetch, "envhelper", "packages", "alpha", kernel="python3")
    assert doc["latest"] == "3.0"
    # 3.0 needs Python >= 3.12 and 2.1 is yanked: 2.0 is the newest that fits a 3.11 kernel
    assert doc["fit"]["version"] == "2.0"
    assert "3.0" in doc["fit"]["message"] and ">=3.12" in doc["fit"]["message"]
    rows = {r["version"]: r for r in doc["versions"]}
    assert rows["3.0"]["fit"] == "incompatible"
    assert rows["2.1"]["yanked"] and rows["2.1"]["yanked_reason"] == "broken import on Windows"
    assert rows["3.1rc1"]["prerelease"] is True
    assert rows["2.0"]["requires_python"] == ">=3.9"


async def test_details_explain_each_files_fit(jp_fetch: Any) -> None:
    doc = await get_json(jp_fetch, "envhelper", "packages", "compiled", kernel="python3")
    files = {f["filename"]: f for f in doc["versions"][0]["files"]}
    mac = next(f for name, f in files.items() if "macosx" in name and "cp311" in name)
    assert mac["fit"] == "incompatible" and "macOS" in mac["reason"]
    other_python = next(f for name, f in files.items() if "cp39" in name and "manylinux" in name)
    assert other_python["fit"] == "incompatible"
    mine = next(f for name, f in files.items() if "cp311" in name and "manylinux" in name)
    assert mine["fit"] == "compatible"
    assert doc["fit"]["version"] == "1.0"


async def test_sdist_only_package_needs_a_build(jp_fetch: Any) -> None:
    doc = await get_json(jp_fetch, "envhelper", "packages", "gamma", kernel="python3")
    assert doc["fit"]["status"] == "needs-build"
    assert "source" in doc["fit"]["message"]


async def test_details_without_metadata_files_use_range_reads(
    jp_fetch: Any, test_index: IndexServer
) -> None:
    doc = await get_json(jp_fetch, "envhelper", "packages", "delta", kernel="python3")
    assert doc["summary"] == "Delta, big and without .metadata"
    stats = test_index.file_stats("delta-1.0-py3-none-any.whl")
    assert stats.full_downloads == 0
    assert stats.bytes < 200_000  # the wheel is over 400 kB


async def test_vulnerabilities_known_none_and_unknown_are_different(jp_fetch: Any) -> None:
    beta = await get_json(jp_fetch, "envhelper", "packages", "beta")
    assert [v["id"] for v in beta["vulnerabilities"]] == ["PYSEC-2099-1"]
    assert beta["vulnerabilities"][0]["fixed_in"] == ["1.6"]
    alpha = await get_json(jp_fetch, "envhelper", "packages", "alpha")
    assert alpha["vulnerabilities"] == []  # the index says: none known
    gamma = await get_json(jp_fetch, "envhelper", "packages", "gamma")
    assert gamma["vulnerabilities"] is None  # the index says nothing: unknown


async def test_a_typosquat_is_flagged_in_its_details(jp_fetch: Any) -> None:
    doc = await get_json(jp_fetch, "envhelper", "packages", "reqeusts")
    assert doc["typosquat"] is not None
    assert "requests" in doc["typosquat"]["message"]
    clean = await get_json(jp_fetch, "envhelper", "packages", "alpha")
    assert clean["typosquat"] is None


async def test_unknown_package_is_404(jp_fetch: Any) -> None:
    code, body = await error_of(jp_fetch, "envhelper", "packages", "no-such-project")
    assert code == 404
    assert "no-such-project" in body["message"]


async def test_a_broken_index_is_502_with_a_message(jp_fetch: Any, test_index: IndexServer) -> None:
    test_index.set_fault(Fault("broken-page"), project="beta")
    code, body = await error_of(jp_fetch, "envhelper", "packages", "beta")
    assert code == 502
    assert "beta" in body["message"] or "index" in body["message"].lower()


async def test_search_and_details_need_a_token(jp_fetch: Any) -> None:
    for parts, params in (
        (("envhelper", "search"), {"q": "alpha"}),
        (("envhelper", "packages", "alpha"), {}),
    ):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(*parts, params=params, headers={"Authorization": ""})
        assert info.value.code == 403
