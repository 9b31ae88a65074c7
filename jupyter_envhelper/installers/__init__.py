"""Installer backends behind one interface: uv, pip, conda (``choose_backend``)."""

from __future__ import annotations

from typing import Literal

from ..environment import Environment
from ..errors import BadRequest
from .base import Backend, BackendOptions, CredentialStore, Progress, Step, redact_argv
from .conda import CondaBackend, find_conda
from .pip import PipBackend
from .uv import UvBackend, find_uv

Preference = Literal["auto", "uv", "pip", "conda"]

__all__ = [
    "Backend",
    "BackendOptions",
    "CondaBackend",
    "CredentialStore",
    "PipBackend",
    "Preference",
    "Progress",
    "Step",
    "UvBackend",
    "choose_backend",
    "find_conda",
    "find_uv",
    "redact_argv",
]


def _has_pip(env: Environment) -> bool:
    return bool((env.data.get("installers") or {}).get("pip")) or env.installed("pip") is not None


def choose_backend(
    env: Environment,
    preference: Preference = "auto",
    *,
    options: BackendOptions | None = None,
    uv_path: str | None = None,
) -> Backend:
    """The backend for ``env``: ``auto`` takes uv when found, pip otherwise.

    ``conda`` is chosen only when asked for and only for a conda environment.
    """
    if preference == "conda":
        if env.kind != "conda":
            raise BadRequest("conda can only install into a conda environment.")
        conda = find_conda(env)
        if conda is None:
            raise BadRequest("No conda or mamba was found for this conda environment.")
        return CondaBackend(env, conda, options)
    if preference in ("auto", "uv"):
        found = find_uv(uv_path, env)
        if found is not None:
            return UvBackend(env, found, options)
        if preference == "uv":
            raise BadRequest(
                "uv was asked for but not found: install the 'uv' package next to "
                "jupyter-envhelper or set its absolute path in the configuration."
            )
    if preference not in ("auto", "pip"):
        raise BadRequest(f"Unknown installer {preference!r}: use auto, uv, pip or conda.")
    if _has_pip(env):
        return PipBackend(env, options)
    raise BadRequest(
        "Neither uv nor pip is available for this Python, so nothing can be installed "
        "into it. Install the 'uv' package next to jupyter-envhelper, or run "
        "'python -m ensurepip' with this environment's Python."
    )
