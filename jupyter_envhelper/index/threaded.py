"""An httpx transport that exchanges each request on a worker thread with http.client.

Reading an answer through httpcore costs Python work per TLS record (16 KB): anyio's
cancel scope and TLS wrapper, h11's events, the pool's bookkeeping. A cold plan reads
tens of megabytes (a PyPI mirror may send its pages and JSON documents uncompressed),
so that was more CPU than everything else the plan does. ``http.client`` reads a
body in C (``BufferedReader.read`` over the SSL socket, the GIL released while it
waits), so on a worker thread an answer costs a few Python calls whatever its size,
and the event loop only waits for it.

The transport sits under ``httpx.AsyncClient``: redirects, authentication, headers,
decompression and proxies (httpx's own transports, for the URLs a proxy serves) are
httpx's as before. Each connection is used by one thread at a time and kept alive
for the next request to its origin; a kept connection the server has closed is
noticed before it is used, and a request that fails on a reused connection before
any answer is sent again once on a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Union

import httpx

from . import addresses

_STALE = addresses.STALE
MAX_IDLE_PER_ORIGIN = 32

Origin = addresses.Origin


class _Answer:
    __slots__ = ("content", "headers", "reason", "status", "version")

    def __init__(self, response: http.client.HTTPResponse, content: bytes) -> None:
        self.status = response.status
        self.reason = response.reason
        self.headers = response.getheaders()
        self.version = b"HTTP/1.0" if response.version == 10 else b"HTTP/1.1"
        self.content = content


Verify = Union[ssl.SSLContext, str, bool]
# what decides a CA bundle: the settings our callers and httpx read from the environment
_CA_VARIABLES = ("PIP_CERT", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")
_CONTEXTS: dict[Any, ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def shared_context(verify: Verify | Callable[[], Verify] = True) -> ssl.SSLContext:
    """The SSL context for ``verify`` (what httpx takes, or a function that returns it,
    such as ``ssl_context_from_env``), made once per process for each such function
    and CA settings of the environment (a CA bundle takes ~40 ms to load), whichever
    thread asks first. A given ``SSLContext`` is itself."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    key = (verify, tuple(os.environ.get(name) for name in _CA_VARIABLES))
    with _CONTEXTS_LOCK:
        found = _CONTEXTS.get(key)
        if found is None:
            made = verify() if callable(verify) else verify
            if not isinstance(made, ssl.SSLContext):
                made = httpx.create_ssl_context(verify=made)
            found = _CONTEXTS[key] = made
        return found


# Connections opened ahead of a first request (``prewarm``), by origin and SSL context.
_PARKED: dict[tuple[Origin, int], list[http.client.HTTPConnection]] = {}
_PARKED_LOCK = threading.Lock()


def prewarm(
    url: str,
    connections: int = 1,
    timeout: float = 5.0,
    verify: Verify | Callable[[], Verify] = True,
) -> None:
    """Open ``connections`` connections to the origin of ``url`` (TCP and TLS: a round
    trip or two, and the CA bundle) on daemon threads, for the next transport with the
    same SSL context (``shared_context(verify)``) to use first: so a process can connect
    while it does something else (a command line probes its target meanwhile).
    Failures are silent; a connection not used is closed at exit."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return
    origin = (parsed.scheme, parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))

    def connect() -> None:
        try:
            context = shared_context(verify)
            made = _connection(origin, timeout, context)
            made.connect()
        except Exception:
            return
        with _PARKED_LOCK:
            _PARKED.setdefault((origin, id(context)), []).append(made)

    for _ in range(connections):
        threading.Thread(target=connect, name="envhelper-prewarm", daemon=True).start()


# connections a fresh process opens ahead (a plan's first levels ask for a page and its
# JSON document, then a dozen pages and wheel tails at once)
AHEAD_INDEX = 6
AHEAD_FILES = 4
_ahead: set[str] = set()


def connect_ahead(index_url: str, *, verify: Verify | Callable[[], Verify]) -> None:
    """``prewarm`` the connections a plan against ``index_url`` opens first (PyPI's
    file host too, for PyPI), once per process and URL, whoever asks first: the
    command line's first moments (``probe/early.py``) or its first plan."""
    from .client import PYPI_FILE_HOSTS
    from .config import PYPI_SIMPLE

    with _PARKED_LOCK:
        if index_url in _ahead:
            return
        _ahead.add(index_url)
    prewarm(index_url, connections=AHEAD_INDEX, verify=verify)
    if index_url == PYPI_SIMPLE:
        prewarm(f"https://{min(PYPI_FILE_HOSTS)}/", connections=AHEAD_FILES, verify=verify)


_connection = addresses.connection


class ThreadedTransport(httpx.AsyncBaseTransport):
    """``max_connections`` worker threads, each exchanging one request at a time."""

    def __init__(
        self, *, verify: Verify | Callable[[], Verify] = True, max_connections: int = 16
    ) -> None:
        self._ssl = shared_context(verify)
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._busy: set[http.client.HTTPConnection] = set()  # exchanging on a thread
        self._lock = threading.Lock()
        self._threads = max(1, max_connections)
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False  # aclose has cut the busy connections off: no second try
        self.connections_made = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="envhelper-http")
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self._executor, self._exchange, request, body)
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(answer.content),
            extensions={
                "http_version": answer.version,
                "reason_phrase": answer.reason.encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        """Close every connection. One still reading an answer nobody waits for any
        more (a cancelled request) is cut off, so its thread ends now, not at its
        timeout: a process joins these threads before it exits."""
        executor, self._executor = self._executor, None
        self._closed = True
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            idle, self._idle = self._idle, {}
            busy = list(self._busy)
        for connections in idle.values():
            for connection in connections:
                connection.close()
        for connection in busy:
            sock = connection.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    # -- on a worker thread ------------------------------------------------------------------
    def _exchange(self, request: httpx.Request, body: bytes) -> _Answer:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol {url}.")
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        target = url.raw_path.decode("ascii")
        headers = request.headers.raw
        while True:
            connection, reused = self._checkout(origin, timeouts.get("connect"))
            with self._lock:
                self._busy.add(connection)
            try:
                if connection.sock is not None:
                    connection.sock.settimeout(timeouts.get("read"))
                _send(connection, request.method, target, headers, body)
                response = connection.getresponse()
                content = response.read()
            except _STALE as exc:
                connection.close()
                if reused and not self._closed:
                    continue  # the server had closed it: once more on a new connection
                raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
            except BaseException as exc:
                connection.close()
                raise _as_httpx(exc) from exc
            finally:
                with self._lock:
                    self._busy.discard(connection)
            if response.will_close:
                connection.close()
            else:
                self._checkin(origin, connection)
            return _Answer(response, content)

    def _checkout(
        self, origin: Origin, connect_timeout: float | None
    ) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            kept = self._idle.get(origin) or []
            while kept:
                connection = kept.pop()
                if _usable(connection):
                    return connection, True
                connection.close()
        if _PARKED:
            with _PARKED_LOCK:
                parked = _PARKED.get((origin, id(self._ssl))) or []
                found = parked.pop() if parked else None
            if found is not None:
                if _usable(found):
                    return found, False  # not used yet: a failure is a real one
                found.close()
        made = _connection(origin, connect_timeout, self._ssl)
        try:
            made.connect()
        except BaseException as exc:
            made.close()
            raise _as_httpx(exc, connecting=True) from exc
        self.connections_made += 1
        return made, False

    def _checkin(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            kept = self._idle.setdefault(origin, [])
            if self._executor is not None and len(kept) < MAX_IDLE_PER_ORIGIN:
                kept.append(connection)
                return
        connection.close()


def _send(
    connection: http.client.HTTPConnection,
    method: str,
    target: str,
    headers: Iterable[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    # httpx's headers already have Host and Accept-Encoding (and Content-Length when
    # there is a body): http.client must not add its own
    connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for name, value in headers:
        connection.putheader(name.decode("latin-1"), value)
    connection.endheaders(body or None)


def _usable(connection: http.client.HTTPConnection) -> bool:
    """A kept connection can be used while nothing is waiting on it: data or end of
    file on an idle HTTP/1.1 connection means the server closed it."""
    sock = connection.sock
    if sock is None or sock.fileno() < 0:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _as_httpx(exc: BaseException, *, connecting: bool = False) -> BaseException:
    """The httpx exception httpcore would have raised for ``exc``."""
    if isinstance(exc, httpx.HTTPError) or not isinstance(exc, Exception):
        return exc
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return (httpx.ConnectTimeout if connecting else httpx.ReadTimeout)(str(exc) or "timed out")
    if isinstance(exc, (ssl.SSLError, OSError)):
        return (httpx.ConnectError if connecting else httpx.ReadError)(str(exc))
    if isinstance(exc, http.client.HTTPException):
        return httpx.RemoteProtocolError(str(exc) or type(exc).__name__)
    return exc
