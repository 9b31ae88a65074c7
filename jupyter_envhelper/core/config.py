"""Every setting of jupyter-envhelper, in one place, with its default.

The server extension's traits (``c.EnvHelperApp.<name>``) take their defaults from
here and are turned into a ``CoreConfig``; the command line and the magic read the
same ``c.EnvHelperApp`` section from the user's Jupyter configuration files
(``CoreConfig.from_jupyter_config``), so all three surfaces plan, install and record
with the same settings: the same history, the same indexes, the same policy.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import BadRequest

log = logging.getLogger("jupyter_envhelper")

SECTION = "EnvHelperApp"  # the configuration section, as the server extension names it
Installer = Literal["auto", "uv", "pip"]
Strategy = Literal["auto", "first-match", "merge"]


@dataclass(frozen=True)
class CoreConfig:
    """How the one core behaves; field names are the ``c.EnvHelperApp`` trait names."""

    probe_timeout: float = 60.0
    kernel_query_timeout: float = 5.0
    cache_dir: str = ""  # probe and HTTP caches; "" = the user cache directory
    index_url: str = ""  # "" = the target's own pip/uv configuration, else PyPI
    extra_index_urls: tuple[str, ...] | None = None  # None = the target's own
    index_strategy: Strategy = "auto"  # as the target's installer does
    index_timeout: float = 15.0  # one request to an index, first byte to last
    plan_timeout: float = 120.0  # a whole plan: resolving, reading the index, advice
    # where PyTorch's backend indexes are; {backend} is one of gpu_facts.TORCH_BACKENDS
    torch_backend_url: str = "https://download.pytorch.org/whl/{backend}/"
    allow_direct_urls: bool = False
    read_only: bool = False
    installer: Installer = "auto"
    job_deadline: float = 900.0
    history_path: str = ""  # "" = <Jupyter data dir>/envhelper/history.sqlite
    environments_dir: str = ""  # new environments; "" = <Jupyter data dir>/envhelper/environments
    allow_externally_managed: bool = False
    break_system_packages: bool = False
    # where the values came from, for error messages and `inspect`; not a setting
    sources: tuple[str, ...] = field(default=(), compare=False)

    # -- derived ---------------------------------------------------------------------------

    @property
    def resolved_cache_dir(self) -> Path:
        from ..probe import default_cache_dir

        return Path(self.cache_dir) if self.cache_dir else default_cache_dir()

    @property
    def resolved_history_path(self) -> str:
        if self.history_path:
            return self.history_path
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "envhelper", "history.sqlite")

    @property
    def resolved_environments_dir(self) -> str:
        if self.environments_dir:
            return os.path.abspath(os.path.expanduser(self.environments_dir))
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "envhelper", "environments")

    @property
    def configured_index_urls(self) -> tuple[str, ...]:
        """The explicitly configured index URLs, with any credentials they carry."""
        return tuple(u for u in (self.index_url, *(self.extra_index_urls or ())) if u)

    # -- building --------------------------------------------------------------------------

    def replace(self, **changes: Any) -> CoreConfig:
        """A copy with ``changes`` (validated like configuration); ``None`` values are
        ignored, so command-line flags that were not given change nothing."""
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **_validated(given))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], *, source: str = "") -> CoreConfig:
        """From ``c.EnvHelperApp``-shaped settings; unknown names are logged and ignored."""
        known = {f.name for f in dataclasses.fields(cls)} - {"sources"}
        unknown = sorted(set(settings) - known)
        if unknown:
            log.warning("envhelper: unknown settings ignored: %s", ", ".join(unknown))
        given = {k: v for k, v in settings.items() if k in known}
        return cls(**_validated(given), sources=(source,) if source else ())

    @classmethod
    def from_jupyter_config(cls, paths: list[str] | None = None) -> CoreConfig:
        """The ``c.EnvHelperApp`` section of the user's Jupyter configuration files.

        The server reads the same files (``jupyter_config``, ``jupyter_server_config``,
        ``jupyter_jupyter_envhelper_config``, ``.py`` and ``.json``, and the
        ``jupyter_server_config.d/*.json`` fragments) in every ``jupyter --paths``
        config directory; the first directory wins, as it does for the server.
        A file that cannot be read is logged and skipped, as the server does.
        """
        from jupyter_core.paths import jupyter_config_path

        settings: dict[str, Any] = {}
        sources: list[str] = []
        for directory in reversed(paths if paths is not None else jupyter_config_path()):
            for path in _config_files(Path(directory)):
                section = _read_section(path)
                if section:
                    settings.update(section)
                    sources.append(str(path))
        config = cls.from_settings(settings)
        return dataclasses.replace(config, sources=tuple(sources))


_BASENAMES = ("jupyter_config", "jupyter_server_config", "jupyter_jupyter_envhelper_config")


def _config_files(directory: Path) -> list[Path]:
    """The files of one config directory, lowest priority first (later ones win)."""
    files: list[Path] = []
    fragments = directory / "jupyter_server_config.d"
    if fragments.is_dir():
        files.extend(sorted(fragments.glob("*.json")))
    for base in _BASENAMES:
        for suffix in (".py", ".json"):
            path = directory / f"{base}{suffix}"
            if path.is_file():
                files.append(path)
    return files


def _read_section(path: Path) -> dict[str, Any]:
    loaded: Mapping[str, Any]
    try:
        if path.suffix == ".py":
            from traitlets.config.loader import PyFileConfigLoader

            loaded = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
        else:  # as traitlets' JSON loader reads it, without importing traitlets (~25 ms)
            loaded = _json_config(path)
    except Exception as exc:  # a broken config file must not stop the command line
        log.warning("envhelper: cannot read %s: %s", path, exc)
        return {}
    section = loaded.get(SECTION) if SECTION in loaded else None
    return dict(section) if section else {}


def _json_config(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} does not hold a JSON object")
    version = data.pop("version", 1)
    if version != 1:
        raise ValueError(f"Unknown version of JSON config file: {version}")
    return data


_FLOATS = {
    "probe_timeout",
    "kernel_query_timeout",
    "index_timeout",
    "plan_timeout",
    "job_deadline",
}
_BOOLS = {"allow_direct_urls", "read_only", "allow_externally_managed", "break_system_packages"}
_STRINGS = {"cache_dir", "index_url", "history_path", "torch_backend_url", "environments_dir"}
_CHOICES: dict[str, tuple[str, ...]] = {
    "installer": ("auto", "uv", "pip"),
    "index_strategy": ("auto", "first-match", "merge"),
}


_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")


def _looks_like_index_tree(path: str) -> bool:
    """A PEP 503 tree on disk: a root ``index.html``, or a project folder holding an
    ``index.html`` or distribution files (the first one found is enough)."""
    if os.path.isfile(os.path.join(path, "index.html")):
        return True
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if not entry.is_dir(follow_symlinks=True):
                    continue
                try:
                    names = os.listdir(entry.path)
                except OSError:
                    continue
                if "index.html" in names or any(n.endswith(_DIST_SUFFIXES) for n in names):
                    return True
    except OSError:
        return False
    return False


def index_url_problem(url: str, where: str) -> BadRequest | None:
    """Why ``url`` cannot be a package index, or None: an http(s) URL with a host, or a
    ``file://`` URL of a PEP 503 tree on disk. Anything else (``file:///etc``, a bare
    path, another scheme, a typo) is an error naming it, never quietly replaced by
    PyPI."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    from ..index.credentials import redact_url

    shown = f"{redact_url(url)[:200]!r} ({where})"
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is not None and parts.scheme in ("http", "https") and host:
        return None
    if parts is not None and parts.scheme == "file":
        path = url2pathname(parts.path)
        if not os.path.isdir(path):
            return BadRequest(f"{shown} is not a package index: there is no folder {path}.")
        if not _looks_like_index_tree(path):
            return BadRequest(
                f"{shown} is not a package index: {path} has no project folders (with an "
                "index.html or wheels and sdists in them), as a PEP 503 tree on disk has."
            )
        return None
    return BadRequest(
        f"{shown} is not a package index jupyter-envhelper can read: give the http(s) "
        "URL of a Simple API index, like https://pypi.org/simple/, or the file:// URL of "
        "one on disk."
    )


def _validated(given: Mapping[str, Any]) -> dict[str, Any]:
    """Each value checked and converted to its field's type, or BadRequest naming it."""
    out: dict[str, Any] = {}
    for name, value in given.items():
        where = f"c.{SECTION}.{name}"
        if name in _FLOATS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise BadRequest(f"{where} must be a positive number of seconds, not {value!r}.")
            out[name] = float(value)
        elif name in _BOOLS:
            if not isinstance(value, bool):
                raise BadRequest(f"{where} must be True or False, not {value!r}.")
            out[name] = value
        elif name in _STRINGS:
            if not isinstance(value, str):
                raise BadRequest(f"{where} must be a string, not {value!r}.")
            problem = index_url_problem(value, where) if name == "index_url" and value else None
            if problem is not None:
                raise problem
            if name == "torch_backend_url" and (
                "{backend}" not in value or not value.startswith(("https://", "http://"))
            ):
                raise BadRequest(
                    f"{where} must be an http(s) URL with {{backend}} where the backend name "
                    f"goes, like https://download.pytorch.org/whl/{{backend}}/, not {value!r}."
                )
            out[name] = value
        elif name in _CHOICES:
            if value not in _CHOICES[name]:
                choices = ", ".join(_CHOICES[name])
                raise BadRequest(f"{where} must be one of {choices}, not {value!r}.")
            out[name] = value
        elif name == "extra_index_urls":
            if value is not None and (
                isinstance(value, str) or not all(isinstance(u, str) for u in value)
            ):
                raise BadRequest(f"{where} must be a list of URLs, not {value!r}.")
            for url in value or ():
                problem = index_url_problem(url, where)
                if problem is not None:
                    raise problem
            out[name] = tuple(value) if value is not None else None
        else:
            out[name] = value
    return out
