"""Real wheels (downloaded once, kept in a cache) served by the test index, and a
fault that fails only downloads.

A new environment's kernel needs the real ``ipykernel`` and its dependencies: a
generated stand-in cannot start a kernel. ``wheelhouse(python)`` keeps them under
``~/.cache/jupyter-envhelper-tests/wheelhouse-<tag>`` (``ENVHELPER_TEST_WHEELHOUSE``
moves it), fetched the first time with that Python's ``pip download`` from the
default index (PyPI), like the browser tests' kernels get their ipykernel; None when
that is impossible (offline, no pip). ``add_wheels(server, paths)`` serves them
from an ``IndexServer`` next to its generated dists, with PEP 658 ``.metadata``.

``DownloadFaultServer``: an ``IndexServer`` whose ``fail_downloads(project)`` makes
the files of that project answer an HTTP status (503) while its page and its
``.metadata`` stay fine: a plan works, the install that follows fails.
"""

from __future__ import annotations

import email.parser
import os
import subprocess
import threading
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .server import IndexServer, _Handler, _Server, normalize
from .wheels import BuiltFile, DistSpec

KERNEL_PACKAGES = ("ipykernel",)


def cache_root() -> Path:
    env = os.environ.get("ENVHELPER_TEST_WHEELHOUSE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "jupyter-envhelper-tests"


def wheelhouse(python: str, tag: str, packages: Iterable[str] = KERNEL_PACKAGES) -> Path | None:
    """A folder of wheels of ``packages`` and their dependencies for ``python``."""
    folder = cache_root() / f"wheelhouse-{tag}"
    wanted = sorted(normalize(p) for p in packages)
    # Written only after a download finished: a folder that holds ipykernel but not
    # all of its dependencies (an interrupted download) is filled in again, instead
    # of serving a page with no files for one of them.
    complete = folder / f".complete-{'-'.join(wanted)}"
    if complete.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    argv = [python, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", str(folder)]
    try:
        done = subprocess.run(
            [*argv, *packages], env=env, capture_output=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    complete.touch()
    return folder


def _metadata(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name)


def add_wheels(server: IndexServer, paths: Iterable[Path]) -> list[str]:
    """Serve the wheel files ``paths`` from ``server``; their project names."""
    added = []
    for path in sorted(paths):
        metadata = _metadata(path)
        headers = email.parser.BytesParser().parsebytes(metadata, headersonly=True)
        spec = DistSpec(
            str(headers["Name"]),
            str(headers["Version"]),
            requires_python=headers.get("Requires-Python") or None,
        )
        built = BuiltFile(spec=spec, filename=path.name, data=path.read_bytes(), metadata=metadata)
        key = normalize(spec.name)
        with server._lock:
            server.files[built.filename] = built
            server.projects.setdefault(key, []).append(built)
            server.display_names.setdefault(key, spec.name)
        added.append(key)
    return added


class _DownloadFaultHandler(_Handler):
    index: DownloadFaultServer

    def _serve_file(self, path: str, filename: str, head: bool, fault: Any) -> None:
        built = self.index.files.get(filename)
        status = self.index.failing_downloads.get(normalize(built.spec.name)) if built else None
        if status is not None and not filename.endswith(".metadata"):
            with self.index._lock:
                self.index.failed_downloads += 1
            self._send(path, status, b"unavailable (test fault)", "text/plain", head=head)
            return
        super()._serve_file(path, filename, head, fault)


class DownloadFaultServer(IndexServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failing_downloads: dict[str, int] = {}
        self.failed_downloads = 0

    def fail_downloads(self, project: str, status: int = 503) -> None:
        with self._lock:
            self.failing_downloads[normalize(project)] = status

    def start(self, port: int = 0) -> IndexServer:
        handler = type("Handler", (_DownloadFaultHandler,), {"index": self})
        httpd = _Server(("127.0.0.1", port), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self
