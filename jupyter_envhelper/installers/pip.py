"""The pip backend: ``<interpreter> -m pip install --no-deps --no-input ... -- pins``.

The user's pip configuration files stay in force (they may hold certificates,
proxies, credentials, trusted hosts, constraints), but nothing in them or in
``PIP_*`` variables may add another *source* of files or another *target*:

- ``--index-url``/``--extra-index-url`` from the Plan are given on the command line,
  which beats configuration files and the environment for ``index-url`` (or, when a
  URL holds credentials, through ``PIP_INDEX_URL``/``PIP_EXTRA_INDEX_URL``: never argv);
- ``find-links`` and ``extra-index-url`` from configuration files are neutralised by
  ``PIP_FIND_LINKS=" "`` / ``PIP_EXTRA_INDEX_URL=" "`` (pip reads environment
  variables after configuration files and splits a blank value into an empty list;
  an empty value would be ignored), and the find-links the Plan was made with are
  given again on the command line (``Backend.policy_args``), with the constraint
  files and only/no-binary of the target's configuration;
- ``PIP_TARGET``, ``PIP_PREFIX``, ``PIP_UPGRADE``, ... are removed
  (``PIP_DROPPED_ENV``); ``PIP_USER=0`` and ``PIP_NO_INDEX=0`` override
  ``user = true`` / ``no-index = true`` (pip has no ``--no-user`` option);
- constraints (``constraint =`` or ``PIP_CONSTRAINT``) are kept on purpose: they are
  a site's policy; with ``--no-deps`` and exact pins they can only make the install
  fail (classified, reported), never change what is installed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from packaging.utils import canonicalize_name

from .base import (
    PIP_DROPPED_ENV,
    Backend,
    Progress,
    Step,
    check_name,
    check_pin,
    clean_env,
    pin_name,
)

_COLLECTING = re.compile(r"^Collecting ([A-Za-z0-9][A-Za-z0-9._-]*)")
_DOWNLOADING = re.compile(
    r"^Downloading \S+/([A-Za-z0-9][A-Za-z0-9_.]*?)-\d\S*\.(?:whl|tar\.gz|zip) "
)
_BUILDING = re.compile(r"^Building wheel for ([A-Za-z0-9][A-Za-z0-9._-]*) .*: started$")
_UNINSTALLED = re.compile(r"Successfully uninstalled ([A-Za-z0-9][A-Za-z0-9._-]*)-")


class PipBackend(Backend):
    name = "pip"

    def _env(self) -> dict[str, str]:
        env = clean_env(self.options.base_env, PIP_DROPPED_ENV)
        env["PIP_FIND_LINKS"] = " "
        env["PIP_EXTRA_INDEX_URL"] = " "
        env["PIP_USER"] = "0"
        env["PIP_NO_INDEX"] = "0"
        env["PIP_NO_INPUT"] = "1"
        return env

    def _base(self, command: str) -> list[str]:
        argv = [self.python, "-m", "pip", command]
        if command == "install":
            argv += ["--no-deps", "--no-input", "--disable-pip-version-check"]
            argv += ["--progress-bar", "off"]
        else:
            argv += ["-y", "--no-input", "--disable-pip-version-check"]
        if self.options.break_system_packages:
            argv.append("--break-system-packages")
        return argv

    def install_step(
        self, pins: Sequence[str], index_urls: Sequence[str], *, strategy: str = "first-match"
    ) -> Step:
        checked = [check_pin(p) for p in pins]
        index_args, index_env = self.index_sources(
            index_urls, ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")
        )
        policy, secret_links = self.policy_args()
        argv = [*self._base("install"), *index_args, *policy, "--", *checked]
        env = {**self._env(), **index_env}
        if secret_links:
            env["PIP_FIND_LINKS"] = " ".join(secret_links)
        names = tuple(pin_name(p) for p in checked)
        shown = (*index_env, *(["PIP_FIND_LINKS"] if secret_links else []))
        return Step(argv=argv, env=env, purpose="install", packages=names, shown_env=shown)

    def uninstall_step(self, names: Sequence[str]) -> Step:
        checked = [check_name(n) for n in names]
        argv = [*self._base("uninstall"), "--", *checked]
        packages = tuple(canonicalize_name(n) for n in checked)
        return Step(argv=argv, env=self._env(), purpose="uninstall", packages=packages)

    def parse_line(self, stream: str, line: str) -> Progress | None:
        text = line.strip()
        match = _COLLECTING.match(text)
        if match:
            return Progress(phase="downloading", package=canonicalize_name(match[1]))
        match = _DOWNLOADING.match(text)
        if match and not text.split(" ", 2)[1].endswith(".metadata"):
            name = canonicalize_name(match[1])
            return Progress(phase="downloading", package=name, file_done=name)
        match = _BUILDING.match(text)
        if match:
            name = canonicalize_name(match[1])
            return Progress(package=name, building=name)
        if text.startswith("Installing collected packages"):
            return Progress(phase="installing", all_downloaded=True)
        match = _UNINSTALLED.search(text)
        if match:
            return Progress(phase="installing", package=canonicalize_name(match[1]))
        return None
