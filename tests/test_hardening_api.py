"""Attacks and faults against a real server: bad input, content types, unknown fields,
names in paths, stalls, deadlines, and the server's own environment as a target.

Everything runs through pytest-jupyter's server with the extension, token auth and a
base URL, against the loopback index of ``tests/indexserver`` (with its fault modes).
Waits are bounded (``request_timeout``) well under the old 120 s limits, so a stall
fails the test instead of slowing it down.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)
from tests.indexserver.server import Fault, IndexServer
from tests.indexserver.wheels import DistSpec

JSON = {"Content-Type": "application/json"}
# More plans at once than the loop's default executor has threads: before the fix,
# resolver threads filled it and the index client's cache reads waited behind them.
DEFAULT_EXECUTOR_THREADS = ThreadPoolExecutor()._max_workers
MANY = DEFAULT_EXECUTOR_THREADS + 2

DISTS = [
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain"),
    DistSpec("dep", "1.0"),
    DistSpec("envdemo", "1.0"),
    # older than any traitlets the Jupyter server can run with
    DistSpec("traitlets", "4.0"),
]


@pytest.fixture
def index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(DISTS)
    return server


@pytest.fixture
def envhelper_settings() -> dict[str, Any]:
    """Extra c.EnvHelperApp settings; tests parametrize it."""
    return {}


@pytest.fixture
def jp_server_config(
    jp_server_config: Config, index: IndexServer, envhelper_settings: dict[str, Any]
) -> Config:
    jp_server_config["EnvHelperApp"]["index_url"] = index.index_url
    for key, value in envhelper_settings.items():
        jp_server_config["EnvHelperApp"][key] = value
    return jp_server_config


async def call(
    jp_fetch: Any,
    *parts: str,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
    **params: str,
) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of a request, errors included."""
    kwargs: dict[str, Any] = {"method": method, "request_timeout": timeout}
    if body is not None:
        kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
        kwargs["headers"] = dict(JSON if headers is None else headers)
    elif headers is not None:
        kwargs["headers"] = headers
    if params:
        kwargs["params"] = params
    try:
        response = await jp_fetch("envhelper", *parts, **kwargs)
    except HTTPClientError as exc:
        assert exc.response is not None, exc
        return exc.code, json.loads(exc.response.body or b"{}")
    return response.code, json.loads(response.body)


# -- bad input is 400/404, never 500 --------------------------------------------------


HUGE = "9" * 23
ENORMOUS = "1" * 5000  # int() of this many digits is itself an error


@pytest.mark.parametrize("job_id", [HUGE, ENORMOUS, str(2**63)])
@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ()), ("GET", ("events",)), ("POST", ("cancel",))]
)
async def test_job_numbers_no_job_can_have_are_404(
    jp_fetch: Any, job_id: str, method: str, suffix: tuple[str, ...]
) -> None:
    body = {} if method == "POST" else None
    status, doc = await call(jp_fetch, "jobs", job_id, *suffix, method=method, body=body)
    assert status == 404, doc
    assert doc["reason"] == "not-found" and "no job" in doc["message"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"action": "undo", "kernel": "python3", "job_id": HUGE}, 404, "no job"),
        ({"action": "undo", "kernel": "python3", "job_id": int(HUGE)}, 404, "no job"),
        ({"action": "undo", "kernel": "python3", "job_id": "12a"}, 400, "job_id"),
        ({"action": "undo", "kernel": "python3", "job_id": [1]}, 400, "job_id"),
        ({"action": "undo", "kernel": "python3", "job_id": True}, 400, "job_id"),
        ({"action": "undo", "kernel": "python3", "job_id": -1}, 400, "job_id"),
        ({"action": ["install"], "kernel": "python3"}, 400, "action"),
        ({"action": {"a": 1}, "kernel": "python3"}, 400, "action"),
        ({"action": "install", "kernel": "python3", "requirements": "plain"}, 400, "list"),
        ({"action": "install", "kernel": 3, "requirements": ["plain"]}, 400, "string"),
        ({"action": "install", "kernel": "python3", "requirements": ["plain"], "fingerprint": 7},
         400, "fingerprint"),
    ],
)  # fmt: skip
async def test_bad_job_fields_are_400_or_404(
    jp_fetch: Any, body: dict[str, Any], status: int, words: str
) -> None:
    code, doc = await call(jp_fetch, "jobs", method="POST", body=body)
    assert code == status, doc
    assert words in doc["message"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kernel": "python3", "requirements": ["plain"], "upgrade": "false"}, "upgrade"),
        ({"kernel": "python3", "requirements": ["plain"], "allow_prereleases": 1}, "prerelease"),
        ({"kernel": ["python3"], "requirements": ["plain"]}, "string"),
        ({"kernel": "python3", "requirements": [None]}, "list of strings"),
        ({"kernel": "python3", "requirements": ["x" * 10_000]}, "longer"),
    ],
)
async def test_bad_plan_fields_are_400(jp_fetch: Any, body: dict[str, Any], words: str) -> None:
    code, doc = await call(jp_fetch, "plan", method="POST", body=body)
    assert code == 400, doc
    assert words in doc["message"]


# -- content types and unknown fields --------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
        "json",
    ],
)
@pytest.mark.parametrize("path", ["plan", "kernel-suggestions", "jobs"])
async def test_json_endpoints_take_application_json_only(
    jp_fetch: Any, path: str, content_type: str
) -> None:
    body = {"kernel": "python3", "requirements": ["plain"]}
    headers = {"Content-Type": content_type} if content_type else {}
    code, doc = await call(jp_fetch, path, method="POST", body=body, headers=headers)
    if content_type.startswith("multipart/"):
        # tornado parses (and refuses) a malformed multipart body before any handler
        assert code == 400 and "multipart" in doc["message"], doc
        return
    assert code == 415, doc
    assert "application/json" in doc["message"]


async def test_a_charset_parameter_is_fine(jp_fetch: Any) -> None:
    body = {"kernel": "python3", "requirements": ["plain"]}
    headers = {"Content-Type": "Application/JSON; charset=utf-8"}
    code, doc = await call(jp_fetch, "plan", method="POST", body=body, headers=headers)
    assert code == 200, doc
    assert doc["state"] == "plan"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("plan", "index_url"),
        ("plan", "find_links"),
        ("kernel-suggestions", "index_strategy"),
        ("jobs", "find_links"),
        ("jobs", "extra_index_urls"),
    ],
)
async def test_unknown_fields_are_refused_by_name(jp_fetch: Any, path: str, field: str) -> None:
    body = {"kernel": "python3", "requirements": ["plain"], field: "https://evil.example/"}
    code, doc = await call(jp_fetch, path, method="POST", body=body)
    assert code == 400, doc
    assert f"`{field}`" in doc["message"]
    assert "Nothing was done" in doc["message"]


async def test_cancel_takes_no_fields(jp_fetch: Any) -> None:
    code, doc = await call(jp_fetch, "jobs", "1", "cancel", method="POST", body={"force": True})
    assert code == 400 and "`force`" in doc["message"]


# -- names in paths never reach the index ----------------------------------------------


@pytest.mark.parametrize(
    "name", ["envdemo?x=1", "envdemo#frag", "..%2Fsimple", "env demo", "-envdemo", "é", "a" * 101]
)
async def test_package_names_in_paths_are_checked_before_any_request(
    jp_fetch: Any, index: IndexServer, name: str
) -> None:
    index.reset_stats()
    code, doc = await call(jp_fetch, "packages", name)
    assert code == 400, doc
    assert doc["reason"] == "bad-request" and "not a package name" in doc["message"]
    assert not [path for _, path, _ in index.log if "envdemo" in path or "?" in path], index.log


async def test_a_valid_name_still_reaches_the_index(jp_fetch: Any, index: IndexServer) -> None:
    code, doc = await call(jp_fetch, "packages", "EnvDemo")
    assert code == 200, doc
    assert any(path == "/simple/envdemo/" for _, path, _ in index.log)


# -- concurrency: every waiter wakes -----------------------------------------------------


async def test_many_plans_at_once_for_a_missing_project_do_not_stall(
    jp_fetch: Any, write_kernelspec: Any, index: IndexServer
) -> None:
    # Given more kernels than the default executor has threads (all on this Python)
    for number in range(MANY):
        write_kernelspec(
            f"k{number}",
            [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        )
    # When every kernel is planned for a project the index lacks (a typo)
    code, doc = await call(
        jp_fetch, "kernel-suggestions", method="POST", body={"requirements": ["plian"]}, timeout=60
    )
    # Then the answer comes (before: every plan waited 120 s), each plan says why
    assert code == 200, doc
    assert len(doc["suggestions"]) >= MANY
    assert all(s["rank"] == "impossible" for s in doc["suggestions"])
    assert all("No project named plian" in s["message"] for s in doc["suggestions"])
    # and plans at the same time shared one request (they run a few at a time, so a
    # later batch asks again; without sharing there would be one request per kernel)
    assert [p for _, p, _ in index.log].count("/simple/plian/") < MANY


# -- deadlines follow the configuration ---------------------------------------------------


@pytest.mark.parametrize("envhelper_settings", [{"index_timeout": 2.0}])
async def test_a_slow_drip_index_fails_at_index_timeout(jp_fetch: Any, index: IndexServer) -> None:
    # Given an index that sends one byte every second (its pages are hundreds of bytes)
    index.set_fault(Fault("drip", seconds=1.0, chunk=1), "plain")
    # When a plan needs that page
    code, doc = await call(
        jp_fetch, "plan", method="POST", body={"kernel": "python3", "requirements": ["plain"]}
    )
    # Then it fails as a timeout after index_timeout, not after the old fixed 120 s
    assert code == 504, doc
    assert doc["reason"] == "index-timeout"
    assert "did not answer in time (2 s)" in doc["message"]


@pytest.mark.parametrize("envhelper_settings", [{"index_timeout": 25.0, "plan_timeout": 2.0}])
async def test_a_plan_fails_at_plan_timeout(jp_fetch: Any, index: IndexServer) -> None:
    index.set_fault(Fault("hang", seconds=25.0), "plain")
    code, doc = await call(
        jp_fetch, "plan", method="POST", body={"kernel": "python3", "requirements": ["plain"]}
    )
    assert code == 504, doc
    assert "plan_timeout" in doc["message"] and "2 s" in doc["message"]
    # and the suggestions, which plan for every kernel, keep the same limit
    code, doc = await call(
        jp_fetch, "kernel-suggestions", method="POST", body={"requirements": ["plain"]}
    )
    assert code == 504 and "plan_timeout" in doc["message"], doc


# -- the server's own environment ---------------------------------------------------------


def server_env_findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["check"] == "server-env"]


async def test_a_bare_python_kernel_is_the_servers_own_environment(
    jp_fetch: Any, write_kernelspec: Any
) -> None:
    # Given a kernelspec that starts a bare `python` (jupyter_client: the server's own)
    write_kernelspec("bare", ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    # When a plan installs something new there
    code, doc = await call(
        jp_fetch, "plan", method="POST", body={"kernel": "bare", "requirements": ["plain"]}
    )
    assert code == 200, doc
    # Then it says so, naming JupyterLab and the Jupyter server, as a warning
    found = server_env_findings(doc)
    assert [f["severity"] for f in found] == ["warning"], doc["findings"]
    assert "JupyterLab" in found[0]["message"] and "Jupyter server" in found[0]["message"]
    assert os.path.samefile(found[0]["details"]["server_prefix"], sys.prefix)
    assert doc["verdict"] == "warning"


async def test_downgrading_what_the_server_runs_on_is_a_blocker(
    jp_fetch: Any, write_kernelspec: Any
) -> None:
    write_kernelspec("bare", ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    body = {"kernel": "bare", "requirements": ["traitlets==4.0"]}
    code, doc = await call(jp_fetch, "plan", method="POST", body=body)
    assert code == 200, doc
    blockers = [f for f in server_env_findings(doc) if f["severity"] == "blocker"]
    assert blockers, doc["findings"]
    assert "traitlets" in blockers[0]["message"] and "4.0" in blockers[0]["message"]
    assert doc["verdict"] == "blocker"
    # and a job for it is refused before anything runs
    job = {"action": "install", "kernel": "bare", "requirements": ["traitlets==4.0"]}
    code, refused = await call(jp_fetch, "jobs", method="POST", body=job)
    assert code == 409 and refused["reason"] == "blocker", refused


async def test_a_kernel_in_its_own_venv_is_not_flagged(
    jp_fetch: Any,
    write_kernelspec: Any,
    venv_factory: VenvFactory,  # noqa: F811
) -> None:
    python = venv_factory("own-env", tool="uv")
    write_kernelspec("own", [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    code, doc = await call(
        jp_fetch, "plan", method="POST", body={"kernel": "own", "requirements": ["plain"]}
    )
    assert code == 200, doc
    assert server_env_findings(doc) == []


@pytest.mark.parametrize(
    ("parts", "params"),
    [
        (("search",), {"q": "x" * 10_000}),
        (("search",), {"q": "\x00\ud7ff"}),
        (("search",), {"q": "alpha", "kernel": "../../etc"}),
        (("environment",), {"kernel": "../../etc/passwd"}),
        (("environment",), {"kernel_id": "x" * 5000}),
        (("environment",), {"kernel": "python3", "kernel_id": "abc"}),
        (("history",), {"kernel": "nope\x00"}),
        (("rescue",), {"module": "", "kernel": "python3"}),
        (("rescue",), {"module": "a" * 500, "kernel": "python3"}),
        (("rescue",), {"module": "os.path", "kernel": "no-such"}),
        (("packages", "x" * 5000), {}),
        (("jobs", "1", "events"), {"since": "9" * 40}),
    ],
)
async def test_odd_query_input_is_never_a_500(
    jp_fetch: Any, parts: tuple[str, ...], params: dict[str, str]
) -> None:
    code, doc = await call(jp_fetch, *parts, **params)
    assert code in (200, 400, 404), doc
    assert isinstance(doc.get("message", ""), str)
    assert "Traceback" not in json.dumps(doc)
