"""Under a real JupyterHub: per-user servers, hub tokens, and a read-only role.

The hub (``jupyterhub`` from PyPI, ``configurable-http-proxy`` from npm, installed by
``make setup``: see tests/hub/) spawns single-user servers with
``SimpleLocalProcessSpawner`` and the dummy authenticator; ``tests/hub/jupyterhub_config.py``
is the deployment. Three users: alice owns a server (and may change it), bob must not
reach it at all, carol may look at alice's server (plans) but not change it (jobs).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest_envs import venv_python
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import DistSpec

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent / "hub"
PROXY = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
HUB = Path(sys.executable).with_name("jupyterhub")
DISTS = [
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain"),
    DistSpec("dep", "1.0", module="dep"),
]


def _missing() -> str | None:
    if not HUB.exists():
        return "jupyterhub is not installed (pip install -e '.[test]')"
    if not PROXY.exists():
        return "configurable-http-proxy is not installed (make setup runs npm in tests/hub)"
    if shutil.which("node") is None:
        return "node is not installed (configurable-http-proxy needs it)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def call(
    url: str, token: str, method: str = "GET", body: Any = None, timeout: float = 60
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"token {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


@dataclass
class Hub:
    url: str
    service_token: str
    tokens: dict[str, str]

    def api(self, path: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
        return call(f"{self.url}/hub/api/{path}", self.service_token, method, body)

    def user_url(self, user: str, *parts: str) -> str:
        return "/".join([self.url, "user", user, *parts])


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("hub")
    index = IndexServer(DISTS).start()
    # The kernel the jobs change: a throwaway venv (never the project's own)
    target = state / "target-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    spec_dir = state / "share" / "kernels" / "target"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [str(venv_python(target)), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Target",
        "language": "python",
        "env": {"PYTHONPATH": ""},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    port = _free_port()
    service_token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(
        ENVHELPER_HUB_DIR=str(state),
        ENVHELPER_HUB_PORT=str(port),
        ENVHELPER_HUB_API_PORT=str(_free_port()),
        ENVHELPER_HUB_PROXY_API_PORT=str(_free_port()),
        ENVHELPER_HUB_PROXY=str(PROXY),
        ENVHELPER_HUB_SERVICE_TOKEN=service_token,
        ENVHELPER_HUB_INDEX_URL=index.index_url,
    )
    log = (state / "hub.log").open("w")
    proc = subprocess.Popen(
        [str(HUB), "-f", str(HERE / "jupyterhub_config.py")],
        env=env,
        cwd=state,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                pytest.fail("jupyterhub exited: " + (state / "hub.log").read_text())
            try:
                status, _ = call(f"{url}/hub/api/", service_token, timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("jupyterhub did not start: " + (state / "hub.log").read_text())
        made = Hub(url, service_token, {})
        for user in ("alice", "bob", "carol"):
            status, _ = made.api(f"users/{user}", "POST", {})
            assert status in (201, 409), status
        scopes = {
            "alice": ["access:servers!user=alice", "custom:envhelper:write"],
            "bob": ["access:servers!user=bob"],
            "carol": ["access:servers!user=alice"],
        }
        for user, wanted in scopes.items():
            status, answer = made.api(f"users/{user}/tokens", "POST", {"scopes": wanted})
            assert status == 201, answer
            made.tokens[user] = answer["token"]
        status, answer = made.api("users/alice/server", "POST", {})
        assert status in (201, 202), answer
        for _ in range(1200):
            _, model = made.api("users/alice")
            if (model.get("servers") or {}).get("", {}).get("ready"):
                break
            time.sleep(0.1)
        else:
            pytest.fail("alice's server did not start: " + (state / "hub.log").read_text())
        yield made
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        index.stop()


def wait_job(hub: Hub, token: str, job_id: int) -> dict[str, Any]:
    for _ in range(600):
        status, answer = call(hub.user_url("alice", "envhelper", "jobs", str(job_id)), token)
        assert status == 200, answer
        if answer["job"]["state"] in {"succeeded", "failed", "cancelled", "interrupted"}:
            job: dict[str, Any] = answer["job"]
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def test_alice_reads_and_changes_her_own_kernels(hub: Hub) -> None:
    token = hub.tokens["alice"]
    status, env = call(hub.user_url("alice", "envhelper", "environment?kernel=target"), token)
    assert status == 200, env
    assert "plain" not in {d["name"] for d in env["environment"]["distributions"]}
    status, plan = call(
        hub.user_url("alice", "envhelper", "plan"),
        token,
        "POST",
        {"kernel": "target", "requirements": ["plain"]},
    )
    assert status == 200, plan
    # The target venv is outside alice's home: in a container, part of the "image"
    image = [f for f in plan["findings"] if f["check"] == "placement"]
    if any(os.path.exists(m) for m in ("/.dockerenv", "/run/.containerenv")):
        assert [f["severity"] for f in image] == ["warning"], plan["findings"]
        assert "part of the server image" in image[0]["message"]
    else:
        assert image == [], image
    status, started = call(
        hub.user_url("alice", "envhelper", "jobs"),
        token,
        "POST",
        {"kernel": "target", "requirements": ["plain"], "fingerprint": plan["fingerprint"]},
    )
    assert status == 202, started
    job = wait_job(hub, token, started["job"]["id"])
    assert job["state"] == "succeeded", job["outcome"]
    status, env = call(hub.user_url("alice", "envhelper", "environment?kernel=target"), token)
    assert {"plain", "dep"} <= {d["name"] for d in env["environment"]["distributions"]}


def test_bob_is_refused_at_alices_server_and_nothing_is_spawned(hub: Hub) -> None:
    token = hub.tokens["bob"]
    for method, path, body in [
        ("GET", "environment?kernel=target", None),
        ("POST", "plan", {"kernel": "target", "requirements": ["plain"]}),
        ("POST", "jobs", {"kernel": "target", "requirements": ["dep"]}),
    ]:
        status, answer = call(hub.user_url("alice", "envhelper", path), token, method, body)
        assert status in (302, 403, 404), (path, status, answer)
    # and no request without a token gets past the hub either
    status, _ = call(hub.user_url("alice", "envhelper", "environment?kernel=target"), "")
    assert status in (302, 401, 403), status
    _, bob = hub.api("users/bob")
    assert not bob.get("servers"), bob  # bob's requests spawned nothing
    _, alice = hub.api("users/alice")
    assert list(alice["servers"]) == [""]


def test_a_read_only_role_gets_plans_but_not_jobs(hub: Hub) -> None:
    token = hub.tokens["carol"]
    status, env = call(hub.user_url("alice", "envhelper", "environment?kernel=target"), token)
    assert status == 200, env
    status, plan = call(
        hub.user_url("alice", "envhelper", "plan"),
        token,
        "POST",
        {"kernel": "target", "requirements": ["dep==1.0"]},
    )
    assert status == 200, plan
    status, refused = call(
        hub.user_url("alice", "envhelper", "jobs"),
        token,
        "POST",
        {"kernel": "target", "requirements": ["dep==1.0"]},
    )
    assert status == 403, refused
    # nor may carol run code in alice's kernels, or write her files
    status, _ = call(hub.user_url("alice", "api", "kernels"), token, "POST", {"name": "target"})
    assert status == 403
