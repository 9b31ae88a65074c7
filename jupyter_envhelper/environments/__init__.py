"""New environments for new kernels: find interpreters, create venvs, register kernels.

Jupyter-free (no import from ``core/`` or the surfaces):

- ``interpreters``: the Pythons on this machine that could host a new environment
  (kernels' interpreters, ``python3.X`` on PATH, pyenv, conda, uv-managed), each with
  its version, implementation and where it was found; whether uv could download one.
- ``registry``: the marker file that says "jupyter-envhelper created this folder";
  only folders with it are listed or deleted.
- ``create``: ``uv venv --python <interpreter> <dir>``, the kernelspec
  (``kernel.json`` with the absolute interpreter path) and removing both again.
"""

from __future__ import annotations

from .create import (
    CreationError,
    create_venv,
    kernelspec_is_ours,
    remove_environment,
    remove_kernelspec,
    venv_python,
    write_kernelspec,
)
from .interpreters import (
    DOWNLOAD_HOST,
    DownloadCheck,
    Interpreter,
    check_downloads,
    discover,
    inspect_interpreter,
)
from .registry import MARKER, ManagedEnvironment, find_managed, list_managed, write_marker

__all__ = [
    "DOWNLOAD_HOST",
    "MARKER",
    "CreationError",
    "DownloadCheck",
    "Interpreter",
    "ManagedEnvironment",
    "check_downloads",
    "create_venv",
    "discover",
    "find_managed",
    "inspect_interpreter",
    "kernelspec_is_ours",
    "list_managed",
    "remove_environment",
    "remove_kernelspec",
    "venv_python",
    "write_kernelspec",
    "write_marker",
]
