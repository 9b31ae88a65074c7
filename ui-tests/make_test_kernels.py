"""Make the kernels the browser tests install into and switch to.

    python make_test_kernels.py [--root DIR]

Writes, under ``DIR`` (default ``$ENVHELPER_TEST_KERNELS_DIR`` or
``~/.cache/jupyter-envhelper-ui-tests``):

- ``py311-envhelper-test``, "Python 3.11 (test)": a fresh uv venv on the
  Python running this script, with ipykernel. The install tests change it, so it
  is made anew on every run and the server's own environment is never touched.
- ``py312-envhelper-test``, "Python 3.12 (test)": a uv venv on a Python 3.12
  (``/root/.pyenv/versions/3.12*/bin/python`` or ``python3.12`` on PATH), with
  ipykernel, kept between runs. Without a Python 3.12 it is not made, and the
  kernel-switch test skips, saying so. It also has ``envhelper-elsewhere``
  (module ``envhelper_elsewhere``), a wheel built here from the test index's
  wheel maker and installed from the file: the rescue test switches to this
  kernel because the 3.11 one lacks that module.

The kernelspecs go to ``DIR/jupyter/kernels``: the test server's
``JUPYTER_PATH`` must include ``DIR/jupyter`` (playwright.config.js sets it).
``uv`` comes from this Python (``python -m uv``); ipykernel from the default
index (PyPI).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PY311 = ("py311-envhelper-test", "Python 3.11 (test)")
PY312 = ("py312-envhelper-test", "Python 3.12 (test)")
# Only in the 3.12 kernel, and on no index (the rescue's "switch kernel" case).
ELSEWHERE = ("envhelper-elsewhere", "1.0", "envhelper_elsewhere")


def default_root() -> Path:
    env = os.environ.get("ENVHELPER_TEST_KERNELS_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "jupyter-envhelper-ui-tests"


def find_python312() -> str | None:
    for candidate in sorted(glob.glob("/root/.pyenv/versions/3.12*/bin/python"), reverse=True):
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("python3.12")


def uv(*args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    subprocess.run([sys.executable, "-m", "uv", *args], check=True, env=env)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def has_ipykernel(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import ipykernel"], capture_output=True, check=False
    )
    return probe.returncode == 0


def make_venv(venv: Path, interpreter: str, fresh: bool) -> Path:
    python = venv_python(venv)
    if not fresh and has_ipykernel(python):
        return python
    uv("venv", "--quiet", "--clear", "--python", interpreter, str(venv))
    uv("pip", "install", "--quiet", "--python", str(python), "ipykernel")
    return python


def install_elsewhere(python: Path, root: Path) -> None:
    """Install the ``envhelper-elsewhere`` wheel into ``python``'s venv, if missing."""
    name, version, module = ELSEWHERE
    probe = subprocess.run(
        [str(python), "-c", f"import {module}"], capture_output=True, check=False
    )
    if probe.returncode == 0:
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.indexserver.wheels import DistSpec, build_wheel

    built = build_wheel(DistSpec(name, version, module=module, summary="Only in one kernel"))
    wheel = root / built.filename
    wheel.write_bytes(built.data)
    uv("pip", "install", "--quiet", "--python", str(python), str(wheel))


def write_kernelspec(kernels: Path, name: str, display_name: str, python: Path) -> None:
    spec_dir = kernels / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=default_root())
    args = parser.parse_args()
    root: Path = args.root
    kernels = root / "jupyter" / "kernels"
    kernels.mkdir(parents=True, exist_ok=True)

    python = make_venv(root / "py311", sys.executable, fresh=True)
    write_kernelspec(kernels, *PY311, python)
    print(f"{PY311[0]}: {python}", flush=True)

    py312 = find_python312()
    if py312 is None:
        shutil.rmtree(kernels / PY312[0], ignore_errors=True)
        print(f"{PY312[0]}: skipped, no Python 3.12 found", flush=True)
        return 0
    python = make_venv(root / "py312", py312, fresh=False)
    install_elsewhere(python, root)
    write_kernelspec(kernels, *PY312, python)
    print(f"{PY312[0]}: {python}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
