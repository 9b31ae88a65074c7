"""Bulk answers fetched by a helper process: their bytes never pass this process's GIL.

A command line's cold plan is CPU-bound on one thread (reading pages, resolving),
while worker threads read the HTTP answers. Each TLS record (16 KB) a worker reads
releases the GIL and must take it back from the busy thread: a forced switch every
5 ms interval, for every record. PyPI's JSON API documents, read for their
vulnerability records, are more than half the bytes of a cold plan (25 of 45 MB for
``jupyterlab``: whole-project documents, since per-release ones are not offered
everywhere) and only their ``info`` and ``vulnerabilities`` are kept (a few KB each).
Read in this process, they made that plan 0.3-0.5 s slower; read by another
process, on the other core, they cost it nothing measurable (see the note of #18).

``BulkReader`` starts ``python -m jupyter_envhelper.index.bulk`` on first use (or
takes the spare the command line started as it began, ``spawn_spare``: started then,
the helper's own start-up, ~0.1 s, is not on the way to a small plan's end) and
hands it requests; each answer comes back already trimmed (``keep``). It is used only
where the fetcher would send the request as is (no proxy, no credentials, no cookies,
this process's own trust settings; see ``Fetcher.get_page``); anything that goes
wrong with the helper (it does not start, dies, cannot connect) makes the caller
fetch the answer itself, so errors read exactly as without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# the helper is this package's module, wherever this package was imported from
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)
_BOOT = (
    "import runpy,sys;sys.path.insert(0,sys.argv.pop(1));"
    "runpy.run_module('jupyter_envhelper.index.bulk',run_name='__main__',alter_sys=True)"
)
HEAD_LIMIT = 1 << 20  # bytes of one answer's head line (its headers)
START_TIMEOUT = 10.0


@dataclass
class BulkAnswer:
    status: int
    url: str
    headers: dict[str, str]
    body: bytes
    size: int  # bytes of the body as the index sent it (decoded)
    kept: bool  # ``body`` is what ``keep`` made of it


@dataclass
class BulkError:
    kind: str  # "timeout", "connect", "other", or "helper" (the helper is gone)
    message: str


def _argv(ca: tuple[str, str], options: list[str]) -> list[str]:
    kind, path = ca
    return [sys.executable, "-c", _BOOT, _PACKAGE_ROOT, f"--{kind}", path, *options]


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


# The spare: a helper started before any event loop (``spawn_spare``), for the first
# BulkReader of the process to take; at most one, and taken at most once.
_spare: list[subprocess.Popen[bytes]] = []
_spare_lock = threading.Lock()


def spawn_spare() -> bool:
    """Start a helper now, with this process's CA settings and default options, for
    the first ``BulkReader`` to take (which tells it its settings, as it tells one it
    starts itself). For a command that
    will read JSON API documents (a plan) and only then: one nobody takes exits with
    this process (its stdin closes). True when one was started; never raises. Not on
    Windows, whose event loop cannot take over the pipes of a process started so."""
    if os.name == "nt":
        return False
    with _spare_lock:
        if _spare:
            return False
        try:
            made = subprocess.Popen(
                _argv(ca_location(), []),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
                env=_environment(),
            )
        except (OSError, ValueError):
            return False
        _spare.append(made)
        return True


def _take_spare() -> subprocess.Popen[bytes] | None:
    with _spare_lock:
        found = _spare.pop() if _spare else None
    if found is not None and found.poll() is not None:
        return None  # it has ended already: a new one is started
    return found


class _PipeWriter(asyncio.Protocol):
    """What ``get`` writes a spare's stdin through: ``write``, and ``drain``, which
    raises ``ConnectionResetError`` once the pipe is closed (lines are small: no flow
    control is needed)."""

    def __init__(self) -> None:
        self.transport: asyncio.WriteTransport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True

    def write(self, data: bytes) -> None:
        if self.lost or self.transport is None:
            raise ConnectionResetError("the helper's stdin is closed")
        self.transport.write(data)

    async def drain(self) -> None:
        if self.lost:
            raise ConnectionResetError("the helper's stdin is closed")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Adopted:
    """A spare helper (``subprocess.Popen``) seen as ``asyncio.subprocess.Process``
    is by ``BulkReader``: ``stdin``, ``stdout``, ``returncode``, ``kill``, ``wait``."""

    def __init__(
        self, popen: subprocess.Popen[bytes], stdin: _PipeWriter, stdout: asyncio.StreamReader
    ) -> None:
        self.popen = popen
        self.stdin = stdin
        self.stdout = stdout

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def kill(self) -> None:
        self.popen.kill()

    async def wait(self) -> int:
        while self.popen.poll() is None:  # it exits as its stdin closes: soon
            await asyncio.sleep(0.005)
        return self.popen.returncode


async def _adopt(popen: subprocess.Popen[bytes]) -> _Adopted:
    loop = asyncio.get_running_loop()
    assert popen.stdin is not None and popen.stdout is not None
    reader = asyncio.StreamReader(limit=HEAD_LIMIT, loop=loop)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), popen.stdout)
    _, writer = await loop.connect_write_pipe(_PipeWriter, popen.stdin)
    return _Adopted(popen, writer, reader)


@dataclass
class _Process:
    proc: Any  # asyncio.subprocess.Process, or a spare taken (_Adopted)
    reader: asyncio.Task[None] | None = None
    pending: dict[int, asyncio.Future[BulkAnswer | BulkError]] = field(default_factory=dict)
    lost: bool = False  # it has gone: no answer will come for a request sent now


class BulkReader:
    """One helper process per reader, started by the first ``get``."""

    def __init__(
        self,
        ca: tuple[str, str],
        *,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        threads: int = 8,
        user_agent: str = "jupyter-envhelper",
    ) -> None:
        kind, path = ca
        self.argv = _argv(ca, ["--threads", str(threads)])
        # told in the first line, to a helper started here or to a spare alike
        self.settings: dict[str, Any] = {
            kind: path,
            "timeout": timeout,
            "connect_timeout": connect_timeout,
            "user_agent": user_agent,
        }
        self.broken = False  # the helper could not be started, or died: not tried again
        self._ids = itertools.count(1)
        self._process: _Process | None = None
        self._starting: asyncio.Future[_Process | None] | None = None

    async def get(
        self, url: str, headers: Mapping[str, str], keep: str | None
    ) -> BulkAnswer | BulkError:
        """The answer for ``url`` (a GET with ``headers``, redirects followed)."""
        running = await self._running()
        if running is None:
            return BulkError("helper", "the helper process is not running")
        if running.lost:  # it ended while this caller waited for it to start
            return BulkError("helper", "the helper process has gone")
        ident = next(self._ids)
        future: asyncio.Future[BulkAnswer | BulkError] = asyncio.get_running_loop().create_future()
        running.pending[ident] = future
        line = json.dumps({"id": ident, "url": url, "headers": dict(headers), "keep": keep})
        try:
            assert running.proc.stdin is not None
            running.proc.stdin.write(line.encode() + b"\n")
            await running.proc.stdin.drain()
            return await asyncio.shield(future)
        except (ConnectionError, RuntimeError) as exc:
            self._lost(running, f"{type(exc).__name__}: {exc}")
            return BulkError("helper", "the helper process has gone")
        finally:
            running.pending.pop(ident, None)

    async def _running(self) -> _Process | None:
        if self._process is not None:
            return self._process
        if self.broken:
            return None
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        return await asyncio.shield(self._starting)

    async def _start(self) -> _Process | None:
        proc: Any = None
        spare = _take_spare()
        if spare is not None:
            try:
                proc = await _adopt(spare)
            except (OSError, ValueError) as exc:
                log.info("The spare bulk helper could not be taken (%s)", exc)
                with contextlib.suppress(OSError):
                    spare.kill()
        if proc is None:
            try:
                proc = await asyncio.wait_for(
                    asyncio.create_subprocess_exec(
                        *self.argv,
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=asyncio.subprocess.DEVNULL,
                        limit=HEAD_LIMIT,
                        env=_environment(),
                    ),
                    START_TIMEOUT,
                )
            except (OSError, asyncio.TimeoutError) as exc:
                log.info("The bulk helper did not start (%s): answers are read here", exc)
                self.broken = True
                return None
        running = _Process(proc)
        running.reader = asyncio.ensure_future(self._read(running))
        self._process = running
        # before any request (a small line: no drain; a closed pipe shows at the first)
        with contextlib.suppress(ConnectionError, RuntimeError):
            proc.stdin.write(json.dumps({"settings": self.settings}).encode() + b"\n")
        return running

    async def _read(self, running: _Process) -> None:
        assert running.proc.stdout is not None
        out = running.proc.stdout
        why = "it ended"
        try:
            while True:
                line = await out.readline()
                if not line:
                    break
                head = json.loads(line)
                length = int(head.get("length") or 0)
                body = await out.readexactly(length) if length else b""
                future = running.pending.get(int(head.get("id") or 0))
                if future is None or future.done():
                    continue
                if "error" in head:
                    future.set_result(BulkError(str(head["error"]), str(head.get("message"))))
                else:
                    future.set_result(
                        BulkAnswer(
                            status=int(head["status"]),
                            url=str(head["url"]),
                            headers={str(k): str(v) for k, v in dict(head["headers"]).items()},
                            body=body,
                            size=int(head.get("size") or len(body)),
                            kept=bool(head.get("kept")),
                        )
                    )
        except (ValueError, KeyError, TypeError, asyncio.IncompleteReadError) as exc:
            why = f"it sent what is not an answer ({type(exc).__name__})"
        except asyncio.CancelledError:
            why = "closed"
            raise
        finally:
            self._lost(running, why)

    def _lost(self, running: _Process, why: str) -> None:
        """The helper is no use any more: every waiting caller reads its answer itself."""
        running.lost = True
        if self._process is running:
            self._process = None
            self.broken = True
            if why != "closed":
                log.info("The bulk helper stopped (%s): answers are read here", why)
        for future in running.pending.values():
            if not future.done():
                future.set_result(BulkError("helper", f"the helper process stopped: {why}"))
        if running.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                running.proc.kill()

    async def aclose(self) -> None:
        running, self._process = self._process, None
        self._starting = None
        if running is None:
            return
        if running.proc.stdin is not None:
            running.proc.stdin.close()  # the helper exits at once (see bulk.py)
        if running.reader is not None:
            running.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running.reader
        with contextlib.suppress(asyncio.TimeoutError, ProcessLookupError):
            await asyncio.wait_for(running.proc.wait(), 2.0)
        if running.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                running.proc.kill()
            await running.proc.wait()


def ca_location(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Where the CA certificates this process trusts for an index are, as the helper
    takes them (``("cafile" | "capath", path)``): the same choice as
    ``config.ssl_context_from_env`` (PIP_CERT, SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
    first that exists), else httpx's (SSL_CERT_FILE, SSL_CERT_DIR, else certifi's)."""
    from .config import CA_BUNDLE_VARIABLES

    env = os.environ if env is None else env
    for variable in CA_BUNDLE_VARIABLES:
        path = env.get(variable)
        if path and os.path.isfile(path):
            return "cafile", path
        if path and os.path.isdir(path):
            return "capath", path
    if env.get("SSL_CERT_FILE"):
        return "cafile", env["SSL_CERT_FILE"]
    if env.get("SSL_CERT_DIR"):
        return "capath", env["SSL_CERT_DIR"]
    import certifi

    return "cafile", certifi.where()
