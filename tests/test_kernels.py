"""From kernelspec argv to interpreter, the way the kernel would be started."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from jupyter_envhelper.kernels import (
    kernel_environment,
    resolve_interpreter,
    target_from_spec,
)

LAUNCH = ["-m", "ipykernel_launcher", "-f", "{connection_file}"]


def fake_python(root: Path, prefix: str = "env") -> Path:
    """A file laid out like an environment's interpreter (never executed here)."""
    python = root / prefix / "bin" / "python"
    python.parent.mkdir(parents=True, exist_ok=True)
    python.write_text("#!/bin/sh\n", encoding="utf-8")
    python.chmod(0o755)
    return python


def spec(argv: list[str], language: str = "python", env: dict[str, str] | None = None) -> Any:
    return SimpleNamespace(
        argv=argv, language=language, env=env or {}, display_name="K", resource_dir="/res"
    )


@pytest.mark.parametrize(
    "name", ["python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])]
)
def test_generic_python_names_mean_the_servers_python(name: str) -> None:
    # jupyter_client swaps these for sys.executable; so must we.
    resolution = resolve_interpreter([name, *LAUNCH], {"PATH": "/nowhere"}, server_python="/srv/py")
    assert resolution.interpreter == "/srv/py"
    assert resolution.source == "server's Python"


def test_absolute_path_is_taken_as_is(tmp_path: Path) -> None:
    python = fake_python(tmp_path)
    resolution = resolve_interpreter([str(python), *LAUNCH], {})
    assert resolution.interpreter == str(python)


def test_missing_absolute_path_says_so(tmp_path: Path) -> None:
    resolution = resolve_interpreter([str(tmp_path / "gone" / "python"), *LAUNCH], {})
    assert resolution.interpreter is None
    assert resolution.reason is not None and "does not exist" in resolution.reason


def test_other_names_are_found_on_the_kernels_path_from_its_env(tmp_path: Path) -> None:
    # Given a kernelspec whose env puts a directory holding python3.7 first on PATH
    python = fake_python(tmp_path)
    os.rename(python, python.with_name("python3.7"))
    target = target_from_spec(
        "py37",
        spec(["python3.7", *LAUNCH], env={"PATH": f"{python.parent}:${{PATH}}"}),
        environ={"PATH": "/usr/bin"},
    )
    assert target.interpreter == str(python.with_name("python3.7"))
    assert "PATH" in (target.resolution.source or "")
    # and ${PATH} in the spec's env expands against the server's environment
    assert target.probe_env({"PATH": "/usr/bin"})["PATH"] == f"{python.parent}:/usr/bin"


def test_a_name_not_on_path_gives_a_reason() -> None:
    resolution = resolve_interpreter(["python3.99", *LAUNCH], {"PATH": "/nowhere"})
    assert resolution.interpreter is None
    assert "python3.99" in (resolution.reason or "")


def test_env_wrapper_is_seen_through(tmp_path: Path) -> None:
    python = fake_python(tmp_path)
    argv = ["/usr/bin/env", "-i", "OMP_NUM_THREADS=1", str(python), *LAUNCH]
    assert resolve_interpreter(argv, {}).interpreter == str(python)


def test_conda_run_with_prefix(tmp_path: Path) -> None:
    python = fake_python(tmp_path, "envs/torch")
    argv = [
        "conda",
        "run",
        "--no-capture-output",
        "-p",
        str(tmp_path / "envs/torch"),
        "python",
        *LAUNCH,
    ]
    resolution = resolve_interpreter(argv, {})
    assert resolution.interpreter == str(python)
    assert resolution.source == "conda run"


def test_conda_run_with_name_finds_the_env_under_the_conda_root(tmp_path: Path) -> None:
    python = fake_python(tmp_path, "miniconda/envs/ml")
    conda = tmp_path / "miniconda" / "bin" / "conda"
    conda.parent.mkdir(parents=True)
    conda.write_text("#!/bin/sh\n", encoding="utf-8")
    conda.chmod(0o755)
    argv = [str(conda), "run", "-n", "ml", "python", *LAUNCH]
    assert resolve_interpreter(argv, {}).interpreter == str(python)


def test_nb_conda_kernels_runner(tmp_path: Path) -> None:
    python = fake_python(tmp_path, "conda/envs/dl")
    argv = [
        "python",
        "-m",
        "nb_conda_kernels.runner",
        str(tmp_path / "conda"),
        str(tmp_path / "conda/envs/dl"),
        "python",
        *LAUNCH,
    ]
    resolution = resolve_interpreter(argv, {})
    assert resolution.interpreter == str(python)
    assert resolution.source == "nb_conda_kernels runner"


def test_shell_wrapper_that_activates_a_venv(tmp_path: Path) -> None:
    python = fake_python(tmp_path, "venv")
    script = f"source {tmp_path / 'venv'}/bin/activate && exec python -m ipykernel_launcher -f $1"
    resolution = resolve_interpreter(["bash", "-c", script, "{connection_file}"], {})
    assert resolution.interpreter == str(python)


def test_shell_wrapper_without_clues_asks_to_start_the_kernel() -> None:
    resolution = resolve_interpreter(
        ["bash", "-c", "exec start-my-kernel $1"], {"PATH": "/nowhere"}
    )
    assert resolution.interpreter is None
    assert "start it" in (resolution.reason or "")


def test_non_python_kernel_is_not_resolved() -> None:
    target = target_from_spec("ir", spec(["R", "-e", "IRkernel::main()"], language="R"))
    assert not target.is_python
    assert target.interpreter is None
    assert "R kernel" in (target.resolution.reason or "")


def test_resource_dir_is_substituted(tmp_path: Path) -> None:
    python = fake_python(tmp_path)
    target = target_from_spec(
        "k",
        SimpleNamespace(
            argv=["{resource_dir}/bin/python", *LAUNCH],
            language="python",
            env={},
            display_name="K",
            resource_dir=str(tmp_path / "env"),
        ),
    )
    assert target.interpreter == str(python)


def test_kernel_environment_layers_spec_env_over_the_servers() -> None:
    merged = kernel_environment({"A": "1", "B": "${HOME}/x"}, {"A": "0", "HOME": "/h", "C": "c"})
    assert merged == {"A": "1", "B": "/h/x", "HOME": "/h", "C": "c"}
