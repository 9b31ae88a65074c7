"""The user's kernelspecs for a process that has no Jupyter server: made when needed.

Outside a server (the command line, the magic) the kernelspecs come from a
``jupyter_client`` ``KernelSpecManager``; importing ``jupyter_client`` loads zmq, and
its spec directories load IPython: ~0.2 s of a command's start. Most commands about
an interpreter (``plan --python PATH``) only ask "does a kernelspec start this
interpreter?", and the answer is almost always no. ``LazyKernelSpecs`` makes the
manager on first use, and ``specs_on_disk`` reads the same kernel.json files the
manager would (without it), so a caller can tell "no kernelspec can start it" first.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any


class LazyKernelSpecs:
    """A ``jupyter_client.kernelspec.KernelSpecManager`` made on first use; every
    attribute is the manager's."""

    def __init__(self) -> None:
        self._manager: Any = None

    @property
    def loaded(self) -> bool:
        return self._manager is not None

    @property
    def manager(self) -> Any:
        if self._manager is None:
            from jupyter_client.kernelspec import KernelSpecManager

            self._manager = KernelSpecManager()
        return self._manager

    def get_all_specs(self) -> Any:
        return self.manager.get_all_specs()

    def get_kernel_spec(self, name: str) -> Any:
        return self.manager.get_kernel_spec(name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.manager, name)


KEPT_SPEC_S = 5.0  # seconds a kernelspec read from disk is used before it is read again


def _spec_file_signature(spec: Any) -> tuple[int, int, int] | None:
    try:
        st = os.stat(os.path.join(str(getattr(spec, "resource_dir", "") or ""), "kernel.json"))
    except (OSError, ValueError):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class KeptKernelSpecs:
    """A kernelspec manager whose ``get_kernel_spec`` answers are kept: every request
    about a kernel reads its spec, and a ``jupyter_client`` manager looks in each kernel
    directory and builds a traitlets object each time (about a millisecond of Python,
    which holds the GIL the server's event loop needs, even in a worker thread).

    A kept spec is given for up to ``ttl`` seconds while its ``kernel.json`` has the
    same ``stat`` (rewritten, replaced or removed: read again at once); a spec of the
    same name added to a directory that comes first is seen after ``ttl``. Every other
    attribute (``get_all_specs``, ``user_kernel_dir``, ...) is the manager's, asked
    each time. For a synchronous manager (a gateway's is asynchronous, and the core
    keeps its answers itself)."""

    def __init__(self, manager: Any, ttl: float = KEPT_SPEC_S) -> None:
        self.manager = manager
        self.ttl = ttl
        self._kept: dict[str, tuple[float, Any, tuple[int, int, int] | None]] = {}

    def get_kernel_spec(self, kernel_name: str) -> Any:
        found = self._kept.get(kernel_name)
        now = time.monotonic()
        fresh = found is not None and now - found[0] < self.ttl
        if found is not None and fresh and _spec_file_signature(found[1]) == found[2]:
            return found[1]
        spec = self.manager.get_kernel_spec(kernel_name)
        self._kept[kernel_name] = (now, spec, _spec_file_signature(spec))
        return spec

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "manager":
            raise AttributeError(name)
        return getattr(self.manager, name)


class Unreadable(Exception):
    """A kernelspec directory that only the real manager can judge."""


def _kernel_dirs() -> list[str]:
    """Every directory a default ``KernelSpecManager`` lists specs from, and the other
    places IPython may keep its own directory (more is harmless: a spec found here is
    only a reason to ask the manager)."""
    from jupyter_core.paths import jupyter_path

    dirs = list(jupyter_path("kernels"))
    home = os.path.expanduser("~")
    ipython_dirs = [os.environ.get("IPYTHONDIR"), os.path.join(home, ".ipython")]
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    ipython_dirs.append(os.path.join(xdg, "ipython"))
    for ipython_dir in ipython_dirs:
        if ipython_dir:
            dirs.append(os.path.join(os.path.expanduser(ipython_dir), "kernels"))
    return dirs


def specs_on_disk() -> Iterator[tuple[str, Any]]:
    """(name, spec) for every kernel.json in those directories (shadowed ones too) and
    for the native ``python3`` kernel when ipykernel is importable here; a spec is
    shaped like jupyter_client's (argv, env, language, display_name, resource_dir).
    Raises ``Unreadable`` for a kernel.json that cannot be read as one."""
    for directory in _kernel_dirs():
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            kernel_file = os.path.join(path, "kernel.json")
            if not os.path.isfile(kernel_file):
                continue
            try:
                with open(kernel_file, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as exc:
                raise Unreadable(kernel_file) from exc
            if not isinstance(data, dict):
                raise Unreadable(kernel_file)
            yield (
                name.lower(),
                SimpleNamespace(
                    argv=data.get("argv") or [],
                    env=data.get("env") or {},
                    language=data.get("language") or "",
                    display_name=data.get("display_name") or name,
                    resource_dir=path,
                ),
            )
    if importlib.util.find_spec("ipykernel") is not None:
        # what ipykernel's get_kernel_dict says for the native kernel: this interpreter
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        yield (
            "python3",
            SimpleNamespace(
                argv=argv, env={}, language="python", display_name="Python 3", resource_dir=""
            ),
        )
