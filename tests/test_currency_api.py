"""The currency endpoints through a real Jupyter server: outdated, why, graph, update
plans and update jobs, with their permissions; and the command line's ``outdated`` /
``why`` / ``update``, which give the same documents."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)
from tests.currency_fixtures import CURRENCY_DISTS, make_env
from tests.indexserver.server import IndexServer

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def currency_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(CURRENCY_DISTS)
    return server


@pytest.fixture
def jp_server_config(
    jp_server_config: Config, currency_index: IndexServer, tmp_path: Path
) -> Config:
    jp_server_config["EnvHelperApp"]["index_url"] = currency_index.index_url
    jp_server_config["EnvHelperApp"]["history_path"] = str(tmp_path / "history.sqlite")
    jp_server_config["EnvHelperApp"]["installer"] = "uv"
    return jp_server_config


@pytest.fixture
def target(
    write_kernelspec: Any,
    venv_factory: VenvFactory,  # noqa: F811
    currency_index: IndexServer,
    tmp_path: Path,
    request: Any,
) -> Path:
    unique = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]
    python = make_env(venv_factory, f"currency-api-{unique}", currency_index, tmp_path)
    write_kernelspec("cur", [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    return python


async def get(jp_fetch: Any, *parts: str, **params: str) -> dict[str, Any]:
    response = await jp_fetch("envhelper", *parts, params={"kernel": "cur", **params})
    assert response.code == 200
    payload: dict[str, Any] = json.loads(response.body)
    assert payload["schema"] == 1
    return payload


async def post(jp_fetch: Any, path: str, body: dict[str, Any], **kwargs: Any) -> Any:
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    return await jp_fetch(
        "envhelper", *path.split("/"), method="POST", body=json.dumps(body), headers=headers
    )


async def error(jp_fetch: Any, *args: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as info:
        if args and args[0] == "POST":
            await post(jp_fetch, args[1], args[2], **kwargs)
        else:
            await jp_fetch("envhelper", *args, **kwargs)
    response = info.value.response
    message = json.loads(response.body)["message"] if response and response.body else ""
    return info.value.code, message


async def test_outdated_why_and_an_update_through_the_server(jp_fetch: Any, target: Path) -> None:
    doc = await get(jp_fetch, "outdated")
    numx = {r["name"]: r for r in doc["packages"]}["numx"]
    assert (numx["latest"], numx["fit"], numx["status"]) == ("2.0", "1.5", "update")
    why = await get(jp_fetch, "why", "base")
    assert {c["root"] for c in why["chains"]} == {"top"}
    graph = await get(jp_fetch, "graph")
    assert "top" in graph["roots"] and any(n["canonical_name"] == "base" for n in graph["nodes"])
    # the plan of "Update all" shows the breakage and changes nothing
    response = await post(jp_fetch, "update/plan", {"kernel": "cur", "mode": "all"})
    plan = json.loads(response.body)
    assert [b["name"] for b in plan["plan"]["breaks"]] == ["pands"]
    # "Update all that fit" runs as a job, 202 with its location
    response = await post(jp_fetch, "update/plan", {"kernel": "cur", "mode": "all-that-fit"})
    fit = json.loads(response.body)
    started = await post(
        jp_fetch,
        "update",
        {
            "kernel": "cur",
            "requirements": fit["update"]["requirements"],
            "fingerprint": fit["fingerprint"],
        },
    )
    assert started.code == 202 and started.headers["Location"].endswith(
        f"/envhelper/jobs/{json.loads(started.body)['job']['id']}"
    )
    job_id = json.loads(started.body)["job"]["id"]
    for _ in range(600):
        job = json.loads((await jp_fetch("envhelper", "jobs", str(job_id))).body)["job"]
        if job["state"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.2)
    assert job["state"] == "succeeded", job
    history = await get(jp_fetch, "history")
    assert history["jobs"][0]["id"] == job_id
    after = {r["name"]: r for r in (await get(jp_fetch, "outdated"))["packages"]}
    assert after["numx"]["installed"] == "1.5" and after["tools"]["status"] == "current"


async def test_bad_input_is_refused_and_nothing_changes(jp_fetch: Any, target: Path) -> None:
    code, message = await error(jp_fetch, "POST", "update/plan", {"kernel": "cur", "mode": "x"})
    assert code == 400 and "mode" in message
    code, message = await error(
        jp_fetch, "POST", "update", {"kernel": "cur", "requirements": ["numx>=1"]}
    )
    assert code == 400 and "name==version" in message
    code, _ = await error(
        jp_fetch, "POST", "update", {"kernel": "cur", "requirements": ["numx==1.5"], "x": 1}
    )
    assert code == 400
    code, message = await error(jp_fetch, "why", "nosuchthing", params={"kernel": "cur"})
    assert code == 404 and "not installed" in message
    assert {r["name"]: r for r in (await get(jp_fetch, "outdated"))["packages"]}["numx"][
        "installed"
    ] == "1.0"


@pytest.mark.parametrize(
    "request_args",
    [
        ("outdated",),
        ("why", "base"),
        ("graph",),
        ("POST", "update/plan", {"kernel": "cur", "mode": "all"}),
        ("POST", "update", {"kernel": "cur", "requirements": ["numx==1.5"]}),
    ],
)
async def test_requests_without_a_token_are_refused(
    jp_fetch: Any, target: Path, request_args: tuple[Any, ...]
) -> None:
    if request_args[0] == "POST":
        code, _ = await error(jp_fetch, *request_args, headers={"Authorization": ""})
    else:
        code, _ = await error(
            jp_fetch, *request_args, params={"kernel": "cur"}, headers={"Authorization": ""}
        )
    assert code == 403
    assert (await get(jp_fetch, "history"))["jobs"] == []


def cli(*args: str, index: IndexServer, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))},
        "PYTHONPATH": str(REPO),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "jupyter_envhelper", *args, "--index-url", index.index_url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def test_the_command_line_outdated_why_update(
    venv_factory: VenvFactory,  # noqa: F811
    currency_index: IndexServer,
    tmp_path: Path,
) -> None:
    python = make_env(venv_factory, f"currency-cli-{tmp_path.name}", currency_index, tmp_path)
    done = cli(
        "outdated", "--python", str(python), "--json", index=currency_index, tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr
    numx = {r["name"]: r for r in json.loads(done.stdout)["packages"]}["numx"]
    assert numx["fit"] == "1.5"
    text = cli("outdated", "--python", str(python), index=currency_index, tmp_path=tmp_path)
    assert "numx 1.0: " not in text.stdout and "1.5 is the newest that fits" in text.stdout
    assert "needsnew" not in text.stdout  # 2.0 is not for this kernel: no update, held nothing
    every = cli("outdated", "--every", "--python", str(python), index=currency_index,
                tmp_path=tmp_path)  # fmt: skip
    assert "needsnew 1.0 is the newest this kernel can use; 2.0 needs Python" in every.stdout
    why = cli("why", "base", "--python", str(python), index=currency_index, tmp_path=tmp_path)
    assert why.returncode == 0 and "base ← left ← top" in why.stdout
    update = cli(
        "update", "tools", "--python", str(python), "--yes", "--json",
        index=currency_index, tmp_path=tmp_path,
    )  # fmt: skip
    assert update.returncode == 0, update.stdout + update.stderr
    assert json.loads(update.stdout)["job"]["state"] == "succeeded"
    again = cli(
        "outdated", "--python", str(python), "--json", index=currency_index, tmp_path=tmp_path
    )
    tools = {r["name"]: r for r in json.loads(again.stdout)["packages"]}["tools"]
    assert tools["installed"] == "1.1" and tools["status"] == "current"
