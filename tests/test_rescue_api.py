"""GET /envhelper/rescue: after "No module named X", who provides X and where it already is."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from tests.conftest_envs import uv_command, venv_python
from tests.indexserver.server import Fault, IndexServer
from tests.indexserver.wheels import DistSpec

DISTS = [
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain"),
    DistSpec("dep", "1.0", module="dep"),
    DistSpec("needs312", "2.0", requires_python=">=3.12", module="needs312"),
    DistSpec("PyYAML", "6.0", module="yaml"),
]


@pytest.fixture
def rescue_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(DISTS)
    return server


@pytest.fixture
def jp_server_config(jp_server_config: Config, rescue_index: IndexServer) -> Config:
    jp_server_config["EnvHelperApp"]["index_url"] = rescue_index.index_url
    return jp_server_config


def kernel_on_venv(write_kernelspec: Any, root: Path, name: str) -> Path:
    """A kernelspec on a fresh pip-less uv venv (the kernel never needs to start)."""
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not installed in the test runner's environment nor on PATH")
    subprocess.run([*uv, "venv", "-q", str(root / name)], check=True, timeout=120)
    python = venv_python(root / name)
    write_kernelspec(
        name,
        [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name=f"Kernel {name}",
    )
    return python


def uv_install(python: Path, index: IndexServer, *requirements: str) -> None:
    uv = uv_command()
    assert uv is not None
    subprocess.run(
        [
            *uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(python),
            "--index-url",
            index.index_url,
            *requirements,
        ],
        check=True,
        timeout=120,
    )


async def rescue(jp_fetch: Any, **params: str) -> dict[str, Any]:
    response = await jp_fetch("envhelper", "rescue", params=params)
    payload: dict[str, Any] = json.loads(response.body)
    return payload


async def test_names_the_package_and_whether_this_kernel_can_take_it(
    jp_fetch: Any,
    write_kernelspec: Any,
    tmp_path: Path,
) -> None:
    kernel_on_venv(write_kernelspec, tmp_path, "here")
    answer = await rescue(jp_fetch, module="plain.sub", kernel="here")
    assert answer["module"] == "plain"
    assert answer["distribution"]["name"] == "plain"
    assert answer["verdict"] == "ok"
    assert "can take plain" in answer["message"]
    assert answer["fingerprint"]


async def test_a_blocked_package_says_why(
    jp_fetch: Any,
    write_kernelspec: Any,
    tmp_path: Path,
) -> None:
    kernel_on_venv(write_kernelspec, tmp_path, "here")
    answer = await rescue(jp_fetch, module="needs312", kernel="here")
    assert answer["verdict"] == "blocker"
    assert ">=3.12" in answer["message"]


async def test_kernels_that_already_have_it_are_named(
    jp_fetch: Any,
    write_kernelspec: Any,
    tmp_path: Path,
    rescue_index: IndexServer,
) -> None:
    kernel_on_venv(write_kernelspec, tmp_path, "here")
    other = kernel_on_venv(write_kernelspec, tmp_path, "other")
    uv_install(other, rescue_index, "plain")
    answer = await rescue(jp_fetch, module="plain", kernel="here")
    assert [k["name"] for k in answer["kernels_with_module"]] == ["other"]
    assert answer["kernels_with_module"][0]["distribution"] == "plain"


async def test_installed_here_means_restart(
    jp_fetch: Any,
    write_kernelspec: Any,
    tmp_path: Path,
    rescue_index: IndexServer,
) -> None:
    here = kernel_on_venv(write_kernelspec, tmp_path, "here")
    uv_install(here, rescue_index, "dep")
    answer = await rescue(jp_fetch, module="dep", kernel="here")
    assert answer["verdict"] == "installed"
    assert "Restart the kernel" in answer["message"]


async def test_a_well_known_module_is_answered_while_the_project_list_still_loads(
    jp_fetch: Any,
    write_kernelspec: Any,
    tmp_path: Path,
    rescue_index: IndexServer,
) -> None:
    # the index's full project list hangs (PyPI's takes seconds): 'yaml' is PyYAML by
    # the shipped data, and this index has it, so the banner does not wait for the list
    rescue_index.set_list_fault(Fault("hang", seconds=25))
    kernel_on_venv(write_kernelspec, tmp_path, "here")
    answer = await rescue(jp_fetch, module="yaml", kernel="here")
    assert answer["distribution"]["name"] == "PyYAML"
    assert answer["verdict"] == "ok", answer["message"]
    assert rescue_index.path_stats("/simple/").statuses == []  # still not answered


async def test_a_well_known_module_missing_from_this_index_is_not_guessed(
    jp_fetch: Any,
    write_kernelspec: Any,
    tmp_path: Path,
) -> None:
    kernel_on_venv(write_kernelspec, tmp_path, "here")
    answer = await rescue(jp_fetch, module="cv2", kernel="here")
    # opencv-python provides cv2, but this index does not have it: say so, don't offer it
    assert answer["distribution"] is None
    assert "cv2" in answer["message"]


@pytest.mark.parametrize("module", ["", "a b", "../x", "x" * 200])
async def test_bad_module_names_are_400(jp_fetch: Any, module: str) -> None:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("envhelper", "rescue", params={"module": module, "kernel": "python3"})
    assert info.value.code == 400
