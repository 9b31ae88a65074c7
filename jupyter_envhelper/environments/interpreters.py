"""The Pythons on this machine that could host a new environment.

``discover`` looks in five places, each by absolute path (never a bare name run from
a notebook folder): the kernels' interpreters (given by the caller), ``python3.X``
on PATH, pyenv's versions (``$PYENV_ROOT`` or ``~/.pyenv``), conda environments
(``~/.conda/environments.txt``, ``$CONDA_PREFIX``, the usual install folders) and
uv-managed Pythons (``uv python list --only-installed``). Every candidate is run once
(in parallel, with a short timeout) to learn its version and implementation; the
same interpreter found twice is one entry with several sources.

``check_downloads``: whether uv could download a managed Python (``uv python
install`` needs its download host); a short connect, never a hang.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .. import process

# uv downloads managed Pythons from GitHub releases unless a mirror is configured.
DOWNLOAD_HOST = "github.com"
MIRROR_VARIABLE = "UV_PYTHON_INSTALL_MIRROR"
_QUERY = (
    "import json, platform, sys; print(json.dumps({'version': platform.python_version(), "
    "'implementation': platform.python_implementation(), 'prefix': sys.prefix, "
    "'base_prefix': sys.base_prefix, 'executable': sys.executable}))"
)
SOURCES = ("kernel", "path", "pyenv", "conda", "uv")


@dataclass(frozen=True)
class Interpreter:
    """One Python: absolute ``path``, ``version`` (3.12.1), ``implementation``
    (CPython, PyPy), and where it was found (``sources``: kernel, path, pyenv, conda,
    uv), with the kernel names whose interpreter it is."""

    path: str
    version: str
    implementation: str
    sources: tuple[str, ...]
    kernels: tuple[str, ...] = ()
    is_venv: bool = False

    @property
    def minor(self) -> str:
        """``3.12``."""
        return ".".join(self.version.split(".")[:2])

    @property
    def version_key(self) -> tuple[int, ...]:
        out = []
        for part in self.version.split("."):
            digits = "".join(ch for ch in part if ch.isdigit())
            out.append(int(digits or 0))
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "version": self.version,
            "python_version": self.minor,
            "implementation": self.implementation,
            "sources": list(self.sources),
            "kernels": list(self.kernels),
            "is_venv": self.is_venv,
        }


@dataclass(frozen=True)
class DownloadCheck:
    """Whether uv can download a managed Python from here, and why not."""

    reachable: bool
    host: str
    message: str
    versions: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "reachable": self.reachable,
            "host": self.host,
            "message": self.message,
            "versions": list(self.versions),
        }


def inspect_interpreter(path: str, *, timeout: float = 10.0) -> Interpreter | None:
    """Run ``path`` once to learn what it is; None when it is no working Python."""
    if not os.path.isabs(path) or not os.access(path, os.X_OK) or os.path.isdir(path):
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        result = process.run([path, "-I", "-c", _QUERY], env=env, timeout=timeout)
    except OSError:
        return None
    if not result.ok:
        return None
    try:
        facts = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    executable = str(facts.get("executable") or "")
    if not os.path.isabs(executable) or not os.path.isfile(executable):
        executable = path  # a shim (pyenv's) answers with the Python it runs: that one
    return Interpreter(
        path=executable,
        version=str(facts["version"]),
        implementation=str(facts["implementation"]),
        sources=(),
        is_venv=facts["prefix"] != facts["base_prefix"],
    )


def _on_path(path_variable: str | None) -> list[str]:
    found = []
    for directory in (path_variable or "").split(os.pathsep):
        if not directory or not os.path.isabs(directory):
            continue  # a relative PATH entry would be the notebook folder
        for candidate in sorted(glob.glob(os.path.join(directory, "python3.[0-9]*"))):
            name = os.path.basename(candidate)
            if name.replace("python3.", "", 1).isdigit():
                found.append(candidate)
    return found


def _pyenv(home: str, environ: Mapping[str, str]) -> list[str]:
    root = environ.get("PYENV_ROOT") or os.path.join(home, ".pyenv")
    return sorted(glob.glob(os.path.join(root, "versions", "*", "bin", "python")))


def _conda(home: str, environ: Mapping[str, str]) -> list[str]:
    prefixes: list[str] = []
    listing = os.path.join(home, ".conda", "environments.txt")
    try:
        with open(listing, encoding="utf-8") as handle:
            prefixes.extend(line.strip() for line in handle if line.strip())
    except OSError:
        pass
    if environ.get("CONDA_PREFIX"):
        prefixes.append(environ["CONDA_PREFIX"])
    for base in ("miniconda3", "anaconda3", "miniforge3", "mambaforge"):
        root = os.path.join(home, base)
        if os.path.isdir(root):
            prefixes.append(root)
            prefixes.extend(sorted(glob.glob(os.path.join(root, "envs", "*"))))
    return [os.path.join(p, "bin", "python") for p in prefixes if os.path.isabs(p)]


def uv_installed(uv_path: str | None, *, timeout: float = 10.0) -> list[str]:
    """The uv-managed interpreters (what ``uv python list --only-installed`` shows):
    ``bin/python3`` of each folder in ``uv python dir``. Read from disk, because the
    listing itself inspects every Python on PATH first (seconds with pyenv's shims)."""
    if not uv_path:
        return []
    try:
        result = process.run([uv_path, "python", "dir", "--no-config"], timeout=timeout)
    except OSError:
        return []
    root = result.stdout.strip().splitlines()[-1] if result.ok and result.stdout.strip() else ""
    if not os.path.isabs(root):
        return []
    return sorted(glob.glob(os.path.join(root, "*", "bin", "python3")))


def discover(
    kernel_interpreters: Mapping[str, str] | None = None,
    *,
    uv_path: str | None = None,
    environ: Mapping[str, str] | None = None,
    home: str | None = None,
    timeout: float = 10.0,
) -> list[Interpreter]:
    """Every working Python found, newest version first.

    ``kernel_interpreters``: kernel name -> its interpreter (the caller knows the
    kernels). ``environ``/``home``: where to look (default: this process's)."""
    environ = os.environ if environ is None else environ
    home = home or os.path.expanduser("~")
    candidates: dict[str, set[str]] = {}
    kernels_of: dict[str, list[str]] = {}

    def add(paths: Iterable[str], source: str) -> None:
        for path in paths:
            if os.path.isabs(path):
                candidates.setdefault(path, set()).add(source)

    for kernel, path in sorted((kernel_interpreters or {}).items()):
        add([path], "kernel")
        kernels_of.setdefault(path, []).append(kernel)
    add(_on_path(environ.get("PATH")), "path")
    add(_pyenv(home, environ), "pyenv")
    add(_conda(home, environ), "conda")
    add(uv_installed(uv_path, timeout=timeout), "uv")
    paths = sorted(candidates)
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(paths)))) as pool:
        inspected = list(pool.map(lambda p: inspect_interpreter(p, timeout=timeout), paths))
    merged: dict[str, Interpreter] = {}
    for found_at, found in zip(paths, inspected):
        if found is None:
            continue
        path = found.path
        # one entry per real file and environment: a symlink python3.12 -> python is one
        try:
            key = os.path.realpath(path) + (
                "|venv:" + os.path.dirname(path) if found.is_venv else ""
            )
        except OSError:
            key = path
        sources = tuple(s for s in SOURCES if s in candidates[found_at])
        kernels = tuple(kernels_of.get(found_at, ()))
        if key in merged:
            old = merged[key]
            sources = tuple(s for s in SOURCES if s in old.sources or s in sources)
            kernels = tuple(sorted({*old.kernels, *kernels}))
            path = min(old.path, path, key=len)
        merged[key] = Interpreter(
            path, found.version, found.implementation, sources, kernels, found.is_venv
        )
    return sorted(
        merged.values(),
        key=lambda i: (tuple(-v for v in i.version_key), i.is_venv, i.path),
    )


def check_downloads(
    uv_path: str | None,
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float = 3.0,
) -> DownloadCheck:
    """Can ``uv python install`` download here? The versions and the download host
    come from uv itself (``uv python list``, offline; ``$UV_PYTHON_INSTALL_MIRROR``
    moves the host), then one TCP connect to that host, at most ``timeout`` seconds."""
    environ = os.environ if environ is None else environ
    if not uv_path:
        return DownloadCheck(False, DOWNLOAD_HOST, "uv is not installed beside the server.")
    versions, url, listed = _offered(uv_path)
    mirror = environ.get(MIRROR_VARIABLE) or ""
    parts = urlsplit(mirror or url or f"https://{DOWNLOAD_HOST}/")
    if parts.scheme == "file":
        return DownloadCheck(True, "file", f"Pythons come from {mirror}.", versions)
    host = parts.hostname or DOWNLOAD_HOST
    port = parts.port or (80 if parts.scheme == "http" else 443)
    if not listed:
        return DownloadCheck(
            False, host, "uv did not list the Pythons it can download (it failed or took too long)."
        )
    if not versions:
        return DownloadCheck(False, host, "This uv offers no Python downloads for this machine.")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, socket.timeout):
            reason = f"no answer within {timeout:g} s"
        return DownloadCheck(
            False,
            host,
            f"uv cannot download a Python here: {host} is unreachable ({reason}). Install "
            f"the Python you need another way (pyenv, conda, your system's packages), or "
            f"set {MIRROR_VARIABLE} to a mirror this machine can reach.",
        )
    return DownloadCheck(True, host, f"uv can download Pythons from {host}.", versions)


def _offered(uv_path: str, timeout: float = 10.0) -> tuple[tuple[str, ...], str | None, bool]:
    """The CPython versions (3.X, final releases) uv knows how to download, newest
    first, the URL of one download (whose host is the one to reach), and whether uv
    answered at all. A uv binary always offers the same: an answer is kept per binary
    (the listing takes seconds); a listing that failed or ran out of time is not, so
    the next check asks again instead of saying "no downloads" for good."""
    try:
        stamp = os.stat(uv_path).st_mtime_ns
    except OSError:
        return (), None, False
    key = (uv_path, stamp)
    with _OFFERED_LOCK:
        known = _OFFERED.get(key)
    if known is not None:
        return (*known, True)
    argv = [uv_path, "python", "list", "--output-format", "json", "--no-config"]
    argv += ["--python-preference", "only-managed"]
    try:
        result = process.run(argv, timeout=timeout)
        rows = json.loads(result.stdout or "[]") if result.ok else None
    except (OSError, ValueError):
        rows = None
    if rows is None:
        return (), None, False
    answer = _downloads(rows)
    with _OFFERED_LOCK:
        _OFFERED[key] = answer
    return (*answer, True)


_OFFERED: dict[tuple[str, int], tuple[tuple[str, ...], str | None]] = {}
_OFFERED_LOCK = threading.Lock()


def _downloads(rows: object) -> tuple[tuple[str, ...], str | None]:
    """The versions and one download URL in ``uv python list``'s JSON rows."""
    versions: set[tuple[int, int]] = set()
    url = None
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or row.get("implementation") != "cpython":
            continue
        if row.get("path") or row.get("variant") not in (None, "default"):
            continue
        text = str(row.get("version") or "")
        bits = text.split(".")
        if len(bits) == 3 and all(b.isdigit() for b in bits):
            versions.add((int(bits[0]), int(bits[1])))
            url = url or (row.get("url") if isinstance(row.get("url"), str) else None)
    return tuple(f"{a}.{b}" for a, b in sorted(versions, reverse=True)), url


def newest_first(interpreters: Sequence[Interpreter]) -> list[Interpreter]:
    """One interpreter per ``3.X`` (the newest patch, a base Python before a venv's),
    newest minor first: the versions a new environment could be made with."""
    chosen: dict[str, Interpreter] = {}
    for item in interpreters:  # already newest first, base Pythons before venvs
        if item.implementation != "CPython":
            continue
        chosen.setdefault(item.minor, item)
    return sorted(chosen.values(), key=lambda i: tuple(-v for v in i.version_key))


def this_python() -> str:
    """This process's interpreter (what the server runs on)."""
    return sys.executable if os.path.isabs(sys.executable) else shutil.which("python3") or ""
