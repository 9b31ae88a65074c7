"""``new-kernel`` and ``environments`` on the command line, and ``%envhelp new-kernel``.

Real parts: the CLI as a subprocess with its own Jupyter folders (configuration,
data, kernels) and the loopback index with the real ipykernel wheels; the magic in an
IPython shell reading the same configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.indexserver.realwheels import DownloadFaultServer, add_wheels, wheelhouse
from tests.test_new_environment import NEW_DISTS, PY312, PYENV_ROOT, needs_312


@pytest.fixture
def jupyter_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    if PY312 is None:
        pytest.skip("no CPython 3.12 here")
    wheels = wheelhouse(PY312, "cp312")
    if wheels is None:
        pytest.skip("the ipykernel wheels for 3.12 are not cached and PyPI is not reachable")
    index = DownloadFaultServer(NEW_DISTS).start()
    add_wheels(index, wheels.glob("*.whl"))
    dirs = {
        "config": tmp_path / "config",
        "data": tmp_path / "data",
        "envs": tmp_path / "envs",
    }
    dirs["config"].mkdir()
    settings = {
        "EnvHelperApp": {
            "index_url": index.index_url,
            "environments_dir": str(dirs["envs"]),
            "history_path": str(tmp_path / "history.sqlite"),
            "cache_dir": str(tmp_path / "cache"),
        }
    }
    (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(settings))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(dirs["config"]))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(dirs["data"]))
    monkeypatch.setenv("JUPYTER_PATH", str(dirs["data"]))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    if PYENV_ROOT:
        monkeypatch.setenv("PYENV_ROOT", PYENV_ROOT)
    yield dirs
    index.stop()


def cli(*args: str) -> tuple[int, Any, str]:
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_envhelper", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": ""},
        check=False,
    )
    try:
        doc = json.loads(done.stdout) if "--json" in args else done.stdout
    except ValueError:
        doc = done.stdout
    return done.returncode, doc, done.stderr


@needs_312
def test_new_kernel_on_the_command_line_then_list_and_delete(
    jupyter_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc, err = cli("new-kernel", "--name", "cli-k", "--python-version", "3.12", "newonly",
                         "--yes", "--json")  # fmt: skip
    assert code == 0, (doc, err)
    job = doc["job"]
    assert job["kind"] == "create" and job["state"] == "succeeded"
    folder = jupyter_dirs["envs"] / "cli-k"
    spec = json.loads((jupyter_dirs["data"] / "kernels" / "cli-k" / "kernel.json").read_text())
    assert spec["argv"][0] == str(folder / "bin" / "python")
    imported = subprocess.run(
        [spec["argv"][0], "-c", "import newonly, ipykernel, sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
        check=False,
    )
    assert imported.stdout.strip() == "(3, 12)", imported.stderr

    code, listed, _ = cli("environments", "--json")
    assert code == 0 and [e["name"] for e in listed["environments"]] == ["cli-k"]
    code, text, _ = cli("environments")
    assert "cli-k" in text and "Python 3.12" in text

    # the magic reads the same configuration and sees the same environment
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "jupyter_envhelper")
        capsys.readouterr()
        shell.run_line_magic("envhelp", "environments --no-widgets")
        assert "cli-k" in capsys.readouterr().out
        shell.run_line_magic(
            "envhelp", "new-kernel --name m-k --python-version 3.4 newonly -y --no-widgets"
        )
        captured = capsys.readouterr()
        assert "no Python 3.4" in captured.err
        assert not (jupyter_dirs["envs"] / "m-k").exists()
    finally:
        shell.run_line_magic("unload_ext", "jupyter_envhelper")
        InteractiveShell.clear_instance()

    code, doc, err = cli("environments", "delete", "cli-k", "--yes", "--json")
    assert code == 0, err
    assert doc["deleted"]["kernel_removed"] and doc["deleted"]["environment_removed"]
    assert not folder.exists()
    assert not (jupyter_dirs["data"] / "kernels" / "cli-k").exists()


@needs_312
def test_new_kernel_refuses_without_a_fitting_python_and_makes_nothing(
    jupyter_dirs: dict[str, Path],
) -> None:
    code, doc, _ = cli("new-kernel", "--name", "k2", "--python-version", "3.12", "oldonly",
                       "--yes", "--json")  # fmt: skip
    assert code == 1
    assert doc["ready"] is False and doc["verdict"] == "blocker"
    code, _, err = cli("new-kernel", "--name", "Bad Name", "newonly", "--yes")
    assert code == 2 and "cannot name a kernel" in err
    code, _, err = cli("environments", "delete", "nothing", "--yes")
    assert code == 1 and "no environment named" in err
    assert not jupyter_dirs["envs"].exists()
