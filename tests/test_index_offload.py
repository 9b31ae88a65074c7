"""JSON API documents read by a helper process (``index/offload.py``, ``index/bulk.py``):
against the real loopback index, with a real helper process. The answer is the one
this process would have read; whatever goes wrong with the helper leaves the answer,
and its errors, to this process."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import threading
import zlib
from pathlib import Path
from typing import Any

import certifi
import pytest

from jupyter_envhelper.index import IndexClient, IndexConfig, offload
from jupyter_envhelper.index.bulk import _decoded
from jupyter_envhelper.index.cache import HttpCache
from tests.indexserver import DistSpec, Fault, IndexServer
from tests.test_cli import run_cli

ADVISORY = {
    "id": "GHSA-test-0000-0002",
    "aliases": ["CVE-2099-0002"],
    "summary": "A test advisory",
    "fixed_in": ["9.0"],
    "link": "https://osv.dev/vulnerability/GHSA-test-0000-0002",
}
DISTS = [
    DistSpec("top", "1.0", requires_dist=("leaf",)),
    DistSpec("top", "2.0", requires_dist=("leaf",)),
    DistSpec("leaf", "1.0"),
]
VULNERABILITIES = {"top": [ADVISORY], "leaf": []}


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def index() -> Any:
    with IndexServer(DISTS, vulnerabilities=VULNERABILITIES) as server:
        yield server


def _client(index: IndexServer, tmp_path: Path, **options: Any) -> IndexClient:
    options.setdefault("bulk_helper", True)
    options.setdefault("cache_dir", tmp_path / "http")
    return IndexClient(
        IndexConfig(index_url=options.pop("url", index.index_url)), use_netrc=False, **options
    )


def _helper_pid(client: IndexClient) -> int | None:
    bulk = client._fetcher._bulk
    running = bulk._process if bulk is not None else None
    return running.proc.pid if running is not None else None


def test_documents_come_trimmed_from_a_helper_process(index: IndexServer, tmp_path: Path) -> None:
    async def go() -> tuple[Any, Any, int | None]:
        async with _client(index, tmp_path) as client:
            doc = await client.project_json("Top")
            pid = _helper_pid(client)
        async with _client(index, tmp_path / "other", bulk_helper=False) as here:
            same = await here.project_json("top")
        return doc, same, pid

    doc, same, pid = asyncio.run(go())
    assert pid is not None and pid != os.getpid()  # read by another process
    assert doc == same  # what this process reads itself
    assert doc["info"]["version"] == "2.0"
    assert doc["vulnerabilities"] == [ADVISORY]
    assert "releases" not in doc and "urls" not in doc
    # the disk cache holds what is kept, and a later client reads it from there
    entry = HttpCache(tmp_path / "http").load(f"{index.url}/pypi/top/json", "application/json")
    assert entry is not None and json.loads(entry.body) == doc
    assert b'"releases"' in index.json_api("top")  # type: ignore[operator]
    requests = index.path_stats("/pypi/top/json").requests

    async def again() -> Any:
        async with _client(index, tmp_path, bulk_helper=False) as client:
            return await client.project_json("top")

    assert asyncio.run(again()) == doc
    assert index.path_stats("/pypi/top/json").requests == requests


@pytest.fixture
def no_spare() -> Any:
    yield
    while offload._spare:
        left = offload._spare.pop()
        left.kill()
        left.wait()


def test_a_spare_started_before_the_loop_is_taken_and_told_its_settings(
    index: IndexServer, tmp_path: Path, no_spare: None
) -> None:
    assert offload.spawn_spare()
    assert not offload.spawn_spare()  # one at a time
    spare = offload._spare[0].pid
    # started with the helper's defaults (a 15 s read timeout): told this client's
    index.set_json_fault(Fault("hang", seconds=3.0), "leaf")

    async def go() -> tuple[Any, Any, list[str], int | None]:
        async with _client(index, tmp_path, timeout=0.5, retries=0) as client:
            doc = await client.project_json("top")
            late = await client.project_json("leaf")
            return doc, late, client.warnings, _helper_pid(client)

    doc, late, warnings, pid = asyncio.run(go())
    assert pid == spare  # taken, not a second helper
    assert not offload._spare
    assert doc is not None and doc["vulnerabilities"] == [ADVISORY]
    assert late is None and "did not answer in time (0.5 s)" in warnings[0]


def test_a_spare_that_has_ended_is_not_taken(
    index: IndexServer, tmp_path: Path, no_spare: None
) -> None:
    assert offload.spawn_spare()
    dead = offload._spare[0]
    dead.kill()
    dead.wait()

    async def go() -> tuple[Any, int | None, bool]:
        async with _client(index, tmp_path) as client:
            doc = await client.project_json("top")
            bulk = client._fetcher._bulk
            return doc, _helper_pid(client), bulk is not None and bulk.broken

    doc, pid, broken = asyncio.run(go())
    assert doc is not None and doc["vulnerabilities"] == [ADVISORY]
    assert pid not in (None, dead.pid) and not broken  # a helper of its own


def test_only_a_planning_command_starts_a_spare(
    monkeypatch: pytest.MonkeyPatch, no_spare: None
) -> None:
    from jupyter_envhelper.probe import early

    started: list[str] = []
    monkeypatch.setattr(offload, "spawn_spare", lambda: bool(started.append("spare")))
    nowhere = "http://127.0.0.1:9/simple/"  # connections ahead fail at once there
    for argv, expected in (
        (["inspect", "--index-url", nowhere, "--target-python-version", "3.11"], []),
        (["plan", "x", "--index-url", nowhere, "--target-python-version", "3.11"], ["spare"]),
    ):
        started.clear()
        early.start_for_command(argv)
        for thread in threading.enumerate():
            if thread.name == "envhelper-early-imports":
                thread.join(10)
        assert started == expected, argv


def test_a_helper_that_dies_leaves_the_answers_here(index: IndexServer, tmp_path: Path) -> None:
    async def go() -> tuple[Any, Any, bool]:
        async with _client(index, tmp_path) as client:
            first = await client.project_json("top")
            bulk = client._fetcher._bulk
            assert bulk is not None and bulk._process is not None
            bulk._process.proc.kill()
            await bulk._process.proc.wait()
            second = await client.project_json("leaf")
            return first, second, bulk.broken

    first, second, broken = asyncio.run(go())
    assert first["vulnerabilities"] == [ADVISORY]
    assert second is not None and second["vulnerabilities"] == []
    assert broken  # not started again for the rest of this client's life
    assert index.path_stats("/pypi/leaf/json").statuses == [200]


def test_a_helper_that_cannot_start_leaves_the_answers_here(
    index: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offload, "_BOOT", "import sys; sys.exit(3)")

    async def go() -> tuple[Any, bool]:
        async with _client(index, tmp_path) as client:
            doc = await client.project_json("top")
            bulk = client._fetcher._bulk
            return doc, bulk is not None and bulk.broken

    doc, broken = asyncio.run(go())
    assert doc is not None and doc["vulnerabilities"] == [ADVISORY]
    assert broken


def test_an_index_that_asks_to_retry_is_retried_here(index: IndexServer, tmp_path: Path) -> None:
    index.set_json_fault(Fault("status", status=503, times=1), "top")

    async def go() -> Any:
        async with _client(index, tmp_path, backoff=0.01) as client:
            return await client.project_json("top")

    doc = asyncio.run(go())
    assert doc is not None and doc["vulnerabilities"] == [ADVISORY]
    assert index.path_stats("/pypi/top/json").statuses == [503, 200]


def test_a_wait_that_runs_out_reads_as_without_a_helper(index: IndexServer, tmp_path: Path) -> None:
    index.set_json_fault(Fault("hang", seconds=3.0), "top")

    async def go(helper: bool) -> tuple[Any, list[str], int | None]:
        async with _client(
            index, tmp_path / str(helper), bulk_helper=helper, timeout=0.5, retries=0
        ) as client:
            doc = await client.project_json("top")
            return doc, client.warnings, _helper_pid(client)

    with_helper = asyncio.run(go(True))
    without = asyncio.run(go(False))
    assert with_helper[2] is not None and without[2] is None
    assert with_helper[0] is None and without[0] is None  # "unknown", never "none"
    assert with_helper[1] == without[1]
    assert "did not answer in time (0.5 s)" in with_helper[1][0]


def test_credentials_and_proxies_keep_the_request_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with IndexServer(DISTS, vulnerabilities=VULNERABILITIES, auth=("me", "secret")) as index:

        async def with_credentials() -> tuple[Any, Any]:
            async with _client(index, tmp_path, url=index.index_url_with_auth) as client:
                return await client.project_json("top"), client._fetcher._bulk

        doc, bulk = asyncio.run(with_credentials())
        assert doc is not None and doc["vulnerabilities"] == [ADVISORY]
        assert bulk is None  # a password never travels to another process

    with IndexServer(DISTS, vulnerabilities=VULNERABILITIES) as index:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")

        async def with_proxy() -> tuple[Any, Any]:
            async with _client(index, tmp_path / "proxy") as client:
                return await client.project_json("top"), client._fetcher._bulk

        doc, bulk = asyncio.run(with_proxy())
        assert doc is not None and doc["vulnerabilities"] == [ADVISORY]
        assert bulk is None  # proxies are the client's to apply, here


def test_the_helper_follows_redirects(index: IndexServer) -> None:
    async def go() -> Any:
        reader = offload.BulkReader(("cafile", certifi.where()), timeout=5.0)
        try:
            accept = {"Accept": "application/vnd.pypi.simple.v1+json"}
            return await reader.get(f"{index.url}/simple/Top/", accept, None)
        finally:
            await reader.aclose()

    answer = asyncio.run(go())
    assert isinstance(answer, offload.BulkAnswer)
    assert answer.status == 200 and answer.url == f"{index.url}/simple/top/"
    assert {f["filename"] for f in json.loads(answer.body)["files"]} >= {"top-2.0-py3-none-any.whl"}
    assert not answer.kept


def test_the_helper_decodes_what_it_reads() -> None:
    body = b'{"info": {}}' * 100
    assert _decoded(gzip.compress(body), "gzip") == body
    assert _decoded(zlib.compress(body), "deflate") == body
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert _decoded(raw.compress(body) + raw.flush(), "deflate") == body
    assert _decoded(body, "identity") == body
    with pytest.raises(ValueError, match="br"):
        _decoded(body, "br")


def test_ca_settings_are_the_ones_this_process_trusts(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text(Path(certifi.where()).read_text())
    assert offload.ca_location({}) == ("cafile", certifi.where())
    assert offload.ca_location({"PIP_CERT": str(bundle)}) == ("cafile", str(bundle))
    assert offload.ca_location({"REQUESTS_CA_BUNDLE": str(tmp_path)}) == ("capath", str(tmp_path))
    assert offload.ca_location({"SSL_CERT_DIR": str(tmp_path)}) == ("capath", str(tmp_path))
    # PIP_CERT naming nothing is passed over, as ssl_context_from_env passes it over
    assert offload.ca_location({"PIP_CERT": str(tmp_path / "no")}) == ("cafile", certifi.where())


def test_the_command_line_reads_advisories_through_its_helper(tmp_path: Path) -> None:
    with IndexServer(DISTS, vulnerabilities=VULNERABILITIES) as index:
        env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "JUPYTER_PATH": str(tmp_path / "j")}
        result = run_cli(
            "plan", "top", "--index-url", index.index_url, "--target-python-version", "3.11",
            "--json", env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert index.path_stats("/pypi/top/json").requests == 1
    payload = json.loads(result.stdout)
    found = [f for f in payload["findings"] if f["check"] == "vulnerable"]
    assert [f["severity"] for f in found] == ["warning"]
    assert "GHSA-test-0000-0002" in json.dumps(found[0])
