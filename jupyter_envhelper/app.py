"""The jupyter-server extension: configuration and wiring, nothing else.

Configure with ``c.EnvHelperApp.<trait>`` in ``jupyter_server_config.py`` (or
``--EnvHelperApp.<trait>=...`` on the command line).
"""

from __future__ import annotations

import threading

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Enum, Float, List, Unicode

from .catalog import Catalog
from .probing import Prober
from .routes import ROUTES
from .service import EnvHelperService, IndexSettings


class EnvHelperApp(ExtensionApp):
    name = "jupyter_envhelper"
    load_other_extensions = True

    probe_timeout = Float(
        60.0, config=True, help="Seconds a probe of a kernel's interpreter may take."
    )
    kernel_query_timeout = Float(
        5.0,
        config=True,
        help="Seconds to wait for a running kernel to tell its sys.executable "
        "(a kernel busy with a long cell answers late; the kernelspec is used then).",
    )
    cache_dir = Unicode(
        "",
        config=True,
        help="Where probe results are cached (default: the user cache directory).",
    )

    index_url = Unicode(
        "",
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
        ["first-match", "merge"],
        default_value="first-match",
        config=True,
        help="first-match: a project is taken from the first index that has it (safe "
        "against dependency confusion); merge: files of all indexes are combined.",
    )
    index_timeout = Float(15.0, config=True, help="Seconds to wait for a package index.")
    allow_direct_urls = Bool(
        False,
        config=True,
        help="Accept requirements that point at URLs (foo @ https://...). Off: only "
        "names and versions from the configured indexes.",
    )

    read_only = Bool(
        False,
        config=True,
        help="Refuse every change (install, uninstall, undo): for shared servers where "
        "the panel should only show and plan.",
    )
    installer = Enum(
        ["auto", "uv", "pip"],
        default_value="auto",
        config=True,
        help="Which installer runs jobs: uv when available (fast, works without pip), or pip.",
    )
    job_deadline = Float(
        900.0,
        config=True,
        help="Seconds after which a job is cancelled (its whole process tree).",
    )
    history_path = Unicode(
        "",
        config=True,
        help="The sqlite file of past jobs (default: <Jupyter data dir>/envhelper/history.sqlite).",
    )
    allow_externally_managed = Bool(
        False,
        config=True,
        help="Install into PEP 668 externally managed environments (off: refused with a way out).",
    )
    break_system_packages = Bool(
        False,
        config=True,
        help="Pass --break-system-packages to pip. Only with allow_externally_managed.",
    )

    service: EnvHelperService

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        prober = Prober(timeout=self.probe_timeout, cache_dir=self.cache_dir or None)
        index_settings = IndexSettings(
            index_url=self.index_url or None,
            extra_index_urls=self.extra_index_urls,
            strategy=self.index_strategy,
            timeout=self.index_timeout,
            cache_dir=str(prober.cache_dir),
        )
        self.service = EnvHelperService(
            kernel_spec_manager=self.serverapp.kernel_spec_manager,
            kernel_manager=self.serverapp.kernel_manager,
            prober=prober,
            kernel_query_timeout=self.kernel_query_timeout,
            index_settings=index_settings,
            allow_direct_urls=self.allow_direct_urls,
            log=self.log,
        )

        from .installing import Installs, default_history_path
        from .jobs import JobConfig, JobRunner

        history = self.history_path or default_history_path()
        urls = [u for u in (self.index_url, *(self.extra_index_urls or [])) if u]
        runner = JobRunner(
            JobConfig(
                history_path=history,
                installer=self.installer,  # type: ignore[arg-type]  # Enum of the same names
                deadline=self.job_deadline,
                allow_externally_managed=self.allow_externally_managed,
                break_system_packages=self.break_system_packages,
                index_urls=tuple(urls),
            ),
            prober=prober,
        )
        self.service.installs = Installs(self.service, runner, read_only=self.read_only)
        # Search's shared structures take about a second to build: do it off the loop now,
        # not on the first keystroke.
        threading.Thread(target=Catalog.warm_up, name="envhelper-warm-up", daemon=True).start()

    def initialize_handlers(self) -> None:
        self.handlers.extend(ROUTES)

    async def stop_extension(self) -> None:
        await self.service.installs.runner.close()
        await self.service.close()
