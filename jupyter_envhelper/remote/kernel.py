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
import contextlib
import inspect
import queue
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
    """
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
        request: dict[str, Any] = {
            "code": code,
            "silent": True,
            "store_history": False,
            "user_expressions": dict(user_expressions or {}),
            "allow_stdin": wants_stdin,
            "stop_on_error": True,
        }
        msg_id = _send(client, "shell", "execute_request", request)
        if stdin_text is not None:
            answering = asyncio.ensure_future(_answer_input(client, msg_id, stdin_text))
        out = Execution(status="unknown")
        stdout: list[str] = []
        stderr: list[str] = []
        deadline = time.monotonic() + timeout
        interrupted = False
        # the kernel has begun this request: an interrupt sent before is lost (an idle
        # kernel ignores it) or stops the user's cell the request waits behind
        running = False
        idle = False
        while not (idle and (until is None or until() or out.error is not None)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the kernel did not answer in time")
            if cancel is not None and cancel.is_set() and running and not interrupted:
                interrupted = True
                await _interrupt(kernel_manager)
            try:
                msg = await _next(client.iopub_channel, min(remaining, 0.25))
            except queue.Empty:
                continue
            if (msg.get("parent_header") or {}).get("msg_id") != msg_id:
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
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the kernel did not answer in time")
            try:
                reply = await _next(client.shell_channel, remaining)
            except queue.Empty:
                continue
            if (reply.get("parent_header") or {}).get("msg_id") == msg_id:
                break
        content = reply.get("content") or {}
        out.status = str(content.get("status"))
        if out.status != "ok" and out.error is None:
            out.error = f"{content.get('ename')}: {content.get('evalue')}"
        out.user_expressions = dict(content.get("user_expressions") or {})
        out.stdout, out.stderr = "".join(stdout), "".join(stderr)
        return out
    finally:
        if answering is not None:
            answering.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await answering
        if gateway:
            await asyncio.to_thread(client.stop_channels)
        else:
            client.stop_channels()


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
    kernel_manager: Any, expressions: Mapping[str, str], *, timeout: float = 5.0
) -> dict[str, Any]:
    """``kernels.evaluate_in_kernel`` for any kernel client (a gateway's too)."""
    import ast

    answer = await execute(kernel_manager, "", timeout=timeout, user_expressions=expressions)
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
