"""A network backend for httpcore that answers "is this idle connection readable?"
cheaply.

httpcore asks that of every idle connection each time it hands a request to one or
takes one back. Its anyio streams answer by building anyio's dictionary of extra
attributes (a ``getpeername`` system call and a dozen closures) every time: on a cold
``outdated`` over PyPI that bookkeeping was ~0.5 s of ~3 s. These streams look the raw
socket up once and poll it directly; everything else is the anyio backend's.
"""

from __future__ import annotations

import select
import socket
import ssl
import typing
from collections.abc import Iterable

import httpcore
import httpx


def _readable(sock: socket.socket | None) -> bool:
    """True when a read would not block (data waiting, or the peer closed); a socket
    that is gone counts as readable, as httpcore's own check does."""
    if sock is None:
        return True
    fd = sock.fileno()
    if fd < 0:
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    ready, _, _ = select.select([fd], [], [], 0)
    return bool(ready)


class QuickStream(httpcore.AsyncNetworkStream):
    """An anyio stream whose ``is_readable`` check skips anyio's attribute lookup."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return QuickStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable" and self._socket is not None:
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


class QuickBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend with ``QuickStream`` connections."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return QuickStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return QuickStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def quick_transport(**options: typing.Any) -> httpx.AsyncHTTPTransport:
    """``httpx.AsyncHTTPTransport(**options)`` whose pool uses ``QuickBackend``. If a
    later httpx lays its pool out differently, the transport is returned unchanged."""
    transport = httpx.AsyncHTTPTransport(**options)
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = QuickBackend()
    return transport
