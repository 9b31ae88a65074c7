"""Which folders jupyter-envhelper created: a marker file in each, and nothing else.

A new environment gets ``<dir>/envhelper-environment.json`` the moment its venv
exists: its name, kernel name, interpreter, Python version, when, and the kernelspec
folder written for it. Listing and deleting only ever consider folders directly
under the environments folder that carry this marker with their own path in it, so
an environment someone made by hand (or moved here) is never listed or removed.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "envhelper-environment.json"
MARKER_KIND = "jupyter-envhelper environment"


@dataclass(frozen=True)
class ManagedEnvironment:
    """An environment this project created."""

    name: str
    path: str
    kernel_name: str
    display_name: str
    python: str  # the venv's interpreter
    base_python: str  # what it was made from
    python_version: str
    created: float
    kernelspec_dir: str | None
    job_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "kernel_name": self.kernel_name,
            "display_name": self.display_name,
            "python": self.python,
            "base_python": self.base_python,
            "python_version": self.python_version,
            "created": self.created,
            "kernelspec_dir": self.kernelspec_dir,
            "job_id": self.job_id,
        }


def write_marker(env: ManagedEnvironment) -> None:
    data = {"kind": MARKER_KIND, **env.to_json()}
    path = Path(env.path) / MARKER
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def read_marker(folder: str | os.PathLike[str]) -> ManagedEnvironment | None:
    """The marker of ``folder``, or None when it has none (or one for another folder)."""
    folder = Path(folder)
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("kind") != MARKER_KIND:
        return None
    try:
        recorded = os.path.realpath(str(data["path"]))
        if recorded != os.path.realpath(folder):
            return None  # copied or moved from elsewhere: not the folder we made
        return ManagedEnvironment(
            name=str(data["name"]),
            path=str(folder),
            kernel_name=str(data["kernel_name"]),
            display_name=str(data.get("display_name") or data["kernel_name"]),
            python=str(data["python"]),
            base_python=str(data.get("base_python") or ""),
            python_version=str(data.get("python_version") or ""),
            created=float(data.get("created") or 0.0),
            kernelspec_dir=str(data["kernelspec_dir"]) if data.get("kernelspec_dir") else None,
            job_id=int(data["job_id"]) if data.get("job_id") is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def list_managed(root: str | os.PathLike[str]) -> list[ManagedEnvironment]:
    """The environments under ``root`` that this project created, by name."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            marker = read_marker(entry.path)
            if marker is not None:
                found.append(marker)
    return found


def find_managed(root: str | os.PathLike[str], name: str) -> ManagedEnvironment | None:
    """The environment called ``name`` under ``root``, if this project created it."""
    folder = Path(root) / name
    if folder.is_symlink() or not folder.is_dir():
        return None
    return read_marker(folder)


def folder_size(path: str | os.PathLike[str]) -> int:
    """Bytes in ``path`` (not following symlinks: a venv links to its base Python)."""
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:
                continue
    return total


def now() -> float:
    return time.time()
