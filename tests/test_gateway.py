"""Remote kernels: a real Jupyter Kernel Gateway whose kernels this server cannot see.

The gateway runs in a private mount namespace (``unshare --mount``) where a directory
is bind-mounted over an empty one; its kernelspec's Python lives only there. The
notebook server (pytest-jupyter) reaches the gateway through ``GatewayClient.url``, so
its kernel manager is a gateway one and the interpreter path is not a file it can run.
Everything the panel does must then go through the kernel: the environment document,
a plan, an install (the installer runs inside the kernel's host, its output streams
back over iopub), and the installed package is importable in that very kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.gateway.gateway_client import GatewayClient
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_envhelper.remote import evaluate_remote
from tests.indexserver.server import Fault, IndexServer
from tests.indexserver.wheels import DistSpec

pytestmark = pytest.mark.slow

NAMESPACE = Path(__file__).parent / "remote" / "namespace.py"
GATEWAY = Path(sys.executable).with_name("jupyter-kernelgateway")
DISTS = [
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain"),
    DistSpec("dep", "1.0", module="dep"),
    DistSpec("slowpkg", "1.0", module="slowpkg", padding=600_000),
]
FINISHED = {"succeeded", "failed", "cancelled", "interrupted"}


def _namespace_refused() -> str | None:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return "needs Linux with unshare(1)"
    if not GATEWAY.exists():
        return "jupyter_kernel_gateway is not installed (pip install -e '.[test]')"
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        return f"this machine refuses mount namespaces: {probe.stderr.decode().strip()}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _in_namespace(real: Path, mount: Path, argv: list[str]) -> list[str]:
    return [
        "unshare", "--mount", "--propagation", "private",
        sys.executable, str(NAMESPACE), str(real), str(mount), "--", *argv,
    ]  # fmt: skip


class Gateway:
    def __init__(self, url: str, mount: Path, real: Path) -> None:
        self.url, self.mount, self.real = url, mount, real

    @property
    def python(self) -> Path:
        return self.mount / "venv" / "bin" / "python"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    reason = _namespace_refused()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("gateway")
    real, mount = root / "real", root / "mount"
    real.mkdir()
    mount.mkdir()
    made = subprocess.run(
        _in_namespace(real, mount, ["mkvenv"]), capture_output=True, text=True, timeout=300
    )
    if made.returncode != 0:
        pytest.skip(f"cannot bind-mount in a mount namespace here: {made.stderr.strip()}")
    kernels = root / "data" / "kernels" / "remote-py"
    kernels.mkdir(parents=True)
    python = mount / "venv" / "bin" / "python"
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Remote Python",
        "language": "python",
        "env": {"PYTHONPATH": ""},
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH")}
    env["JUPYTER_PATH"] = str(root / "data")
    env["JUPYTER_RUNTIME_DIR"] = str(root / "runtime")
    log = (root / "gateway.log").open("w")
    proc = subprocess.Popen(
        _in_namespace(
            real,
            mount,
            [
                str(GATEWAY),
                "--KernelGatewayApp.ip=127.0.0.1",
                f"--KernelGatewayApp.port={port}",
                "--KernelGatewayApp.default_kernel_name=remote-py",
            ],
        ),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(url + "/api/kernelspecs", timeout=2) as r:
                    if "remote-py" in json.loads(r.read())["kernelspecs"]:
                        break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("gateway exited: " + (root / "gateway.log").read_text())
                time.sleep(0.1)
        else:
            pytest.fail("gateway did not start: " + (root / "gateway.log").read_text())
        yield Gateway(url, mount, real)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def job_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(DISTS)
    return server


@pytest.fixture
def jp_server_config(
    jp_server_config: Config, gateway: Gateway, job_index: IndexServer, tmp_path: Path
) -> Iterator[Config]:
    # GatewayClient is a process-wide singleton: an earlier server's (no url) must go
    GatewayClient.clear_instance()
    jp_server_config["GatewayClient"] = Config({"url": gateway.url, "request_timeout": 60.0})
    jp_server_config["EnvHelperApp"]["index_url"] = job_index.index_url
    jp_server_config["EnvHelperApp"]["history_path"] = str(tmp_path / "history.sqlite")
    yield jp_server_config
    GatewayClient.clear_instance()  # and later servers must not inherit this one


async def post(jp_fetch: Any, *parts: str, body: dict[str, Any], status: int = 200) -> Any:
    response = await jp_fetch(
        *parts, method="POST", body=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.code == status
    return json.loads(response.body)


async def wait_for(jp_fetch: Any, job_id: int, timeout: float = 180) -> dict[str, Any]:
    for _ in range(int(timeout / 0.25)):
        job: dict[str, Any] = json.loads((await jp_fetch("envhelper", "jobs", str(job_id))).body)[
            "job"
        ]
        if job["state"] in FINISHED:
            return job
        await asyncio.sleep(0.25)
    raise AssertionError(f"job {job_id} did not finish")


@contextlib.asynccontextmanager
async def remote_kernel(jp_fetch: Any) -> AsyncIterator[str]:
    """A kernel of the gateway's ``remote-py`` spec, started through this server."""
    started = await post(jp_fetch, "api", "kernels", body={"name": "remote-py"}, status=201)
    try:
        yield started["id"]
    finally:
        with contextlib.suppress(HTTPClientError):
            await jp_fetch("api", "kernels", started["id"], method="DELETE")


async def test_environment_plan_and_install_go_through_the_remote_kernel(
    jp_fetch: Any, jp_serverapp: Any, gateway: Gateway
) -> None:
    async with remote_kernel(jp_fetch) as kernel_id:
        # The server's kernels are the gateway's, and their Python is not a file here
        assert type(jp_serverapp.kernel_manager).__module__.startswith("jupyter_server.gateway")
        assert not gateway.python.exists()
        # The environment document comes from the probe run inside the kernel
        doc = json.loads(
            (await jp_fetch("envhelper", "environment", params={"kernel_id": kernel_id})).body
        )
        assert doc["kernel"]["remote"] is True, doc["kernel"]
        env = doc["environment"]
        assert env is not None, doc
        assert env["executable"] == str(gateway.python)
        names = {d["name"] for d in env["distributions"]}
        assert "ipykernel" in names and "plain" not in names
        # A plan, resolved with the probe's facts
        plan = await post(
            jp_fetch,
            "envhelper",
            "plan",
            body={"kernel_id": kernel_id, "requirements": ["plain"]},
        )
        planned = {a["name"]: a["version"] for a in plan["plan"]["actions"]}
        assert planned == {"plain": "1.0", "dep": "1.0"}, plan["plan"]
        # An install, run by the kernel on its own host, through the loopback index
        started = await post(
            jp_fetch,
            "envhelper",
            "jobs",
            body={
                "kernel_id": kernel_id,
                "action": "install",
                "requirements": ["plain"],
                "fingerprint": plan["fingerprint"],
            },
            status=202,
        )
        job = await wait_for(jp_fetch, started["job"]["id"])
        assert job["state"] == "succeeded", json.dumps(job)
        assert {c["name"] for c in job["outcome"]["changed"]} == {"plain", "dep"}
        # The installed package is on that kernel's sys.path, inside the namespace only
        km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        where = await evaluate_remote(
            km, {"file": "__import__('plain').__file__", "exe": "__import__('sys').executable"}
        )
        assert where["exe"] == str(gateway.python)
        assert where["file"].startswith(str(gateway.mount / "venv"))
        assert not Path(where["file"]).exists()  # not on this server's side of the mount
        assert (gateway.real / Path(where["file"]).relative_to(gateway.mount)).exists()
        # The history has the job, keyed by the remote environment
        history = json.loads(
            (await jp_fetch("envhelper", "history", params={"kernel_id": kernel_id})).body
        )["jobs"]
        assert history[0]["id"] == job["id"]
        # and undo, itself a job run in the kernel, brings the environment back
        undo = await post(
            jp_fetch,
            "envhelper",
            "jobs",
            body={"kernel_id": kernel_id, "action": "undo", "job_id": job["id"]},
            status=202,
        )
        undone = await wait_for(jp_fetch, undo["job"]["id"])
        assert undone["state"] == "succeeded", json.dumps(undone)
        after = json.loads(
            (await jp_fetch("envhelper", "environment", params={"kernel_id": kernel_id})).body
        )["environment"]
        assert {d["name"] for d in after["distributions"]} == names
        # The kernel list says the spec is remote and shows its (now probed) environment
        kernels = json.loads((await jp_fetch("envhelper", "kernels")).body)["kernels"]
        row = next(k for k in kernels if k["name"] == "remote-py")
        assert row["remote"] is True and row["state"] == "ok"


async def test_a_remote_job_is_locked_and_can_be_cancelled(
    jp_fetch: Any, gateway: Gateway, job_index: IndexServer
) -> None:
    async with remote_kernel(jp_fetch) as kernel_id:
        job_index.set_fault(Fault("drip", chunk=8_192, seconds=0.05, files=True), project="slowpkg")
        body = {"kernel_id": kernel_id, "requirements": ["slowpkg"]}
        first = await post(jp_fetch, "envhelper", "jobs", body=body, status=202)
        with pytest.raises(HTTPClientError) as info:
            await post(jp_fetch, "envhelper", "jobs", body={**body, "requirements": ["dep"]})
        assert info.value.code == 409
        assert json.loads(info.value.response.body)["reason"] == "busy"
        await post(
            jp_fetch, "envhelper", "jobs", str(first["job"]["id"]), "cancel", body={}, status=202
        )
        job = await wait_for(jp_fetch, first["job"]["id"])
        assert job["state"] == "cancelled", job["outcome"]
        doc = json.loads(
            (await jp_fetch("envhelper", "environment", params={"kernel_id": kernel_id})).body
        )
        assert "slowpkg" not in {d["name"] for d in doc["environment"]["distributions"]}


async def test_remote_requests_need_a_token(jp_fetch: Any) -> None:
    async with remote_kernel(jp_fetch) as kernel_id:
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(
                "envhelper",
                "environment",
                params={"kernel_id": kernel_id},
                headers={"Authorization": ""},
            )
        assert info.value.code in (401, 403)


async def test_a_remote_kernels_installer_config_is_watched_like_a_local_one(
    jp_fetch: Any, gateway: Gateway
) -> None:
    conf = gateway.real / "venv" / "pip.conf"  # the remote venv's sys.prefix/pip.conf

    async def installer_config(kernel_id: str) -> str:
        doc = json.loads(
            (await jp_fetch("envhelper", "environment", params={"kernel_id": kernel_id})).body
        )
        return json.dumps(doc["environment"]["installer_config"])

    async with remote_kernel(jp_fetch) as kernel_id:
        # Given a remote environment probed (and cached) without a pip.conf
        assert "envhelper-marker" not in await installer_config(kernel_id)
        try:
            # When a pip.conf appears in it (nothing under site-packages changes)
            conf.write_text(
                "[global]\nindex-url = http://127.0.0.1:9/envhelper-marker/simple/\n",
                encoding="utf-8",
            )
            # Then the next answer is probed again and has it
            assert "envhelper-marker" in await installer_config(kernel_id)
        finally:
            conf.unlink(missing_ok=True)
        assert "envhelper-marker" not in await installer_config(kernel_id)
