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
import dataclasses
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
from jupyter_client.session import Session
from jupyter_server.gateway.gateway_client import GatewayClient
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_envhelper.jobs import EnvironmentLock
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
SECRET = "pw-9c1e-envhelper"  # the index's password


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
    def __init__(self, url: str, mount: Path, real: Path, cache: Path) -> None:
        self.url, self.mount, self.real = url, mount, real
        self.cache = cache  # XDG_CACHE_HOME of the gateway and its kernels

    @property
    def kernel_lock_dir(self) -> Path:
        """Where the magic and the command line on the kernel's host keep their locks."""
        return self.cache / "jupyter-envhelper" / "locks"

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
        # (the gateway passes its kernels only the variables named here and a few)
        "env": {"PYTHONPATH": "", "XDG_CACHE_HOME": str(root / "kernel-cache")},
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH")}
    env["JUPYTER_PATH"] = str(root / "data")
    env["JUPYTER_RUNTIME_DIR"] = str(root / "runtime")
    env["XDG_CACHE_HOME"] = str(root / "kernel-cache")
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
        yield Gateway(url, mount, real, root / "kernel-cache")
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
    # an index that wants a password: every plan and install below needs it
    server: IndexServer = index_server(DISTS, auth=("envhelper", SECRET))
    return server


@pytest.fixture
def jp_server_config(
    jp_server_config: Config, gateway: Gateway, job_index: IndexServer, tmp_path: Path
) -> Iterator[Config]:
    # GatewayClient is a process-wide singleton: an earlier server's (no url) must go
    GatewayClient.clear_instance()
    jp_server_config["GatewayClient"] = Config({"url": gateway.url, "request_timeout": 60.0})
    jp_server_config["EnvHelperApp"]["index_url"] = job_index.index_url_with_auth
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
    jp_fetch: Any, jp_serverapp: Any, gateway: Gateway
) -> None:
    conf = gateway.real / "venv" / "pip.conf"  # the remote venv's sys.prefix/pip.conf
    prober = _runner(jp_serverapp).prober
    prober.fresh_s = 0.5  # a change behind our back is seen once this window has passed

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
            # Then the first answer after the freshness window is probed again and has it
            await asyncio.sleep(prober.fresh_s)
            assert "envhelper-marker" in await installer_config(kernel_id)
        finally:
            conf.unlink(missing_ok=True)
        await asyncio.sleep(prober.fresh_s)
        assert "envhelper-marker" not in await installer_config(kernel_id)

        # Within the window a request is served from the cache, unchecked ...
        prober.fresh_s = 600
        try:
            conf.write_text("[global]\nindex-url = http://127.0.0.1:9/later/simple/\n")
            assert "/later/" not in await installer_config(kernel_id)
            # ... but the check a job makes before it starts always asks the kernel
            env = await asyncio.to_thread(prober.probe_sync, str(gateway.python))
            assert "/later/" in json.dumps(env.installer_config())
        finally:
            conf.unlink(missing_ok=True)


async def test_the_index_password_reaches_the_remote_installer_out_of_band(
    jp_fetch: Any, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every message the server sends a kernel is recorded (and still sent)
    sent: list[tuple[str, dict[str, Any]]] = []
    real_msg = Session.msg

    def recording(self: Session, msg_type: str, content: Any = None, *args: Any, **kw: Any) -> Any:
        sent.append((msg_type, dict(content or {})))
        return real_msg(self, msg_type, content, *args, **kw)

    monkeypatch.setattr(Session, "msg", recording)
    async with remote_kernel(jp_fetch) as kernel_id:
        # When a package is installed from an index that wants a password
        started = await post(
            jp_fetch,
            "envhelper",
            "jobs",
            body={"kernel_id": kernel_id, "requirements": ["dep"]},
            status=202,
        )
        job = await wait_for(jp_fetch, started["job"]["id"])
        # Then the installer in the kernel had it (the index refuses anyone without it)
        assert job["state"] == "succeeded", json.dumps(job)
        assert [c["name"] for c in job["outcome"]["changed"]] == ["dep"]
    codes = [str(c.get("code", "")) for kind, c in sent if kind == "execute_request"]
    assert any("<envhelper-job>" in code for code in codes), codes
    # ... but no code sent to the kernel (what a gateway or kernel log shows) held it:
    # it went as the answer to the code's input() over the stdin channel
    assert not [code for code in codes if SECRET in code]
    replies = [str(c.get("value", "")) for kind, c in sent if kind == "input_reply"]
    assert len(replies) == 1 and SECRET in replies[0]
    # and neither the job's document nor the gateway's log shows it
    assert SECRET not in json.dumps(job)
    assert SECRET not in (gateway.mount.parent / "gateway.log").read_text()


def _runner(jp_serverapp: Any) -> Any:
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_envhelper"]
    return app.core.jobs.runner


async def test_a_remote_job_takes_the_lock_and_checks_space_and_files_on_the_kernels_host(
    jp_fetch: Any, jp_serverapp: Any, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = str(gateway.mount / "venv")  # the kernel's sys.prefix (only it sees it)
    body = {"requirements": ["plain"]}  # not installed there yet
    async with remote_kernel(jp_fetch) as kernel_id:
        body["kernel_id"] = kernel_id
        # Given the environment's lock held on the kernel's host, by the lock the magic
        # and the command line there take (job 77 of another process)
        theirs = EnvironmentLock(gateway.kernel_lock_dir, prefix)
        theirs.acquire(job_id=77)
        try:
            # When a job is asked for, Then it is refused at once, naming that job
            with pytest.raises(HTTPClientError) as info:
                await post(jp_fetch, "envhelper", "jobs", body=body)
            assert info.value.code == 409
            refusal = json.loads(info.value.response.body)
            assert refusal["reason"] == "busy"
            assert "job 77 on the kernel's host" in refusal["message"]
        finally:
            theirs.release()
        # Given less free space on the kernel's host than the job needs
        runner = _runner(jp_serverapp)
        monkeypatch.setattr(
            runner, "config", dataclasses.replace(runner.config, min_free_bytes=2**60)
        )
        with pytest.raises(HTTPClientError) as info:
            await post(jp_fetch, "envhelper", "jobs", body=body)
        assert info.value.code in (403, 409, 507), info.value.response.body
        refusal = json.loads(info.value.response.body)
        assert refusal["reason"] == "no-space"
        assert prefix in refusal["message"]  # where the environment lives, over there
        monkeypatch.undo()
        # Given plain installed, then its RECORD removed on the kernel's host only
        first = await post(
            jp_fetch, "envhelper", "jobs", body={**body, "requirements": ["plain"]}, status=202
        )
        assert (await wait_for(jp_fetch, first["job"]["id"]))["state"] == "succeeded"
        site = next((gateway.real / "venv" / "lib").glob("python*/site-packages"))
        (record,) = site.glob("plain-1.0.dist-info/RECORD")
        record.unlink()
        # When another job runs, the lock file on the kernel's host is held meanwhile
        # and its files are checked there: the missing RECORD is seen, as found before
        second = await post(
            jp_fetch, "envhelper", "jobs", body={**body, "requirements": ["slowpkg"]}, status=202
        )
        events = []
        for _ in range(200):
            job = json.loads((await jp_fetch("envhelper", "jobs", str(second["job"]["id"]))).body)
            job = job["job"]
            events.append(theirs.holder())
            if job["state"] in FINISHED:
                break
            await asyncio.sleep(0.05)
        assert job["state"] == "succeeded", json.dumps(job)
        assert {"job": second["job"]["id"], "prefix": prefix}.items() <= next(
            h for h in events if h
        ).items()
        problems = job["outcome"]["problems"]
        missing = [p for p in problems if p["kind"] == "missing-record"]
        assert [(p["name"], p["preexisting"]) for p in missing] == [("plain", True)], problems
        # And the job says what it does in plain words
        stream = (await jp_fetch("envhelper", "jobs", str(job["id"]), "events")).body.decode()
        texts = [
            json.loads(line[len("data: ") :]).get("message") or ""
            for line in stream.splitlines()
            if line.startswith("data: ")
        ]
        assert "Installing 1 package in the remote kernel's environment." in texts, texts
        assert not [t for t in texts if "Running" in t or "pip" in t], texts


async def _until(check: Any, timeout: float = 30) -> None:
    for _ in range(int(timeout / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out waiting")


async def test_each_gateway_kernel_is_asked_over_one_kept_client(
    jp_fetch: Any, jp_serverapp: Any, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_envhelper.remote import RemoteKernel

    prober = _runner(jp_serverapp).prober
    prober.fresh_s = 0  # every request checks the cached probe in the kernel
    clients = prober.clients

    async def environment(kernel_id: str) -> dict[str, Any]:
        doc = json.loads(
            (await jp_fetch("envhelper", "environment", params={"kernel_id": kernel_id})).body
        )
        assert doc["environment"]["executable"] == str(gateway.python), doc
        return doc

    async with remote_kernel(jp_fetch) as kernel_id:
        km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        made_by_km: list[int] = []  # every client made of this kernel's manager (a spy)
        real_client = km.client
        monkeypatch.setattr(km, "client", lambda **kw: made_by_km.append(1) or real_client(**kw))
        # Given a remote kernel asked many questions (probe, checks, plans' imports)
        made, checks = clients.made, prober.remote_checks
        for _ in range(3):
            await environment(kernel_id)
            await post(
                jp_fetch,
                "envhelper",
                "plan",
                body={"kernel_id": kernel_id, "requirements": ["dep"]},
            )
        assert prober.remote_checks > checks  # (they were asked in the kernel)
        # Then one client served them all
        kept = clients.current(kernel_id)
        assert kept is not None and clients.made == made + 1
        assert len(made_by_km) == 1
        remote = RemoteKernel(jp_serverapp.kernel_manager, kernel_id, asyncio.get_running_loop())
        pid = (await prober.evaluate(remote, {"pid": "__import__('os').getpid()"}, timeout=10))[
            "pid"
        ]
        # and the user's output does not pile up in it: messages nobody waits for are dropped
        await evaluate_remote(km, {"x": "[print('noise' * 100) for _ in range(200)] and 1"})
        await _until(lambda: kept.client.iopub_channel.qsize() == 0, 10)

        # When the kernel restarts
        await post(jp_fetch, "api", "kernels", kernel_id, "restart", body={})
        # Then the kept client is left (closed) and a new one answers, from the new kernel
        before = kept
        await _until(lambda: before.stale)
        await environment(kernel_id)
        assert clients.current(kernel_id) is not before and clients.made == made + 2
        await _until(lambda: before.closed)
        after = clients.current(kernel_id)
        assert after is not None and not after.closed
        new_pid = await prober.evaluate(remote, {"pid": "__import__('os').getpid()"}, timeout=10)
        assert new_pid["pid"] != pid
        assert clients.current(kernel_id) is after

    # When the kernel is shut down, its kept client closes (websocket and threads)
    await _until(lambda: after.closed)
    await _until(lambda: not any(t.is_alive() for t in after._threads), 10)


async def test_a_plan_reuses_the_kernels_imports_until_the_kernel_runs_something_else(
    jp_fetch: Any, jp_serverapp: Any, gateway: Gateway
) -> None:
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_envhelper"]
    locator = app.core.locator
    prober = _runner(jp_serverapp).prober
    prober.fresh_s = 600  # only what the kernel runs can make the answer old here
    async with remote_kernel(jp_fetch) as kernel_id:
        km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        # Given a remote kernel met once (its identity brought its imports along)
        doc = json.loads(
            (await jp_fetch("envhelper", "environment", params={"kernel_id": kernel_id})).body
        )
        assert doc["environment"] is not None, doc
        asked = prober.module_questions
        # When plans ask which modules it imported, Then no request goes to the kernel
        for _ in range(3):
            plan = await post(
                jp_fetch,
                "envhelper",
                "plan",
                body={"kernel_id": kernel_id, "requirements": ["dep"]},
            )
            assert plan["plan"] is not None, plan
        first = await locator.imported_modules(kernel_id)
        assert first is not None and "ipykernel" in first and "colorsys" not in first
        assert prober.module_questions == asked
        # When the user runs a cell (another client, another session) importing a module
        await evaluate_remote(km, {"x": "__import__('colorsys').__name__"})
        # Then the next answer is asked in the kernel again, and has it
        await _until(
            lambda: (
                (kept := prober.clients.current(kernel_id)) is not None
                and (kept.known_modules(prober.fresh_s) is None)
            ),
            10,
        )
        second = await locator.imported_modules(kernel_id)
        assert second is not None and "colorsys" in second
        assert prober.module_questions == asked + 1
        # and is reused in turn while the kernel runs nothing else
        assert await locator.imported_modules(kernel_id) == second
        assert prober.module_questions == asked + 1
        # The window still bounds it (a module imported by a thread is not announced)
        prober.fresh_s = 0
        assert await locator.imported_modules(kernel_id) == second
        assert prober.module_questions == asked + 2


async def test_a_remote_job_holds_the_kernels_lock_from_its_first_step_to_its_file_check(
    jp_fetch: Any, jp_serverapp: Any, gateway: Gateway, job_index: IndexServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from jupyter_envhelper.jobs.models import EnvironmentBusy

    prefix = str(gateway.mount / "venv")
    runner = _runner(jp_serverapp)
    job_index.publish(DistSpec("dep", "2.0", module="dep"))
    job_index.publish(DistSpec("onlyhere", "1.0", module="onlyhere"))  # this test's own
    seen: list[tuple[str, str]] = []  # (when, "free" | "held") of the kernel host's lock

    def look(when: str) -> None:
        theirs = EnvironmentLock(gateway.kernel_lock_dir, prefix)  # the magic's, there
        try:
            theirs.acquire(job_id=99)
        except EnvironmentBusy:
            seen.append((when, "held"))
        else:
            theirs.release()
            seen.append((when, "free"))

    real_execute, real_check = runner._execute, runner._remote_file_problems

    def execute(job: Any, backend: Any, step: Any, *args: Any) -> Any:
        look(f"before {step.purpose}")  # (a worker thread, before the step is sent)
        return real_execute(job, backend, step, *args)

    async def check(*args: Any, **kwargs: Any) -> Any:
        look("file check")
        return await real_check(*args, **kwargs)

    async def run(kernel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        started = await post(
            jp_fetch, "envhelper", "jobs", body={"kernel_id": kernel_id, **body}, status=202
        )
        job = await wait_for(jp_fetch, started["job"]["id"])
        assert job["state"] == "succeeded", json.dumps(job)
        return job

    async with remote_kernel(jp_fetch) as kernel_id:
        # Given a job that added onlyhere and upgraded dep: its undo removes one (a
        # first step, uninstall) and installs the other's old version (a second step)
        doc = json.loads(
            (await jp_fetch("envhelper", "environment", params={"kernel_id": kernel_id})).body
        )
        versions = {d["name"]: d["version"] for d in doc["environment"]["distributions"]}
        if versions.get("dep") != "1.0":  # (the gateway's venv is the module's)
            await run(kernel_id, {"requirements": ["dep==1.0"]})
        upgraded = await run(kernel_id, {"requirements": ["onlyhere", "dep==2.0"]})
        monkeypatch.setattr(runner, "_execute", execute)
        monkeypatch.setattr(runner, "_remote_file_problems", check)
        # When the undo runs
        undone = await run(kernel_id, {"action": "undo", "job_id": upgraded["id"]})
        assert {c["name"] for c in undone["outcome"]["changed"]} == {"onlyhere", "dep"}
        # Then the environment's lock on the kernel's host is free before its first
        # step, and held from then on: between its steps and while its files are checked
        assert seen == [
            ("file check", "free"),  # (what the files were like before the job)
            ("before uninstall", "free"),
            ("before install", "held"),
            ("file check", "held"),
        ], seen
        # and free once the job has said it finished
        look("after")
        assert seen[-1] == ("after", "free")
