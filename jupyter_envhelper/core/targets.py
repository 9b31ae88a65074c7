"""Which environment a request is about, found once per request.

A ``Target`` names it: a kernelspec, a running kernel, an interpreter path, this
process's own interpreter (the command line's default, and the magic's only target),
or an imagined one ("Python 3.9 on macOS arm64"). ``Locator.locate`` turns it into a
``Located``: the interpreter (confirmed by the running kernel when there is one), the
environment variables it runs with, and its probed ``Environment`` (or the state
saying why there is none). Surfaces build Targets; only this module resolves them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jupyter_core.utils import ensure_async

from ..environment import Environment
from ..errors import BadRequest, NotFound, ProbeError
from ..kernels import (
    KERNEL_EXPRESSION_EXECUTABLE,
    KernelTarget,
    Resolution,
    evaluate_in_kernel,
    shell_client,
    target_from_spec,
)
from ..probe import Prober
from ..remote import KernelProber, RemoteKernel, evaluate_remote, is_gateway_manager
from ..remote.kernel import kernel_name_of, spec_object
from ..remote.probe import IMPORTED_MODULES
from .kernelspecs import LazyKernelSpecs, Unreadable, specs_on_disk

IMPORTED_MODULES_EXPRESSION = IMPORTED_MODULES  # (one expression, remote/probe.py's)
DEFAULT_SYNTHETIC_PYTHON = "3.12"
DEFAULT_SYNTHETIC_PLATFORM = "manylinux_2_28_x86_64"
REMOTE_SPEC_S = 5.0  # seconds a gateway's kernelspec is used before it is read again


@dataclass(frozen=True)
class Target:
    """Exactly one of: ``kernel`` (a kernelspec name), ``kernel_id`` (a running kernel),
    ``python`` (an interpreter path), ``synthetic`` ((python version, platform tag))."""

    kernel: str | None = None
    kernel_id: str | None = None
    python: str | None = None
    synthetic: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.kernel, self.kernel_id, self.python, self.synthetic) if v]
        if len(given) != 1:
            raise BadRequest("Give exactly one of `kernel` (a kernelspec name) or `kernel_id`.")

    @classmethod
    def this_interpreter(cls) -> Target:
        return cls(python=sys.executable)

    @classmethod
    def imagined(cls, python_version: str | None, platform: str | None) -> Target:
        return cls(
            synthetic=(
                python_version or DEFAULT_SYNTHETIC_PYTHON,
                platform or DEFAULT_SYNTHETIC_PLATFORM,
            )
        )


@dataclass
class Located:
    """A Target resolved to its interpreter and probed (or the state saying why not)."""

    target: Target
    kernel: dict[str, Any] | None  # the "kernel" part of the documents; None: no kernel
    state: str  # ok | not-python | no-interpreter | probe-failed
    reason: str | None
    detail: str | None
    env: Environment | None
    probe_env: dict[str, str]

    @property
    def kernel_name(self) -> str | None:
        return self.kernel["name"] if self.kernel else None

    def require(self) -> Environment:
        if self.env is None:
            raise ProbeError(self.reason or "No environment.", detail=self.detail)
        return self.env

    def require_prefix(self) -> str:
        """The real environment's prefix (what history and locks are keyed by)."""
        env = self.require()
        if env.synthetic_env or not env.prefix:
            raise BadRequest("An imagined environment has no history and cannot be changed.")
        return env.prefix


class Locator:
    """Kernelspecs, running kernels and interpreters, resolved and probed."""

    def __init__(
        self,
        *,
        kernel_spec_manager: Any,
        prober: Prober,
        kernel_manager: Any = None,
        kernel_query_timeout: float = 5.0,
        server_python: str = sys.executable,
        server_prefix: str | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        """``server_python``: what a bare ``python`` in a kernelspec's argv means (as
        jupyter_client starts it); ``server_prefix``: that interpreter's environment,
        so plans for it can say it is the server's own."""
        self.kernel_spec_manager = kernel_spec_manager
        self.kernel_manager = kernel_manager
        self.prober = prober
        self.kernel_query_timeout = kernel_query_timeout
        self.server_python = server_python
        self.server_prefix = server_prefix
        self.log = log or logging.getLogger("jupyter_envhelper")
        # kernel id -> (its process, its sys.executable): asked once per kernel
        # process, not on every request
        self._executables: dict[str, tuple[Any, str]] = {}
        # kernel id -> (its manager, its process, the loop, a kept shell client, one
        # query at a time): a plan asks its kernel which modules it imported, and a
        # client made and closed per question costs the event loop milliseconds
        # (kernels.shell_client)
        self._shell: dict[str, tuple[Any, Any, asyncio.AbstractEventLoop, Any, asyncio.Lock]] = {}
        self._remote_specs: dict[str, tuple[float, KernelTarget]] = {}  # a gateway's, read at
        self._reading_specs: dict[str, asyncio.Future[KernelTarget]] = {}  # (one at a time)

    # -- kernelspecs ---------------------------------------------------------------------------

    async def kernel_targets(self) -> list[KernelTarget]:
        specs = await ensure_async(self.kernel_spec_manager.get_all_specs())
        targets = []
        for name in sorted(specs):
            try:
                spec = await ensure_async(self.kernel_spec_manager.get_kernel_spec(name))
            except Exception as exc:  # a broken kernel.json must not hide the others
                self.log.warning("envhelper: cannot read kernelspec %s: %s", name, exc)
                continue
            targets.append(
                target_from_spec(name, spec_object(spec), server_python=self.server_python)
            )
        return targets

    async def kernel_target(self, name: str) -> KernelTarget:
        get_spec = self.kernel_spec_manager.get_kernel_spec
        try:
            if inspect.iscoroutinefunction(get_spec):  # a gateway's: HTTP, on the loop
                # every request about a gateway kernel needs its spec: one HTTP
                # request to the gateway per REMOTE_SPEC_S seconds, not per request,
                # and the requests that find it old meanwhile share that one
                known = self._remote_specs.get(name)
                if known is not None and time.monotonic() - known[0] < REMOTE_SPEC_S:
                    return known[1]
                reading = self._reading_specs.get(name)
                if reading is None:
                    reading = asyncio.ensure_future(self._read_remote_spec(name))
                    self._reading_specs[name] = reading
                    reading.add_done_callback(lambda _f: self._reading_specs.pop(name, None))
                return await asyncio.shield(reading)
            else:  # files: searching the kernel directories is disk work, off the loop
                spec = await asyncio.to_thread(get_spec, name)
        except Exception as exc:
            raise NotFound(
                f"There is no kernel named {name!r} here; `jupyter kernelspec list` "
                "shows the kernels there are."
            ) from exc
        return target_from_spec(name, spec_object(spec), server_python=self.server_python)

    async def _read_remote_spec(self, name: str) -> KernelTarget:
        spec = await self.kernel_spec_manager.get_kernel_spec(name)
        # (a copy of the server's environment and a look for the interpreter: off the loop)
        found = await asyncio.to_thread(
            target_from_spec, name, spec_object(spec), server_python=self.server_python
        )
        self._remote_specs[name] = (time.monotonic(), found)
        return found

    async def kernel_entry(self, target: KernelTarget) -> dict[str, Any]:
        """One row of the kernel list: the spec, its interpreter and a summary."""
        if self.is_remote(target):
            return await self._remote_entry(target)
        entry = _kernel_json(target, target.resolution)
        state, reason, detail, env = await self._probe(
            target.is_python, target.resolution, target.probe_env()
        )
        entry.update(
            state=state,
            reason=reason,
            detail=detail,
            summary=env.summary() if env is not None else None,
        )
        return entry

    # -- one target ----------------------------------------------------------------------------

    async def locate(self, target: Target, *, refresh: bool = False) -> Located:
        """The target resolved once: its interpreter (asking the kernel when it runs), probe."""
        if target.synthetic is not None:
            python_version, platform = target.synthetic
            try:
                imagined = Environment.synthetic(python_version=python_version, platform=platform)
            except ValueError as exc:
                raise BadRequest(f"Cannot imagine that target: {exc}.") from exc
            return Located(target, None, "ok", None, None, imagined, {})
        kernel_json: dict[str, Any] | None
        found = await self._spec_of(target)  # read once: remote or not, and then used
        if found is not None and self.is_remote(found[0]):
            return await self._locate_remote(target, *found, refresh=refresh)
        if target.kernel_id:
            known = found[0] if found is not None else None
            spec, resolution, kernel_json = await self._running(target.kernel_id, known)
            is_python, probe_env = spec.is_python, spec.probe_env()
        elif target.kernel:
            spec = found[0] if found is not None else await self.kernel_target(target.kernel)
            resolution, is_python, probe_env = spec.resolution, spec.is_python, spec.probe_env()
            kernel_json = _kernel_json(spec, resolution, detail=True)
        else:
            assert target.python is not None
            python = os.path.abspath(target.python)
            resolution = Resolution(python, "given interpreter")
            is_python, probe_env = True, dict(os.environ)
            kernel_json = await self._kernel_of_interpreter(python)
        state, reason, detail, env = await self._probe(
            is_python, resolution, probe_env, refresh=refresh
        )
        return Located(target, kernel_json, state, reason, detail, env, probe_env)

    async def kernel_name(self, target: Target) -> str | None:
        """The kernelspec a target is (its running kernel's spec, or the spec that starts
        its interpreter), without probing anything."""
        if target.kernel:
            return target.kernel
        if target.kernel_id and self.kernel_manager is not None:
            try:
                return kernel_name_of(self.kernel_manager.get_kernel(target.kernel_id))
            except KeyError:
                return None
        if target.python:
            found = await self._kernel_of_interpreter(os.path.abspath(target.python))
            return found["name"] if found else None
        return None

    async def imported_modules(self, kernel_id: str) -> frozenset[str] | None:
        """Top-level modules the running kernel has imported (None when it does not say)."""
        if self.kernel_manager is None:
            return None
        try:
            km = self.kernel_manager.get_kernel(kernel_id)
            expressions = {"modules": IMPORTED_MODULES_EXPRESSION}
            if is_gateway_manager(self.kernel_manager) and isinstance(self.prober, KernelProber):
                # over the kernel's kept gateway client, and from what it already knows
                # while the kernel ran nothing else (remote/probe.py, imported_modules)
                kernel = RemoteKernel(self.kernel_manager, kernel_id, asyncio.get_running_loop())
                return await self.prober.imported_modules(kernel, timeout=self.kernel_query_timeout)
            if is_gateway_manager(self.kernel_manager):
                answer = await evaluate_remote(km, expressions, timeout=self.kernel_query_timeout)
            else:
                answer = await self._ask(kernel_id, km, expressions)
        except (KeyError, TimeoutError, RuntimeError, ProbeError):
            return None
        modules = answer.get("modules")
        return frozenset(str(m) for m in modules) if isinstance(modules, list) else None

    async def probe_all(self, exclude: str | None = None) -> list[tuple[KernelTarget, Environment]]:
        """Every other Python kernel that can be probed, with its Environment."""

        async def one(spec: KernelTarget) -> tuple[KernelTarget, Environment] | None:
            if not spec.is_python or spec.interpreter is None or spec.name == exclude:
                return None
            try:
                return spec, await self.prober.probe(spec.interpreter, env=spec.probe_env())
            except ProbeError:
                return None

        found = await asyncio.gather(*(one(t) for t in await self.kernel_targets()))
        return [f for f in found if f is not None]

    # -- remote kernels (a gateway's, or an interpreter this server cannot run) ------------------

    def is_remote(self, spec: KernelTarget) -> bool:
        """Whether ``spec``'s kernels run where this server cannot run their Python: the
        server's kernels go through a gateway, or the interpreter is not a program here."""
        if not isinstance(self.prober, KernelProber) or self.kernel_manager is None:
            return False
        if is_gateway_manager(self.kernel_manager):
            return True
        interpreter = spec.interpreter
        return bool(spec.is_python and interpreter and not os.access(interpreter, os.X_OK))

    def _running_kernel_of(self, name: str) -> str | None:
        """The id of a running kernel of kernelspec ``name`` (the newest), if any."""
        if self.kernel_manager is None:
            return None
        found = None
        for kernel_id in list(self.kernel_manager.list_kernel_ids()):
            try:
                if kernel_name_of(self.kernel_manager.get_kernel(kernel_id)) == name:
                    found = kernel_id
            except KeyError:
                continue
        return found

    async def _spec_of(self, target: Target) -> tuple[KernelTarget, str | None] | None:
        """(spec, running kernel id or None) of a kernel target inside a server."""
        if self.kernel_manager is None or not (target.kernel_id or target.kernel):
            return None
        if target.kernel_id:
            try:
                name = kernel_name_of(self.kernel_manager.get_kernel(target.kernel_id))
            except KeyError:
                return None  # _running says it is gone
            return await self.kernel_target(name), target.kernel_id
        assert target.kernel is not None
        spec = await self.kernel_target(target.kernel)
        return spec, self._running_kernel_of(target.kernel) if self.is_remote(spec) else None

    async def _probe_remote(
        self, spec: KernelTarget, kernel_id: str | None, *, refresh: bool = False
    ) -> tuple[str, str | None, str | None, Environment | None]:
        if not spec.is_python:
            return "not-python", "This kernel does not run Python.", None, None
        if kernel_id is None:
            return (
                "no-interpreter",
                "This kernel runs remotely (its Python is not on this server): start it "
                "(open a notebook with it) and jupyter-envhelper asks the kernel itself.",
                None,
                None,
            )
        assert isinstance(self.prober, KernelProber)
        kernel = RemoteKernel(self.kernel_manager, kernel_id, asyncio.get_running_loop())
        try:
            env = await self.prober.probe_kernel(kernel, refresh=refresh)
        except ProbeError as exc:
            return "probe-failed", exc.message, exc.detail, None
        if env.executable:
            self.prober.register(env.executable, kernel)
        return "ok", None, None, env

    async def _remote_entry(self, spec: KernelTarget) -> dict[str, Any]:
        kernel_id = self._running_kernel_of(spec.name)
        state, reason, detail, env = await self._probe_remote(spec, kernel_id)
        resolution = Resolution(env.executable if env else None, "remote kernel")
        entry = _kernel_json(spec, resolution)
        entry.update(
            state=state,
            reason=reason,
            detail=detail,
            summary=env.summary() if env is not None else None,
            remote=True,
        )
        return entry

    async def _locate_remote(
        self, target: Target, spec: KernelTarget, kernel_id: str | None, *, refresh: bool
    ) -> Located:
        state, reason, detail, env = await self._probe_remote(spec, kernel_id, refresh=refresh)
        resolution = Resolution(env.executable if env else None, "remote kernel")
        kernel_json = _kernel_json(
            spec, resolution, detail=True, kernel_id=kernel_id, confirmed=env is not None
        )
        kernel_json["remote"] = True
        return Located(target, kernel_json, state, reason, detail, env, {})

    # -- internals -----------------------------------------------------------------------------

    async def _kernel_of_interpreter(self, python: str) -> dict[str, Any] | None:
        """The kernel part for an interpreter path: the kernelspec that starts it, if any."""
        if not self._may_be_a_kernel(python):
            return None
        for spec in await self.kernel_targets():
            if spec.interpreter and same_interpreter(spec.interpreter, python):
                return _kernel_json(spec, Resolution(python, "given interpreter"), detail=True)
        return None

    def _may_be_a_kernel(self, python: str) -> bool:
        """False when no kernelspec on disk starts ``python``, told without making a
        ``LazyKernelSpecs``' manager (a server's own manager is always asked)."""
        specs = self.kernel_spec_manager
        if not isinstance(specs, LazyKernelSpecs) or specs.loaded:
            return True
        try:
            for name, spec in specs_on_disk():
                found = target_from_spec(name, spec, server_python=self.server_python)
                if found.interpreter and same_interpreter(found.interpreter, python):
                    return True
        except (Unreadable, OSError, TypeError, ValueError, AttributeError):
            return True  # the manager decides, and says what is wrong
        return False

    async def _running(
        self, kernel_id: str, spec: KernelTarget | None = None
    ) -> tuple[KernelTarget, Resolution, dict[str, Any]]:
        if self.kernel_manager is None:
            raise NotFound("Running kernels are only known inside a Jupyter server.")
        try:
            km = self.kernel_manager.get_kernel(kernel_id)
        except KeyError as exc:
            raise NotFound(
                f"There is no running kernel with id {kernel_id!r}; it may have been shut down."
            ) from exc
        if spec is None:
            spec = await self.kernel_target(kernel_name_of(km))
        resolution = spec.resolution
        confirmed = False
        mismatch = None
        if spec.is_python:
            try:
                executable = await self._kernel_executable(kernel_id, km)
                confirmed = True
                if spec.interpreter and not same_interpreter(spec.interpreter, executable):
                    mismatch = (
                        f"The kernelspec points at {spec.interpreter}, but the running kernel "
                        f"uses {executable}. The running kernel wins."
                    )
                resolution = Resolution(executable, "running kernel")
            except (TimeoutError, RuntimeError) as exc:
                self.log.info("envhelper: kernel %s did not confirm its Python: %s", kernel_id, exc)
        kernel_json = _kernel_json(
            spec,
            resolution,
            detail=True,
            kernel_id=kernel_id,
            confirmed=confirmed,
            mismatch=mismatch,
        )
        return spec, resolution, kernel_json

    async def _kernel_executable(self, kernel_id: str, km: Any) -> str:
        # the kernel's process (a local provisioner's Popen: a restart launches another)
        process = getattr(getattr(km, "provisioner", None), "process", None)
        known = self._executables.get(kernel_id)
        if process is not None and known is not None and known[0] is process:
            return known[1]
        answer = await self._ask(kernel_id, km, {"executable": KERNEL_EXPRESSION_EXECUTABLE})
        executable = str(answer["executable"])
        if process is not None:
            running = set(self.kernel_manager.list_kernel_ids())
            for gone in [k for k in self._executables if k not in running]:
                del self._executables[gone]
            self._executables[kernel_id] = (process, executable)
        return executable

    async def _ask(self, kernel_id: str, km: Any, expressions: Mapping[str, str]) -> dict[str, Any]:
        """``evaluate_in_kernel`` over the kernel's kept shell client (a new one after a
        restart; those of kernels that are gone are closed)."""
        process = getattr(getattr(km, "provisioner", None), "process", None)
        loop = asyncio.get_running_loop()
        entry = self._shell.get(kernel_id)
        if entry is None or any(a is not b for a, b in zip(entry[:3], (km, process, loop))):
            running = set(self.kernel_manager.list_kernel_ids()) if self.kernel_manager else set()
            for gone in [k for k in self._shell if k == kernel_id or k not in running]:
                self._shell.pop(gone)[3].stop_channels()
            entry = (km, process, loop, shell_client(km), asyncio.Lock())
            self._shell[kernel_id] = entry
        async with entry[4]:
            return await evaluate_in_kernel(
                km, expressions, timeout=self.kernel_query_timeout, client=entry[3]
            )

    def close(self) -> None:
        """Close the kept kernel clients."""
        for entry in self._shell.values():
            entry[3].stop_channels()
        self._shell.clear()
        if isinstance(self.prober, KernelProber):
            self.prober.close()  # its kept gateway clients

    async def _probe(
        self,
        is_python: bool,
        resolution: Resolution,
        probe_env: Mapping[str, str],
        *,
        refresh: bool = False,
    ) -> tuple[str, str | None, str | None, Environment | None]:
        if not is_python:
            return "not-python", resolution.reason, None, None
        if resolution.interpreter is None:
            return "no-interpreter", resolution.reason, None, None
        try:
            env = await self.prober.probe(
                resolution.interpreter, env=dict(probe_env), refresh=refresh
            )
        except ProbeError as exc:
            return "probe-failed", exc.message, exc.detail, None
        return "ok", None, None, env


def _kernel_json(
    spec: KernelTarget,
    resolution: Resolution,
    *,
    detail: bool = False,
    kernel_id: str | None = None,
    confirmed: bool = False,
    mismatch: str | None = None,
) -> dict[str, Any]:
    """The "kernel" part of the documents; ``detail``: with how the interpreter was found
    (what an answer about one kernel says, not a row of the kernel list)."""
    doc: dict[str, Any] = {
        "name": spec.name,
        "display_name": spec.display_name,
        "language": spec.language,
        "interpreter": resolution.interpreter,
        "interpreter_source": resolution.source,
    }
    if detail:
        doc.update(
            kernel_id=kernel_id,
            spec_interpreter=spec.interpreter,
            confirmed_by_kernel=confirmed,
            mismatch=mismatch,
        )
    return doc


def same_interpreter(a: str, b: str) -> bool:
    """Same interpreter *and* same environment.

    Two venvs' ``bin/python`` are symlinks to one base interpreter, so ``samefile``
    alone would call them equal; the directories must match too.
    """
    if os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b)):
        return True
    try:
        return os.path.samefile(os.path.dirname(a), os.path.dirname(b)) and os.path.samefile(a, b)
    except OSError:
        return False
