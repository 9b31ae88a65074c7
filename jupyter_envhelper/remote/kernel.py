"""Talk to a running kernel: run code, read its output from iopub, interrupt it.

Works with both kinds of kernel client a Jupyter server hands out: a local
``AsyncKernelClient`` (ZMQ, ``get_msg`` is a coroutine) and the gateway's
``GatewayKernelClient`` (a websocket; its channels are thread-safe queues whose own
``get_msg`` spins on the event loop, so they are read in a worker thread instead).

The code runs as a silent execute request without history: nothing shows in the
notebook, the execution count does not move, and the user's namespace is untouched
(callers wrap their code in ``exec`` with a namespace of its own, see ``isolated``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MARK = "\x1e"  # starts every line our code in the kernel prints for us to read


def is_gateway_manager(kernel_manager: Any) -> bool:
    """Whether ``kernel_manager`` (the server's) runs its kernels through a gateway."""
    return any(
        cls.__module__.startswith("jupyter_server.gateway") for cls in type(kernel_manager).__mro__
    )


def isolated(source: str, name: str = "<jupyter-envhelper>") -> str:
    """Code that runs ``source`` in a namespace of its own, not the user's (its
    ``__file__`` is ``name``, a path that exists nowhere)."""
    return (
        f"exec(compile({source!r}, {name!r}, 'exec'), "
        f"{{'__name__': '__jupyter_envhelper__', '__file__': {name!r}, "
        "'__builtins__': __builtins__})"
    )


@dataclass
class Execution:
    """What one execute request produced."""

    status: str
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    traceback: list[str] = field(default_factory=list)
    user_expressions: dict[str, Any] = field(default_factory=dict)

    def marked_lines(self) -> list[str]:
        """Our own lines (without the mark), in order."""
        return [ln[1:] for ln in self.stdout.split("\n") if ln.startswith(MARK)]


async def _next(channel: Any, timeout: float) -> dict[str, Any]:
    """The next message of a channel; ``queue.Empty`` after ``timeout`` seconds."""
    if isinstance(channel, queue.Queue):  # the gateway's ChannelQueue
        msg: dict[str, Any] = await asyncio.to_thread(channel.get, True, max(timeout, 0.01))
        channel.task_done()
        return msg
    result: dict[str, Any] = await channel.get_msg(timeout=max(timeout, 0.01))
    return result


class KeptClient:
    """One started gateway client of a running kernel, kept for its queries.

    Making a gateway client (a ``Session`` clone, a websocket connect, a reader thread)
    costs the server's event loop milliseconds per query; a kept one costs it a send.
    Its shell and iopub queues are read by one thread each, which hands the messages of
    requests someone waits for to the loop and drops the rest: the iopub queue gets
    everything the kernel broadcasts (the user's cells too), and would otherwise grow
    without bound. It is ``stale`` once its websocket is gone (the kernel shut down,
    the gateway went away) or the kernel said it restarted (its ``starting`` or
    ``restarting`` status): ``KeptClients`` then makes a new one.

    What the kernel broadcasts also says when it runs something that is not ours (a
    user's cell, a completion, another client's request: a ``busy`` status whose
    parent is of another session): ``activity`` counts those. An answer that depends
    only on what runs in the kernel (its imported modules) stays true while that count
    has not moved, and is kept here (``remember_modules`` / ``known_modules``).
    """

    def __init__(
        self,
        kernel_manager: Any,
        loop: asyncio.AbstractEventLoop,
        running: Callable[[], bool] = lambda: True,
        connecting: concurrent.futures.Executor | None = None,
    ) -> None:
        """``running()``: whether the kernel still runs (asked from a worker thread,
        twice a second): once it says no, the client closes itself. ``connecting``:
        the threads that make clients (default: the loop's)."""
        self.kernel_manager = kernel_manager
        self.loop = loop
        self.running = running
        self.connecting = connecting
        self.client: Any = None
        self.stale = False
        self.closed = False  # its websocket closed, its threads ending
        self._stop_once = threading.Lock()
        self._closing = threading.Event()
        self._waiters: dict[str, asyncio.Queue[tuple[str, dict[str, Any]]]] = {}
        self._threads: list[threading.Thread] = []
        self.session_id = ""  # our Session's id: the parent of every answer we asked for
        # requests not ours the kernel began (counted by the iopub reader thread only)
        self.activity = 0
        # (modules, time.monotonic() when asked, ``activity`` when asked)
        self._modules: tuple[frozenset[str], float, int] | None = None

    async def start(self) -> None:
        # all of it in a worker thread: making the client (traitlets, a Session clone)
        # is milliseconds of CPU, its websocket connect blocks, and so does starting
        # a thread (until the new one runs). Not the loop's own threads by default:
        # a connect waits on the gateway, and many kernels met at once would hold
        # them all while the server's other work queues behind.
        self.client = await self.loop.run_in_executor(self.connecting, self._started_client)

    def _started_client(self) -> Any:
        from jupyter_client.session import Session

        client = self.kernel_manager.client()
        old = client.session
        self.session_id = uuid.uuid4().hex
        client.session = Session(
            key=old.key,
            signature_scheme=old.signature_scheme,
            username=old.username,
            session=self.session_id,
        )
        # (the gateway client's router thread stops at a message for a channel it
        # has no queue for: stdin too, though only a job's input() would use it)
        channels = {"iopub": True, "stdin": True, "hb": False, "control": False}
        asyncio.run(client.start_channels(**channels))
        for name in ("shell", "iopub", "stdin"):
            thread = threading.Thread(
                target=self._read, args=(name, getattr(client, f"{name}_channel")), daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return client

    def _read(self, name: str, channel: Any) -> None:
        """Worker thread: hand each message to whoever waits for its parent."""
        while not self._closing.is_set():
            try:
                msg = channel.get(True, 0.5)
            except queue.Empty:
                if name != "iopub":
                    continue
                if getattr(channel, "response_router_finished", False) or not self._running():
                    # the websocket is gone, or the kernel: nothing more to read
                    self.stale = True
                    self._closing.set()
                    self._stop()
                    return
                continue
            parent_header = msg.get("parent_header") or {}
            parent = parent_header.get("msg_id")
            waiter = self._waiters.get(parent) if parent else None
            if waiter is not None:
                with contextlib.suppress(RuntimeError):  # the loop is closed
                    self.loop.call_soon_threadsafe(waiter.put_nowait, (name, msg))
            elif name == "iopub":
                if _restarted(msg):
                    self.stale = True
                elif _foreign_busy(parent_header, msg, self.session_id):
                    self.activity += 1

    def remember_modules(self, modules: frozenset[str], activity: int) -> None:
        """The kernel's imported modules, as an answer to a request sent when
        ``activity`` was what it is now or less (read it *before* sending)."""
        self._modules = (modules, time.monotonic(), activity)

    def known_modules(self, window: float) -> frozenset[str] | None:
        """The remembered modules, while less than ``window`` seconds old and the
        kernel has run nothing but our requests since they were asked for."""
        known = self._modules
        if known is None or self.stale:
            return None
        modules, asked_at, activity = known
        if activity != self.activity or time.monotonic() - asked_at >= window:
            return None
        return modules

    def expect(self, msg_id: str) -> asyncio.Queue[tuple[str, dict[str, Any]]]:
        waiter: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._waiters[msg_id] = waiter
        return waiter

    def forget(self, msg_id: str) -> None:
        self._waiters.pop(msg_id, None)

    def _running(self) -> bool:
        try:
            return bool(self.running())
        except Exception:
            return False

    def _stop(self) -> None:
        with self._stop_once:
            if self.client is not None and not self.closed:
                self.closed = True
                with contextlib.suppress(Exception):
                    self.client.stop_channels()

    def close(self) -> None:
        """Blocking (joins threads, closes the websocket): from a worker thread."""
        self._closing.set()
        self.stale = True
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()
        self._stop()


# requests that run no user code and import nothing (a websocket's connect makes the
# gateway ask for the kernel's info, of a session of its own)
_INERT = frozenset(
    {"kernel_info_request", "comm_info_request", "history_request", "is_complete_request"}
)


def _foreign_busy(parent: dict[str, Any], msg: dict[str, Any], session_id: str) -> bool:
    """Whether ``msg`` says the kernel began a request of another session that may
    run code (``parent``: its parent header)."""
    kind = msg.get("msg_type") or (msg.get("header") or {}).get("msg_type")
    if kind != "status" or (msg.get("content") or {}).get("execution_state") != "busy":
        return False
    return parent.get("session") != session_id and parent.get("msg_type") not in _INERT


def _restarted(msg: dict[str, Any]) -> bool:
    kind = msg.get("msg_type") or (msg.get("header") or {}).get("msg_type")
    state = (msg.get("content") or {}).get("execution_state")
    return kind == "status" and state in ("starting", "restarting", "dead")


class KeptClients:
    """The kept clients of the running gateway kernels (``KeptClient``), one each.

    ``get`` makes one when there is none, or when the kept one is stale (the kernel
    restarted, its websocket closed) or belongs to another manager or event loop;
    clients of kernels that are no longer running are closed on the way (and all of
    them by ``close``)."""

    def __init__(self) -> None:
        self._kept: dict[str, KeptClient] = {}
        self._starting: dict[str, asyncio.Future[KeptClient]] = {}
        self.made = 0  # clients made (the tests and the benchmark read it)
        self._connecting = concurrent.futures.ThreadPoolExecutor(
            max_workers=8, thread_name_prefix="envhelper-gateway-connect"
        )

    def current(self, kernel_id: str) -> KeptClient | None:
        return self._kept.get(kernel_id)

    async def get(self, kernels: Any, kernel_id: str) -> KeptClient:
        """The kept client of kernel ``kernel_id`` of ``kernels`` (the server's
        MultiKernelManager); ``KeyError`` when that kernel is not running."""
        loop = asyncio.get_running_loop()
        km = kernels.get_kernel(kernel_id)
        kept = self._kept.get(kernel_id)
        if kept is not None and not kept.stale and kept.kernel_manager is km and kept.loop is loop:
            return kept
        running = self._starting.get(kernel_id)
        if running is None:
            self._prune(kernels, kernel_id)
            running = asyncio.ensure_future(self._make(kernels, km, kernel_id, loop))
            self._starting[kernel_id] = running
            running.add_done_callback(lambda _f: self._starting.pop(kernel_id, None))
        return await asyncio.shield(running)

    async def _make(
        self, kernels: Any, km: Any, kernel_id: str, loop: asyncio.AbstractEventLoop
    ) -> KeptClient:
        def running() -> bool:
            return kernel_id in kernels.list_kernel_ids()

        kept = KeptClient(km, loop, running, self._connecting)
        await kept.start()
        self.made += 1
        self._kept[kernel_id] = kept
        return kept

    def _prune(self, kernels: Any, kernel_id: str) -> None:
        """Close (in a worker thread) the kept client of ``kernel_id`` and those of
        kernels that are gone."""
        try:
            running = set(kernels.list_kernel_ids())
        except Exception:
            running = set()
        for gone in [k for k in self._kept if k == kernel_id or k not in running]:
            kept = self._kept.pop(gone)
            threading.Thread(target=kept.close, daemon=True).start()

    def drop(self, kernel_id: str) -> None:
        """Forget the kept client of ``kernel_id`` (it timed out): a new one next time."""
        kept = self._kept.pop(kernel_id, None)
        if kept is not None:
            threading.Thread(target=kept.close, daemon=True).start()

    def close(self) -> None:
        """Close every kept client (blocking: at the server's shutdown)."""
        kept, self._kept = list(self._kept.values()), {}
        for one in kept:
            one._closing.set()  # all of them at once: each reader wakes within 0.5 s
        for one in kept:
            one.close()
        self._connecting.shutdown(wait=False)
        self._connecting = concurrent.futures.ThreadPoolExecutor(  # (threads when used)
            max_workers=8, thread_name_prefix="envhelper-gateway-connect"
        )


async def execute(
    kernel_manager: Any,
    code: str,
    *,
    timeout: float,
    on_stream: Callable[[str, str], None] | None = None,
    user_expressions: Mapping[str, str] | None = None,
    cancel: asyncio.Event | None = None,
    until: Callable[[], bool] | None = None,
    stdin_text: str | None = None,
    kept: KeptClient | None = None,
) -> Execution:
    """Run ``code`` in the kernel of ``kernel_manager`` (one kernel's manager).

    ``on_stream(name, text)`` gets each stream message as it arrives. Raises
    ``TimeoutError`` when the kernel is not idle again within ``timeout`` seconds
    (it may be busy with a user's cell). ``cancel`` set: the kernel is interrupted
    (the code sees ``KeyboardInterrupt``) and its answer is still read. ``until``: keep
    reading iopub after the kernel is idle until it returns true (through a gateway,
    stream messages can arrive after the idle status of their request).

    ``stdin_text``: the answer to the code's ``input()``, sent over the stdin channel
    as an ``input_reply``: how a secret (an index password) reaches the code without
    being part of it. The code of an execute request can be seen (a gateway's or a
    kernel's debug log, a kernel's history when a caller forgets ``silent``); the
    reply is read by ``input()`` and goes nowhere else.

    ``kept``: a ``KeptClient`` of this kernel to send the request on (no stdin then),
    instead of a client made and closed for this request.
    """
    if kept is not None:
        if stdin_text is not None:
            raise ValueError("a kept client does not answer input()")
        request = _request(code, user_expressions, wants_stdin=False)
        msg_id, waiter = _send_kept(kept, request)
        try:

            async def next_kept(_channel: str, wait: float) -> tuple[str, dict[str, Any]]:
                try:
                    return await asyncio.wait_for(waiter.get(), max(wait, 0.01))
                except asyncio.TimeoutError as exc:
                    raise queue.Empty from exc

            return await _collect(
                kernel_manager,
                msg_id,
                next_kept,
                timeout=timeout,
                on_stream=on_stream,
                cancel=cancel,
                until=until,
            )
        finally:
            kept.forget(msg_id)
    # jupyter_client (and zmq) only once a kernel is talked to: the command line and
    # the magic import this package too, and never need it.
    from jupyter_client.session import Session

    client = kernel_manager.client()
    # A session (and so message ids) of our own: a client shares its manager's, whose
    # ids repeat per client, and a gateway replays what it buffered for a session.
    old = client.session
    client.session = Session(
        key=old.key,
        signature_scheme=old.signature_scheme,
        username=old.username,
        session=uuid.uuid4().hex,
    )
    wants_stdin = stdin_text is not None
    gateway = is_gateway_manager(kernel_manager) or inspect.iscoroutinefunction(
        client.start_channels
    )
    channels = {"iopub": True, "stdin": wants_stdin, "hb": False, "control": False}
    if gateway:
        # a gateway's client opens its websocket with a blocking connect inside this
        # coroutine (and joins its reader thread on stop): a thread of its own, with
        # a loop of its own, keeps that off the server's event loop
        await asyncio.to_thread(asyncio.run, client.start_channels(**channels))
    else:
        started = client.start_channels(**channels)
        if inspect.isawaitable(started):
            await started
    answering: asyncio.Future[None] | None = None
    try:
        msg_id = _send(
            client, "shell", "execute_request", _request(code, user_expressions, wants_stdin)
        )
        if stdin_text is not None:
            answering = asyncio.ensure_future(_answer_input(client, msg_id, stdin_text))

        async def next_own(channel: str, wait: float) -> tuple[str, dict[str, Any]]:
            return channel, await _next(getattr(client, f"{channel}_channel"), wait)

        return await _collect(
            kernel_manager,
            msg_id,
            next_own,
            timeout=timeout,
            on_stream=on_stream,
            cancel=cancel,
            until=until,
        )
    finally:
        if answering is not None:
            answering.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await answering
        if gateway:
            await asyncio.to_thread(client.stop_channels)
        else:
            client.stop_channels()


def _request(
    code: str, user_expressions: Mapping[str, str] | None, wants_stdin: bool
) -> dict[str, Any]:
    return {
        "code": code,
        "silent": True,
        "store_history": False,
        "user_expressions": dict(user_expressions or {}),
        "allow_stdin": wants_stdin,
        "stop_on_error": True,
    }


def _send_kept(
    kept: KeptClient, content: dict[str, Any]
) -> tuple[str, asyncio.Queue[tuple[str, dict[str, Any]]]]:
    """Send an execute request on a kept client, its waiter registered first (the
    answer cannot come before it)."""
    client = kept.client
    msg = client.session.msg("execute_request", content)
    msg_id = str(msg["header"]["msg_id"])
    waiter = kept.expect(msg_id)
    msg["channel"] = "shell"
    client.shell_channel.send(msg)
    return msg_id, waiter


async def _collect(
    kernel_manager: Any,
    msg_id: str,
    next_message: Callable[[str, float], Any],
    *,
    timeout: float,
    on_stream: Callable[[str, str], None] | None,
    cancel: asyncio.Event | None,
    until: Callable[[], bool] | None,
) -> Execution:
    """Read the answer of execute request ``msg_id``: iopub until the kernel is idle
    (and ``until`` holds), and the shell reply. ``next_message(channel, wait)``: the
    next (channel, message), of that channel or of any; ``queue.Empty`` after ``wait``."""
    out = Execution(status="unknown")
    stdout: list[str] = []
    stderr: list[str] = []
    deadline = time.monotonic() + timeout
    interrupted = False
    # the kernel has begun this request: an interrupt sent before is lost (an idle
    # kernel ignores it) or stops the user's cell the request waits behind
    running = False
    idle = False
    reply: dict[str, Any] | None = None

    def done_reading() -> bool:
        return idle and (until is None or until() or out.error is not None)

    while reply is None or not done_reading():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the kernel did not answer in time")
        if cancel is not None and cancel.is_set() and running and not interrupted:
            interrupted = True
            await _interrupt(kernel_manager)
        wanted = "shell" if done_reading() else "iopub"
        try:
            channel, msg = await next_message(
                wanted, remaining if wanted == "shell" else min(remaining, 0.25)
            )
        except queue.Empty:
            continue
        if (msg.get("parent_header") or {}).get("msg_id") != msg_id:
            continue
        if channel == "shell":
            reply = msg
            continue
        if channel != "iopub":
            continue
        kind = msg.get("msg_type") or (msg.get("header") or {}).get("msg_type")
        content = msg.get("content") or {}
        running = True  # any message of this request: the kernel is at it
        if kind == "stream":
            name, text = str(content.get("name")), str(content.get("text", ""))
            (stderr if name == "stderr" else stdout).append(text)
            if on_stream is not None:
                on_stream(name, text)
        elif kind == "error":
            out.error = f"{content.get('ename')}: {content.get('evalue')}"
            out.traceback = list(content.get("traceback") or [])
        elif kind == "status" and content.get("execution_state") == "idle":
            idle = True
    content = reply.get("content") or {}
    out.status = str(content.get("status"))
    if out.status != "ok" and out.error is None:
        out.error = f"{content.get('ename')}: {content.get('evalue')}"
    out.user_expressions = dict(content.get("user_expressions") or {})
    out.stdout, out.stderr = "".join(stdout), "".join(stderr)
    return out


async def _answer_input(client: Any, msg_id: str, text: str) -> None:
    """Answer the ``input_request`` of execute request ``msg_id`` with ``text`` (once)."""
    while True:
        try:
            msg = await _next(client.stdin_channel, 0.5)
        except queue.Empty:
            continue
        kind = msg.get("msg_type") or (msg.get("header") or {}).get("msg_type")
        if kind == "input_request" and (msg.get("parent_header") or {}).get("msg_id") == msg_id:
            _send(client, "stdin", "input_reply", {"value": text}, parent=msg)
            return


def _send(
    client: Any, channel: str, msg_type: str, content: dict[str, Any], parent: Any = None
) -> str:
    """Send one message on a channel of ``client``; its id.

    Through a gateway the message says its channel itself: the gateway's websocket
    routes by that key, and one without it goes to shell *and is written to the
    gateway's log in full* (jupyter-server's ``GatewayKernelClient`` sends its own
    messages without it)."""
    msg = client.session.msg(msg_type, content, parent=parent)
    stream = getattr(client, f"{channel}_channel")
    if isinstance(stream, queue.Queue):  # the gateway's ChannelQueue
        msg["channel"] = channel
    stream.send(msg)
    return str(msg["header"]["msg_id"])


async def _interrupt(kernel_manager: Any) -> None:
    result = kernel_manager.interrupt_kernel()
    if inspect.isawaitable(result):
        await result


async def evaluate_remote(
    kernel_manager: Any,
    expressions: Mapping[str, str],
    *,
    timeout: float = 5.0,
    kept: KeptClient | None = None,
) -> dict[str, Any]:
    """``kernels.evaluate_in_kernel`` for any kernel client (a gateway's too);
    ``kept``: over that kept client of the kernel."""
    answer = await execute(
        kernel_manager, "", timeout=timeout, user_expressions=expressions, kept=kept
    )
    return expression_values(answer)


def expression_values(answer: Execution) -> dict[str, Any]:
    """The ``user_expressions`` of an answer read back (their ``repr``);
    ``RuntimeError`` when the request or one of them failed."""
    import ast

    if answer.status != "ok":
        raise RuntimeError(answer.error or "the kernel reported an error")
    values: dict[str, Any] = {}
    for key, result in answer.user_expressions.items():
        if result.get("status") != "ok":
            raise RuntimeError(f"{key}: {result.get('ename')}: {result.get('evalue')}")
        text = (result.get("data") or {}).get("text/plain", "")
        try:
            values[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError) as exc:
            raise RuntimeError(f"{key}: unreadable answer {text[:80]!r}") from exc
    return values


def spec_object(spec: Any) -> Any:
    """A kernelspec as ``target_from_spec`` reads it: the gateway's spec manager gives
    its REST model (``{"name", "spec": {argv, display_name, language, env}}``)."""
    if isinstance(spec, Mapping) and isinstance(spec.get("spec"), Mapping):
        from types import SimpleNamespace

        inner = spec["spec"]
        return SimpleNamespace(
            argv=inner.get("argv") or [],
            display_name=inner.get("display_name") or spec.get("name"),
            language=inner.get("language") or "",
            env=inner.get("env") or {},
            resource_dir="",
        )
    return spec


def kernel_name_of(kernel_manager: Any) -> str:
    """The kernelspec a running kernel was started from (a gateway's kernel manager
    keeps it in its REST model, not in ``kernel_name``)."""
    model = getattr(kernel_manager, "kernel", None)
    if isinstance(model, Mapping) and isinstance(model.get("name"), str):
        return str(model["name"])
    return str(kernel_manager.kernel_name)
