"""The uv backend: ``<abs path to uv> pip install --python <interpreter> --no-deps ... -- pins``.

uv works in environments without pip and is fast. It is found by absolute path only:
configuration first, then the ``uv`` package installed beside the server
(``uv.find_uv_bin()``, which looks in interpreter script directories, not PATH), then a
``uv`` package inside the target environment itself. Never through PATH, so a ``uv``
dropped in a notebook directory is never run.

uv configuration files are not read (``--no-config``): the Plan names the indexes,
and a ``uv.toml`` or ``pyproject.toml`` near the server's working directory must not
add sources. What the *target's* configuration says (its pip.conf or uv.toml:
find-links, constraints, only/no-binary) is passed explicitly instead
(``Backend.policy_args``), and index credentials through ``UV_INDEX_URL`` /
``UV_EXTRA_INDEX_URL``, never argv. Proxies, certificates (``SSL_CERT_FILE``,
``UV_NATIVE_TLS``) and netrc credentials still apply through the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from packaging.utils import canonicalize_name

from ..environment import Environment
from .base import (
    UV_DROPPED_ENV,
    Backend,
    BackendOptions,
    Progress,
    Step,
    check_name,
    check_pin,
    clean_env,
    pin_name,
)


def find_uv(configured: str | None = None, environment: Environment | None = None) -> str | None:
    """Absolute path of a uv binary, or None (see the module docstring for the order)."""
    if configured:
        return configured if os.path.isabs(configured) and os.path.isfile(configured) else None
    try:
        import uv  # type: ignore[import-not-found,import-untyped,unused-ignore]

        found = str(uv.find_uv_bin())
        if os.path.isabs(found) and os.path.isfile(found):
            return found
    except (ImportError, FileNotFoundError, OSError):
        pass
    if environment is not None:
        info = (environment.data.get("installers") or {}).get("uv") or {}
        path = info.get("path")
        if info.get("source") == "package" and isinstance(path, str) and os.path.isabs(path):
            return path if os.path.isfile(path) else None
    return None


_ADDED = re.compile(r"^\s*\+\s+([A-Za-z0-9][A-Za-z0-9._-]*)==")
_BUILDING = re.compile(r"^\s*Buil(?:ding|t)\s+([A-Za-z0-9][A-Za-z0-9._-]*)")
_DOWNLOADING = re.compile(r"^\s*Download(?:ing|ed)\s+([A-Za-z0-9][A-Za-z0-9._-]*)")


class UvBackend(Backend):
    name = "uv"

    def __init__(
        self, environment: Environment, uv_path: str, options: BackendOptions | None = None
    ) -> None:
        super().__init__(environment, options)
        if not os.path.isabs(uv_path):
            raise ValueError("uv must be given by absolute path")
        self.uv_path = uv_path

    def _env(self) -> dict[str, str]:
        env = clean_env(self.options.base_env, UV_DROPPED_ENV)
        env["UV_NO_PROGRESS"] = "1"  # no bars: lines we can read
        return env

    def _common(self) -> list[str]:
        # --no-config: no uv.toml / [tool.uv] found from the working directory (a
        # notebook folder) or the user's config may add indexes or find-links.
        args = ["--python", self.python, "--no-config"]
        if self.options.break_system_packages:
            args.append("--break-system-packages")
        return args

    def install_step(
        self, pins: Sequence[str], index_urls: Sequence[str], *, strategy: str = "first-match"
    ) -> Step:
        checked = [check_pin(p) for p in pins]
        argv = [self.uv_path, "pip", "install", *self._common(), "--no-deps"]
        if strategy == "merge" and len(index_urls) > 1:
            # the plan took the best version across indexes (pip's way): uv's default
            # (the first index that has the project) could not find a pin from another
            argv += ["--index-strategy", "unsafe-best-match"]
        index_args, index_env = self.index_sources(
            index_urls, ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL")
        )
        policy, secret_links = self.policy_args()
        argv += [*index_args, *policy, "--", *checked]
        env = {**self._env(), **index_env}
        if secret_links:
            env["UV_FIND_LINKS"] = ",".join(secret_links)
        names = tuple(pin_name(p) for p in checked)
        shown = (*index_env, *(["UV_FIND_LINKS"] if secret_links else []))
        return Step(argv=argv, env=env, purpose="install", packages=names, shown_env=shown)

    def uninstall_step(self, names: Sequence[str]) -> Step:
        checked = [check_name(n) for n in names]
        argv = [self.uv_path, "pip", "uninstall", *self._common(), "--", *checked]
        packages = tuple(canonicalize_name(n) for n in checked)
        return Step(argv=argv, env=self._env(), purpose="uninstall", packages=packages)

    def parse_line(self, stream: str, line: str) -> Progress | None:
        text = line.strip()
        if text.startswith("Resolved "):
            return Progress(phase="downloading")
        if text.startswith("Prepared "):
            return Progress(phase="installing", all_downloaded=True)
        if text.startswith(("Installed ", "Uninstalled ")):
            return Progress(phase="installing")
        match = _BUILDING.match(line) or _DOWNLOADING.match(line)
        if match:
            done = text.startswith(("Built", "Downloaded"))
            name = canonicalize_name(match[1])
            building = name if text.startswith("Building ") else None
            return Progress(package=name, file_done=name if done else None, building=building)
        match = _ADDED.match(line)
        if match:
            return Progress(package=canonicalize_name(match[1]))
        return None
