"""``enable-magic``: ``%envhelp`` in a plain ipykernel venv, without JupyterLab there.

The slow test makes a fresh venv, installs ipykernel into it (from the index the
machine's pip uses, PyPI by default), runs ``python -m jupyter_envhelper enable-magic``
against it, counts what was added, and starts a real kernel from the venv
(jupyter_client) to run ``%load_ext jupyter_envhelper`` and ``%envhelp`` there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from jupyter_envhelper.core import enable
from jupyter_envhelper.errors import BadRequest
from tests.conftest_envs import venv_factory  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parent.parent
ENABLE = (sys.executable, "-m", "jupyter_envhelper", "enable-magic", "--python")


# -- the kernel wheel -----------------------------------------------------------------------


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_kernel_wheel_has_the_magic_and_not_the_server(tmp_path: Path) -> None:
    wheel = enable.build_kernel_wheel(tmp_path)
    members = _members(wheel.path)
    names = set(members)
    assert "jupyter_envhelper/magic/magics.py" in names
    assert "jupyter_envhelper/core/usecases.py" in names
    assert "jupyter_envhelper/probe/script.py" in names
    assert any(n.startswith("jupyter_envhelper/search/data/") for n in names)
    assert not any(n.startswith("jupyter_envhelper/server/") for n in names)
    assert not any(n.startswith("jupyter_envhelper/labextension/") for n in names)
    assert not any(n.endswith(".pyc") for n in names)
    info = f"jupyter_envhelper_kernel-{wheel.version}.dist-info"
    metadata = members[f"{info}/METADATA"].decode()
    assert "Name: jupyter-envhelper-kernel" in metadata
    requires = {
        canonicalize_name(Requirement(line.split(":", 1)[1]).name)
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    }
    assert {"packaging", "resolvelib", "httpx", "uv", "ipython", "jupyter-client"} <= requires
    assert not requires & {"jupyter-server", "jupyterlab", "ipywidgets", "notebook"}
    # RECORD lists every member with its digest (an installer checks them)
    record = members[f"{info}/RECORD"].decode().splitlines()
    assert {line.split(",")[0] for line in record} == names
    assert wheel.requirement == f"jupyter-envhelper-kernel=={wheel.version}"


def test_kernel_wheel_is_reproducible_and_versioned_by_content(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "pkg"
    shutil.copytree(
        enable.package_root(),
        root,
        ignore=shutil.ignore_patterns("labextension", "__pycache__", "server"),
    )
    first = enable.build_kernel_wheel(tmp_path / "a", root)
    again = enable.build_kernel_wheel(tmp_path / "b", root)
    assert first.version == again.version
    assert first.path.read_bytes() == again.path.read_bytes()
    (root / "magic" / "magics.py").write_text(
        (root / "magic" / "magics.py").read_text() + "\n# edited\n"
    )
    edited = enable.build_kernel_wheel(tmp_path / "a", root)
    assert edited.version != first.version
    assert edited.path != first.path and edited.path.is_file()


def test_fallback_dependencies_match_pyproject() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {
        str(Requirement(d))
        for d in declared
        if canonicalize_name(Requirement(d).name) not in enable.SERVER_ONLY_DEPENDENCIES
    }
    assert set(enable.FALLBACK_DEPENDENCIES) == wanted


def test_only_the_kernel_distribution_gets_the_wheel_folder() -> None:
    assert enable.names_kernel_distribution(["jupyter_envhelper_kernel==1.0"])
    assert not enable.names_kernel_distribution(["jupyter-envhelper", "six"])
    assert not enable.names_kernel_distribution(["not a requirement!!"])


def test_startup_config_keeps_other_settings_and_refuses_bad_files(tmp_path: Path) -> None:
    path = enable.startup_path(str(tmp_path))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"IPKernelApp": {"matplotlib": "inline"}}))
    written, changed = enable.add_to_startup(str(tmp_path))
    assert changed and written == path
    config = json.loads(path.read_text())
    assert config["IPKernelApp"] == {"matplotlib": "inline"}
    assert config["InteractiveShellApp"]["extensions"] == ["jupyter_envhelper"]
    assert enable.add_to_startup(str(tmp_path)) == (path, False)
    path.write_text("{not json")
    with pytest.raises(BadRequest, match="nothing was changed"):
        enable.add_to_startup(str(tmp_path))
    assert path.read_text() == "{not json"


# -- for real: a fresh kernel venv ----------------------------------------------------------


def _dists(python: Path) -> set[str]:
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps(sorted({d.metadata['Name'] for d in m.distributions()})))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return {canonicalize_name(n) for n in json.loads(out.stdout)}


def _run_cell(client: Any, code: str) -> tuple[str, str]:
    text: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            text.append(content["text"])
        elif kind == "error":
            text.append("\n".join(content["traceback"]))
        elif kind in {"display_data", "execute_result"}:
            text.append(content["data"].get("text/plain", ""))

    reply = client.execute_interactive(code, output_hook=hook, timeout=240)
    return reply["content"]["status"], "\n".join(text)


@pytest.mark.slow
def test_enable_magic_in_a_fresh_kernel_venv(tmp_path: Path) -> None:
    from jupyter_client.manager import start_new_kernel

    venv = tmp_path / "kernel-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=180)
    python = venv / "bin" / "python"
    env = {**os.environ, "PYTHONNOUSERSITE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "ipykernel"], check=True, env=env, timeout=600
    )
    before = _dists(python)
    assert "jupyter-envhelper" not in before and "jupyter-envhelper-kernel" not in before

    cli = subprocess.run(
        [*ENABLE, str(python), "--yes", "--startup"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "no JupyterLab" in cli.stdout
    added = _dists(python) - before
    assert "jupyter-envhelper-kernel" in added
    assert len(added) <= 15, sorted(added)
    assert not added & {"jupyter-server", "jupyterlab", "notebook", "ipywidgets"}, added

    # once enabled, asking again changes nothing
    again = subprocess.run(
        [*ENABLE, str(python), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["needed"] is False and doc["startup"]["enabled"] is True
    assert doc["magic"]["distribution"] == "jupyter-envhelper-kernel"

    spec_root = tmp_path / "jupyter"
    spec_dir = spec_root / "kernels" / "fresh"
    spec_dir.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Fresh", "language": "python"})
    )
    kernel_env = {**env, "JUPYTER_PATH": str(spec_root)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(spec_root))
        km, kc = start_new_kernel(kernel_name="fresh", env=kernel_env, startup_timeout=120)
    try:
        status, text = _run_cell(
            kc,
            "import importlib.util as u\n"
            "print('server:', u.find_spec('jupyter_server'), 'lab:', u.find_spec('jupyterlab'))",
        )
        assert status == "ok", text
        assert "server: None lab: None" in text
        # --startup loaded it already; %load_ext says so and does not fail
        status, text = _run_cell(kc, "%load_ext jupyter_envhelper")
        assert status == "ok", text
        status, text = _run_cell(kc, "%envhelp --no-widgets")
        assert status == "ok", text
        assert str(venv) in text and "Packages" in text
        status, text = _run_cell(kc, "%envhelp plan six --no-widgets")
        assert status == "ok", text
        assert "six" in text and "Verdict" in text
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


# -- the REST API ---------------------------------------------------------------------------


async def test_enable_magic_endpoint(
    jp_fetch: Any,
    write_kernelspec: Any,
    venv_factory: Any,  # noqa: F811
) -> None:
    from tornado.httpclient import HTTPClientError

    # the server's own environment has the full distribution: nothing to do
    response = await jp_fetch("envhelper", "enable-magic", params={"kernel": "python3"})
    doc = json.loads(response.body)
    assert doc["needed"] is False and doc["plan"] is None
    assert doc["magic"]["distribution"] == "jupyter-envhelper"
    # a bare venv kernel needs the kernel-side distribution
    python = venv_factory("enable-bare")
    write_kernelspec("bare", [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    response = await jp_fetch("envhelper", "enable-magic", params={"kernel": "bare"})
    doc = json.loads(response.body)
    assert doc["needed"] is True and doc["magic"]["installed"] is False
    assert doc["requirement"].startswith("jupyter-envhelper-kernel==")
    assert doc["startup"]["enabled"] is False
    assert "jupyter-envhelper-kernel" in json.dumps(doc.get("plan") or doc.get("conflict"))
    # the rescue of `import jupyter_envhelper` names the kernel package, pinned
    response = await jp_fetch(
        "envhelper", "rescue", params={"module": "jupyter_envhelper", "kernel": "bare"}
    )
    rescue = json.loads(response.body)
    assert rescue["distribution"]["name"] == "jupyter-envhelper-kernel"
    assert rescue["distribution"]["requirement"] == doc["requirement"]
    response = await jp_fetch(
        "envhelper", "rescue", params={"module": "jupyter_envhelper", "kernel": "python3"}
    )
    assert json.loads(response.body)["verdict"] == "installed"
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(
            "envhelper", "enable-magic", headers={"Authorization": ""}, params={"kernel": "bare"}
        )
    assert info.value.code == 403
