"""What every installer backend does: argv lists for a Plan, and progress from its output.

A backend never runs anything itself: it builds ``Step``s (an argv list plus the
environment variables for it) that the job runner passes to ``process.run``, and it
reads the lines the tool prints (``parse_line``) into ``Progress`` hints. That keeps
the argv testable without running a thing, and keeps one subprocess seam.

Rules every backend keeps:

- requirement arguments are ``name==version`` pins from the Plan (``Plan.pins``), or
  ``name @ https://...`` for a wheel the user named by URL, and plain canonical names
  for removals, checked again here (``check_pin``/``check_name``) and placed after
  ``--`` so no value can ever be read as an option;
- ``--no-deps``: the Plan already resolved everything, the installer must not choose;
- index URLs come from the Plan (in its search order: extra indexes first, the main
  index last); credentials are put back from configuration (``CredentialStore``: the
  server's settings and the target's own pip/uv configuration) and never reach an
  argv (``ps`` shows argv to every local user): when an index URL holds credentials,
  all index URLs go to the process through its environment (``PIP_INDEX_URL`` /
  ``UV_INDEX_URL`` and the extra-index variables), readable by that user alone.
  Everything that is shown or logged goes through ``redact_argv`` / ``redact_url``;
- the target's own installer configuration (``InstallerSettings``: find-links,
  constraint files, only/no-binary, no-index) is passed explicitly
  (``Backend.policy_args``), so the installer takes the files the Plan was made from,
  whichever installer runs.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..environment import Environment
from ..errors import BadRequest
from ..index.config import InstallerSettings, environment_installer, installer_settings
from ..index.credentials import redact_url, split_credentials

Phase = Literal["resolving", "downloading", "building", "installing", "verifying", "done"]

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
# ``name @ http(s)://host/path``: one space either side of "@", then URL characters
# (RFC 3986) less everything a shell or an option parser could make something of:
# no whitespace, quotes, backslash, $ & ; ( ) * ` { } | < > ^.
_URL_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?) @ "
    r"(?P<url>https?://[A-Za-z0-9\-._~:/?#\[\]@!+,=%]+)$"
)


def check_name(name: str) -> str:
    """``name`` if it is a plain project name, else BadRequest (it reaches an argv)."""
    if not _NAME.fullmatch(name):
        raise BadRequest(f"{name[:60]!r} is not a package name.")
    return name


def check_pin(pin: str) -> str:
    """``name==version`` or ``name @ http(s)://host/...`` exactly (what ``Action.pin``
    makes), else BadRequest (shown redacted)."""
    if " @ " in pin:
        match = _URL_PIN.fullmatch(pin)
        if match is None or not urlsplit(match["url"]).hostname:
            raise BadRequest(
                f"{redact_url(pin)[:120]!r} is not a pin like 'name @ https://host/file.whl' "
                "(an http or https URL without spaces or shell characters)."
            )
        return pin
    name, sep, version = pin.partition("==")
    if not sep or not _NAME.fullmatch(name) or not _VERSION.fullmatch(version):
        raise BadRequest(f"{redact_url(pin)[:80]!r} is not an exact pin like 'name==1.0'.")
    try:
        Version(version)  # PEP 440, so the installer reads the pin as the Plan meant it
    except InvalidVersion:
        raise BadRequest(f"{pin[:80]!r} does not pin a PEP 440 version.") from None
    return pin


def is_url_pin(pin: str) -> bool:
    """True for a ``name @ URL`` pin (checked or not)."""
    return " @ " in pin


def pin_name(pin: str) -> str:
    """The canonical project name of a pin of either form."""
    name = pin.split(" @ ", 1)[0] if is_url_pin(pin) else pin.partition("==")[0]
    return canonicalize_name(name.strip())


@dataclass(frozen=True)
class CredentialStore:
    """Index URLs as configured (possibly with ``user:password@``), found by their clean URL.

    Plans carry clean URLs only; the installer needs the credentials back.
    """

    urls: tuple[str, ...] = ()

    def restore(self, url: str) -> str:
        clean = _slash(split_credentials(url)[0])
        for configured in self.urls:
            if _slash(split_credentials(configured)[0]) == clean:
                return configured
        return url

    def __repr__(self) -> str:
        return f"CredentialStore({[redact_url(u) for u in self.urls]!r})"


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def redact_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` with credentials in every URL replaced by ``***``: the only form we log."""
    return [redact_url(a) for a in argv]


@dataclass(frozen=True)
class Step:
    """One command of a job: what to run, with which environment, and what it is for."""

    argv: list[str]
    env: dict[str, str]
    purpose: Literal["install", "uninstall"]
    packages: tuple[str, ...] = ()
    shown_env: tuple[str, ...] = ()  # variables that name sources, shown before argv

    @property
    def display_argv(self) -> list[str]:
        """What the log shows: ``NAME=value`` of ``shown_env``, then argv, redacted."""
        shown = [f"{k}={self.env[k]}" for k in self.shown_env if k in self.env]
        return redact_argv([*shown, *self.argv])

    def __repr__(self) -> str:  # never show credentials, not even in a traceback
        return f"Step({self.display_argv!r}, purpose={self.purpose!r})"


@dataclass
class Progress:
    """What one output line tells: a phase change, a package, bytes, a finished file."""

    phase: Phase | None = None
    package: str | None = None
    file_done: str | None = None  # canonical name of a package whose download finished
    all_downloaded: bool = False
    building: str | None = None  # canonical name of a package whose build from source began


@dataclass(frozen=True)
class BackendOptions:
    """Configuration a backend needs (from the runner's configuration)."""

    credentials: CredentialStore = field(default_factory=CredentialStore)
    break_system_packages: bool = False
    base_env: Mapping[str, str] | None = None  # default: os.environ


#: Variables that would make an installer install something other than the Plan, or
#: somewhere else. They are removed from the installer's environment; the user's config
#: files (mirrors, certificates, proxies, credentials) are kept.
PIP_DROPPED_ENV = (
    "PIP_FIND_LINKS",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_NO_INDEX",
    "PIP_REQUIREMENT",
    "PIP_TARGET",
    "PIP_PREFIX",
    "PIP_ROOT",
    "PIP_UPGRADE",
    "PIP_UPGRADE_STRATEGY",
    "PIP_FORCE_REINSTALL",
    "PIP_BREAK_SYSTEM_PACKAGES",
    "PIP_REQUIRE_VIRTUALENV",
    "PIP_EDITABLE",
    "PIP_SRC",
    "PIP_PYTHON",
)
UV_DROPPED_ENV = (
    "UV_FIND_LINKS",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_NO_INDEX",
    "UV_OVERRIDE",
    "UV_TARGET",
    "UV_PREFIX",
    "UV_SYSTEM_PYTHON",
    "UV_PYTHON",
    "UV_BREAK_SYSTEM_PACKAGES",
    "UV_OFFLINE",
    "UV_REINSTALL",
    "UV_UPGRADE",
    "UV_NO_DEPS",
    "UV_EXCLUDE_NEWER",
    "UV_TORCH_BACKEND",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
)


def clean_env(base: Mapping[str, str] | None, dropped: Iterable[str]) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for key in dropped:
        env.pop(key, None)
    env.pop("PYTHONSTARTUP", None)
    env["PYTHONIOENCODING"] = "utf-8"
    env.setdefault("NO_COLOR", "1")
    return env


class Backend(ABC):
    """One installer (uv, pip, conda) for one target environment."""

    name: str = "backend"

    def __init__(self, environment: Environment, options: BackendOptions | None = None) -> None:
        self.environment = environment
        self.options = options or BackendOptions()

    @property
    def python(self) -> str:
        exe = self.environment.executable
        if not exe:
            raise BadRequest("This environment has no interpreter to install into.")
        return exe

    @property
    def settings(self) -> InstallerSettings:
        """The target's own installer configuration (what the Plan was made with)."""
        data = self.environment.data
        return installer_settings(data.get("index") or None, environment_installer(data))

    def credential_store(self) -> CredentialStore:
        """Configured URLs with their credentials: the server's, then the target's."""
        settings = self.settings
        own = [u for u in (settings.index_url, *settings.extra_index_urls) if u]
        return CredentialStore((*self.options.credentials.urls, *own, *settings.find_links))

    def index_sources(
        self, index_urls: Sequence[str], variables: tuple[str, str]
    ) -> tuple[list[str], dict[str, str]]:
        """argv and environment naming the indexes of ``index_urls`` (search order:
        extras first, the main index last), with credentials restored.

        Without credentials: ``--extra-index-url`` per extra, then ``--index-url``.
        With any: nothing on argv; ``variables`` (main, extras) carry them instead.
        """
        store = self.credential_store()
        real = [store.restore(u) for u in index_urls]
        if not real:
            return [], {}
        main, extras = real[-1], real[:-1]
        if any(split_credentials(u)[1] is not None for u in real):
            env = {variables[0]: main}
            if extras:
                env[variables[1]] = " ".join(extras)
            return [], env
        args: list[str] = []
        for url in extras:
            args += ["--extra-index-url", url]
        return [*args, "--index-url", main], {}

    def policy_args(self) -> tuple[list[str], list[str]]:
        """(argv for find-links, constraints, binary formats, no-index; find-links that
        hold credentials, for the environment) from the target's configuration."""
        settings = self.settings
        store = self.credential_store()
        args: list[str] = []
        secret_links: list[str] = []
        for link in settings.find_links:
            real = store.restore(link) if "://" in link else link
            if split_credentials(real)[1] is not None:
                secret_links.append(real)
            else:
                args += ["--find-links", real]
        for path in settings.constraint_files:
            args += ["--constraint", path]
        for name in settings.only_binary:
            args += ["--only-binary", name]
        for name in settings.no_binary:
            args += ["--no-binary", name]
        if settings.no_index:
            args.append("--no-index")
        return args, secret_links

    @abstractmethod
    def install_step(
        self, pins: Sequence[str], index_urls: Sequence[str], *, strategy: str = "first-match"
    ) -> Step:
        """Install exactly ``pins`` (``name==version`` or ``name @ URL``), nothing else,
        taking files across ``index_urls`` by ``strategy``, as the plan did."""

    @abstractmethod
    def uninstall_step(self, names: Sequence[str]) -> Step:
        """Remove the distributions ``names``."""

    @abstractmethod
    def parse_line(self, stream: str, line: str) -> Progress | None:
        """What a line of the tool's output says about progress (None: nothing)."""
