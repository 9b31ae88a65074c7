"""One name lookup per host at a time, kept for a while: ``create_connection``, and
the HTTP connections made over it (``connection``).

Every new connection used to look its host up (``socket.create_connection``), and a
plan opens a dozen at once. Where the name service answers over UDP through
connection tracking (containers, Kubernetes pods: where JupyterHub runs), lookups
made at the same moment lose a reply now and then, and the resolver waits out its
5 s timeout before asking again. Measured on the machine this was written on: 80 of
300 lookups took 5.0 s when ten were made at once, none when made one by one; a cold
plan that met one stalled for 5 s. So the first connection to a host looks it up and
the others wait for that answer (one lookup in flight per host and port), and the
addresses are reused for ``TTL`` seconds; a connection that cannot reach any of them
forgets them, so a moved host is looked up again.

Standard library only: the index client's transport and the helper process
(``bulk.py``) both use it.
"""

from __future__ import annotations

import http.client
import queue
import socket
import ssl
import threading
import time
from typing import Any

TTL = 120.0
HEDGE_AFTER = 0.4  # seconds before a lookup is asked again (one takes ~1-10 ms here)
HEDGES = 3
_Info = tuple[Any, ...]  # (family, type, proto, canonname, sockaddr)

_DEFAULT: Any = getattr(socket, "_GLOBAL_DEFAULT_TIMEOUT", None)  # what http.client passes
_known: dict[tuple[str, int], tuple[float, list[_Info]]] = {}
_asking: dict[tuple[str, int], threading.Event] = {}
_lock = threading.Lock()


def lookup(host: str, port: int) -> list[_Info]:
    """The addresses of ``host`` (``getaddrinfo``, stream sockets), asked once for
    every thread that wants them at the same time, and kept for ``TTL`` seconds."""
    key = (host, port)
    while True:
        with _lock:
            kept = _known.get(key)
            if kept is not None and time.monotonic() - kept[0] < TTL:
                return kept[1]
            waiting = _asking.get(key)
            if waiting is None:
                mine = _asking[key] = threading.Event()
        if waiting is not None:
            waiting.wait()  # the other thread's answer (or its failure: then ask again)
            with _lock:
                kept = _known.get(key)
                if kept is not None and time.monotonic() - kept[0] < TTL:
                    return kept[1]
            continue
        try:
            found = _hedged(host, port)
            with _lock:
                _known[key] = (time.monotonic(), found)
            return found
        finally:
            with _lock:
                _asking.pop(key, None)
            mine.set()


def _hedged(host: str, port: int) -> list[_Info]:
    """``getaddrinfo``, asked again on another thread when no answer has come after
    ``HEDGE_AFTER`` seconds (then twice as long, up to ``HEDGES`` asks in all): the
    first answer wins. A lost reply then costs a fraction of a second, not the 5 s
    the system resolver waits before it asks again. A failure is taken once every
    ask made has failed (the last one's words)."""
    answers: queue.SimpleQueue[tuple[list[_Info] | None, OSError | None]] = queue.SimpleQueue()

    def ask() -> None:
        try:
            answers.put((socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), None))
        except OSError as exc:
            answers.put((None, exc))

    threading.Thread(target=ask, name="envhelper-lookup", daemon=True).start()
    asked, failed, wait = 1, 0, HEDGE_AFTER
    while True:
        try:
            found, problem = answers.get(timeout=wait if asked < HEDGES else None)
        except queue.Empty:
            threading.Thread(target=ask, name="envhelper-lookup", daemon=True).start()
            asked, wait = asked + 1, wait * 2
            continue
        if found is not None:
            return found
        failed += 1
        if failed == asked:  # every ask made so far failed: its words
            assert problem is not None
            raise problem


def forget(host: str, port: int) -> None:
    with _lock:
        _known.pop((host, port), None)


def create_connection(
    address: tuple[str, int],
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """``socket.create_connection`` over ``lookup``'s addresses (what
    ``http.client`` connections take as their ``_create_connection``)."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _name, where in lookup(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not _DEFAULT:
                sock.settimeout(timeout)
            if source_address is not None:
                sock.bind(source_address)
            sock.connect(where)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    forget(host, port)  # none answered: look it up again next time
    if error is None:
        raise OSError(f"no address found for {host}")
    raise error


# Failures of a kept-alive connection the server closed meanwhile: worth one retry.
STALE = (
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)
Origin = tuple[str, str, int]


def connection(
    origin: Origin, timeout: float | None, context: ssl.SSLContext
) -> http.client.HTTPConnection:
    """An unopened ``http.client`` connection to ``origin`` (scheme, host, port) whose
    socket comes from ``create_connection``."""
    scheme, host, port = origin
    made: http.client.HTTPConnection
    if scheme == "https":
        made = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        made = http.client.HTTPConnection(host, port, timeout=timeout)
    made._create_connection = create_connection  # type: ignore[attr-defined]
    return made


def reset() -> None:
    """Forget every address (tests)."""
    with _lock:
        _known.clear()
