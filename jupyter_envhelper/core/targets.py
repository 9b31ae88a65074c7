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
import logging
import os
import sys
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
    target_from_spec,
)
from ..probe import Prober

IMPORTED_MODULES_EXPRESSION = (
    "sorted({m.partition('.')[0] for m in list(__import__('sys').modules) if m[:1] != '_'})"
)
DEFAULT_SYNTHETIC_PYTHON = "3.12"
DEFAULT_SYNTHETIC_PLATFORM = "manylinux_2_28_x86_64"


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
            targets.append(target_from_spec(name, spec, server_python=self.server_python))
        return targets

    async def kernel_target(self, name: str) -> KernelTarget:
        try:
            spec = await ensure_async(self.kernel_spec_manager.get_kernel_spec(name))
        except Exception as exc:
            raise NotFound(
                f"There is no kernel named {name!r} here; `jupyter kernelspec list` "
                "shows the kernels there are."
            ) from exc
        return target_from_spec(name, spec, server_python=self.server_python)

    async def kernel_entry(self, target: KernelTarget) -> dict[str, Any]:
        """One row of the kernel list: the spec, its interpreter and a summary."""
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
        if target.kernel_id:
            spec, resolution, kernel_json = await self._running(target.kernel_id)
            is_python, probe_env = spec.is_python, spec.probe_env()
        elif target.kernel:
            spec = await self.kernel_target(target.kernel)
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
                return str(self.kernel_manager.get_kernel(target.kernel_id).kernel_name)
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
            answer = await evaluate_in_kernel(
                km, {"modules": IMPORTED_MODULES_EXPRESSION}, timeout=self.kernel_query_timeout
            )
        except (KeyError, TimeoutError, RuntimeError):
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

    # -- internals -----------------------------------------------------------------------------

    async def _kernel_of_interpreter(self, python: str) -> dict[str, Any] | None:
        """The kernel part for an interpreter path: the kernelspec that starts it, if any."""
        for spec in await self.kernel_targets():
            if spec.interpreter and same_interpreter(spec.interpreter, python):
                return _kernel_json(spec, Resolution(python, "given interpreter"), detail=True)
        return None

    async def _running(self, kernel_id: str) -> tuple[KernelTarget, Resolution, dict[str, Any]]:
        if self.kernel_manager is None:
            raise NotFound("Running kernels are only known inside a Jupyter server.")
        try:
            km = self.kernel_manager.get_kernel(kernel_id)
        except KeyError as exc:
            raise NotFound(
                f"There is no running kernel with id {kernel_id!r}; it may have been shut down."
            ) from exc
        spec = await self.kernel_target(km.kernel_name)
        resolution = spec.resolution
        confirmed = False
        mismatch = None
        if spec.is_python:
            try:
                answer = await evaluate_in_kernel(
                    km,
                    {"executable": KERNEL_EXPRESSION_EXECUTABLE},
                    timeout=self.kernel_query_timeout,
                )
                executable = str(answer["executable"])
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
