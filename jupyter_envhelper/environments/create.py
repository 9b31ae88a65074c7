"""Make a venv, register its kernel, and take both away again.

``create_venv`` runs ``<abs uv> venv --python <interpreter> <dir>`` (uv found by
absolute path, never through PATH; ``--no-config`` so no ``uv.toml`` near the
working directory changes it). ``write_kernelspec`` writes ``kernel.json`` with the
venv's absolute interpreter path and a ``metadata.envhelper`` entry naming the
environment, so ``kernelspec_is_ours`` can tell a kernelspec we wrote from one
somebody else put under the same name. ``remove_environment`` deletes a folder only
when it carries our marker (``registry``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import process
from ..errors import BadRequest, EnvHelperError
from .registry import MARKER, read_marker

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
KERNEL_FILE = "kernel.json"
RESERVED = frozenset({".", "..", "plan"})  # "plan": the REST path environments/plan


class CreationError(EnvHelperError):
    """A step of making an environment failed (what was made is removed by the caller)."""

    status = 500
    reason = "creation-failed"


def check_name(name: object) -> str:
    """A kernel and folder name: lowercase letters, digits, ``.``, ``_``, ``-``."""
    if not isinstance(name, str) or not NAME.match(name) or name in RESERVED:
        shown = str(name)[:40]
        raise BadRequest(
            f"{shown!r} cannot name a kernel: use 1 to 64 lowercase letters, digits, '.', "
            "'_' or '-', starting with a letter or digit (like py312-data)."
        )
    return name


def venv_python(folder: str | os.PathLike[str]) -> str:
    sub = ("Scripts", "python.exe") if os.name == "nt" else ("bin", "python")
    return os.path.join(os.fspath(folder), *sub)


def _uv_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for key in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME", "UV_PYTHON"):
        env.pop(key, None)
    env["UV_NO_PROGRESS"] = "1"
    return env


def create_venv(
    uv_path: str,
    interpreter: str,
    folder: str | os.PathLike[str],
    *,
    timeout: float = 120.0,
    cancel: threading.Event | None = None,
    allow_download: bool = False,
    cwd: str | None = None,
) -> str:
    """``uv venv`` at ``folder`` (which must not exist) on ``interpreter`` (a path,
    or a version like ``3.13`` that uv may download when ``allow_download``); the new
    interpreter's path. CreationError with uv's own words when it fails."""
    if not os.path.isabs(uv_path):
        raise CreationError("uv must be given by absolute path.")
    target = os.fspath(folder)
    if os.path.lexists(target):
        raise BadRequest(f"{target} already exists; choose another name.")
    argv = [uv_path, "venv", "--no-config", "--python", interpreter]
    argv += ["--python-preference", "managed" if allow_download else "system"]
    if not allow_download:
        argv.append("--no-python-downloads")
    argv += ["--", target]
    try:
        result = process.run(argv, env=_uv_env(), timeout=timeout, cancel=cancel, cwd=cwd)
    except OSError as exc:
        raise CreationError(f"uv could not be started: {exc.strerror or exc}.") from exc
    if not result.ok:
        why = (
            "it was cancelled"
            if result.cancelled
            else (f"it took longer than {timeout:g} s" if result.timed_out else "it failed")
        )
        raise CreationError(
            f"Creating the environment with {interpreter} did not work: {why}.",
            detail=result.stderr_tail(lines=10) or None,
        )
    python = venv_python(target)
    if not os.path.exists(python):
        raise CreationError(f"uv made {target} but it has no {python}.")
    return python


def write_kernelspec(
    kernels_dir: str | os.PathLike[str],
    name: str,
    display_name: str,
    python: str,
    environment: str,
) -> str:
    """``<kernels_dir>/<name>/kernel.json`` starting ipykernel with ``python`` (an
    absolute path); the folder. Refuses when the folder already exists."""
    check_name(name)
    if not os.path.isabs(python):
        raise BadRequest("A kernelspec needs the interpreter's absolute path.")
    folder = Path(kernels_dir) / name
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir()
    except FileExistsError as exc:
        raise BadRequest(f"A kernel named {name!r} already exists ({folder}).") from exc
    spec: dict[str, Any] = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        # not the server's PYTHONPATH: another Python's stdlib would be shadowed
        "env": {"PYTHONPATH": ""},
        "metadata": {
            "debugger": True,
            "envhelper": {"environment": os.path.realpath(environment), "python": python},
        },
    }
    (folder / KERNEL_FILE).write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return str(folder)


def kernelspec_is_ours(folder: str | os.PathLike[str], environment: str) -> bool:
    """``folder`` holds a kernel.json we wrote for ``environment``."""
    try:
        spec = json.loads((Path(folder) / KERNEL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    meta = (spec.get("metadata") or {}).get("envhelper") if isinstance(spec, dict) else None
    if not isinstance(meta, dict):
        return False
    return os.path.realpath(str(meta.get("environment"))) == os.path.realpath(environment)


def remove_kernelspec(folder: str | os.PathLike[str], environment: str) -> bool:
    """Delete ``folder`` when it is a kernelspec we wrote for ``environment``; True when
    removed. Any other file in it (a logo someone added) goes with it."""
    if not kernelspec_is_ours(folder, environment):
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return not os.path.exists(folder)


def remove_environment(folder: str | os.PathLike[str]) -> bool:
    """Delete an environment folder that carries our marker (its own path in it);
    True when removed. A folder without it is left alone."""
    if Path(folder).is_symlink() or read_marker(folder) is None:
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return not os.path.exists(folder)


def discard_new(folder: str | os.PathLike[str]) -> None:
    """Remove a folder this process just made (before its marker was written): only
    when it looks like a fresh venv (``pyvenv.cfg``) and holds no marker of another."""
    path = Path(folder)
    if path.is_symlink() or not path.is_dir():
        return
    if (path / "pyvenv.cfg").exists() or not any(path.iterdir()) or (path / MARKER).exists():
        shutil.rmtree(path, ignore_errors=True)
