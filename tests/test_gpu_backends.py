"""The way out of a GPU finding, end to end: a plan against a PyTorch backend index.

``download.pytorch.org`` can't be reached from these machines, so a loopback front
serves ``/<backend>/simple/...`` from one real test index per backend (``cpu``,
``cu126``), as ``https://download.pytorch.org/whl/<backend>/`` does; the main index
imitates PyPI (torch 2.9.1 without a label, pinning the CUDA 12.8 runtime).
``c.EnvHelperApp.torch_backend_url`` points the core at the front.
"""

# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_envhelper.core import CoreConfig, JobRequest, PlanOptions, Target, build_core
from jupyter_envhelper.errors import BadRequest
from tests.conftest_envs import FakeGPU, fake_gpu, venv_factory  # noqa: F401
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import DistSpec
from tests.test_plan_api import post, post_error

LINUX = "; platform_system == 'Linux'"
MB = 1_000_000

PYPI = [
    DistSpec(
        "torch",
        "2.9.1",
        requires_dist=("filelock", "nvidia-cuda-runtime-cu12==12.8.90" + LINUX),
        padding=3 * MB,
    ),
    DistSpec("nvidia-cuda-runtime-cu12", "12.8.90", padding=1 * MB),
    DistSpec("filelock", "99.0"),
]
CPU = [DistSpec("torch", "2.9.1+cpu", requires_dist=("filelock",), padding=200_000)]
CU126 = [
    DistSpec(
        "torch",
        "2.9.1+cu126",
        requires_dist=("filelock", "nvidia-cuda-runtime-cu12==12.6.77" + LINUX),
        padding=2 * MB,
    ),
    DistSpec("nvidia-cuda-runtime-cu12", "12.6.77", padding=1 * MB),
]


class BackendFront:
    """``/<backend>/<path>`` -> ``<path>`` of that backend's own test index."""

    def __init__(self, backends: dict[str, IndexServer]) -> None:
        self.backends = backends
        self.requests: list[str] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                front.requests.append(self.path)
                backend, _, rest = self.path.lstrip("/").partition("/")
                server = front.backends.get(backend)
                if server is None:
                    self.send_error(404)
                    return
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() in ("accept", "range")
                }
                request = urllib.request.Request(f"{server.url}/{rest}", headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        status, body, got = answer.status, answer.read(), answer.headers
                except urllib.error.HTTPError as error:
                    status, body, got = error.code, error.read(), error.headers
                self.send_response(status)
                for key in ("Content-Type", "Content-Range", "Accept-Ranges", "ETag"):
                    if got.get(key):
                        self.send_header(key, got[key])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def template(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{{backend}}/simple/"

    def url(self, backend: str) -> str:
        return self.template.replace("{backend}", backend)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def pypi(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(PYPI)
    return server


@pytest.fixture
def front(index_server: Any) -> Iterator[BackendFront]:
    served = BackendFront({"cpu": index_server(CPU), "cu126": index_server(CU126)})
    yield served
    served.close()


# ---------------------------------------------------------------- through the REST API


@pytest.fixture
def jp_server_config(jp_server_config: Config, pypi: IndexServer, front: BackendFront) -> Config:
    jp_server_config["EnvHelperApp"]["index_url"] = pypi.index_url
    jp_server_config["EnvHelperApp"]["torch_backend_url"] = front.template
    return jp_server_config


async def test_no_gpu_one_click_to_the_cpu_build(jp_fetch: Any, front: BackendFront) -> None:
    """This machine has no NVIDIA GPU: PyPI's torch pulls the CUDA build; the finding
    offers the CPU build, confirmed on the cpu backend (its size, what it saves), and
    the plan its action asks for resolves there and is clean."""
    answer = await post(jp_fetch, "plan", {"kernel": "python3", "requirements": ["torch"]})
    gpu = [f for f in answer["findings"] if f["check"] == "gpu"]
    assert answer["findings"][0]["check"] == "gpu"  # above everything else
    [finding] = gpu
    assert finding["severity"] == "warning"
    assert "torch 2.9.1 and 1 NVIDIA library" in finding["message"]
    assert "no NVIDIA GPU or driver was found" in finding["message"]
    assert "The CPU build torch==2.9.1+cpu" in finding["message"]
    assert "MB less to download" in finding["message"]
    action = finding["action"]
    assert action["kind"] == "use-requirement"
    assert action["requirement"] == "torch==2.9.1+cpu"
    assert action["torch_backend"] == "cpu"
    assert action["index_url"] == front.url("cpu")
    assert finding["details"]["recommended"]["confirmed"]["size"] > 0

    # the click: the same request with the action's requirement and backend name
    again = await post(
        jp_fetch,
        "plan",
        {"kernel": "python3", "requirements": [action["requirement"]], "torch_backend": "cpu"},
    )
    actions = {a["name"]: a for a in again["plan"]["actions"]}
    assert actions["torch"]["version"] == "2.9.1+cpu"
    assert "nvidia-cuda-runtime-cu12" not in actions
    assert again["plan"]["index_urls"][0] == front.url("cpu")
    assert not [f for f in again["findings"] if f["check"] == "gpu"]
    assert any(p.startswith("/cpu/simple/torch/") for p in front.requests)


@pytest.mark.parametrize(
    "backend", ["https://example.com/simple/", "cu999", "../cu126", "CU126", "cpu/../x"]
)
async def test_only_known_backend_names_become_an_index(jp_fetch: Any, backend: str) -> None:
    body = {"kernel": "python3", "requirements": ["torch"], "torch_backend": backend}
    code, message = await post_error(jp_fetch, "plan", body)
    assert code == 400
    assert "`torch_backend` must be one of cpu, cu118" in message
    code, message = await post_error(jp_fetch, "jobs", {**body, "action": "install"})
    assert code == 400 and "`torch_backend`" in message


async def test_an_index_url_is_not_a_plan_field(jp_fetch: Any) -> None:
    body = {"kernel": "python3", "requirements": ["torch"], "index_url": "https://x.example/"}
    code, _ = await post_error(jp_fetch, "plan", body)
    assert code == 400


# ---------------------------------------------------------------- through the core


@pytest.fixture
def gtx1080(fake_gpu: FakeGPU, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GTX 1080 (sm_61) on a 560 driver (CUDA 12.6), seen by every probe from now."""
    for key, value in fake_gpu.env(
        driver_version=12060,
        devices="NVIDIA GeForce GTX 1080:6.1",
        smi_output="NVIDIA GeForce GTX 1080, 6.1, 560.35.03",
    ).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # this machine's pip.conf adds indexes
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)


@pytest.fixture
def core_config(pypi: IndexServer, front: BackendFront, tmp_path: Path) -> CoreConfig:
    return CoreConfig(
        cache_dir=str(tmp_path / "cache"),
        history_path=str(tmp_path / "history.sqlite"),
        index_url=pypi.index_url,
        extra_index_urls=(),
        torch_backend_url=front.template,
    )


async def test_gtx1080_gets_the_cu126_build_in_one_click(
    gtx1080: None, core_config: CoreConfig, front: BackendFront
) -> None:
    """A GTX 1080 (sm_61) on a CUDA 12.6 driver: PyPI's torch 2.9.1 is the cu128 build
    (sm_70 and newer only), so it is blocked and cu126 (which keeps Pascal) is offered;
    the plan against the cu126 backend says the GPU can be used."""
    core = build_core(core_config)
    try:
        target = Target(python=sys.executable)
        doc = await core.plan(target, ["torch"])
        gpu = [f for f in doc["findings"] if f["check"] == "gpu"]
        assert doc["findings"][0]["check"] == "gpu"  # above everything else
        blockers = [f for f in gpu if f["severity"] == "blocker"]
        assert blockers, [f["message"] for f in doc["findings"]]
        blocker = blockers[0]
        assert "NVIDIA GeForce GTX 1080 (sm_61) can't run it" in blocker["message"]
        assert "no kernel image is available" in blocker["message"]
        action = blocker["action"]
        assert action["requirement"] == "torch==2.9.1+cu126"
        assert action["torch_backend"] == "cu126"
        assert blocker["details"]["recommended"]["confirmed"]["index_url"] == front.url("cu126")

        clicked = await core.plan(
            target, [action["requirement"]], PlanOptions(torch_backend=action["torch_backend"])
        )
        versions = {a["name"]: a["version"] for a in clicked["plan"]["actions"]}
        assert versions["torch"] == "2.9.1+cu126"
        assert versions["nvidia-cuda-runtime-cu12"] == "12.6.77"
        [ok] = [f for f in clicked["findings"] if f["check"] == "gpu"]
        assert ok["severity"] == "info" and "can use the GPU" in ok["message"]
        assert clicked["verdict"] != "blocker"

        with pytest.raises(BadRequest):
            await core.plan(target, ["torch"], PlanOptions(torch_backend="http://evil/"))
    finally:
        await core.close()


def test_the_backend_url_setting_is_checked() -> None:
    with pytest.raises(BadRequest, match=r"\{backend\}"):
        CoreConfig.from_settings({"torch_backend_url": "https://mirror.example/whl/"})
    with pytest.raises(BadRequest):
        CoreConfig.from_settings({"torch_backend_url": "file:///srv/{backend}/"})
    config = CoreConfig.from_settings({"torch_backend_url": "https://m.example/{backend}"})
    assert config.torch_backend_url == "https://m.example/{backend}"


async def test_torch_details_say_whether_the_gpu_fits(
    fake_gpu: FakeGPU,
    pypi: IndexServer,
    front: BackendFront,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A beginner looks at torch's details first: they say what this machine has and
    whether the build on the index runs on it, and which build would."""
    for key, value in fake_gpu.env(
        driver_version=12080,
        devices="NVIDIA GeForce GTX 1080:6.1",
        smi_output="NVIDIA GeForce GTX 1080, 6.1, 570.86.10",
    ).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    config = CoreConfig(
        cache_dir=str(tmp_path / "cache"),
        history_path=str(tmp_path / "history.sqlite"),
        index_url=pypi.index_url,
        extra_index_urls=(),
        torch_backend_url=front.template,
    )
    core = build_core(config)
    try:
        target = Target(python=sys.executable)
        details = await core.package("torch", target)
        gpu = details["gpu"]
        assert gpu["machine"].startswith("NVIDIA driver 570.86, CUDA ≤ 12.8, 1× GeForce GTX 1080")
        assert gpu["build"]["cuda"] == "12.8"  # read from its Requires-Dist
        assert gpu["verdict"] == "blocker"
        assert "GTX 1080 (sm_61) can't run it" in gpu["message"]
        assert gpu["recommended"]["requirement"] == "torch==2.9.1+cu126"
        assert gpu["recommended"]["index_url"] == front.url("cu126")
        # a project without GPU builds gets no GPU talk
        assert (await core.package("filelock", target))["gpu"] is None
    finally:
        await core.close()


async def test_the_one_click_build_is_what_gets_installed(
    gtx1080: None, core_config: CoreConfig, front: BackendFront, venv_factory: Any
) -> None:
    """The job re-plans with the same backend and installs the cu126 build from the
    backend's index (uv, with the backend asked before the main index)."""
    python = venv_factory("gpu-install", tool="uv")
    core = build_core(core_config)
    try:
        target = Target(python=str(python))
        options = PlanOptions(torch_backend="cu126")
        planned = await core.plan(target, ["torch==2.9.1+cu126"], options)
        assert planned["verdict"] != "blocker", planned["findings"]
        started = await core.start_job(
            target,
            JobRequest(
                action="install",
                requirements=("torch==2.9.1+cu126",),
                fingerprint=planned["fingerprint"],
                options=options,
            ),
        )
        done = (await core.wait_job(started["job"]["id"]))["job"]
        assert done["state"] == "succeeded", done.get("log_tail")
        site = Path(python).parent.parent / "lib"
        installed = sorted(p.name for p in site.glob("python3*/site-packages/*.dist-info"))
        assert "torch-2.9.1+cu126.dist-info" in installed, installed
        assert "nvidia_cuda_runtime_cu12-12.6.77.dist-info" in installed, installed
        assert any(p.startswith("/cu126/files/torch-2.9.1") for p in front.requests)
    finally:
        await core.close()
