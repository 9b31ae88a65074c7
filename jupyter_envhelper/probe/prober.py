"""Run the probe in a target interpreter, and remember the answer while it holds.

A probe result is cached in memory and on disk, keyed by the interpreter path (and the
environment variables given for it). It stays valid while the stat signature of the
interpreter and of every directory that holds (or may hold) its distributions is
unchanged: a ``pip install`` or ``uninstall`` changes a directory's mtime and so
invalidates it. Checking costs a handful of ``stat`` calls.

The probe script is compiled once per interpreter into ``<cache>/bytecode`` and run as a
``.pyc`` afterwards: compiling ~1000 lines on every run would cost more than the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import process
from ..environment import SCHEMA, Environment
from ..errors import ProbeError
from ..paths import user_cache_dir
from . import early
from .early import cache_key, run_environment, source_hash
from .early import signature as _signature

PROBE_SCRIPT = early.PROBE_SCRIPT
_SCAN_LOCK = threading.Lock()  # scan_distributions shares a warnings list
DEFAULT_TIMEOUT = 60.0


def default_cache_dir() -> Path:
    """The per-user cache directory of jupyter-envhelper."""
    return user_cache_dir()


def _pth_changed(paths: Mapping[str, Any], since: float) -> bool:
    """Whether a ``.pth`` file in a site directory was written at or after ``since``."""
    dirs = {paths.get("purelib"), paths.get("platlib"), *(paths.get("distribution_dirs") or ())}
    for directory in filter(None, dirs):
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.name.endswith(".pth") and entry.stat().st_mtime >= since - 1:
                        return True
        except OSError:
            continue
    return False


@dataclass
class _Entry:
    signature: list[Any]
    probed_at: float
    doc: dict[str, Any]
    environment: Environment


class Prober:
    """Inspects interpreters through ``probe.py``, with a memory and a disk cache."""

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        accelerator_ttl: float | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.timeout = timeout
        self.accelerator_ttl = accelerator_ttl
        self._memory: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._inflight: dict[str, asyncio.Future[Environment]] = {}
        self._source_hash = source_hash()

    # ------------------------------------------------------------ public

    async def probe(
        self, python: str, env: Mapping[str, str] | None = None, *, refresh: bool = False
    ) -> Environment:
        """The Environment of ``python``; concurrent calls for one interpreter share a run."""
        key = self._key(python, env)
        if not refresh:
            cached = self._cached(key, python)
            if cached is not None:
                return cached
        running = self._inflight.get(key)
        if running is None:
            running = asyncio.ensure_future(
                asyncio.to_thread(self.probe_sync, python, env, refresh=refresh)
            )
            self._inflight[key] = running
            running.add_done_callback(lambda _f: self._inflight.pop(key, None))
        return await asyncio.shield(running)

    def probe_sync(
        self, python: str, env: Mapping[str, str] | None = None, *, refresh: bool = False
    ) -> Environment:
        key = self._key(python, env)
        if not refresh:
            cached = self._cached(key, python)
            if cached is not None:
                return cached
        with self._lock_for(key):
            if not refresh:  # another thread may have finished while we waited
                cached = self._cached(key, python)
                if cached is not None:
                    return cached
            doc = self._run_probe(python, env)
            environment = Environment.from_probe(doc)
            entry = _Entry(_signature(python, doc), time.time(), doc, environment)
            self._memory[key] = entry
            self._store(key, python, entry)
            return environment

    def rescan_sync(self, python: str, previous: Environment, *, since: float) -> Environment:
        """The environment after an installer changed it, read in this process.

        An install changes what is in the distribution directories and nothing else
        the probe reports (interpreter, markers, platform, paths, index configuration,
        driver). Reading those directories here with the probe's own code costs a few
        milliseconds; starting the interpreter costs ~30 ms, which is most of what a
        job would add to a bare ``uv pip install``. When a ``.pth`` file changed since
        ``since`` (it can add ``sys.path`` entries only the interpreter knows about),
        or the previous result was not a real probe, the full probe runs instead.
        """
        doc = previous.data
        paths = doc.get("paths") or {}
        if previous.synthetic_env or not paths.get("sys_path") or _pth_changed(paths, since):
            self.invalidate(python)
            return self.probe_sync(python, None, refresh=True)
        from .script import scan_distributions, torch_cuda  # stdlib only: safe here

        fresh = json.loads(json.dumps(doc))  # a deep copy of plain JSON data
        with _SCAN_LOCK:
            dists, dist_dirs, by_name, found = scan_distributions(fresh["paths"])
        fresh["distributions"] = dists
        fresh["paths"]["distribution_dirs"] = dist_dirs
        pip = by_name.get("pip")
        installers = fresh.setdefault("installers", {})
        installers["pip"] = (
            {"version": pip["version"], "location": pip["location"]} if pip else None
        )
        acc = fresh.get("accelerators")
        if isinstance(acc, dict):
            acc["cuda_wheels"] = [
                {"name": d["name"], "version": d["version"]}
                for key, d in sorted(by_name.items())
                if key.startswith("nvidia-")
            ]
            torch = by_name.get("torch")
            acc["torch"] = torch_cuda(torch) if torch is not None else None
        fresh["warnings"] = [w for w in doc.get("warnings") or [] if w.get("code") != "shadowed"]
        fresh["warnings"] += found
        environment = Environment.from_probe(fresh)
        self.invalidate(python)
        key = self._key(python, None)
        entry = _Entry(_signature(python, fresh), time.time(), fresh, environment)
        self._memory[key] = entry
        self._store(key, python, entry)
        return environment

    def invalidate(self, python: str | None = None) -> None:
        """Forget cached probes: of one interpreter, or all."""
        if python is None:
            self._memory.clear()
            for path in self._probe_dir().glob("*.json"):
                path.unlink(missing_ok=True)
            return
        # a job's check and another request may forget the same probe at once: the
        # keys are taken at once (``list``), and one already gone is no error
        prefix = os.path.abspath(python) + "\0"
        for key in [k for k in list(self._memory) if k.startswith(prefix)]:
            self._memory.pop(key, None)
            self._disk_path(key).unlink(missing_ok=True)

    # ------------------------------------------------------------ cache

    @staticmethod
    def _key(python: str, env: Mapping[str, str] | None) -> str:
        return cache_key(python, env)

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _probe_dir(self) -> Path:
        return self.cache_dir / "probes"

    def _disk_path(self, key: str) -> Path:
        return early.disk_path(self.cache_dir, key)

    def _fresh(self, entry: _Entry, python: str) -> bool:
        if (
            self.accelerator_ttl is not None
            and time.time() - entry.probed_at > self.accelerator_ttl
        ):
            return False
        return _signature(python, entry.doc) == entry.signature

    def _cached(self, key: str, python: str) -> Environment | None:
        entry = self._memory.get(key)
        if entry is None:
            entry = self._load(key)
            if entry is None:
                return None
            self._memory[key] = entry
        if self._fresh(entry, python):
            return entry.environment
        self._memory.pop(key, None)
        return None

    def _load(self, key: str) -> _Entry | None:
        try:
            raw = json.loads(self._disk_path(key).read_text(encoding="utf-8"))
            if raw.get("key") != key or raw["doc"].get("schema") != SCHEMA:
                return None
            doc = raw["doc"]
            return _Entry(
                raw["signature"], float(raw["probed_at"]), doc, Environment.from_probe(doc)
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _store(self, key: str, python: str, entry: _Entry) -> None:
        path = self._disk_path(key)
        payload = {
            "key": key,
            "python": python,
            "signature": entry.signature,
            "probed_at": entry.probed_at,
            "doc": entry.doc,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps(payload))  # one write: json.dump makes thousands
            os.replace(tmp, path)
        except OSError:
            pass  # a cache we cannot write is only slower

    # ------------------------------------------------------------ running the probe

    def _bytecode_path(self, python: str) -> Path | None:
        return early.bytecode_path(self.cache_dir, python, self._source_hash)

    def _run_probe(self, python: str, env: Mapping[str, str] | None) -> dict[str, Any]:
        if not os.path.exists(python):
            raise ProbeError(
                f"The Python interpreter {python} does not exist. The kernel may point to "
                "an environment that was moved or deleted: check the kernel's settings "
                "(its kernelspec) or recreate the environment."
            )
        if not os.access(python, os.X_OK) or os.path.isdir(python):
            raise ProbeError(f"{python} is not a program that can be run.")
        run_env = run_environment(env)
        # the same probe, started as the command line started (early.py), if it did
        started = early.take(python, run_env)
        if started is not None and started.ok:
            return self._parse(python, started)
        pyc = self._bytecode_path(python)
        if pyc is not None and pyc.exists():
            result = self._execute([python, str(pyc)], run_env)
            if result.ok:
                return self._parse(python, result)
            pyc.unlink(missing_ok=True)  # e.g. the interpreter changed its bytecode format
        argv = [python, str(PROBE_SCRIPT)]
        if pyc is not None:
            argv += ["--bytecode", str(pyc)]
        result = self._execute(argv, run_env)
        if result.timed_out:
            raise ProbeError(
                f"Inspecting {python} took longer than {self.timeout:g} s and was stopped. "
                "The machine may be very busy, or something in that environment hangs at "
                "start-up (a .pth file, a network drive).",
                detail=result.stderr_tail(),
            )
        if result.returncode != 0:
            message = f"{python} could not be inspected: it exited with code {result.returncode}."
            if "SyntaxError" in result.stderr:
                message += " jupyter-envhelper needs Python 3.8 or newer in the kernel."
            raise ProbeError(message, detail=result.stderr_tail())
        return self._parse(python, result)

    def _execute(self, argv: list[str], env: Mapping[str, str]) -> process.ProcessResult:
        try:
            return process.run(argv, env=env, timeout=self.timeout)
        except OSError as e:
            raise ProbeError(f"{argv[0]} could not be started: {e.strerror or e}.") from e

    @staticmethod
    def _parse(python: str, result: process.ProcessResult) -> dict[str, Any]:
        # A .pth file may print to stdout before we do: our report is the last JSON line.
        for line in reversed(result.stdout.splitlines()):
            if line.startswith("{"):
                try:
                    doc = json.loads(line)
                except ValueError:
                    break
                if isinstance(doc, dict) and doc.get("schema") == SCHEMA:
                    return doc
                raise ProbeError(
                    f"{python} answered with a report this version of jupyter-envhelper "
                    "does not understand (schema {doc.get('schema')!r}).",
                )
        raise ProbeError(
            f"{python} ran but did not print the expected report; something in that "
            "environment may write to the output at start-up.",
            detail=process.stderr_tail(result.stderr or result.stdout),
        )
