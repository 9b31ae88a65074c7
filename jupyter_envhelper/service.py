"""The one service object every surface talks to.

Built once from configuration (by the server extension or the command line),
it knows the kernelspecs, the running kernels (when there is a server) and the
prober, and answers the questions in JSON-ready dicts. Handlers and the CLI
stay thin adapters over it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

from jupyter_core.utils import ensure_async

from .catalog import Catalog
from .environment import Environment
from .errors import BadRequest, NotFound, ProbeError
from .index import IndexClient, resolve_index_config
from .kernels import (
    KERNEL_EXPRESSION_EXECUTABLE,
    KernelTarget,
    Resolution,
    evaluate_in_kernel,
    target_from_spec,
)
from .probing import Prober

SCHEMA = 1
IMPORTED_MODULES_EXPRESSION = (
    "sorted({m.partition('.')[0] for m in list(__import__('sys').modules) if m[:1] != '_'})"
)


@dataclass
class Located:
    """A kernel resolved to its interpreter and probed (or the state saying why not)."""

    target: KernelTarget
    kernel: dict[str, Any]  # the "kernel" part of the API documents
    state: str
    reason: str | None
    detail: str | None
    env: Environment | None

    def require(self) -> Environment:
        if self.env is None:
            raise ProbeError(self.reason or "No environment.", detail=self.detail)
        return self.env


class IndexSettings:
    """How to reach package indexes: explicit configuration, else the target's own."""

    def __init__(
        self,
        *,
        index_url: str | None = None,
        extra_index_urls: list[str] | None = None,
        strategy: str = "first-match",
        timeout: float = 15.0,
        cache_dir: str | None = None,
    ) -> None:
        self.index_url = index_url or None
        self.extra_index_urls = extra_index_urls
        self.strategy = strategy
        self.timeout = timeout
        self.cache_dir = cache_dir


class EnvHelperService:
    def __init__(
        self,
        *,
        kernel_spec_manager: Any,
        prober: Prober,
        kernel_manager: Any = None,
        kernel_query_timeout: float = 5.0,
        server_python: str = sys.executable,
        index_settings: IndexSettings | None = None,
        allow_direct_urls: bool = False,
        log: logging.Logger | None = None,
    ) -> None:
        self.kernel_spec_manager = kernel_spec_manager
        self.kernel_manager = kernel_manager
        self.prober = prober
        self.kernel_query_timeout = kernel_query_timeout
        self.server_python = server_python
        self.log = log or logging.getLogger("jupyter_envhelper")
        self.index_settings = index_settings or IndexSettings()
        self.allow_direct_urls = allow_direct_urls
        self.catalog = Catalog()
        self.installs: Any = None  # set by the server extension (jobs need a history store)
        self._index_clients: dict[tuple[Any, ...], IndexClient] = {}

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
                f"There is no kernel named {name!r} on this server. "
                "Known kernels are listed by GET /envhelper/kernels."
            ) from exc
        return target_from_spec(name, spec, server_python=self.server_python)

    # -- answers -------------------------------------------------------------------------------

    async def list_kernels(self) -> dict[str, Any]:
        targets = await self.kernel_targets()
        entries = await asyncio.gather(*(self._kernel_entry(t) for t in targets))
        return {"schema": SCHEMA, "kernels": list(entries)}

    async def _kernel_entry(self, target: KernelTarget) -> dict[str, Any]:
        entry = _kernel_json(target)
        state, reason, detail, env = await self._probe_target(target, target.resolution)
        entry.update(
            state=state,
            reason=reason,
            detail=detail,
            summary=env.summary() if env is not None else None,
        )
        return entry

    async def locate(
        self, *, kernel: str | None = None, kernel_id: str | None = None, refresh: bool = False
    ) -> Located:
        """A kernel resolved once: its interpreter (asking the kernel when it runs) and probe."""
        if bool(kernel) == bool(kernel_id):
            raise BadRequest("Give exactly one of `kernel` (a kernelspec name) or `kernel_id`.")
        kernel_json: dict[str, Any]
        if kernel_id:
            target, resolution, kernel_json = await self._running_target(kernel_id)
        else:
            assert kernel is not None
            target = await self.kernel_target(kernel)
            resolution = target.resolution
            kernel_json = _kernel_json(target)
            kernel_json.update(
                kernel_id=None,
                spec_interpreter=target.interpreter,
                confirmed_by_kernel=False,
                mismatch=None,
            )
        state, reason, detail, env = await self._probe_target(target, resolution, refresh=refresh)
        return Located(target, kernel_json, state, reason, detail, env)

    async def environment(
        self, *, kernel: str | None = None, kernel_id: str | None = None, refresh: bool = False
    ) -> dict[str, Any]:
        found = await self.locate(kernel=kernel, kernel_id=kernel_id, refresh=refresh)
        return {
            "schema": SCHEMA,
            "kernel": found.kernel,
            "state": found.state,
            "reason": found.reason,
            "detail": found.detail,
            "environment": environment_document(found.env) if found.env is not None else None,
        }

    async def resolve_target(
        self, *, kernel: str | None = None, kernel_id: str | None = None
    ) -> tuple[Environment, dict[str, str]]:
        """The Environment to change and the environment variables it is probed with.

        No kernel: this process's own interpreter (the magic and the command line).
        """
        if not kernel and not kernel_id:
            return await self.resolve_environment(), dict(os.environ)
        found = await self.locate(kernel=kernel, kernel_id=kernel_id)
        return found.require(), found.target.probe_env()

    async def target_environment(
        self, *, kernel: str | None = None, kernel_id: str | None = None
    ) -> Environment | None:
        """The kernel's Environment when one is named, else None (no target)."""
        if not kernel and not kernel_id:
            return None
        return await self.resolve_environment(kernel=kernel, kernel_id=kernel_id)

    def index_client(self, env: Environment | None) -> IndexClient:
        """One client per index configuration, reused (connections, caches)."""
        settings = self.index_settings
        config = resolve_index_config(
            (env.data.get("index") if env is not None else None) or None,
            index_url=settings.index_url,
            extra_index_urls=settings.extra_index_urls,
            strategy=settings.strategy,  # type: ignore[arg-type]
        )
        key = (config.search_order, config.strategy)
        client = self._index_clients.get(key)
        if client is None:
            client = IndexClient(
                config,
                cache_dir=os.path.join(settings.cache_dir, "http") if settings.cache_dir else None,
                timeout=settings.timeout,
            )
            self._index_clients[key] = client
        return client

    async def search(
        self, query: str, *, kernel: str | None = None, kernel_id: str | None = None
    ) -> dict[str, Any]:
        env = await self.target_environment(kernel=kernel, kernel_id=kernel_id)
        return await self.search_for(query, env)

    async def search_for(self, query: str, env: Environment | None) -> dict[str, Any]:
        return await self.catalog.search(self.index_client(env), query, env)

    async def package(
        self, name: str, *, kernel: str | None = None, kernel_id: str | None = None
    ) -> dict[str, Any]:
        env = await self.target_environment(kernel=kernel, kernel_id=kernel_id)
        return await self.package_for(name, env)

    async def package_for(self, name: str, env: Environment | None) -> dict[str, Any]:
        """Package details with each version's fit for ``env``, and a typo-squat check."""
        from .packages import package_details

        client = self.index_client(env)
        details = await package_details(client, name, env)
        details["typosquat"] = (await self.catalog.typosquat_check(client, env))(name)
        return details

    async def plan(
        self,
        requirements: list[str],
        *,
        kernel: str | None = None,
        kernel_id: str | None = None,
        allow_prereleases: bool = False,
        upgrade: bool = False,
    ) -> dict[str, Any]:
        """What installing ``requirements`` would do in the kernel's environment, and advice."""
        from .planning import make_plan
        from .validation import parse_requirements

        parse_requirements(requirements, allow_urls=self.allow_direct_urls)
        found = await self.locate(kernel=kernel, kernel_id=kernel_id)
        env = found.require()
        spec_name = found.kernel["name"]
        client = self.index_client(env)
        modules = await self.imported_modules(kernel_id) if kernel_id else None
        typosquat = await self.catalog.typosquat_check(client, env)

        async def suggest() -> list[dict[str, Any]]:
            return await self.kernel_suggestions(requirements, exclude=spec_name)

        result = await make_plan(
            requirements,
            env,
            client,
            allow_prereleases=allow_prereleases,
            upgrade=upgrade,
            kernel=spec_name,
            imported_modules=modules,
            typosquat=typosquat,
            suggest=suggest,
        )
        return {"schema": SCHEMA, "kernel": found.kernel, **result.to_json()}

    async def kernel_suggestions(
        self, requirements: list[str], *, exclude: str | None = None
    ) -> list[dict[str, Any]]:
        from .resolver import plan_install
        from .suggestions import suggest_kernels
        from .validation import parse_requirements

        parsed = parse_requirements(requirements, allow_urls=self.allow_direct_urls)
        targets = [t for t in await self.kernel_targets() if t.name != exclude]
        return await suggest_kernels(
            targets,
            parsed,
            prober=self.prober,
            client_for=self.index_client,
            planner=plan_install,
        )

    async def rescue(
        self, module: str, *, kernel: str | None = None, kernel_id: str | None = None
    ) -> dict[str, Any]:
        """After ``No module named X``: who provides X, can this kernel take it, who has it."""
        from .planning import make_plan

        top = module.strip().partition(".")[0]
        if not top.isidentifier() or len(top) > 100:
            raise BadRequest(f"{module[:60]!r} is not a module name.")
        located = await self.locate(kernel=kernel, kernel_id=kernel_id)
        env = located.require()
        spec_name = located.kernel["name"]
        here = [d for d in env.distributions.values() if top in d.top_level]
        client = self.index_client(env)
        # a rescue is worth waiting for the index's full project list
        found = await self.catalog.search(client, top, env, limit=5, wait=30.0)
        hits = [
            h
            for h in found["hits"]
            if h["match"] in ("import-name", "exact", "normalized") and h["on_index"] is not False
        ]
        chosen = hits[0] if hits else None
        elsewhere = await self._kernels_with_module(top, exclude=spec_name)
        verdict, message, fingerprint = None, None, None
        if here:
            dist = here[0]
            verdict = "installed"
            message = (
                f"{dist.name} {dist.version} provides '{top}' and is installed here: the "
                "kernel was probably started before it was installed. Restart the kernel."
            )
        elif chosen is not None:
            plan = await make_plan([chosen["name"]], env, client, kernel=spec_name)
            verdict = "ok" if plan.verdict in ("ok", "info") else plan.verdict
            fingerprint = plan.fingerprint
            worst_first = sorted(
                plan.findings, key=lambda f: {"blocker": 0, "warning": 1}.get(f.severity, 2)
            )
            if verdict == "blocker":
                message = worst_first[0].message
            elif plan.plan is not None:
                count = len(plan.plan.changes)
                message = (
                    f"This kernel can take {chosen['name']}"
                    + (f" ({count} packages)" if count > 1 else "")
                    + (f"; {worst_first[0].message}" if verdict == "warning" else ".")
                )
        else:
            message = f"No package providing '{top}' was found on the index."
        return {
            "schema": SCHEMA,
            "module": top,
            "kernel": located.kernel,
            "distribution": chosen,
            "candidates": hits[:3],
            "installed_here": [{"name": d.name, "version": d.version} for d in here],
            "verdict": verdict,
            "message": message,
            "fingerprint": fingerprint,
            "kernels_with_module": elsewhere,
        }

    async def _kernels_with_module(self, top: str, *, exclude: str | None) -> list[dict[str, Any]]:
        async def check(target: KernelTarget) -> dict[str, Any] | None:
            if not target.is_python or target.interpreter is None or target.name == exclude:
                return None
            try:
                env = await self.prober.probe(target.interpreter, env=target.probe_env())
            except ProbeError:
                return None
            dist = next((d for d in env.distributions.values() if top in d.top_level), None)
            if dist is None:
                return None
            return {
                "name": target.name,
                "display_name": target.display_name,
                "python_version": env.python_version,
                "distribution": dist.name,
                "version": dist.version,
            }

        found = await asyncio.gather(*(check(t) for t in await self.kernel_targets()))
        return [f for f in found if f is not None]

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

    async def close(self) -> None:
        for client in self._index_clients.values():
            await client.aclose()
        self._index_clients.clear()

    async def resolve_environment(
        self, *, kernel: str | None = None, kernel_id: str | None = None
    ) -> Environment:
        """The Environment of a kernel, or a ProbeError/NotFound saying why there is none."""
        found = await self.locate(kernel=kernel, kernel_id=kernel_id)
        return found.require()

    async def _running_target(
        self, kernel_id: str
    ) -> tuple[KernelTarget, Resolution, dict[str, Any]]:
        if self.kernel_manager is None:
            raise NotFound("Running kernels are only known inside a Jupyter server.")
        try:
            km = self.kernel_manager.get_kernel(kernel_id)
        except KeyError as exc:
            raise NotFound(
                f"There is no running kernel with id {kernel_id!r}; it may have been shut down."
            ) from exc
        target = await self.kernel_target(km.kernel_name)
        resolution = target.resolution
        confirmed = False
        mismatch = None
        if target.is_python:
            try:
                answer = await evaluate_in_kernel(
                    km,
                    {"executable": KERNEL_EXPRESSION_EXECUTABLE},
                    timeout=self.kernel_query_timeout,
                )
                executable = str(answer["executable"])
                confirmed = True
                if target.interpreter and not _same_file(target.interpreter, executable):
                    mismatch = (
                        f"The kernelspec points at {target.interpreter}, but the running kernel "
                        f"uses {executable}. The running kernel wins."
                    )
                resolution = Resolution(executable, "running kernel")
            except (TimeoutError, RuntimeError) as exc:
                self.log.info("envhelper: kernel %s did not confirm its Python: %s", kernel_id, exc)
        kernel_json = _kernel_json(target, resolution)
        kernel_json.update(
            kernel_id=kernel_id,
            spec_interpreter=target.interpreter,
            confirmed_by_kernel=confirmed,
            mismatch=mismatch,
        )
        return target, resolution, kernel_json

    async def _probe_target(
        self, target: KernelTarget, resolution: Resolution, *, refresh: bool = False
    ) -> tuple[str, str | None, str | None, Environment | None]:
        if not target.is_python:
            return "not-python", resolution.reason, None, None
        if resolution.interpreter is None:
            return "no-interpreter", resolution.reason, None, None
        try:
            env = await self.prober.probe(
                resolution.interpreter, env=target.probe_env(), refresh=refresh
            )
        except ProbeError as exc:
            return "probe-failed", exc.message, exc.detail, None
        return "ok", None, None, env


def environment_document(env: Environment) -> dict[str, Any]:
    """The Environment as the REST API, the panel and ``inspect --json`` show it.

    The probe's full document, plus the few facts every surface leads with, at
    the top level so that clients don't each dig them out.
    """
    doc = env.to_json()
    facts = doc.get("environment") or {}
    paths = doc.get("paths") or {}
    doc.update(
        base_prefix=paths.get("base_prefix"),
        writable=bool(facts.get("site_packages_writable")),
        externally_managed=facts.get("externally_managed"),
        package_count=len(doc.get("distributions") or []),
        gpu={"summary": env.gpu_summary()},
        elapsed_ms=env.data.get("elapsed_ms"),
    )
    return doc


def _kernel_json(target: KernelTarget, resolution: Resolution | None = None) -> dict[str, Any]:
    resolution = resolution or target.resolution
    return {
        "name": target.name,
        "display_name": target.display_name,
        "language": target.language,
        "interpreter": resolution.interpreter,
        "interpreter_source": resolution.source,
    }


def _same_file(a: str, b: str) -> bool:
    """Same interpreter *and* same environment.

    Two venvs' ``bin/python`` are symlinks to one base interpreter, so
    ``samefile`` alone would call them equal; the directories must match too.
    """
    if os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b)):
        return True
    try:
        return os.path.samefile(os.path.dirname(a), os.path.dirname(b)) and os.path.samefile(a, b)
    except OSError:
        return False
