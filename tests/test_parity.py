"""One core for every surface: REST, ``--json`` and the magic's data give one document.

The same requests go through a real server (``jp_fetch``), the command line's ``main``
with ``--json`` and the magic's data layer (``KernelSession``), all aimed at one real
venv kernel and reading the same configuration file. Their documents must be equal,
after dropping what is legitimately different between two runs: timings, request
counters, timestamps, how the interpreter was named (a kernelspec, or a path), and a
job's ``events`` (how many events *this* process can replay).

Also here: locks are per environment and shared by every process, whatever the
history path each one was configured with.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_envhelper.cli import main as cli_main
from jupyter_envhelper.core import PlanOptions, Target, error_document
from jupyter_envhelper.errors import EnvHelperError
from jupyter_envhelper.magic.loop import KernelSession
from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)
from tests.indexserver.server import Fault, IndexServer
from tests.indexserver.wheels import DistSpec

REPO = Path(__file__).resolve().parent.parent
KERNEL = "parity"
DISTS = [
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain"),
    DistSpec("dep", "1.0", module="dep"),
    DistSpec("reqeusts", "1.0", module="reqeusts", summary="not what you think"),
    DistSpec("needs312", "2.0", requires_python=">=3.12"),
    DistSpec("slowpkg", "1.0", module="slowpkg", padding=400_000),
]
VOLATILE = {"resolve_ms", "stats", "elapsed_ms", "created", "started", "finished", "events"}
FINISHED = {"succeeded", "failed", "cancelled", "interrupted"}


def normal(value: Any) -> Any:
    """``value`` without what differs between two runs of the same request."""
    if isinstance(value, dict):
        out = {k: normal(v) for k, v in value.items() if k not in VOLATILE}
        if "interpreter_source" in out:  # a kernelspec or a path: same interpreter
            out["interpreter_source"] = "*"
        return out
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


@pytest.fixture
def parity_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(DISTS)
    return server


@pytest.fixture
def kernel_python(write_kernelspec: Any, venv_factory: VenvFactory, request: Any) -> Path:  # noqa: F811
    unique = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    python = venv_factory(f"parity-{unique}", tool="uv")
    write_kernelspec(KERNEL, [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    return python


@pytest.fixture
def allow_urls(request: pytest.FixtureRequest) -> bool:
    """``c.EnvHelperApp.allow_direct_urls`` (parametrize indirectly to change it)."""
    return bool(getattr(request, "param", False))


@pytest.fixture
def settings(parity_index: IndexServer, tmp_path: Path, allow_urls: bool) -> dict[str, Any]:
    return {
        "index_url": parity_index.index_url,
        "history_path": str(tmp_path / "custom" / "history.sqlite"),
        "cache_dir": str(tmp_path / "envhelper-cache"),
        "allow_direct_urls": allow_urls,
    }


@pytest.fixture
def jp_server_config(jp_server_config: Config, settings: dict[str, Any]) -> Config:
    jp_server_config["EnvHelperApp"].update(settings)
    return jp_server_config


@pytest.fixture
def config_file(jp_config_dir: Path, settings: dict[str, Any]) -> Path:
    """The same settings where the command line and the magic read them."""
    path = jp_config_dir / "jupyter_server_config.json"
    path.write_text(json.dumps({"EnvHelperApp": settings}), encoding="utf-8")
    return path


@pytest.fixture
def session(
    config_file: Path, kernel_python: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KernelSession]:
    """The magic's data layer, aimed at the kernel's interpreter (in a kernel it is its own).

    The magic probes its interpreter with its own environment variables; in a kernel
    they are the kernelspec's, which clear the test runner's PYTHONPATH: so here too.
    """
    monkeypatch.setenv("PYTHONPATH", "")
    made = KernelSession(Target(python=str(kernel_python)))
    yield made
    made.close()


async def rest(jp_fetch: Any, *parts: str, body: Any = None, **params: str) -> tuple[int, Any]:
    try:
        if body is None:
            response = await jp_fetch("envhelper", *parts, params=params or None)
        else:
            response = await jp_fetch(
                "envhelper",
                *parts,
                method="POST",
                body=json.dumps(body),
                headers={"Content-Type": "application/json"},
            )
    except HTTPClientError as exc:
        assert exc.response is not None
        return exc.code, json.loads(exc.response.body)
    return response.code, json.loads(response.body)


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = await asyncio.to_thread(cli_main, list(argv))
    return code, json.loads(capsys.readouterr().out)


async def magic(call: Any, *args: Any) -> Any:
    try:
        return await asyncio.to_thread(call, *args)
    except EnvHelperError as exc:
        return error_document(exc)


async def wait_for(jp_fetch: Any, job_id: int) -> dict[str, Any]:
    for _ in range(600):
        _, doc = await rest(jp_fetch, "jobs", str(job_id))
        if doc["job"]["state"] in FINISHED:
            return dict(doc)
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.mark.parametrize(
    "requirement",
    ["plain", "reqeusts", "needs312==2.0"],
    ids=["plain-install", "typo-squat", "blocked"],
)
async def test_a_plan_is_one_document_on_every_surface(
    jp_fetch: Any,
    capsys: pytest.CaptureFixture[str],
    session: KernelSession,
    requirement: str,
) -> None:
    status, by_rest = await rest(
        jp_fetch, "plan", body={"kernel": KERNEL, "requirements": [requirement]}
    )
    code, by_cli = await cli(capsys, "plan", requirement, "--kernel", KERNEL, "--json")
    by_magic = await magic(session.plan, [requirement], PlanOptions())
    assert status == 200
    assert normal(by_cli) == normal(by_rest)
    assert normal(by_magic) == normal(by_rest)
    checks = {f["check"] for f in by_rest["findings"]}
    if requirement == "reqeusts":
        assert "typosquat" in checks and by_rest["verdict"] == "warning", by_rest["findings"]
        assert "requests" in json.dumps(by_rest["findings"])
    elif requirement.startswith("needs312"):
        assert by_rest["verdict"] == "blocker" and code == 1
    else:
        assert by_rest["verdict"] == "ok" and code == 0
        assert {a["name"] for a in by_rest["plan"]["actions"]} == {"plain", "dep"}


async def test_a_bad_requirement_is_one_error_document(
    jp_fetch: Any, capsys: pytest.CaptureFixture[str], session: KernelSession
) -> None:
    status, by_rest = await rest(
        jp_fetch, "plan", body={"kernel": KERNEL, "requirements": ["foo>>1"]}
    )
    code, by_cli = await cli(capsys, "plan", "foo>>1", "--kernel", KERNEL, "--json")
    by_magic = await magic(session.plan, ["foo>>1"], PlanOptions())
    assert (status, code) == (400, 2)
    assert set(by_rest) == {"message", "reason", "detail"}
    assert by_rest["reason"] == "bad-request" and "is not a valid requirement" in by_rest["message"]
    assert by_cli == by_rest and by_magic == by_rest


async def test_a_job_and_its_history_are_one_document(
    jp_fetch: Any, capsys: pytest.CaptureFixture[str], session: KernelSession
) -> None:
    # Given a job started through the panel's API
    _, plan = await rest(jp_fetch, "plan", body={"kernel": KERNEL, "requirements": ["plain"]})
    _, started = await rest(
        jp_fetch,
        "jobs",
        body={"kernel": KERNEL, "requirements": ["plain"], "fingerprint": plan["fingerprint"]},
    )
    job = await wait_for(jp_fetch, started["job"]["id"])
    assert job["job"]["state"] == "succeeded", job
    # Then the command line and the magic see it in the same history, in the same words
    _, by_rest = await rest(jp_fetch, "history", kernel=KERNEL)
    code, by_cli = await cli(capsys, "history", "--kernel", KERNEL, "--json")
    by_magic = await magic(session.history)
    assert code == 0 and by_rest["jobs"][0]["id"] == job["job"]["id"]
    assert normal(by_cli) == normal(by_rest) and normal(by_magic) == normal(by_rest)
    assert normal(by_rest["jobs"][0]) == normal(job["job"])
    # When the command line undoes it, the server shows that job as the command line did
    code, undone = await cli(capsys, "undo", "--kernel", KERNEL, "--yes", "--json")
    assert code == 0 and undone["job"]["state"] == "succeeded", undone
    assert undone["job"]["undo_of"] == job["job"]["id"]
    _, seen = await rest(jp_fetch, "jobs", str(undone["job"]["id"]))
    assert normal(seen) == normal(undone)


@pytest.mark.parametrize("fmt", ["requirements", "pylock"])
async def test_an_export_is_one_document_on_every_surface(
    jp_fetch: Any, capsys: pytest.CaptureFixture[str], session: KernelSession, fmt: str
) -> None:
    _, by_rest = await rest(jp_fetch, "export", kernel=KERNEL, format=fmt)
    code, by_cli = await cli(capsys, "export", "--kernel", KERNEL, "--format", fmt, "--json")
    by_magic = await magic(lambda: session.run(lambda core: core.export(session.target, fmt)))
    assert code == 0 and by_rest["format"] == fmt
    assert normal(by_cli) == normal(by_rest) and normal(by_magic) == normal(by_rest)


async def test_install_shows_the_typo_squat_warning_before_asking(
    capsys: pytest.CaptureFixture[str], jp_environ: Any, config_file: Path, kernel_python: Path
) -> None:
    code = await asyncio.to_thread(cli_main, ["install", "reqeusts", "--kernel", KERNEL])
    out = capsys.readouterr()
    # no terminal to ask in: refused, after the plan with its warning was shown
    assert code == 2 and "add --yes" in out.err, out
    assert "requests" in out.out and "warning" in out.out, out.out


# -- one lock per environment, across processes -------------------------------------------


def cli_process(*argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "jupyter_envhelper", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@contextlib.contextmanager
def no_config(config_dir: Path) -> Iterator[None]:
    """The command line with none of the server's settings: another history path."""
    path = config_dir / "jupyter_server_config.json"
    path.unlink(missing_ok=True)
    yield


async def test_a_cli_install_is_refused_while_a_server_job_holds_the_environment(
    jp_fetch: Any, parity_index: IndexServer, kernel_python: Path, jp_config_dir: Path
) -> None:
    # Given a slow job started through the server (its history in a custom place)
    parity_index.set_fault(Fault("drip", chunk=8_192, seconds=0.15, files=True), project="slowpkg")
    _, started = await rest(jp_fetch, "jobs", body={"kernel": KERNEL, "requirements": ["slowpkg"]})
    job_id = started["job"]["id"]
    # When the command line, configured with nothing (the default history), installs there
    with no_config(jp_config_dir):
        proc = await asyncio.to_thread(
            subprocess.run,
            [
                *(sys.executable, "-m", "jupyter_envhelper", "install", "plain"),
                *("--python", str(kernel_python), "--index-url", parity_index.index_url),
                *("--yes", "--json"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    # Then it is refused at once, naming the server's job
    assert proc.returncode == 1, proc.stdout + proc.stderr
    error = json.loads(proc.stdout)
    assert error["reason"] == "busy" and f"job {job_id}" in error["message"], error
    done = await wait_for(jp_fetch, job_id)
    assert done["job"]["state"] == "succeeded"


async def test_a_server_job_is_refused_while_a_cli_install_holds_the_environment(
    jp_fetch: Any,
    parity_index: IndexServer,
    kernel_python: Path,
    jp_config_dir: Path,
    tmp_path: Path,
) -> None:
    parity_index.set_fault(Fault("drip", chunk=8_192, seconds=0.15, files=True), project="slowpkg")
    with no_config(jp_config_dir):
        proc = cli_process(
            "install",
            "slowpkg",
            "--python",
            str(kernel_python),
            "--index-url",
            parity_index.index_url,
            "--yes",
            "--json",
        )
    try:
        # When the command line's job holds the environment (its pid in a lock file)
        lock_dir = Path(os.environ["XDG_CACHE_HOME"]) / "jupyter-envhelper" / "locks"
        for _ in range(600):
            if any(f'"pid": {proc.pid}' in p.read_text() for p in lock_dir.glob("*.lock")):
                break
            assert proc.poll() is None, proc.communicate()
            await asyncio.sleep(0.05)
        # Then a server job for the same environment is refused, naming no false holder
        status, body = await rest(
            jp_fetch, "jobs", body={"kernel": KERNEL, "requirements": ["plain"]}
        )
        assert status == 409, body
        assert body["reason"] == "busy" and "busy" in body["message"], body
    finally:
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert json.loads(out)["job"]["state"] == "succeeded"


# -- the URL policy reaches the resolver, on every surface ---------------------------------


def wheel_url(server: IndexServer, name: str) -> str:
    built = next(b for b in server.projects[name] if b.filename.endswith(".whl"))
    return server.file_url(built.filename)


@pytest.mark.parametrize("allow_urls", [True, False], ids=["urls-on", "urls-off"], indirect=True)
async def test_direct_url_policy_is_the_configured_one_everywhere(
    jp_fetch: Any,
    capsys: pytest.CaptureFixture[str],
    session: KernelSession,
    parity_index: IndexServer,
    allow_urls: bool,
) -> None:
    # Given a server and a configuration file that (dis)allow direct URLs
    requirement = f"plain @ {wheel_url(parity_index, 'plain')}"
    # When a URL requirement is planned through REST and the command line
    status, by_rest = await rest(
        jp_fetch, "plan", body={"kernel": KERNEL, "requirements": [requirement]}
    )
    code, by_cli = await cli(capsys, "plan", requirement, "--kernel", KERNEL, "--json")
    by_magic = await magic(session.plan, [requirement], PlanOptions())
    assert normal(by_cli) == normal(by_rest) and normal(by_magic) == normal(by_rest)
    if not allow_urls:
        # Then it is refused, saying which setting would allow it
        assert (status, code) == (400, 2) and "allow_direct_urls" in by_rest["message"]
        return
    # Then the wheel at that URL is the plan, its dependency from the index
    assert (status, code) == (200, 0), by_rest
    actions = {a["name"]: a for a in by_rest["plan"]["actions"]}
    assert actions["plain"]["file"]["direct_url"] is True
    assert actions["dep"]["file"]["direct_url"] is False
    # and it installs through a job, recorded like any other
    _, started = await rest(
        jp_fetch,
        "jobs",
        body={
            "kernel": KERNEL,
            "requirements": [requirement],
            "fingerprint": by_rest["fingerprint"],
        },
    )
    done = await wait_for(jp_fetch, started["job"]["id"])
    assert done["job"]["state"] == "succeeded", done
    assert {c["name"] for c in done["job"]["outcome"]["changed"]} == {"plain", "dep"}
