"""The Jupyter server's own environment is not offered as a kernel to switch to.

In these tests the ``python3`` kernelspec runs ``sys.executable``: the environment the
(in-process) Jupyter server runs from, as a bare-``python`` kernelspec does in real life.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_envhelper.core.suggestions import only_fitting_server_env
from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import DistSpec

DISTS = [DistSpec("plain", "1.0", module="plain")]


@pytest.fixture
def jp_server_config(jp_server_config: Config, index_server: Any) -> Config:
    server: IndexServer = index_server(DISTS)
    jp_server_config["EnvHelperApp"]["index_url"] = server.index_url
    return jp_server_config


async def suggestions(jp_fetch: Any, kernel: str) -> list[dict[str, Any]]:
    response = await jp_fetch(
        "envhelper",
        "kernel-suggestions",
        method="POST",
        body=json.dumps({"kernel": kernel, "requirements": ["plain"]}),
        headers={"Content-Type": "application/json"},
    )
    found: list[dict[str, Any]] = json.loads(response.body)["suggestions"]
    return found


def kernel_of(write_kernelspec: Any, venv_factory: Any, name: str) -> None:  # noqa: F811
    python = venv_factory(f"suggest-{name}")
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    write_kernelspec(name, argv, display_name=f"Kernel {name}")


async def test_server_env_is_left_out_when_another_kernel_fits(
    jp_fetch: Any,
    write_kernelspec: Any,
    venv_factory: VenvFactory,  # noqa: F811
) -> None:
    kernel_of(write_kernelspec, venv_factory, "alpha")
    kernel_of(write_kernelspec, venv_factory, "beta")
    found = await suggestions(jp_fetch, "alpha")
    names = [s["name"] for s in found]
    assert "beta" in names
    assert next(s for s in found if s["name"] == "beta")["rank"] == "no-changes"
    assert "python3" not in names


async def test_server_env_is_offered_only_with_a_warning_when_nothing_else_fits(
    jp_fetch: Any,
    write_kernelspec: Any,
    venv_factory: VenvFactory,  # noqa: F811
) -> None:
    kernel_of(write_kernelspec, venv_factory, "gamma")
    found = await suggestions(jp_fetch, "gamma")
    for row in found:
        if row["name"] == "python3":
            assert row["server_env"] is True
            assert "JupyterLab" in row["message"]
    # either a new environment is proposed instead, or the server's comes with its warning
    assert found, "nothing at all was suggested"


def test_only_fitting_server_env_rules() -> None:
    server = {"name": "s", "rank": "no-changes", "message": "Can take it.", "server_env": True}
    other = {"name": "o", "rank": "changes", "message": "Can take it, changing 1."}
    stuck = {"name": "x", "rank": "impossible", "message": "No."}
    assert only_fitting_server_env([server, other]) == [other]
    alone = only_fitting_server_env([server, stuck])
    assert [r["name"] for r in alone] == ["s", "x"]
    assert "JupyterLab" in alone[0]["message"]
    assert only_fitting_server_env([stuck]) == [stuck]
