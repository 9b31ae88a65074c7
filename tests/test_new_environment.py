"""A new environment and kernel when no kernel fits (issue 16), with real parts.

A real Jupyter server, the real loopback index (with the real ipykernel wheels from
a cached wheelhouse, ``tests/indexserver/realwheels.py``), real interpreters found on
this machine (pyenv's 3.12; the creation tests skip, saying why, without a second
Python), real ``uv venv``, a real kernel started from the kernelspec written.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_envhelper.environments import check_downloads, discover, write_marker
from jupyter_envhelper.environments.registry import MARKER, ManagedEnvironment, list_managed
from jupyter_envhelper.installers.uv import find_uv
from tests.indexserver.realwheels import DownloadFaultServer, add_wheels, wheelhouse
from tests.indexserver.wheels import DistSpec

FINISHED = {"succeeded", "failed", "cancelled", "interrupted"}


def _find_python312() -> str | None:
    pattern = os.path.expanduser("~/.pyenv/versions/3.12*/bin/python")
    for candidate in sorted(glob.glob(pattern), reverse=True):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("python3.12")
    return os.path.realpath(found) if found else None


PY312 = _find_python312()  # read before pytest-jupyter points HOME at a tmp folder
PYENV_ROOT = str(Path(PY312).parents[3]) if PY312 and "/.pyenv/" in PY312 else None
needs_312 = pytest.mark.skipif(
    PY312 is None or sys.version_info[:2] == (3, 12),
    reason="needs a CPython 3.12 besides the test runner's Python (pyenv's or python3.12)",
)

NEW_DISTS = (
    DistSpec("newonly", "1.0", requires_python=">=3.12", module="newonly", summary="3.12+"),
    DistSpec("oldonly", "1.0", requires_python="<3.12", module="oldonly", summary="before 3.12"),
)
# A generated stand-in: enough to plan (the choice of Python), never to start a kernel.
FAKE_KERNEL = (DistSpec("ipykernel", "6.0", summary="stand-in"),)


@pytest.fixture(autouse=True)
def _pyenv_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest-jupyter moves HOME; pyenv's versions are found through PYENV_ROOT then.
    if PYENV_ROOT:
        monkeypatch.setenv("PYENV_ROOT", PYENV_ROOT)


@pytest.fixture
def real_wheels() -> Path:
    if PY312 is None:
        pytest.skip("no CPython 3.12 here")
    folder = wheelhouse(PY312, "cp312")
    if folder is None:
        pytest.skip("the ipykernel wheels for 3.12 are not cached and PyPI is not reachable")
    return folder


@pytest.fixture
def new_index(request: pytest.FixtureRequest) -> Iterator[DownloadFaultServer]:
    real = "real_wheels" in request.fixturenames
    server = DownloadFaultServer(NEW_DISTS if real else (*NEW_DISTS, *FAKE_KERNEL))
    server.start()
    if real:
        add_wheels(server, request.getfixturevalue("real_wheels").glob("*.whl"))
    yield server
    server.stop()


@pytest.fixture
def envs_dir(tmp_path: Path) -> Path:
    return tmp_path / "envs"


@pytest.fixture
def jp_server_config(
    jp_server_config: Config, new_index: DownloadFaultServer, envs_dir: Path, tmp_path: Path
) -> Config:
    jp_server_config["EnvHelperApp"]["index_url"] = new_index.index_url
    jp_server_config["EnvHelperApp"]["environments_dir"] = str(envs_dir)
    jp_server_config["EnvHelperApp"]["history_path"] = str(tmp_path / "history.sqlite")
    return jp_server_config


async def call(
    jp_fetch: Any, *parts: str, method: str = "GET", body: Any = None, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    try:
        response = await jp_fetch(
            "envhelper",
            *parts,
            method=method,
            body=json.dumps(body) if body is not None else None,
            headers=headers,
            allow_nonstandard_methods=True,
            **kwargs,
        )
    except HTTPClientError as exc:
        raw = exc.response.body if exc.response is not None else b""
        return exc.code, (json.loads(raw) if raw else {})
    return response.code, json.loads(response.body)


async def wait_for(jp_fetch: Any, job_id: int, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, doc = await call(jp_fetch, "jobs", str(job_id))
        if doc["job"]["state"] in FINISHED:
            return dict(doc["job"])
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def kernelspecs() -> dict[str, Any]:
    """What `jupyter kernelspec list` says, with this test's JUPYTER_* variables."""
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    specs: dict[str, Any] = json.loads(done.stdout)["kernelspecs"]
    return specs


async def run_in_kernel(name: str, code: str) -> str:
    """Start kernel ``name`` as Jupyter does (jupyter_client), run ``code``, its stdout."""
    from jupyter_client.manager import start_new_async_kernel

    km, kc = await start_new_async_kernel(kernel_name=name, startup_timeout=120)
    out: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])

    try:
        await kc.execute_interactive(code, output_hook=hook, timeout=120)
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return "".join(out)


# -- finding interpreters --------------------------------------------------------------------


@needs_312
def test_discovery_finds_each_python_once_with_its_version_and_sources(tmp_path: Path) -> None:
    assert PY312 is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").symlink_to(PY312)
    broken = bin_dir / "python3.99"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    home = tmp_path / "home"
    version_dir = home / ".pyenv" / "versions" / "3.12.0" / "bin"
    version_dir.mkdir(parents=True)
    (version_dir / "python").symlink_to(PY312)
    found = discover(
        {"mine": sys.executable},
        environ={"PATH": f"{bin_dir}{os.pathsep}relative/bin"},
        home=str(home),
    )
    by_version = {i.minor: i for i in found}
    py312 = by_version["3.12"]
    assert py312.implementation == "CPython"
    assert py312.version.startswith("3.12.")
    assert set(py312.sources) == {"path", "pyenv"}  # the same Python found twice: one entry
    assert [i for i in found if i.minor == "3.12"] == [py312]
    own = next(i for i in found if "kernel" in i.sources)
    assert own.kernels == ("mine",)
    assert own.minor == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert all("3.99" not in i.path for i in found)  # not a working Python: left out
    assert [i.version_key for i in found] == sorted((i.version_key for i in found), reverse=True)


def test_an_unreachable_download_host_is_reported_at_once() -> None:
    uv = find_uv()
    if uv is None:
        pytest.skip("uv is not installed beside the tests")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    started = time.monotonic()
    check = check_downloads(
        uv, environ={"UV_PYTHON_INSTALL_MIRROR": f"http://127.0.0.1:{port}/"}, timeout=2
    )
    assert time.monotonic() - started < 20  # uv's own listing included; never a hang
    assert not check.reachable
    assert check.host == "127.0.0.1"
    assert "unreachable" in check.message and "UV_PYTHON_INSTALL_MIRROR" in check.message
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        mirror = f"http://127.0.0.1:{listening.getsockname()[1]}/"
        check = check_downloads(uv, environ={"UV_PYTHON_INSTALL_MIRROR": mirror}, timeout=2)
    assert check.reachable, check.message
    assert check.versions and all(v.startswith("3.") for v in check.versions)


def test_a_failed_uv_listing_is_said_and_asked_again(tmp_path: Path) -> None:
    # a uv whose first `uv python list` fails (as one that ran out of time does) and
    # whose second answers: the first check says so, the second one is not stuck on it
    marker = tmp_path / "listed-once"
    fake = tmp_path / "uv"
    row = {"implementation": "cpython", "version": "3.13.1", "variant": "default",
           "path": None, "url": "https://example.invalid/cpython-3.13.1.tar.gz"}  # fmt: skip
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.write_text('1')\n"
        "    sys.exit(2)\n"
        f"print(json.dumps([{row!r}]))\n"
    )
    fake.chmod(0o755)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        mirror = {"UV_PYTHON_INSTALL_MIRROR": f"http://127.0.0.1:{listening.getsockname()[1]}/"}
        first = check_downloads(str(fake), environ=mirror, timeout=2)
        second = check_downloads(str(fake), environ=mirror, timeout=2)
    assert marker.exists()
    assert not first.reachable
    assert "did not list" in first.message, first.message
    assert second.reachable, second.message
    assert second.versions == ("3.13",)


# -- planning --------------------------------------------------------------------------------


@needs_312
async def test_the_plan_takes_the_newest_python_that_fits_and_creates_nothing(
    jp_fetch: Any, envs_dir: Path
) -> None:
    code, interpreters = await call(jp_fetch, "interpreters")
    assert code == 200
    versions = interpreters["versions"]
    assert "3.12" in versions and versions == sorted(
        versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True
    )
    assert interpreters["downloads"]["reachable"] in (True, False)
    assert interpreters["downloads"]["message"]

    code, doc = await call(
        jp_fetch, "environments", "plan", method="POST", body={"requirements": ["oldonly"]}
    )
    assert code == 200, doc
    assert doc["ready"] and doc["verdict"] != "blocker"
    chosen = doc["python"]["python_version"]
    older = [v for v in versions if tuple(map(int, v.split("."))) < (3, 12)]
    assert chosen == older[0]  # every newer one was tried first, and refused
    assert [t["python_version"] for t in doc["tried"]] == versions[: versions.index(chosen) + 1]
    assert all(t["verdict"] == "blocker" for t in doc["tried"][:-1])
    assert doc["planned_requirements"] == ["oldonly", "ipykernel"]
    names = {a["name"] for a in doc["plan"]["actions"] if a["kind"] == "install"}
    assert {"oldonly", "ipykernel"} <= names

    code, doc = await call(
        jp_fetch,
        "environments",
        "plan",
        method="POST",
        body={"requirements": ["newonly"], "python_version": "3.12", "name": "py312-new"},
    )
    assert code == 200 and doc["ready"], doc
    assert doc["python"]["version"].startswith("3.12.")
    assert doc["directory"] == str(envs_dir / "py312-new")
    assert not envs_dir.exists()  # a plan makes nothing

    code, doc = await call(
        jp_fetch,
        "environments",
        "plan",
        method="POST",
        body={"requirements": ["newonly"], "python_version": "3.4"},
    )
    assert code == 404 and "no Python 3.4" in doc["message"]


@needs_312
async def test_a_blocked_plan_ends_its_suggestions_with_a_new_environment(jp_fetch: Any) -> None:
    if sys.version_info >= (3, 12):
        pytest.skip("the test runner's own kernel must be older than 3.12")
    code, doc = await call(
        jp_fetch, "plan", method="POST", body={"kernel": "python3", "requirements": ["newonly"]}
    )
    assert code == 200 and doc["verdict"] == "blocker", doc
    last = doc["suggestions"][-1]
    assert last["rank"] == "new-environment"
    version = last["python_version"]
    assert tuple(map(int, version.split("."))) >= (3, 12)
    assert last["message"] == f"Create a new environment with Python {version} and newonly"
    assert last["new_environment"]["requirements"] == ["newonly"]
    assert doc["conflict"] is not None
    (way,) = [
        w
        for w in doc["conflict"]["ways_out"]
        if (w["action"] or {}).get("kind") == "new-environment"
    ]
    assert way["action"]["python_version"] == version and way["message"] == last["message"]


# -- creating, using, deleting ---------------------------------------------------------------


@needs_312
async def test_create_a_kernel_use_it_and_delete_it(
    jp_fetch: Any, real_wheels: Path, envs_dir: Path, jp_kernel_dir: Path
) -> None:
    body = {"name": "py312-new", "requirements": ["newonly"], "python_version": "3.12"}
    code, started = await call(jp_fetch, "environments", method="POST", body=body)
    assert code == 202, started
    assert started["job"]["kind"] == "create"
    folder = Path(started["environment"]["path"])
    assert folder == envs_dir / "py312-new"
    job = await wait_for(jp_fetch, started["job"]["id"])
    assert job["state"] == "succeeded", job["outcome"]
    assert {"newonly", "ipykernel"} <= {c["name"] for c in job["outcome"]["changed"]}

    specs = kernelspecs()
    assert "py312-new" in specs
    spec = specs["py312-new"]["spec"]
    assert spec["argv"][0] == str(folder / "bin" / "python")
    assert Path(specs["py312-new"]["resource_dir"]).parent == jp_kernel_dir
    output = await run_in_kernel(
        "py312-new", "import sys, newonly, ipykernel; print(sys.prefix, sys.version_info[:2])"
    )
    assert output.strip() == f"{folder} (3, 12)"

    code, listed = await call(jp_fetch, "environments")
    assert code == 200
    (entry,) = listed["environments"]
    assert entry["name"] == "py312-new" and entry["kernel_registered"]
    assert entry["python_version"].startswith("3.12.") and entry["size"] > 1_000_000
    code, history = await call(jp_fetch, "history", params={"kernel": "py312-new"})
    assert code == 200 and [j["kind"] for j in history["jobs"]] == ["create"]

    code, doc = await call(jp_fetch, "environments", "py312-new", method="DELETE")
    assert code == 200, doc
    assert doc["deleted"]["environment_removed"] and doc["deleted"]["kernel_removed"]
    assert not folder.exists()
    assert "py312-new" not in kernelspecs()
    code, listed = await call(jp_fetch, "environments")
    assert listed["environments"] == []


@needs_312
async def test_a_failure_in_the_middle_leaves_nothing_behind_and_touches_nothing_else(  # noqa: PLR0917
    jp_fetch: Any,
    real_wheels: Path,
    new_index: DownloadFaultServer,
    envs_dir: Path,
    jp_kernel_dir: Path,
    write_kernelspec: Any,
) -> None:
    mine = envs_dir / "handmade"
    (mine / "bin").mkdir(parents=True)
    (mine / "keep.txt").write_text("mine")
    write_kernelspec("other", [sys.executable, "-m", "ipykernel_launcher", "-f", "{c}"])
    new_index.fail_downloads("newonly", 503)  # its page and .metadata still answer

    body = {"name": "py312-broken", "requirements": ["newonly"], "python_version": "3.12"}
    code, started = await call(jp_fetch, "environments", method="POST", body=body)
    assert code == 202, started  # the plan worked: the failure comes during the install
    job = await wait_for(jp_fetch, started["job"]["id"])
    assert job["state"] == "failed"
    assert new_index.failed_downloads > 0
    assert "removed again" in job["outcome"]["message"]
    assert job["outcome"]["restore"] is None
    assert not (envs_dir / "py312-broken").exists()
    assert not (jp_kernel_dir / "py312-broken").exists()
    assert "py312-broken" not in kernelspecs()
    # what it did not create is all still there
    assert (mine / "keep.txt").read_text() == "mine"
    assert (jp_kernel_dir / "other" / "kernel.json").exists()
    assert sorted(p.name for p in envs_dir.iterdir()) == ["handmade"]


async def test_delete_never_touches_an_environment_it_did_not_create(
    jp_fetch: Any, envs_dir: Path, tmp_path: Path
) -> None:
    handmade = envs_dir / "handmade"
    handmade.mkdir(parents=True)
    (handmade / "pyvenv.cfg").write_text("home = /usr/bin\n")
    code, doc = await call(jp_fetch, "environments", "handmade", method="DELETE")
    assert code == 409 and doc["reason"] == "not-ours", doc
    assert (handmade / "pyvenv.cfg").exists()

    # a marker copied from an environment we made elsewhere does not make it ours
    elsewhere = tmp_path / "elsewhere" / "copied"
    elsewhere.mkdir(parents=True)
    write_marker(
        ManagedEnvironment(
            "copied", str(elsewhere), "copied", "Copied", "/x/bin/python", "", "3.12", 0.0, None
        )
    )
    shutil.copytree(elsewhere, envs_dir / "copied")
    assert (envs_dir / "copied" / MARKER).exists()
    assert [m.name for m in list_managed(envs_dir)] == []
    code, listed = await call(jp_fetch, "environments")
    assert code == 200 and listed["environments"] == []
    code, doc = await call(jp_fetch, "environments", "copied", method="DELETE")
    assert code == 409 and (envs_dir / "copied").exists()
    code, doc = await call(jp_fetch, "environments", "nothing-here", method="DELETE")
    assert code == 404


async def test_bad_input_is_refused_before_anything_is_made(jp_fetch: Any, envs_dir: Path) -> None:
    for body, words in (
        ({"name": "Bad Name!", "requirements": ["newonly"]}, "cannot name a kernel"),
        ({"name": "../escape", "requirements": ["newonly"]}, "cannot name a kernel"),
        ({"requirements": ["newonly"]}, "`name` is required"),
        ({"name": "ok", "requirements": ["newonly; rm -rf /"]}, ""),
        ({"name": "ok", "requirements": ["newonly"], "python": "/bin/sh"}, "Unknown field"),
        ({"name": "python3", "requirements": ["newonly"]}, "already is a kernel"),
    ):
        code, doc = await call(jp_fetch, "environments", method="POST", body=body)
        assert code == 400, (body, doc)
        assert words in doc["message"]
    assert not envs_dir.exists()


async def test_creation_needs_a_token(jp_fetch: Any, envs_dir: Path) -> None:
    body = {"name": "py-x", "requirements": ["newonly"]}
    for method, parts in (
        ("POST", ("environments",)),
        ("GET", ("environments",)),
        ("DELETE", ("environments", "py-x")),
    ):
        code, _ = await call(
            jp_fetch,
            *parts,
            method=method,
            body=body if method == "POST" else None,
            headers={"Authorization": ""},
        )
        assert code == 403, (method, parts)
    assert not envs_dir.exists()


class TestReadOnly:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: Config) -> Config:
        jp_server_config["EnvHelperApp"]["read_only"] = True
        return jp_server_config

    async def test_read_only_refuses_creation_and_deletion_but_plans(
        self, jp_fetch: Any, envs_dir: Path
    ) -> None:
        body = {"name": "py-x", "requirements": ["oldonly"]}
        code, doc = await call(jp_fetch, "environments", method="POST", body=body)
        assert code == 403 and "turned off" in doc["message"]
        code, doc = await call(jp_fetch, "environments", "py-x", method="DELETE")
        assert code == 403
        code, doc = await call(jp_fetch, "environments", "plan", method="POST", body=body)
        assert code == 200 and doc["state"] == "plan"
        assert not envs_dir.exists()


@needs_312
async def test_the_rescue_offers_a_new_environment_when_no_kernel_can_take_the_module(
    jp_fetch: Any,
) -> None:
    if sys.version_info >= (3, 12):
        pytest.skip("the test runner's own kernel must be older than 3.12")
    code, doc = await call(jp_fetch, "rescue", params={"module": "newonly", "kernel": "python3"})
    assert code == 200, doc
    assert doc["distribution"]["name"] == "newonly"
    assert doc["verdict"] == "blocker" and doc["kernels_with_module"] == []
    offer = doc["suggestions"][-1]
    assert offer["rank"] == "new-environment"
    assert offer["new_environment"]["requirements"] == ["newonly"]
