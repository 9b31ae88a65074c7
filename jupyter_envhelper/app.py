"""The jupyter-server extension: configuration and wiring, nothing else.

Configure with ``c.EnvHelperApp.<trait>`` in ``jupyter_server_config.py`` (or
``--EnvHelperApp.<trait>=...`` on the command line).
"""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Unicode

from .probing import Prober
from .routes import ROUTES
from .service import EnvHelperService


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

    service: EnvHelperService

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        prober = Prober(timeout=self.probe_timeout, cache_dir=self.cache_dir or None)
        self.service = EnvHelperService(
            kernel_spec_manager=self.serverapp.kernel_spec_manager,
            kernel_manager=self.serverapp.kernel_manager,
            prober=prober,
            kernel_query_timeout=self.kernel_query_timeout,
            log=self.log,
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(ROUTES)
