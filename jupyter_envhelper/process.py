"""The one subprocess seam: every external command jupyter-envhelper runs goes through here.

- argv lists only, never a shell;
- each command runs in its own process group (its own session on POSIX), so a
  timeout or a cancel ends the command *and* whatever it started;
- async callers run ``run`` in a worker thread (``asyncio.to_thread``): asyncio
  subprocesses fail on the selector event loop jupyter-server uses on Windows;
- on Linux that thread alone reads both pipes and learns of the exit (``poll`` on the
  pipes and a pidfd); elsewhere, or with text for stdin, two reader threads do.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

#: ``on_line(stream, line)`` with stream ``"stdout"`` or ``"stderr"``, line without newline.
LineCallback = Callable[[str, str], None]

#: After SIGTERM, how long a process group gets before SIGKILL.
KILL_GRACE_SECONDS = 2.0
#: How often a cancellable ``run`` looks at its cancel event.
CANCEL_POLL_SECONDS = 0.05
#: After the command exits, how long its output is still read (something it started
#: may hold its pipes open).
DRAIN_SECONDS = 5.0


@dataclass
class ProcessResult:
    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    elapsed: float = 0.0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.cancelled

    def stderr_tail(self, lines: int = 20, chars: int = 4000) -> str:
        return stderr_tail(self.stderr or self.stdout, lines=lines, chars=chars)


def stderr_tail(text: str, *, lines: int = 20, chars: int = 4000) -> str:
    """The last ``lines`` non-empty lines of ``text`` (at most ``chars`` characters)."""
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    tail = "\n".join(kept)
    return tail[-chars:]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL what is left after a grace period."""
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        subprocess.run(
            ["taskkill", "/F", "/T", "/PID", str(proc.pid)],  # noqa: S607
            capture_output=True,
            check=False,
            timeout=10,
        )
        proc.kill()
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_GRACE_SECONDS)
    # Children of the group may outlive the leader: always finish with SIGKILL.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _pump(pipe: IO[bytes], name: str, sink: list[str], on_line: LineCallback | None) -> None:
    for raw in iter(pipe.readline, b""):
        line = raw.decode("utf-8", "replace")
        sink.append(line)
        if on_line is not None:
            with contextlib.suppress(Exception):  # a broken callback must not stop the pump
                on_line(name, line.rstrip("\r\n"))
    pipe.close()


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float,
    on_line: LineCallback | None = None,
    input: bytes | None = None,
    cancel: threading.Event | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ProcessResult:
    """Run ``argv`` to completion (or until ``timeout`` seconds) and collect its output.

    ``cancel``: when this event is set, the whole process group is stopped (SIGTERM,
    then SIGKILL after ``KILL_GRACE_SECONDS``) and the result has ``cancelled=True``.
    ``on_start(pid)`` is called once the process runs; on POSIX the pid is also the
    process group id.

    A missing executable raises ``FileNotFoundError`` (``OSError``): callers turn that
    into a domain error with a message for people.
    """
    if isinstance(argv, (str, bytes)):
        raise TypeError("argv must be a sequence of arguments, not a string")
    args = [os.fspath(a) for a in argv]
    kwargs: dict[str, object] = {}
    if os.name == "nt":  # pragma: no cover
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    else:
        kwargs["start_new_session"] = True
    start = time.monotonic()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        **kwargs,  # type: ignore[call-overload]
    )
    out: list[str] = []
    err: list[str] = []
    assert proc.stdout is not None and proc.stderr is not None
    # one thread reads both pipes and learns of the exit at once (text for stdin is
    # written by this thread, so then its output is read by others, as before)
    pidfd = _pidfd(proc) if input is None else None
    if pidfd is not None:
        try:
            return _run_selecting(proc, pidfd, args, start, out, err, timeout, on_line, on_start,
                                  input, cancel)  # fmt: skip
        finally:
            os.close(pidfd)
    threads = [
        threading.Thread(target=_pump, args=(proc.stdout, "stdout", out, on_line), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, "stderr", err, on_line), daemon=True),
    ]
    for t in threads:
        t.start()
    _started(proc, on_start, input)
    timed_out = False
    cancelled = False
    try:
        if cancel is None:
            _wait(proc, timeout)
        else:
            cancelled = _wait_or_cancel(proc, timeout, cancel)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        proc.wait()
    except BaseException:  # cancelled (KeyboardInterrupt...): leave nothing running
        _kill_group(proc)
        raise
    for t in threads:
        t.join(timeout=DRAIN_SECONDS)
    return ProcessResult(
        argv=args,
        returncode=proc.returncode,
        stdout="".join(out),
        stderr="".join(err),
        timed_out=timed_out,
        elapsed=time.monotonic() - start,
        cancelled=cancelled,
    )


def _started(
    proc: subprocess.Popen[bytes], on_start: Callable[[int], None] | None, input: bytes | None
) -> None:
    if on_start is not None:
        with contextlib.suppress(Exception):
            on_start(proc.pid)
    if input is not None and proc.stdin is not None:
        try:
            proc.stdin.write(input)
        except (BrokenPipeError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()


def _pidfd(proc: subprocess.Popen[bytes]) -> int | None:
    """A pidfd for ``proc`` (Linux 5.3+), or None: then threads read its pipes."""
    if os.name == "nt" or not hasattr(os, "pidfd_open"):  # pragma: no cover
        return None
    try:
        return os.pidfd_open(proc.pid)
    except OSError:  # pragma: no cover - an old kernel
        return None


class _Lines:
    """One pipe's bytes cut into lines as they come."""

    def __init__(self, name: str, sink: list[str], on_line: LineCallback | None) -> None:
        self.name, self.sink, self.on_line = name, sink, on_line
        self.pending = b""

    def feed(self, chunk: bytes) -> None:
        data = self.pending + chunk
        end = data.rfind(b"\n") + 1
        self.pending = data[end:]
        for raw in data[:end].splitlines(keepends=True):
            self._line(raw)

    def close(self) -> None:
        if self.pending:
            self._line(self.pending)
            self.pending = b""

    def _line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace")
        self.sink.append(line)
        if self.on_line is not None:
            with contextlib.suppress(Exception):  # a broken callback must not stop reading
                self.on_line(self.name, line.rstrip("\r\n"))


def _run_selecting(  # noqa: PLR0917
    proc: subprocess.Popen[bytes],
    pidfd: int,
    args: list[str],
    start: float,
    out: list[str],
    err: list[str],
    timeout: float,
    on_line: LineCallback | None,
    on_start: Callable[[int], None] | None,
    input: bytes | None,
    cancel: threading.Event | None,
) -> ProcessResult:
    """``run`` in the calling thread alone: ``poll`` on both pipes and the pidfd.
    Two reader threads cost a job's installer run 2-4 ms on a busy machine (starting
    them, and after the exit waking each to read its end of file and joining it)."""
    assert proc.stdout is not None and proc.stderr is not None
    readers = {
        proc.stdout.fileno(): _Lines("stdout", out, on_line),
        proc.stderr.fileno(): _Lines("stderr", err, on_line),
    }
    _started(proc, on_start, input)
    deadline = start + timeout
    drain_until: float | None = None  # after the exit (or a kill): read what is left
    timed_out = cancelled = exited = False
    poller = select.poll()
    for fd in (*readers, pidfd):
        poller.register(fd, select.POLLIN)
    try:
        while readers and (drain_until is None or time.monotonic() < drain_until):
            now = time.monotonic()
            if not exited and not timed_out and not cancelled:
                if cancel is not None and cancel.is_set():
                    cancelled = True
                elif now >= deadline:
                    timed_out = True
                if cancelled or timed_out:
                    _kill_group(proc)
                    exited = True
                    drain_until = time.monotonic() + DRAIN_SECONDS
                    poller.unregister(pidfd)
                    continue
            wait = (drain_until if drain_until is not None else deadline) - now
            if cancel is not None and not exited:
                wait = min(wait, CANCEL_POLL_SECONDS)
            for fd, _event in poller.poll(max(0.0, wait) * 1000):
                if fd == pidfd:
                    exited = True
                    drain_until = time.monotonic() + DRAIN_SECONDS
                    poller.unregister(pidfd)
                    continue
                chunk = os.read(fd, 65536)  # POLLIN or POLLHUP: data, or b"" at the end
                if chunk:
                    readers[fd].feed(chunk)
                else:
                    poller.unregister(fd)
                    readers.pop(fd).close()
        for reader in readers.values():  # left open by something the command started
            reader.close()
        if not exited and not timed_out and not cancelled:
            # both pipes closed before the exit was seen: wait for it (the deadline holds)
            if cancel is None:
                _wait(proc, max(0.0, deadline - time.monotonic()))
            else:
                cancelled = _wait_or_cancel(proc, max(0.0, deadline - time.monotonic()), cancel)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
    except BaseException:  # cancelled (KeyboardInterrupt...): leave nothing running
        _kill_group(proc)
        raise
    finally:
        for stream in (proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()
    proc.wait()
    return ProcessResult(
        argv=args,
        returncode=proc.returncode,
        stdout="".join(out),
        stderr="".join(err),
        timed_out=timed_out,
        elapsed=time.monotonic() - start,
        cancelled=cancelled,
    )


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """``proc.wait(timeout)`` without its polling: with a timeout, Popen.wait sleeps in
    steps of up to 50 ms, so it learns of the exit that much late (a probe lasts
    ~50 ms). Where Linux offers a pidfd, its readiness is waited for instead."""
    fd = None
    if hasattr(os, "pidfd_open") and proc.returncode is None:
        with contextlib.suppress(OSError):
            fd = os.pidfd_open(proc.pid)
    if fd is None:
        proc.wait(timeout=timeout)
        return
    try:
        ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
    finally:
        os.close(fd)
    if not ready:
        raise subprocess.TimeoutExpired(proc.args, timeout)
    proc.wait()  # it has exited: this reaps it at once


def _wait_or_cancel(proc: subprocess.Popen[bytes], timeout: float, cancel: threading.Event) -> bool:
    """Wait for ``proc``; True when ``cancel`` was set first (the group is then killed)."""
    deadline = time.monotonic() + timeout
    while True:
        if cancel.is_set():
            _kill_group(proc)
            proc.wait()
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        try:
            _wait(proc, min(left, CANCEL_POLL_SECONDS))
            return False
        except subprocess.TimeoutExpired:
            continue
