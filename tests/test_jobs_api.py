"""Install, progress, cancel, history and undo through a real server, into a real venv."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)
from tests.indexserver.server import Fault, IndexServer
from tests.indexserver.wheels import DistSpec

DISTS = [
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain"),
    DistSpec("dep", "1.0", module="dep"),
    DistSpec("dep", "2.0", module="dep"),
    DistSpec("slowpkg", "1.0", module="slowpkg", padding=400_000),
    DistSpec("needs312", "2.0", requires_python=">=3.12"),
]
FINISHED = {"succeeded", "failed", "cancelled", "interrupted"}


class NoWriteAuthorizer(Authorizer):
    """Everything but changes: what a shared, read-only deployment would configure."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return not (resource == "envhelper" and action == "write")


@pytest.fixture
def job_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(DISTS)
    return server


@pytest.fixture
def target_kernel(write_kernelspec: Any, venv_factory: VenvFactory, request: Any) -> Path:  # noqa: F811
    """A kernelspec whose interpreter is a fresh pip-less uv venv: installs land there."""
    unique = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    python = venv_factory(f"jobs-{unique}", tool="uv")
    write_kernelspec("target", [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    return python


@pytest.fixture
def jp_server_config(jp_server_config: Config, job_index: IndexServer, tmp_path: Path) -> Config:
    jp_server_config["EnvHelperApp"]["index_url"] = job_index.index_url
    jp_server_config["EnvHelperApp"]["history_path"] = str(tmp_path / "history.sqlite")
    return jp_server_config


async def post(
    jp_fetch: Any, *parts: str, body: dict[str, Any], status: int = 202
) -> dict[str, Any]:
    response = await jp_fetch(
        "envhelper",
        *parts,
        method="POST",
        body=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.code == status
    payload: dict[str, Any] = json.loads(response.body)
    return payload


async def refused(jp_fetch: Any, body: dict[str, Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as info:
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        await jp_fetch(
            "envhelper", "jobs", method="POST", body=json.dumps(body), headers=headers, **kwargs
        )
    response = info.value.response
    return info.value.code, (json.loads(response.body) if response and response.body else {})


async def wait_for(jp_fetch: Any, job_id: int, timeout: float = 120) -> dict[str, Any]:
    for _ in range(int(timeout / 0.2)):
        response = await jp_fetch("envhelper", "jobs", str(job_id))
        job: dict[str, Any] = json.loads(response.body)["job"]
        if job["state"] in FINISHED:
            return job
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


async def installed(jp_fetch: Any) -> dict[str, str]:
    response = await jp_fetch("envhelper", "environment", params={"kernel": "target"})
    env = json.loads(response.body)["environment"]
    return {d["name"]: d["version"] for d in env["distributions"]}


async def test_install_then_undo_restores_the_exact_previous_set(
    jp_fetch: Any, target_kernel: Path
) -> None:
    before = await installed(jp_fetch)
    plan = await post(
        jp_fetch, "plan", body={"kernel": "target", "requirements": ["plain"]}, status=200
    )
    # When the user confirms the plan
    started = await post(
        jp_fetch,
        "jobs",
        body={
            "kernel": "target",
            "action": "install",
            "requirements": ["plain"],
            "fingerprint": plan["fingerprint"],
        },
    )
    job = await wait_for(jp_fetch, started["job"]["id"])
    # Then it is installed into that kernel's environment, and the outcome says what changed
    assert job["state"] == "succeeded", job["outcome"]
    assert {c["name"] for c in job["outcome"]["changed"]} == {"plain", "dep"}
    after = await installed(jp_fetch)
    assert after["plain"] == "1.0" and after["dep"] == "2.0"
    # and the history has it
    history = json.loads(
        (await jp_fetch("envhelper", "history", params={"kernel": "target"})).body
    )["jobs"]
    assert history[0]["id"] == job["id"] and history[0]["kind"] == "install"
    # When it is undone
    undo = await post(
        jp_fetch, "jobs", body={"kernel": "target", "action": "undo", "job_id": job["id"]}
    )
    undone = await wait_for(jp_fetch, undo["job"]["id"])
    assert undone["state"] == "succeeded", undone["outcome"]
    assert await installed(jp_fetch) == before


async def test_progress_streams_as_server_sent_events(jp_fetch: Any, target_kernel: Path) -> None:
    started = await post(jp_fetch, "jobs", body={"kernel": "target", "requirements": ["dep==1.0"]})
    job_id = started["job"]["id"]
    response = await jp_fetch(
        "envhelper", "jobs", str(job_id), "events", params={"since": "0"}, request_timeout=120
    )
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = [
        json.loads(block.split("data: ", 1)[1])
        for block in response.body.decode().split("\n\n")
        if "data: " in block
    ]
    phases = [e["phase"] for e in events if e["type"] != "state"]
    assert "installing" in phases and "verifying" in phases
    assert events[-1]["type"] == "state" and events[-1]["job"]["state"] == "succeeded"
    # a client connecting late gets the state so far
    late = await jp_fetch(
        "envhelper", "jobs", str(job_id), "events", params={"since": str(len(events) - 2)}
    )
    assert late.body.count(b"data: ") <= 2


async def test_a_stale_plan_is_refused(jp_fetch: Any, target_kernel: Path) -> None:
    code, body = await refused(
        jp_fetch, {"kernel": "target", "requirements": ["plain"], "fingerprint": "0000000000000000"}
    )
    assert code == 409 and body["reason"] == "changed"
    assert "changed since this plan" in body["message"]


async def test_a_plan_with_a_blocker_is_not_installed(jp_fetch: Any, target_kernel: Path) -> None:
    code, body = await refused(jp_fetch, {"kernel": "target", "requirements": ["needs312==2.0"]})
    assert code == 409
    assert ">=3.12" in body["message"]


async def test_second_job_on_a_busy_environment_is_refused_and_cancel_stops_the_first(
    jp_fetch: Any, target_kernel: Path, job_index: IndexServer
) -> None:
    job_index.set_fault(Fault("drip", chunk=8_192, seconds=0.05, files=True), project="slowpkg")
    first = await post(jp_fetch, "jobs", body={"kernel": "target", "requirements": ["slowpkg"]})
    code, body = await refused(jp_fetch, {"kernel": "target", "requirements": ["dep"]})
    assert code == 409 and body["reason"] == "busy"
    assert str(first["job"]["id"]) in body["message"]
    cancelled = await post(jp_fetch, "jobs", str(first["job"]["id"]), "cancel", body={})
    assert cancelled["job"]["id"] == first["job"]["id"]
    job = await wait_for(jp_fetch, first["job"]["id"])
    assert job["state"] == "cancelled"
    assert "slowpkg" not in await installed(jp_fetch)


async def test_uninstall(jp_fetch: Any, target_kernel: Path) -> None:
    done = await wait_for(
        jp_fetch,
        (await post(jp_fetch, "jobs", body={"kernel": "target", "requirements": ["dep==1.0"]}))[
            "job"
        ]["id"],
    )
    assert done["state"] == "succeeded"
    removed = await wait_for(
        jp_fetch,
        (
            await post(
                jp_fetch, "jobs", body={"kernel": "target", "action": "uninstall", "names": ["dep"]}
            )
        )["job"]["id"],
    )
    assert removed["state"] == "succeeded"
    assert "dep" not in await installed(jp_fetch)


@pytest.mark.parametrize(
    "requirement",
    [
        "--index-url=https://evil.example/simple",
        "-e .",
        "../../x",
        "x; $(touch /tmp/pwned)",
        "foo @ https://evil.example/foo.whl",
        "pandas\n-r /etc/passwd",
    ],
)
async def test_injection_attempts_are_refused_before_anything_runs(
    jp_fetch: Any, target_kernel: Path, requirement: str, job_index: IndexServer
) -> None:
    job_index.reset_stats()
    code, body = await refused(jp_fetch, {"kernel": "target", "requirements": [requirement]})
    assert code == 400, body
    assert job_index.total_requests() == 0


async def test_jobs_need_a_token(jp_fetch: Any, target_kernel: Path) -> None:
    code, _ = await refused(
        jp_fetch, {"kernel": "target", "requirements": ["dep"]}, headers={"Authorization": ""}
    )
    assert code == 403


class TestReadOnly:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: Config) -> Config:
        jp_server_config["EnvHelperApp"]["read_only"] = True
        return jp_server_config

    async def test_read_only_mode_refuses_changes_but_plans(
        self, jp_fetch: Any, target_kernel: Path
    ) -> None:
        code, body = await refused(jp_fetch, {"kernel": "target", "requirements": ["dep"]})
        assert code == 403 and "turned off" in body["message"]
        plan = await post(
            jp_fetch, "plan", body={"kernel": "target", "requirements": ["dep"]}, status=200
        )
        assert plan["state"] == "plan"


class TestAuthorizer:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: Config) -> Config:
        jp_server_config["ServerApp"]["authorizer_class"] = NoWriteAuthorizer
        return jp_server_config

    async def test_changes_need_the_write_permission_plans_only_read(
        self, jp_fetch: Any, target_kernel: Path
    ) -> None:
        code, _ = await refused(jp_fetch, {"kernel": "target", "requirements": ["dep"]})
        assert code == 403
        plan = await post(
            jp_fetch, "plan", body={"kernel": "target", "requirements": ["dep"]}, status=200
        )
        assert plan["state"] == "plan"
