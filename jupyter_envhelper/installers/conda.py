"""The conda/mamba backend, for conda environments whose packages come from conda.

``conda install --prefix <env> --yes --no-deps --override-channels -c <channel> -- name==ver``
and ``conda remove --prefix <env> --yes --no-deps -- names`` (mamba and micromamba take
the same arguments). Only the argv is tested here: no conda on the test machines, so
real execution is UNTESTED.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from packaging.utils import canonicalize_name

from ..environment import Environment
from ..errors import BadRequest
from .base import (
    Backend,
    BackendOptions,
    Progress,
    Step,
    check_name,
    check_pin,
    clean_env,
    is_url_pin,
    pin_name,
)


def find_conda(environment: Environment) -> str | None:
    """The conda/mamba executable the probe found for this environment (absolute path)."""
    for item in (environment.data.get("installers") or {}).get("conda") or ():
        path = item.get("path") if isinstance(item, dict) else None
        if isinstance(path, str) and os.path.isabs(path):
            return path
    return None


class CondaBackend(Backend):
    name = "conda"

    def __init__(
        self,
        environment: Environment,
        conda_path: str,
        options: BackendOptions | None = None,
        *,
        channels: Sequence[str] = (),
    ) -> None:
        super().__init__(environment, options)
        if not os.path.isabs(conda_path):
            raise ValueError("conda must be given by absolute path")
        self.conda_path = conda_path
        self.channels = list(channels)

    @property
    def prefix(self) -> str:
        prefix = self.environment.prefix
        if not prefix:
            raise BadRequest("This conda environment has no prefix to install into.")
        return prefix

    def _env(self) -> dict[str, str]:
        env = clean_env(self.options.base_env, ("CONDA_PREFIX", "CONDA_DEFAULT_ENV"))
        env["CONDA_ALWAYS_YES"] = "true"
        return env

    def install_step(
        self, pins: Sequence[str], index_urls: Sequence[str], *, strategy: str = "first-match"
    ) -> Step:
        checked = [check_pin(p) for p in pins]
        by_url = [pin_name(p) for p in checked if is_url_pin(p)]
        if by_url:
            raise BadRequest(
                f"conda cannot install {', '.join(by_url)} from a URL (a wheel named by URL "
                "is for pip or uv). Install it with the uv or pip installer, or ask for the "
                "package by name."
            )
        channels = [self.options.credentials.restore(u) for u in index_urls] or self.channels
        argv = [self.conda_path, "install", "--prefix", self.prefix, "--yes", "--no-deps"]
        if channels:
            argv.append("--override-channels")
            for channel in channels:
                argv += ["--channel", channel]
        argv += ["--", *checked]
        names = tuple(pin_name(p) for p in checked)
        return Step(argv=argv, env=self._env(), purpose="install", packages=names)

    def uninstall_step(self, names: Sequence[str]) -> Step:
        checked = [check_name(n) for n in names]
        argv = [self.conda_path, "remove", "--prefix", self.prefix, "--yes", "--no-deps"]
        argv += ["--", *checked]
        packages = tuple(canonicalize_name(n) for n in checked)
        return Step(argv=argv, env=self._env(), purpose="uninstall", packages=packages)

    def parse_line(self, stream: str, line: str) -> Progress | None:
        text = line.strip()
        if text.startswith("Downloading and Extracting Packages"):
            return Progress(phase="downloading")
        if text.startswith(("Preparing transaction", "Executing transaction")):
            return Progress(phase="installing", all_downloaded=True)
        return None
