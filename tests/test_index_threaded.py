"""The fetcher's HTTP transport: http.client on worker threads, under httpx.

Against a small real HTTP/1.1 server on the loopback (a socket server whose behaviour
each test chooses): answers arrive whole and decoded, connections are kept alive and
reused, one the server closed is not reused, a server that does not answer ends in
httpx's timeout, and a connection opened ahead (``prewarm``) serves the first
request. Also the fetcher's request slots: a background request waits behind others.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from jupyter_envhelper.index import threaded
from jupyter_envhelper.index.fetcher import Fetcher, Slots, _unknown_host
from jupyter_envhelper.index.threaded import ThreadedTransport, prewarm
from tests.indexserver import DistSpec, IndexServerFactory

Reply = Callable[[bytes], tuple[bytes, bool]]  # request head -> (answer, close after it)


class RawServer:
    """Accepts connections and answers each request with ``reply(head)``."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.accepted = 0
        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                self.requests.append(head)
                answer, close = self.reply(head)
                if answer:
                    conn.sendall(answer)
                if close:
                    return

    def close(self) -> None:
        self._stop = True
        self._sock.close()


def _answer(body: bytes, *headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
def serve() -> Iterator[Callable[[Reply], RawServer]]:
    made: list[RawServer] = []

    def start(reply: Reply) -> RawServer:
        made.append(RawServer(reply))
        return made[-1]

    yield start
    for server in made:
        server.close()


def _get(
    urls: list[str], transport: ThreadedTransport, timeout: float = 5.0
) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            return [await client.get(url) for url in urls]

    return asyncio.run(go())


def test_answers_come_whole_over_one_kept_alive_connection(
    serve: Callable[[Reply], RawServer],
) -> None:
    big = bytes(range(256)) * 8192  # 2 MB, many TLS-record-sized reads' worth
    server = serve(lambda head: (_answer(big if b"/big" in head else b"small"), False))
    transport = ThreadedTransport()
    first, second, third = _get(
        [f"{server.url}/big", f"{server.url}/x", f"{server.url}/big"], transport
    )
    assert first.status_code == 200 and first.content == big
    assert second.content == b"small"
    assert third.content == big
    assert server.accepted == 1 and transport.connections_made == 1
    # httpx's own headers went out once each, http.client added none of its own
    head = server.requests[0].decode().lower()
    assert head.startswith("get /big http/1.1")
    assert head.count("\r\nhost:") == 1 and head.count("accept-encoding:") == 1


def test_a_compressed_answer_is_decoded_by_httpx(serve: Callable[[Reply], RawServer]) -> None:
    packed = gzip.compress(b'{"files": []}')
    server = serve(lambda head: (_answer(packed, "Content-Encoding: gzip"), False))
    (response,) = _get([f"{server.url}/p"], ThreadedTransport())
    assert response.json() == {"files": []}


def test_a_connection_the_server_closed_is_not_reused(serve: Callable[[Reply], RawServer]) -> None:
    # no "Connection: close": the client only learns it from the socket
    server = serve(lambda head: (_answer(b"once"), True))
    transport = ThreadedTransport()
    answers = _get([f"{server.url}/a", f"{server.url}/b", f"{server.url}/c"], transport)
    assert [r.content for r in answers] == [b"once"] * 3
    assert server.accepted == 3


def test_a_server_that_never_answers_is_a_read_timeout(serve: Callable[[Reply], RawServer]) -> None:
    server = serve(lambda head: (b"", False))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        _get([f"{server.url}/slow"], ThreadedTransport(), timeout=0.3)
    assert time.monotonic() - started < 5


def test_nothing_listening_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nobody listens on it once closed
    with pytest.raises(httpx.ConnectError):
        _get([f"http://127.0.0.1:{port}/"], ThreadedTransport(), timeout=2)


def test_a_prewarmed_connection_serves_the_first_request(
    serve: Callable[[Reply], RawServer],
) -> None:
    server = serve(lambda head: (_answer(b"warm"), False))
    prewarm(f"{server.url}/simple/")
    port = int(server.url.rsplit(":", 1)[1])
    key = (("http", "127.0.0.1", port), id(threaded.shared_context(True)))
    deadline = time.monotonic() + 5
    while not threaded._PARKED.get(key) and time.monotonic() < deadline:
        time.sleep(0.01)
    transport = ThreadedTransport()
    (response,) = _get([f"{server.url}/simple/x/"], transport)
    assert response.content == b"warm"
    assert server.accepted == 1  # the parked connection, not a new one
    assert transport.connections_made == 0


def test_connections_ahead_are_opened_once_per_index(
    serve: Callable[[Reply], RawServer],
) -> None:
    # the command line's first moments and its first plan both ask (probe/early.py,
    # core/indexes.py): the second finds them opened
    server = serve(lambda head: (_answer(b"warm"), False))
    url = f"{server.url}/simple/"
    for _ in range(2):
        threaded.connect_ahead(url, verify=True)
    deadline = time.monotonic() + 5
    while server.accepted < threaded.AHEAD_INDEX and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # a second round, if any, would be accepted by now
    assert server.accepted == threaded.AHEAD_INDEX  # one round: not PyPI, so no file host


def test_background_requests_wait_behind_the_others() -> None:
    async def go() -> list[str]:
        slots = Slots(1)
        order: list[str] = []
        gate = asyncio.Event()

        async def one(name: str, background: bool) -> None:
            async with slots.hold(background):
                order.append(name)
                await gate.wait()

        first = asyncio.ensure_future(one("first", False))
        await asyncio.sleep(0)
        waiting = [
            asyncio.ensure_future(one("advisory", True)),
            asyncio.ensure_future(one("page", False)),
            asyncio.ensure_future(one("metadata", False)),
        ]
        await asyncio.sleep(0)
        cancelled = asyncio.ensure_future(one("gone", False))
        await asyncio.sleep(0)
        cancelled.cancel()
        gate.set()
        await asyncio.gather(first, *waiting)
        assert slots.free == 1  # every slot given back, the cancelled one's too
        return order

    assert asyncio.run(go()) == ["first", "page", "metadata", "advisory"]


def test_background_requests_hold_at_most_their_share_of_the_slots() -> None:
    async def go() -> None:
        slots = Slots(3, background=1)
        held: list[str] = []
        gates = {name: asyncio.Event() for name in ("advisory", "other", "page", "more")}

        async def one(name: str, background: bool) -> None:
            async with slots.hold(background):
                held.append(name)
                await gates[name].wait()

        tasks = [asyncio.ensure_future(one("advisory", True))]
        await asyncio.sleep(0)
        tasks.append(asyncio.ensure_future(one("other", True)))
        await asyncio.sleep(0)
        assert held == ["advisory"] and slots.free == 2  # free slots, but not for it
        tasks.append(asyncio.ensure_future(one("page", False)))
        tasks.append(asyncio.ensure_future(one("more", False)))
        await asyncio.sleep(0)
        assert held == ["advisory", "page", "more"] and slots.free == 0
        gates["page"].set()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert "other" not in held  # a slot is free again, the background share is not
        gates["advisory"].set()
        for _ in range(3):
            await asyncio.sleep(0)
        assert held[-1] == "other"
        gates["other"].set()
        gates["more"].set()
        await asyncio.gather(*tasks)
        assert slots.free == 3 and slots.background_held == 0

    asyncio.run(go())


def test_only_a_host_name_that_does_not_exist_is_not_asked_again() -> None:
    def failure(errno: int) -> httpx.ConnectError:
        try:
            try:
                raise socket.gaierror(errno, "lookup")
            except socket.gaierror as exc:
                raise httpx.ConnectError("lookup") from exc
        except httpx.ConnectError as error:
            return error

    assert _unknown_host(failure(socket.EAI_NONAME))
    assert not _unknown_host(failure(socket.EAI_AGAIN))  # "try again": retried
    assert not _unknown_host(httpx.ConnectError("refused"))


def _workers_end_soon() -> None:
    """The transport's worker threads are gone within 5 s (not at a 60 s timeout)."""
    deadline = time.monotonic() + 5
    while any(t.name.startswith("envhelper-http") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a worker thread is still reading or waiting"
        time.sleep(0.02)


def test_closing_cuts_off_an_answer_nobody_waits_for(serve: Callable[[Reply], RawServer]) -> None:
    # headers, then a body that never comes: the request is abandoned (a cancelled
    # lookup), and closing must not leave its thread reading until the read timeout
    server = serve(lambda head: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nab", False))

    async def go() -> None:
        transport = ThreadedTransport()
        async with httpx.AsyncClient(transport=transport, timeout=60) as client:
            task = asyncio.ensure_future(client.get(f"{server.url}/stalled"))
            while not transport._busy:
                await asyncio.sleep(0.01)
            task.cancel()

    asyncio.run(go())
    _workers_end_soon()


def test_closing_cuts_off_a_kept_connection_without_sending_again(
    serve: Callable[[Reply], RawServer],
) -> None:
    # a request on a kept-alive connection whose answer has not begun (a slow 404 of a
    # guessed .metadata): cut off by closing, it must not look like a connection the
    # server had closed and be sent again on a new one, which holds the process's
    # exit until that answer comes
    def reply(head: bytes) -> tuple[bytes, bool]:
        return (b"", False) if b"/stalled" in head else (_answer(b"ok"), False)

    server = serve(reply)

    async def go() -> None:
        transport = ThreadedTransport()
        async with httpx.AsyncClient(transport=transport, timeout=60) as client:
            assert (await client.get(f"{server.url}/first")).text == "ok"
            task = asyncio.ensure_future(client.get(f"{server.url}/stalled"))
            while len(server.requests) < 2:
                await asyncio.sleep(0.01)
            task.cancel()

    asyncio.run(go())
    _workers_end_soon()
    assert len(server.requests) == 2 and server.accepted == 1


def test_the_fetchers_direct_exchanges_follow_redirects_and_send_credentials(
    index_server: IndexServerFactory,
) -> None:
    """Plain requests skip httpx's client (``Fetcher._send``); a redirect, and
    credentials for the host, still get what the client does for them."""
    open_index = index_server([DistSpec("Alpha_Pkg", "1.0")])
    locked = index_server([DistSpec("Alpha_Pkg", "1.0")], auth=("carol", "pw-123"))

    async def get(index_url: str, names: list[str]) -> list[tuple[int, str, bytes]]:
        fetcher = Fetcher(use_netrc=False)
        try:
            plain = fetcher.add_credentials(index_url)
            out = []
            for name in names:
                response = await fetcher.request(f"{plain}{name}/", {"Accept": "text/html"})
                out.append((response.status_code, str(response.url), response.content))
            assert fetcher._direct is not None  # no proxy here: the direct path is open
            return out
        finally:
            await fetcher.aclose()

    # the second name is not normalised: the index answers 301 to the normalised one
    first, redirected = asyncio.run(get(open_index.index_url, ["alpha-pkg", "Alpha_Pkg"]))
    assert first[0] == 200 and b"alpha_pkg-1.0" in first[2].lower()
    assert redirected[0] == 200 and redirected[1].endswith("/simple/alpha-pkg/")
    assert redirected[2] == first[2]
    assert open_index.stats["/simple/Alpha_Pkg/"].statuses == [301]
    # credentials given with the index URL are sent; without them the index refuses
    (with_them,) = asyncio.run(get(locked.index_url_with_auth, ["alpha-pkg"]))
    (without,) = asyncio.run(get(locked.index_url, ["alpha-pkg"]))
    assert with_them[0] == 200 and with_them[2] == first[2].replace(
        open_index.url.encode(), locked.url.encode()
    )
    assert without[0] == 401
