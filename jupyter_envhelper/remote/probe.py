"""The probe, run *inside* a kernel the server cannot reach by path (a gateway's).

``KernelProber`` is a ``Prober`` that also knows remote interpreters: the Locator
registers each one it met through a running kernel (``register``), and from then on
``probe``/``probe_sync``/``rescan_sync`` of that interpreter send the stdlib-only
probe script to the kernel as an execute request and read the document from iopub.
Local interpreters are probed exactly as before.

The cache of remote probes is keyed by environment identity (host name and
interpreter path, as the kernel reports them) and is valid while the stat signature
of the interpreter, of its distribution directories and of the installer
configuration files the probe read (or looked for), taken *in the kernel*, is
unchanged (as the local cache watches them): a cached answer costs one round trip
with a few ``os.stat`` calls (``user_expressions``, nothing printed), instead of a
run of the whole probe. Many
kernels of one environment (many users of one image) share one entry.

That check is made at most once per ``fresh_s`` seconds (``FRESH_S``, 5 s) per
environment, and concurrent requests share one: within that window an answer is
served from the cache without asking the kernel. Our own jobs invalidate the entry
when they end, so an install through the server is seen at once; a change made
behind our back (``%pip install`` in a cell) is seen by the first request after the
window has passed.

Through a gateway, each kernel is asked over one kept client (``KeptClients``):
making a gateway client per question costs the event loop milliseconds.

A plan also asks its kernel which modules it has imported (the restart advice).
Through a gateway that answer rides along with the questions asked anyway (the
kernel's identity when it is first met, each signature check), and is reused for
``fresh_s`` seconds as long as the kept client has seen the kernel run nothing but
our own requests (``KeptClient.activity``: a user's cell, a completion or another
client's request each start with a ``busy`` status of another session). Without it,
every plan would cost each kernel (and the gateway, and the server's event loop) one
more execute request.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..environment import SCHEMA, Environment
from ..errors import ProbeError
from ..probe import Prober
from ..probe.prober import PROBE_SCRIPT
from .kernel import (
    MARK,
    Execution,
    KeptClient,
    KeptClients,
    evaluate_remote,
    execute,
    expression_values,
    is_gateway_manager,
    isolated,
)

# Computed in the kernel: which paths to stat (the probe's own answer says where).
_WATCHED = """
def _envhelper_watched(doc):
    p = doc.get("paths") or {}
    out = [doc["interpreter"].get("executable")]
    for key in ("purelib", "platlib", "user_site"):
        out.append(p.get(key))
    out.extend(p.get("distribution_dirs") or ())
    # the installer configuration files the probe looked at (existing or not) and the
    # constraint files they name, as probe/prober.py's _config_paths watches them
    for sec in (doc.get("index") or {}).values():
        if not isinstance(sec, dict):
            continue
        for item in sec.get("config_files") or ():
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                out.append(item["path"])
        cons = sec.get("constraints") or {}
        for item in (cons.get("files") or ()) if isinstance(cons, dict) else ():
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                out.append(item["path"])
    seen = []
    for x in out:
        if x and x not in seen:
            seen.append(x)
    return seen
"""
_SIG = (
    "[[q, s.st_mtime_ns, s.st_size] if s is not None else [q, None] for q, s in "
    "((q, (lambda q: __import__('os').stat(q) if __import__('os').path.exists(q) else None)(q))"
    " for q in {paths!r})]"
)
_IDENTITY = {
    "executable": "__import__('sys').executable",
    "host": "__import__('socket').gethostname()",
}
# the top-level modules a kernel has imported (what the restart advice reads)
IMPORTED_MODULES = (
    "sorted({m.partition('.')[0] for m in list(__import__('sys').modules) if m[:1] != '_'})"
)


def _probe_code() -> str:
    tail = (
        _WATCHED
        + "_d = probe()\n"
        + "_w = _envhelper_watched(_d)\n"
        + "_s = "
        + _SIG.replace("{paths!r}", "_w")
        + "\n"
        + "import socket as _so\n"
        + f"sys.stdout.write({MARK!r} + to_json({{'doc': _d, 'signature': _s, "
        + "'host': _so.gethostname()}) + '\\n')\n"
        + "sys.stdout.flush()\n"
    )
    return isolated(PROBE_SCRIPT.read_text(encoding="utf-8") + "\n" + tail, "<envhelper-probe>")


@dataclass
class RemoteKernel:
    """How to reach one running kernel: the server's kernel manager and its id."""

    kernel_manager: Any  # the server's MultiKernelManager (local or gateway)
    kernel_id: str
    loop: asyncio.AbstractEventLoop

    def manager(self) -> Any:
        return self.kernel_manager.get_kernel(self.kernel_id)


FRESH_S = 5.0  # seconds a remote probe is served without checking its signature


@dataclass
class _RemoteEntry:
    signature: list[Any]
    probed_at: float
    environment: Environment
    checked_at: float = 0.0  # time.monotonic() of its last signature check (or probe)


class KernelProber(Prober):
    """A ``Prober`` that probes registered remote interpreters through their kernel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._remote: dict[str, RemoteKernel] = {}  # interpreter -> the kernel to ask
        self._remote_cache: dict[tuple[str, str], _RemoteEntry] = {}  # (host, python)
        self._remote_guard = threading.Lock()
        self._remote_inflight: dict[tuple[str, str], asyncio.Future[Environment]] = {}
        self._identities: dict[str, tuple[str, str]] = {}  # kernel id -> (host, python)
        # Kernels running one of our jobs: they answer nothing else until it ends, and
        # the job holds the environment's lock, so their cached probe is what is known.
        self.busy: set[str] = set()
        self.remote_probes = 0  # full probes run in kernels (the benchmark reads it)
        self.remote_checks = 0  # signature checks run in kernels
        self.fresh_s = FRESH_S
        self._checking: dict[tuple[str, str], asyncio.Future[bool]] = {}
        self._asking_modules: dict[str, asyncio.Future[frozenset[str] | None]] = {}
        self.module_questions = 0  # execute requests sent only to ask for the modules
        # one kept client per running gateway kernel (remote/kernel.py)
        self.clients = KeptClients()

    # ------------------------------------------------------------ registry

    def register(self, python: str, kernel: RemoteKernel) -> None:
        """``python`` lives where ``kernel`` runs: probe it there from now on."""
        with self._remote_guard:
            self._remote[python] = kernel

    def remote_kernel(self, python: str | None) -> RemoteKernel | None:
        if not python:
            return None
        with self._remote_guard:
            return self._remote.get(python)

    # ------------------------------------------------------------ Prober interface

    async def probe(
        self, python: str, env: Mapping[str, str] | None = None, *, refresh: bool = False
    ) -> Environment:
        kernel = self.remote_kernel(python)
        if kernel is None:
            return await super().probe(python, env, refresh=refresh)
        return await self.probe_kernel(kernel, refresh=refresh)

    def probe_sync(
        self, python: str, env: Mapping[str, str] | None = None, *, refresh: bool = False
    ) -> Environment:
        kernel = self.remote_kernel(python)
        if kernel is None:
            return super().probe_sync(python, env, refresh=refresh)
        # (the job runner's check before a job: always against the kernel's stat
        # signature, never from the freshness window)
        return self._on_loop(kernel, refresh=refresh, window=False)

    def rescan_sync(self, python: str, previous: Environment, *, since: float) -> Environment:
        kernel = self.remote_kernel(python)
        if kernel is None:
            return super().rescan_sync(python, previous, since=since)
        return self._on_loop(kernel, refresh=True, window=False)

    def invalidate(self, python: str | None = None) -> None:
        with self._remote_guard:
            for key in [k for k in self._remote_cache if python is None or k[1] == python]:
                del self._remote_cache[key]
        super().invalidate(python)

    # ------------------------------------------------------------ through the kernel

    async def run(
        self,
        kernel: RemoteKernel,
        code: str,
        *,
        timeout: float,
        user_expressions: Mapping[str, str] | None = None,
        on_stream: Any = None,
        until: Any = None,
    ) -> Execution:
        """``execute`` in ``kernel``, over its kept client when it is a gateway's."""
        if not is_gateway_manager(kernel.kernel_manager):
            return await execute(
                kernel.manager(),
                code,
                timeout=timeout,
                user_expressions=user_expressions,
                on_stream=on_stream,
                until=until,
            )
        kept = await self.clients.get(kernel.kernel_manager, kernel.kernel_id)
        activity = kept.activity  # read before the request goes out (see _remember)
        try:
            answer = await execute(
                kept.kernel_manager,
                code,
                timeout=timeout,
                user_expressions=user_expressions,
                on_stream=on_stream,
                until=until,
                kept=kept,
            )
        except TimeoutError:
            # (a busy kernel, most likely; a new client next time costs little)
            self.clients.drop(kernel.kernel_id)
            raise
        if (user_expressions or {}).get("modules") == IMPORTED_MODULES:
            _remember(kept, answer, activity)
        return answer

    async def evaluate(
        self, kernel: RemoteKernel, expressions: Mapping[str, str], *, timeout: float
    ) -> dict[str, Any]:
        """``evaluate_remote`` in ``kernel``, over its kept client when it is a gateway's."""
        if not is_gateway_manager(kernel.kernel_manager):
            return await evaluate_remote(kernel.manager(), expressions, timeout=timeout)
        answer = await self.run(kernel, "", timeout=timeout, user_expressions=expressions)
        return expression_values(answer)

    async def imported_modules(
        self, kernel: RemoteKernel, *, timeout: float
    ) -> frozenset[str] | None:
        """The top-level modules ``kernel`` has imported (None: it did not say).

        Through a gateway, the kept client's answer while it holds (see the module's
        docstring); requests that want it meanwhile share one question."""
        if not is_gateway_manager(kernel.kernel_manager):
            values = await self.evaluate(kernel, {"modules": IMPORTED_MODULES}, timeout=timeout)
            return _modules(values.get("modules"))
        kept = await self.clients.get(kernel.kernel_manager, kernel.kernel_id)
        known = kept.known_modules(self.fresh_s)
        if known is not None:
            return known
        running = self._asking_modules.get(kernel.kernel_id)
        if running is None:
            running = asyncio.ensure_future(self._ask_modules(kernel, timeout))
            kernel_id = kernel.kernel_id
            self._asking_modules[kernel_id] = running
            running.add_done_callback(lambda _f: self._asking_modules.pop(kernel_id, None))
        return await asyncio.shield(running)

    async def _ask_modules(self, kernel: RemoteKernel, timeout: float) -> frozenset[str] | None:
        self.module_questions += 1
        values = await self.evaluate(kernel, {"modules": IMPORTED_MODULES}, timeout=timeout)
        return _modules(values.get("modules"))

    def close(self) -> None:
        """Close the kept kernel clients."""
        self.clients.close()

    def _on_loop(self, kernel: RemoteKernel, *, refresh: bool, window: bool) -> Environment:
        """From a worker thread: run the kernel exchange on the server's loop."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is kernel.loop:
            raise RuntimeError("probe_sync of a remote kernel called on the event loop")
        future = asyncio.run_coroutine_threadsafe(
            self.probe_kernel(kernel, refresh=refresh, window=window), kernel.loop
        )
        return future.result(self.timeout + 5)

    async def identity(self, kernel: RemoteKernel) -> tuple[str, str]:
        """(host, interpreter) of a running kernel: one silent round trip (which
        brings the kernel's imported modules along, through a gateway)."""
        answer = await self.run(
            kernel, "", timeout=self.timeout, user_expressions=self._with_modules(kernel, _IDENTITY)
        )
        values = _literal({k: v for k, v in answer.user_expressions.items() if k != "modules"})
        return str(values["host"]), str(values["executable"])

    def _with_modules(self, kernel: RemoteKernel, expressions: Mapping[str, str]) -> dict[str, str]:
        """``expressions``, and the imported modules when ``kernel`` is a gateway's
        whose kept client does not know them now (``run`` remembers the answer)."""
        out = dict(expressions)
        if is_gateway_manager(kernel.kernel_manager):
            kept = self.clients.current(kernel.kernel_id)
            if kept is None or kept.known_modules(self.fresh_s) is None:
                out["modules"] = IMPORTED_MODULES
        return out

    async def probe_kernel(
        self, kernel: RemoteKernel, *, refresh: bool = False, window: bool = True
    ) -> Environment:
        """The Environment of a running kernel's interpreter, probed in the kernel.
        ``window``: an entry checked less than ``fresh_s`` ago is served unchecked."""
        key = self._identities.get(kernel.kernel_id)
        if key is None or refresh:
            key = await self.identity(kernel)
            self._identities[kernel.kernel_id] = key
        entry = self._remote_cache.get(key)
        if entry is not None and not refresh:
            if kernel.kernel_id in self.busy:
                return entry.environment
            if window and time.monotonic() - entry.checked_at < self.fresh_s:
                return entry.environment
            if await self._unchanged(kernel, key, entry):
                return entry.environment
        running = self._remote_inflight.get(key)
        if running is None:
            running = asyncio.ensure_future(self._full_probe(kernel, key))
            self._remote_inflight[key] = running
            running.add_done_callback(lambda _f: self._remote_inflight.pop(key, None))
        return await asyncio.shield(running)

    async def _unchanged(
        self, kernel: RemoteKernel, key: tuple[str, str], entry: _RemoteEntry
    ) -> bool:
        """Whether ``entry``'s stat signature still holds, asked in ``kernel``; the
        requests that want it meanwhile share one question."""
        running = self._checking.get(key)
        if running is None:
            running = asyncio.ensure_future(self._check(kernel, entry))
            self._checking[key] = running
            running.add_done_callback(lambda _f: self._checking.pop(key, None))
        return await asyncio.shield(running)

    async def _check(self, kernel: RemoteKernel, entry: _RemoteEntry) -> bool:
        started = time.monotonic()
        paths = [s[0] for s in entry.signature]
        expressions = self._with_modules(kernel, {"sig": _SIG.format(paths=paths)})
        answer = await self.run(kernel, "", timeout=self.timeout, user_expressions=expressions)
        self.remote_checks += 1
        sig = {k: v for k, v in answer.user_expressions.items() if k == "sig"}
        if _literal(sig).get("sig") != entry.signature:
            return False
        entry.checked_at = started
        return True

    async def _full_probe(self, kernel: RemoteKernel, key: tuple[str, str]) -> Environment:
        try:
            seen: list[str] = []
            started = time.monotonic()
            answer = await self.run(
                kernel,
                _probe_code(),
                timeout=self.timeout,
                on_stream=lambda name, text: seen.append(text) if name == "stdout" else None,
                until=lambda: _report_done("".join(seen)),
            )
        except TimeoutError as exc:
            raise ProbeError(
                f"The kernel did not answer within {self.timeout:g} s; it may be busy "
                "running a cell. Try again when it is idle."
            ) from exc
        self.remote_probes += 1
        if answer.status != "ok":
            raise ProbeError(
                f"The probe failed inside the kernel: {answer.error}.",
                detail="\n".join(answer.traceback)[-2000:] or None,
            )
        for line in reversed(answer.marked_lines()):
            try:
                report = json.loads(line)
            except ValueError:
                continue
            doc = report.get("doc") or {}
            if doc.get("schema") != SCHEMA:
                raise ProbeError(
                    "The kernel answered with a report this version of jupyter-envhelper "
                    f"does not understand (schema {doc.get('schema')!r})."
                )
            environment = Environment.from_probe(doc)
            python = environment.executable or key[1]
            entry = _RemoteEntry(
                report.get("signature") or [], time.time(), environment, checked_at=started
            )
            with self._remote_guard:
                self._remote_cache[(str(report.get("host") or key[0]), python)] = entry
                self._remote_cache[key] = entry
                self._remote.setdefault(python, kernel)
            return environment
        raise ProbeError(
            "The kernel ran the probe but did not print its report.",
            detail=(answer.stderr or answer.stdout)[-2000:] or None,
        )


def _modules(value: Any) -> frozenset[str] | None:
    return frozenset(str(m) for m in value) if isinstance(value, list) else None


def _remember(kept: KeptClient, answer: Execution, activity: int) -> None:
    """Keep the imported modules an answer brought (``IMPORTED_MODULES``) on ``kept``."""
    result = answer.user_expressions.get("modules")
    if answer.status != "ok" or not isinstance(result, Mapping) or result.get("status") != "ok":
        return
    try:
        modules = _modules(_literal({"modules": result})["modules"])
    except ProbeError:
        return
    if modules is not None:
        kept.remember_modules(modules, activity)


def _report_done(stdout: str) -> bool:
    """Whether the probe's report line has arrived whole."""
    start = stdout.rfind(MARK + "{")
    return start >= 0 and stdout.endswith("\n")


def _literal(expressions: Mapping[str, Any]) -> dict[str, Any]:
    """``user_expressions`` results read back (their ``repr``)."""
    import ast

    values: dict[str, Any] = {}
    for name, result in expressions.items():
        if result.get("status") != "ok":
            raise ProbeError(f"The kernel could not evaluate {name}: {result.get('evalue')}.")
        text = (result.get("data") or {}).get("text/plain", "")
        try:
            values[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError) as exc:
            raise ProbeError(
                f"The kernel's answer for {name} is unreadable: {text[:80]!r}"
            ) from exc
    return values
