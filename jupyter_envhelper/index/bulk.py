"""The helper process that fetches bulk answers and sends back only what is kept.

Run as ``python -m jupyter_envhelper.index.bulk [--cafile PATH | --capath PATH]
[--timeout S] [--connect-timeout S] [--threads N] [--user-agent UA]``; the parent
side is ``index/offload.py``, which says why. Standard library only (and
``index/jsonapi.py``): it starts in ~0.1 s.

Protocol, on the helper's stdin and stdout:

- a line ``{"settings": {...}}`` (any of ``cafile``, ``capath``, ``timeout``,
  ``connect_timeout``, ``user_agent``) replaces the settings of the command line for
  the requests after it: the parent sends one first, so a helper started before its
  parent knew them (a spare, ``offload.spawn_spare``) and one it starts itself are
  told them the same way;
- a request is one line of JSON: ``{"id": int, "url": str, "headers": {...},
  "keep": "json-api" | null}``;
- each answer (in any order, as they finish) is one line of JSON, then its body:
  ``{"id", "status", "url" (after redirects), "headers" (lower-case names),
  "size" (of the body as sent), "kept" (whether ``keep`` was applied),
  "length"}`` followed by ``length`` bytes; or ``{"id", "error": "timeout" |
  "connect" | "other", "message"}`` with no body.

A body is decoded (gzip, deflate) before it is kept. The helper exits when its stdin
closes: the parent wants no answer after that.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import queue
import socket
import ssl
import sys
import threading
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from . import addresses
from .jsonapi import kept_document

KEEPS: dict[str, Callable[[bytes], bytes]] = {"json-api": kept_document}
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 20  # as httpx follows them
Origin = addresses.Origin


class _Worker(threading.Thread):
    """Takes requests off the queue, one at a time, with its own connections."""

    def __init__(self, helper: _Helper) -> None:
        super().__init__(daemon=True, name="envhelper-bulk")
        self.helper = helper
        self.connections: dict[Origin, http.client.HTTPConnection] = {}

    def run(self) -> None:
        while True:
            request = self.helper.requests.get()
            try:
                head, body = self.answer(request)
            except Exception as exc:  # told to the parent, which decides
                head, body = _error(request, exc), b""
            self.helper.send(head, body)

    def answer(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        url = str(request["url"])
        headers = {str(k): str(v) for k, v in dict(request.get("headers") or {}).items()}
        headers.setdefault("User-Agent", self.helper.user_agent)
        headers["Accept-Encoding"] = "gzip, deflate"
        for _ in range(MAX_REDIRECTS + 1):
            status, reply, body = self.exchange(url, headers)
            location = reply.get("location")
            if status not in REDIRECTS or not location:
                break
            url = urljoin(url, location)
        else:
            raise ValueError(f"more than {MAX_REDIRECTS} redirects")
        body = _decoded(body, reply.pop("content-encoding", ""))
        reply.pop("content-length", None)  # of the body as it came over the wire
        size, kept = len(body), False
        keep = KEEPS.get(str(request.get("keep") or ""))
        if keep is not None and status == 200:
            with contextlib.suppress(ValueError):  # else whole: the parent's reader says why
                body, kept = keep(body), True
        head = {"id": request["id"], "status": status, "url": url, "headers": reply}
        head.update(size=size, kept=kept, length=len(body))
        return head, body

    def exchange(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an HTTP URL: {parts.scheme}")
        origin = (
            parts.scheme,
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
        )
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        while True:
            connection = self.connections.pop(origin, None)
            reused = connection is not None
            if connection is None:
                connection = self.helper.connect(origin)
            try:
                connection.request("GET", target, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except addresses.STALE:  # a kept one the server closed: once more
                connection.close()
                if reused:
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            reply: dict[str, str] = {}
            for header, value in response.getheaders():
                name = header.lower()
                reply[name] = f"{reply[name]}, {value}" if name in reply else value
            if response.will_close:
                connection.close()
            else:
                self.connections[origin] = connection
            return response.status, reply, body


class _Helper:
    def __init__(self, args: argparse.Namespace, out: BinaryIO) -> None:
        self.requests: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.user_agent = args.user_agent
        self.timeout = args.timeout
        self.connect_timeout = args.connect_timeout
        self.ca = (args.cafile, args.capath)
        self.context = ssl.create_default_context(cafile=args.cafile, capath=args.capath)
        self._out = out
        self._lock = threading.Lock()

    def configure(self, settings: dict[str, Any]) -> None:
        """The parent's settings (see the protocol), before any request it sends."""
        self.user_agent = str(settings.get("user_agent") or self.user_agent)
        self.timeout = float(settings.get("timeout") or self.timeout)
        self.connect_timeout = float(settings.get("connect_timeout") or self.connect_timeout)
        ca = (settings.get("cafile"), settings.get("capath"))
        if any(ca) and ca != self.ca:
            self.ca = ca
            self.context = ssl.create_default_context(cafile=ca[0], capath=ca[1])

    def connect(self, origin: Origin) -> http.client.HTTPConnection:
        connection = addresses.connection(origin, self.connect_timeout, self.context)
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(self.timeout)
        return connection

    def send(self, head: dict[str, Any], body: bytes) -> None:
        line = json.dumps(head, separators=(",", ":")).encode() + b"\n"
        try:
            with self._lock:
                self._out.write(line)
                if body:
                    self._out.write(body)
                self._out.flush()
        except (BrokenPipeError, ValueError, OSError):
            os._exit(0)  # the parent has gone: nobody reads the answers


def _decoded(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, as some send
    raise ValueError(f"an answer encoded as {encoding!r}")


def _error(request: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        kind = "timeout"
    elif isinstance(exc, (OSError, http.client.HTTPException)):
        kind = "connect"
    else:
        kind = "other"
    return {"id": request.get("id"), "error": kind, "message": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m jupyter_envhelper.index.bulk")
    parser.add_argument("--cafile")
    parser.add_argument("--capath")
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--connect-timeout", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--user-agent", default="jupyter-envhelper")
    args = parser.parse_args(argv)
    helper = _Helper(args, sys.stdout.buffer)
    for _ in range(max(1, args.threads)):
        _Worker(helper).start()
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if isinstance(request, dict) and isinstance(request.get("settings"), dict):
            helper.configure(request["settings"])
        elif isinstance(request, dict) and "id" in request and "url" in request:
            helper.requests.put(request)
    os._exit(0)  # stdin closed: whatever is still running is not wanted


if __name__ == "__main__":
    main()
