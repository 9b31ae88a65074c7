"""Real target environments and a fake NVIDIA GPU, for tests of the probe and its users.

Import the fixtures into a test module (``from tests.conftest_envs import venv_with_pip``)
or list this module in ``pytest_plugins`` of ``tests/conftest.py``.

- ``venv_factory``: makes venvs (``python -m venv`` or ``uv venv``) under a session tmp dir
- ``venv_with_pip``: a ``python -m venv`` venv (with pip) of the test runner's Python
- ``uv_venv``: a ``uv venv`` venv (no pip); skipped when uv is not available
- ``externally_managed_python``: a non-venv interpreter whose stdlib holds an
  ``EXTERNALLY-MANAGED`` file (see the fixture for how it is built)
- ``fake_gpu``: a ``FakeGPU`` with a compiled fake ``libcuda.so.1`` and a fake
  ``nvidia-smi``; ``fake_gpu.env(...)`` gives the environment variables that make a
  probed interpreter see them
- ``run_probe(python, env)``: run the probe script in ``python`` and return the parsed JSON
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_envhelper import process

PROBE = Path(__file__).resolve().parents[1] / "jupyter_envhelper" / "probe" / "script.py"
FAKEGPU_DIR = Path(__file__).resolve().parent / "fakegpu"


def run_probe(
    python: str | os.PathLike[str], env: Mapping[str, str] | None = None, timeout: float = 60
) -> dict[str, Any]:
    """Run the probe script in ``python`` (``env`` merged onto os.environ) and parse its JSON."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = process.run([os.fspath(python), str(PROBE)], env=full_env, timeout=timeout)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def uv_command() -> list[str] | None:
    """How to run uv from the test runner: its own venv's ``uv`` package, else PATH."""
    try:
        import uv  # type: ignore[import-not-found]

        return [uv.find_uv_bin()]
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    return [found] if found else None


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


VenvFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def venv_factory(tmp_path_factory: pytest.TempPathFactory) -> VenvFactory:
    """``make(name, tool="venv"|"uv", python=sys.executable) -> path of the venv's python``."""
    root = tmp_path_factory.mktemp("venvs")

    def make(name: str, *, tool: str = "venv", python: str = sys.executable) -> Path:
        target = root / name
        if tool == "venv":
            subprocess.run([python, "-m", "venv", str(target)], check=True, timeout=180)
        elif tool == "uv":
            uv = uv_command()
            if uv is None:
                pytest.skip("uv is not installed in the test runner's environment nor on PATH")
            subprocess.run(
                [*uv, "venv", "-q", "--python", python, str(target)], check=True, timeout=180
            )
        else:
            raise ValueError(tool)
        return venv_python(target)

    return make


@pytest.fixture(scope="session")
def venv_with_pip(venv_factory: VenvFactory) -> Path:
    return venv_factory("with-pip", tool="venv")


@pytest.fixture(scope="session")
def uv_venv(venv_factory: VenvFactory) -> Path:
    return venv_factory("by-uv", tool="uv")


@pytest.fixture(scope="session")
def externally_managed_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, non-venv interpreter layout whose stdlib is marked EXTERNALLY-MANAGED.

    Python finds its prefix by looking for ``lib/pythonX.Y/os.py`` next to its binary.
    We copy the test runner's *base* interpreter binary into ``<tmp>/prefix/bin`` and
    build ``<tmp>/prefix/lib/pythonX.Y`` from symlinks to the real stdlib entries, plus
    an empty site-packages and the PEP 668 marker file. The result is what a distro's
    Python looks like to the probe (``sys.prefix == sys.base_prefix``, marker in the
    stdlib dir), without touching any real installation.
    """
    if os.name == "nt":
        pytest.skip("the layout trick is POSIX-only")
    base = Path(sys.base_prefix)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    real_exe = base / "bin" / f"python{version}"
    real_stdlib = Path(sysconfig.get_path("stdlib", vars={"installed_base": str(base)}))
    if not real_exe.exists() or not (real_stdlib / "os.py").exists():
        pytest.skip(f"no base interpreter layout found under {base}")
    prefix = tmp_path_factory.mktemp("system-python") / "prefix"
    (prefix / "bin").mkdir(parents=True)
    exe = prefix / "bin" / f"python{version}"
    shutil.copy2(real_exe, exe)
    stdlib = prefix / "lib" / f"python{version}"
    stdlib.mkdir(parents=True)
    for entry in real_stdlib.iterdir():
        if entry.name not in ("site-packages", "EXTERNALLY-MANAGED"):
            (stdlib / entry.name).symlink_to(entry)
    (stdlib / "site-packages").mkdir()
    (stdlib / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\n"
        "Error=To install Python packages system-wide, try apt install\n"
        " python3-xyz, where xyz is the package you are trying to install.\n",
        encoding="utf-8",
    )
    return exe


@dataclass
class FakeGPU:
    """A fake libcuda.so.1 (built from tests/fakegpu/fake_libcuda.c) and nvidia-smi."""

    lib_dir: Path
    bin_dir: Path

    def env(
        self,
        *,
        driver_version: int | None = 12020,
        devices: str = "NVIDIA A100-SXM4-80GB:8.0",
        mode: str = "ok",
        libcuda: bool = True,
        smi_output: str | None = None,
        smi_fail: bool = False,
        cuda_timeout: float | None = None,
    ) -> dict[str, str]:
        env: dict[str, str] = {
            "FAKE_CUDA_DEVICES": devices,
            "FAKE_CUDA_MODE": mode,
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        if driver_version is not None:
            env["FAKE_CUDA_DRIVER_VERSION"] = str(driver_version)
        if libcuda:
            env["LD_LIBRARY_PATH"] = str(self.lib_dir)
        if smi_output is not None:
            env["FAKE_NVIDIA_SMI_OUTPUT"] = smi_output
        if smi_fail:
            env["FAKE_NVIDIA_SMI_FAIL"] = "1"
        if cuda_timeout is not None:
            env["JUPYTER_ENVHELPER_CUDA_TIMEOUT"] = str(cuda_timeout)
        return env


@pytest.fixture(scope="session")
def fake_gpu(tmp_path_factory: pytest.TempPathFactory) -> FakeGPU:
    if not sys.platform.startswith("linux"):
        pytest.skip("the fake libcuda is a Linux shared library")
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler (gcc) to build the fake libcuda.so.1")
    root = tmp_path_factory.mktemp("fakegpu")
    lib_dir, bin_dir = root / "lib", root / "bin"
    lib_dir.mkdir()
    bin_dir.mkdir()
    subprocess.run(
        [gcc, "-shared", "-fPIC", "-O1", "-o", str(lib_dir / "libcuda.so.1"),
         str(FAKEGPU_DIR / "fake_libcuda.c")],
        check=True,
        timeout=120,
    )  # fmt: skip
    smi = bin_dir / "nvidia-smi"
    shutil.copy2(FAKEGPU_DIR / "nvidia-smi", smi)
    smi.chmod(0o755)
    return FakeGPU(lib_dir=lib_dir, bin_dir=bin_dir)


@pytest.fixture
def no_gpu_env(tmp_path: Path) -> dict[str, str]:
    """PATH without nvidia-smi/nvcc and no LD_LIBRARY_PATH: a machine without NVIDIA bits."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    return {"PATH": f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin", "LD_LIBRARY_PATH": ""}
