"""Name lookups for index connections (``index/addresses.py``): one at a time per host,
kept, and asked again when a reply is late. Connections are real (a loopback index);
only the lookup's lateness is imitated, since a lost UDP reply cannot be ordered."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_envhelper.index import addresses
from tests.indexserver import DistSpec, IndexServer


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    addresses.reset()
    yield
    addresses.reset()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        calls.append((host, port))
        time.sleep(0.05)  # long enough for the other threads to arrive meanwhile
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(addresses.socket, "getaddrinfo", getaddrinfo)
    return calls


def test_connections_made_at_once_look_their_host_up_once(counted: list[Any]) -> None:
    with IndexServer([DistSpec("a", "1.0")]) as index:
        port = index.port
        socks: list[socket.socket] = []
        threads = [
            threading.Thread(
                target=lambda: socks.append(addresses.create_connection(("localhost", port), 5.0))
            )
            for _ in range(10)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        later = addresses.create_connection(("localhost", port), 5.0)
        for sock in [*socks, later]:
            assert sock.getpeername()[1] == port
            sock.close()
    assert len(socks) == 10
    assert counted == [("localhost", port)]


def test_a_late_reply_is_asked_for_again(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo
    calls: list[float] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(3.0)  # the reply that was lost: the resolver's own wait
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(addresses.socket, "getaddrinfo", getaddrinfo)
    started = time.monotonic()
    found = addresses.lookup("localhost", 80)
    took = time.monotonic() - started
    assert found and len(calls) == 2
    assert addresses.HEDGE_AFTER <= took < 1.5  # not the 3 s of the lost reply


def test_an_unknown_name_fails_as_without_the_cache() -> None:
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("no-such-host.invalid", 443)
    with pytest.raises(socket.gaierror):
        addresses.create_connection(("no-such-host.invalid", 443), 5.0)


def test_a_host_nobody_answers_at_is_looked_up_again(counted: list[Any]) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # nothing listens there once closed
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            addresses.create_connection(("localhost", port), 5.0)
    assert counted == [("localhost", port), ("localhost", port)]  # forgotten after each
