"""The one composition root: ``build_core(config) -> Core``.

The server extension, the command line and the magic all call it, so each process
has one service graph: one locator and prober, one pool of index clients, one search
catalog, one job runner over the one history. Nothing is set on these objects after
they are built.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from ..remote.probe import KernelProber
from ..search.catalog import Catalog
from .board import JobBoard
from .config import CoreConfig
from .indexes import IndexPool
from .kernelspecs import LazyKernelSpecs
from .targets import Locator
from .usecases import Core

if TYPE_CHECKING:
    from ..jobs import JobRunner


def build_core(
    config: CoreConfig,
    *,
    kernel_spec_manager: Any = None,
    kernel_manager: Any = None,
    log: logging.Logger | None = None,
    server_prefix: str | None = None,
    one_shot: bool = False,
) -> Core:
    """Everything a surface needs. ``kernel_spec_manager``: the server's (default: a
    ``jupyter_client`` one over the user's kernelspecs); ``kernel_manager``: the
    server's running kernels (none outside a server); ``server_prefix``: the Jupyter
    server's ``sys.prefix`` when the core serves one, so plans for that environment
    say so (the command line and the magic know no server: None); ``one_shot``: the
    process answers one command and exits (the command line): bulk index answers are
    then read by a helper process, off this one's GIL (``index/offload.py``)."""
    log = log or logging.getLogger("jupyter_envhelper")
    if kernel_spec_manager is None:
        # jupyter_client (zmq, IPython) is imported when a kernelspec is first needed
        kernel_spec_manager = LazyKernelSpecs()
    prober = KernelProber(timeout=config.probe_timeout, cache_dir=config.resolved_cache_dir)
    locator = Locator(
        kernel_spec_manager=kernel_spec_manager,
        kernel_manager=kernel_manager,
        prober=prober,
        kernel_query_timeout=config.kernel_query_timeout,
        server_python=sys.executable,
        server_prefix=server_prefix,
        log=log,
    )

    def runner() -> JobRunner:
        # made when a job is first asked for: a command that only plans never imports it
        from ..jobs import JobConfig
        from ..remote.jobs import KernelJobRunner

        return KernelJobRunner(
            JobConfig(
                history_path=config.resolved_history_path,
                installer=config.installer,
                deadline=config.job_deadline,
                allow_externally_managed=config.allow_externally_managed,
                break_system_packages=config.break_system_packages,
                index_urls=config.configured_index_urls,
            ),
            prober=prober,
        )

    return Core(
        config=config,
        locator=locator,
        indexes=IndexPool(config, bulk_helper=one_shot),
        catalog=Catalog(),
        jobs=JobBoard(runner),
        log=log,
    )
