"""jupyter-envhelper: see and change the environment of the kernel in front of you."""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-envhelper"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import EnvHelperApp

    return [{"module": "jupyter_envhelper", "app": EnvHelperApp}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_envhelper``: the ``%envhelp`` magic (see ``jupyter_envhelper.magic``)."""
    from .magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magic import unload_ipython_extension as unload

    unload(ipython)
