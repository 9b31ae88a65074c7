"""Jupyter server configuration for the browser tests (Galata).

Environment variables:

- ``ENVHELPER_TEST_INDEX_URL``: the package index the server searches (the
  tests' local index); sets ``c.EnvHelperApp.index_url``.
"""

import os

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821  (these machines run as root)
c.ServerApp.jpserver_extensions.update({"jupyter_envhelper": True})  # noqa: F821

_index_url = os.environ.get("ENVHELPER_TEST_INDEX_URL")
if _index_url:
    c.EnvHelperApp.index_url = _index_url  # noqa: F821
c.ServerApp.log_level = "WARN"  # noqa: F821
