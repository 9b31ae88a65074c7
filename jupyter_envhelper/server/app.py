"""The jupyter-server extension: configuration and wiring, nothing else.

Configure with ``c.EnvHelperApp.<trait>`` in ``jupyter_server_config.py`` (or
``--EnvHelperApp.<trait>=...`` on the command line). The traits' defaults are
``CoreConfig``'s; the command line and the magic read the same section from the same
files, so every surface runs with the server's settings.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
import threading
import time
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Enum, Float, List, Unicode

from ..core import Core, CoreConfig, build_core
from ..core.kernelspecs import KeptKernelSpecs
from ..search.catalog import Catalog
from .routes import ROUTES

_D = CoreConfig()  # the defaults


def _warm_up() -> None:
    from ..index import rawpage, ssl_context_from_env  # noqa: F401  (what a plan imports)
    from ..index.threaded import shared_context

    try:
        shared_context(ssl_context_from_env)  # the one index clients use (index/fetcher.py)
    except (OSError, ValueError) as exc:  # a bad CA setting: the first plan says so
        logging.getLogger("jupyter_envhelper").debug("envhelper: no SSL context yet: %s", exc)
    Catalog.warm_up()


class EnvHelperApp(ExtensionApp):
    name = "jupyter_envhelper"
    load_other_extensions = True

    probe_timeout = Float(
        _D.probe_timeout, config=True, help="Seconds a probe of a kernel's interpreter may take."
    )
    kernel_query_timeout = Float(
        _D.kernel_query_timeout,
        config=True,
        help="Seconds to wait for a running kernel to tell its sys.executable "
        "(a kernel busy with a long cell answers late; the kernelspec is used then).",
    )
    cache_dir = Unicode(
        _D.cache_dir,
        config=True,
        help="Where probe results are cached (default: the user cache directory).",
    )

    index_url = Unicode(
        _D.index_url,
        config=True,
        help="The package index (PEP 503/691 simple API). Empty: the one the kernel's "
        "own pip/uv configuration names, else https://pypi.org/simple/.",
    )
    extra_index_urls = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        config=True,
        help="Extra indexes. None: those of the kernel's own pip/uv configuration.",
    )
    index_strategy = Enum(
        ["auto", "first-match", "merge"],
        default_value=_D.index_strategy,
        config=True,
        help="auto: across several indexes as the kernel's own installer does (pip "
        "combines them; uv takes a project from the first index that has it); "
        "first-match: always from the first index that has the project (safe against "
        "dependency confusion); merge: files of all indexes are combined.",
    )
    index_timeout = Float(
        _D.index_timeout,
        config=True,
        help="Seconds one request to a package index may take, from connecting to its "
        "last byte (a slow-drip answer counts as not answering).",
    )
    plan_timeout = Float(
        _D.plan_timeout,
        config=True,
        help="Seconds a whole plan may take (resolving, reading the index, advice); "
        "past it the plan fails with a timeout.",
    )
    torch_backend_url = Unicode(
        _D.torch_backend_url,
        config=True,
        help="Where PyTorch's backend indexes are ({backend} becomes cpu, cu126, cu128, "
        "...): the one-click 'use this build' plans of GPU findings use it. Point it at a "
        "mirror of download.pytorch.org/whl if the machine can't reach that host.",
    )
    allow_direct_urls = Bool(
        _D.allow_direct_urls,
        config=True,
        help="Accept requirements that point at URLs (foo @ https://...). Off: only "
        "names and versions from the configured indexes.",
    )

    read_only = Bool(
        _D.read_only,
        config=True,
        help="Refuse every change (install, uninstall, undo): for shared servers where "
        "the panel should only show and plan.",
    )
    installer = Enum(
        ["auto", "uv", "pip"],
        default_value=_D.installer,
        config=True,
        help="Which installer runs jobs: uv when available (fast, works without pip), or pip.",
    )
    job_deadline = Float(
        _D.job_deadline,
        config=True,
        help="Seconds after which a job is cancelled (its whole process tree).",
    )
    history_path = Unicode(
        _D.history_path,
        config=True,
        help="The sqlite file of past jobs (default: <Jupyter data dir>/envhelper/history.sqlite).",
    )
    environments_dir = Unicode(
        _D.environments_dir,
        config=True,
        help="Where new environments (new kernels) are created (default: "
        "<Jupyter data dir>/envhelper/environments).",
    )
    allow_externally_managed = Bool(
        _D.allow_externally_managed,
        config=True,
        help="Install into PEP 668 externally managed environments (off: refused with a way out).",
    )
    break_system_packages = Bool(
        _D.break_system_packages,
        config=True,
        help="Pass --break-system-packages to pip. Only with allow_externally_managed.",
    )

    core: Core

    def core_config(self) -> CoreConfig:
        """This app's traits as the core's configuration."""
        names = [n for n in CoreConfig.__dataclass_fields__ if n != "sources"]
        settings: dict[str, Any] = {name: getattr(self, name) for name in names}
        return CoreConfig.from_settings(settings, source="c.EnvHelperApp")

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        specs: Any = self.serverapp.kernel_spec_manager
        if not inspect.iscoroutinefunction(getattr(specs, "get_kernel_spec", None)):
            specs = KeptKernelSpecs(specs)  # files: read once, not on every request
        self.core = build_core(
            self.core_config(),
            kernel_spec_manager=specs,
            kernel_manager=self.serverapp.kernel_manager,
            log=self.log,
            server_prefix=sys.prefix,  # this process: the Jupyter server's environment
        )
        # Off the loop now, not in the first requests: the SSL context every index
        # client shares (loading a CA bundle: tens of milliseconds of CPU that the first
        # plans' threads would otherwise spend while the loop serves them), and search's
        # shared structures (about a second; not on the first keystroke).
        threading.Thread(target=_warm_up, name="envhelper-warm-up", daemon=True).start()

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Once the event loop runs: start the threads of its default executor (where
        every request's CPU and disk work goes) now. A thread is started on the loop,
        which waits until it runs: on a busy machine that stalled the first requests."""
        loop = asyncio.get_running_loop()
        workers = min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default
        started = [loop.run_in_executor(None, time.sleep, 0.05) for _ in range(workers)]
        task = asyncio.ensure_future(asyncio.gather(*started))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        # the typo-squat table every plan reads (built in a worker thread, ~0.1 s of
        # CPU): now, not while the first plans are served
        self.core.catalog.prepare()

    def initialize_handlers(self) -> None:
        self.handlers.extend(ROUTES)

    async def stop_extension(self) -> None:
        await self.core.close()
