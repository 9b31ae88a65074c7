"""Which indexes to ask, and how: ``IndexConfig`` and its resolution.

Precedence: explicit configuration (arguments; traitlets feed them later), then
the target environment's own installer configuration (probe data), then PyPI.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .credentials import redact_url

PYPI_SIMPLE = "https://pypi.org/simple/"
Strategy = Literal["first-match", "merge"]
STRATEGIES: tuple[Strategy, ...] = ("first-match", "merge")


@dataclass(frozen=True)
class ConstraintLine:
    """One line of a constraints file: ``torch<=2.14.1`` at ``/etc/.../c.txt`` line 2."""

    requirement: str
    file: str
    line: int
    origin: str = ""  # where the file was named, in words ("the global pip configuration")

    @property
    def where(self) -> str:
        return f"{self.file}, line {self.line}"

    def to_json(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "file": self.file,
            "line": self.line,
            "origin": self.origin,
        }


Installer = Literal["pip", "uv"]


@dataclass(frozen=True)
class InstallerSettings:
    """The target's own installer configuration, as that installer would apply it.

    Read from the probe's ``index`` section (pip: config files at every level and
    ``PIP_*``; uv: ``uv.toml`` / ``[tool.uv]`` and ``UV_*``). URLs may hold
    credentials: ``to_json`` and ``repr`` redact them. ``levels`` says, per setting,
    where it was set, in words ("the global pip configuration (/etc/xdg/pip/pip.conf)").
    """

    installer: Installer = "pip"
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    constraint_files: tuple[str, ...] = ()  # absolute paths, for the installer
    constraints: tuple[ConstraintLine, ...] = ()
    no_binary: tuple[str, ...] = ()  # canonical names, or ":all:"
    only_binary: tuple[str, ...] = ()
    prereleases: bool = False
    no_index: bool = False
    strategy: Strategy | None = None  # the installer's own, when it says
    levels: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self == InstallerSettings(installer=self.installer)

    def level(self, setting: str) -> str | None:
        return dict(self.levels).get(setting)

    def __repr__(self) -> str:
        return f"InstallerSettings({self.to_json()!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "installer": self.installer,
            "index_url": redact_url(self.index_url) if self.index_url else None,
            "extra_index_urls": [redact_url(u) for u in self.extra_index_urls],
            "find_links": [redact_url(u) for u in self.find_links],
            "constraint_files": list(self.constraint_files),
            "constraints": [c.to_json() for c in self.constraints],
            "no_binary": list(self.no_binary),
            "only_binary": list(self.only_binary),
            "prereleases": self.prereleases,
            "no_index": self.no_index,
            "strategy": self.strategy,
            "levels": dict(self.levels),
            "problems": list(self.problems),
        }


_PIP_LEVELS = {
    "global": "the global pip configuration",
    "user": "the user's pip configuration",
    "site": "the environment's own pip configuration",
    "env": "the pip configuration named by PIP_CONFIG_FILE",
}


def _pip_level(section: Mapping[str, Any], key: str) -> str | None:
    source = (section.get("sources") or {}).get(key)
    if not isinstance(source, str):
        return None
    if source.startswith("env:"):
        return f"the environment variable {source[4:]}"
    kind = (section.get("levels") or {}).get(key)
    words = _PIP_LEVELS.get(str(kind), "a pip configuration file")
    return f"{words} ({source})"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str) and v]
    return []


def _binary_names(values: Sequence[str]) -> tuple[str, ...]:
    from packaging.utils import canonicalize_name

    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()  # noqa: PLW2901
            if part in (":all:", ":none:"):
                out.append(part)
            elif part:
                out.append(canonicalize_name(part))
    if ":none:" in out:  # pip: ":none:" empties the set given so far
        out = out[len(out) - out[::-1].index(":none:") :]
    return tuple(dict.fromkeys(out))


def _constraint_lines(
    data: Any, problems: list[str], origin: str = "", level: str = ""
) -> tuple[list[ConstraintLine], list[str]]:
    lines: list[ConstraintLine] = []
    files: list[str] = []
    if not isinstance(data, Mapping):
        return lines, files
    for item in data.get("files") or []:
        if not isinstance(item, Mapping):
            continue
        path = str(item.get("path"))
        if item.get("ok"):
            files.append(path)
        else:
            problems.append(
                f"The constraints file {path}{origin} is not used: {item.get('error')}. "
                "pip would stop with an error here."
            )
    for entry in data.get("entries") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("requirement"), str):
            file, number = str(entry.get("file")), int(entry["line"])
            lines.append(ConstraintLine(entry["requirement"], file, number, level))
        elif isinstance(entry, Mapping) and isinstance(entry.get("option"), str):
            problems.append(
                f"The option {entry['option'].split()[0]!r} in the constraints file "
                f"{entry.get('file')} (line {entry.get('line')}) is not applied by "
                "jupyter-envhelper; the installer still applies it."
            )
    return lines, files


def pip_settings(section: Mapping[str, Any]) -> InstallerSettings:
    problems: list[str] = []
    levels: list[tuple[str, str]] = []
    for setting, key in (
        ("index-url", "index-url"),
        ("extra-index-url", "extra-index-url"),
        ("find-links", "find-links"),
        ("constraint", "constraint"),
        ("no-binary", "no-binary"),
        ("only-binary", "only-binary"),
        ("pre", "pre"),
        ("no-index", "no-index"),
    ):
        where = _pip_level(section, key)
        if where:
            levels.append((setting, where))
    origin = ""
    level = dict(levels).get("constraint")
    if level:
        origin = f" (set in {level})"
    constraints, files = _constraint_lines(
        section.get("constraints"), problems, origin, level or ""
    )
    top = [str(p) for p in _strings(section.get("constraint_paths"))]
    top_ok = [f for f in files if f in _absolute(top, section.get("cwd"))]
    url = section.get("index_url")
    return InstallerSettings(
        installer="pip",
        index_url=url if isinstance(url, str) and url else None,
        extra_index_urls=tuple(_strings(section.get("extra_index_urls"))),
        find_links=tuple(_strings(section.get("find_links"))),
        constraint_files=tuple(top_ok or files),
        constraints=tuple(constraints),
        no_binary=_binary_names(_strings(section.get("no_binary"))),
        only_binary=_binary_names(_strings(section.get("only_binary"))),
        prereleases=bool(section.get("pre")),
        no_index=bool(section.get("no_index")),
        strategy="merge",  # pip always merges the files of every index
        levels=tuple(levels),
        problems=tuple(problems),
    )


def _absolute(paths: Sequence[str], cwd: Any) -> set[str]:
    base = cwd if isinstance(cwd, str) else os.getcwd()
    return {os.path.normpath(os.path.join(base, os.path.expanduser(p))) for p in paths}


_UV_STRATEGIES: dict[str, Strategy] = {
    "first-index": "first-match",
    "unsafe-first-match": "first-match",
    "unsafe-best-match": "merge",
}


def _toml(text: str, path: str, problems: list[str]) -> dict[str, Any]:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"The uv configuration {path} is not valid TOML ({exc}); uv would stop.")
        return {}
    if path.endswith("pyproject.toml"):
        data = (data.get("tool") or {}).get("uv") or {}
    return data if isinstance(data, dict) else {}


def uv_settings(section: Mapping[str, Any]) -> InstallerSettings:
    """uv's settings for ``uv pip install``: ``UV_*`` over the nearest project
    ``uv.toml``/``[tool.uv]`` over the user's over the system's; within a file,
    ``[pip]`` over the top level (astral-sh/uv, crates/uv-settings)."""
    problems: list[str] = []
    levels: dict[str, str] = {}
    merged: dict[str, Any] = {}
    lists: dict[str, list[Any]] = {}
    list_keys = ("extra-index-url", "find-links", "index", "constraint-dependencies")
    origins: list[str] = []  # the file of each constraint-dependencies entry
    for item in section.get("config_files") or []:  # project, user, system: first wins
        if not isinstance(item, Mapping):
            continue
        path, kind = str(item.get("path")), str(item.get("kind"))
        data = _toml(str(item.get("text") or ""), path, problems)
        pip = data.get("pip")
        for table in (pip if isinstance(pip, dict) else {}, data):
            for key, value in table.items():
                where = f"the {kind} uv configuration ({path})"
                if key in list_keys and isinstance(value, list):
                    levels.setdefault(key, where)
                    lists.setdefault(key, []).extend(value)
                    if key == "constraint-dependencies":
                        origins += [path] * len(value)
                elif key not in merged and key != "pip":
                    merged[key] = value
                    levels.setdefault(key, where)
    env_indexes = [i.split("=", 1)[1] if "=" in i.split("://")[0] else i
                   for i in _strings(section.get("indexes"))]  # fmt: skip
    indexes: list[str] = list(env_indexes)
    default: str | None = None
    for entry in lists.get("index", []):
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            if entry.get("explicit"):
                continue  # only for packages pinned to it
            if entry.get("default"):
                default = default or entry["url"]
            else:
                indexes.append(entry["url"])
    if env_indexes:
        levels["index"] = "the environment variable UV_INDEX"
    for var, key in (("default_index", "UV_DEFAULT_INDEX"), ("index_url", "UV_INDEX_URL")):
        value = section.get(var)
        if isinstance(value, str) and value:
            default = value
            levels["index-url"] = f"the environment variable {key}"
            break
    else:
        if isinstance(merged.get("index-url"), str):
            default = merged["index-url"]
            levels["index-url"] = levels.get("index-url", "")
    extras = _strings(section.get("extra_index_urls")) or [
        u for u in lists.get("extra-index-url", []) if isinstance(u, str)
    ]
    if _strings(section.get("extra_index_urls")):
        levels["extra-index-url"] = "the environment variable UV_EXTRA_INDEX_URL"
    find_links = _strings(section.get("find_links")) or [
        u for u in lists.get("find-links", []) if isinstance(u, str)
    ]
    if _strings(section.get("find_links")):
        levels["find-links"] = "the environment variable UV_FIND_LINKS"
    by_variable = "the environment variable UV_CONSTRAINT"
    constraints, files = _constraint_lines(section.get("constraints"), problems, "", by_variable)
    if files:
        levels["constraint"] = by_variable
    for text, origin in zip(lists.get("constraint-dependencies", []), origins):
        if isinstance(text, str):  # line 0: a TOML array entry, not a file's line
            where = levels.get("constraint-dependencies", "")
            constraints.append(ConstraintLine(text, origin, 0, where))
    strategy_text = section.get("index_strategy") or merged.get("index-strategy")
    strategy = _UV_STRATEGIES.get(str(strategy_text), "first-match")
    prerelease = section.get("prerelease") or merged.get("prerelease")
    no_binary: list[str] = []
    if merged.get("no-binary") is True or section.get("no_binary"):
        no_binary.append(":all:")
    elif isinstance(merged.get("no-binary"), list):
        no_binary += [str(v) for v in merged["no-binary"]]
    no_binary += [str(v) for v in merged.get("no-binary-package") or []]
    only_binary: list[str] = []
    if merged.get("no-build") is True or section.get("no_build"):
        only_binary.append(":all:")
    elif isinstance(merged.get("only-binary"), list):
        only_binary += [str(v) for v in merged["only-binary"]]
    only_binary += [str(v) for v in merged.get("no-build-package") or []]
    return InstallerSettings(
        installer="uv",
        index_url=default,
        # uv asks UV_INDEX / [[index]] first, then extra-index-url, then the default
        extra_index_urls=tuple(dict.fromkeys([*indexes, *extras])),
        find_links=tuple(find_links),
        constraint_files=tuple(files),
        constraints=tuple(constraints),
        no_binary=_binary_names(no_binary),
        only_binary=_binary_names(only_binary),
        prereleases=prerelease == "allow",
        no_index=bool(section.get("no_index")) or merged.get("no-index") is True,
        strategy=strategy,
        levels=tuple((k, v) for k, v in levels.items() if v),
        problems=tuple(problems),
    )


def installer_settings(
    probe: Mapping[str, Any] | None, installer: Installer = "pip"
) -> InstallerSettings:
    """The effective configuration of ``installer`` in the probed target."""
    section = _section(probe, installer)
    if not section:
        return InstallerSettings(installer=installer)
    return uv_settings(section) if installer == "uv" else pip_settings(section)


def environment_installer(data: Mapping[str, Any]) -> Installer:
    """Whose configuration describes a probed target: uv for a uv-made environment
    without pip (``uv venv``), pip otherwise (what ``pip install`` in it would read)."""
    env = data.get("environment") or {}
    has_pip = bool((data.get("installers") or {}).get("pip"))
    return "uv" if env.get("kind") == "uv" and not has_pip else "pip"


@dataclass(frozen=True)
class IndexConfig:
    """Index URLs (possibly holding credentials) and the strategy across them.

    ``first-match`` (default, as uv's ``first-index``): indexes are asked in
    ``search_order`` and the first that knows the project supplies all its files,
    so a public upload cannot shadow a private package (dependency confusion).
    ``search_order`` puts extra indexes before the main one, as uv does: a private
    extra index is the one that must win. ``merge`` (pip's behaviour) combines the
    files of every index that has the project.

    ``find_links`` (local folders, ``file://`` URLs) add their files to every
    project's page, whatever the strategy (pip and uv both do). ``installer`` is the
    target's own installer configuration this was built from (constraints, binary
    policy, pre-releases), and ``overrides`` what the server's settings replaced.
    """

    index_url: str = PYPI_SIMPLE
    extra_index_urls: tuple[str, ...] = ()
    strategy: Strategy = "first-match"
    find_links: tuple[str, ...] = ()
    source: str = "default"
    warnings: tuple[str, ...] = field(default=(), compare=False)
    installer: InstallerSettings | None = None
    overrides: tuple[str, ...] = field(default=(), compare=False)
    no_index: bool = False  # find-links only (the indexes are kept for search)

    @property
    def search_order(self) -> tuple[str, ...]:
        return (*self.extra_index_urls, self.index_url)

    def __repr__(self) -> str:
        extras = ", ".join(redact_url(u) for u in self.extra_index_urls)
        return (
            f"IndexConfig(index_url={redact_url(self.index_url)!r}, "
            f"extra_index_urls=[{extras}], strategy={self.strategy!r}, source={self.source!r})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "index_url": redact_url(self.index_url),
            "extra_index_urls": [redact_url(u) for u in self.extra_index_urls],
            "find_links": [redact_url(u) for u in self.find_links],
            "strategy": self.strategy,
            "source": self.source,
            "warnings": list(self.warnings),
            "overrides": list(self.overrides),
        }


def _usable(urls: Sequence[str], warnings: list[str]) -> list[str]:
    del warnings
    return [u if u.endswith("/") else u + "/" for u in urls if u]


def _section(probe: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    value = (probe or {}).get(key)
    return value if isinstance(value, Mapping) else {}


def resolve_index_config(
    probe: Mapping[str, Any] | None = None,
    *,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] | None = None,
    strategy: Strategy | Literal["auto"] = "first-match",
    installer: Installer = "pip",
) -> IndexConfig:
    """Build the ``IndexConfig`` for one target environment.

    ``probe`` is the probe's index data: ``{"pip": {...}, "uv": {...}}``; missing keys
    are fine. The configuration of the ``installer`` the target's user installs with is
    read (``installer_settings``); an explicit ``index_url`` / ``extra_index_urls``
    replaces its indexes (and says so in ``overrides``), never its find-links or
    constraints.
    """
    if strategy not in (*STRATEGIES, "auto"):
        raise ValueError(f"unknown index strategy {strategy!r}; use one of {STRATEGIES}")
    warnings: list[str] = []
    settings = installer_settings(probe, installer)
    # "auto": across indexes as the target's own installer does (pip merges them; uv
    # takes a project from the first index that has it, unless its configuration says)
    chosen: Strategy = (settings.strategy or "first-match") if strategy == "auto" else strategy
    source = "default"
    main: str | None = None
    extras: list[str] = []
    overrides: list[str] = []
    if settings.index_url or settings.extra_index_urls:
        mains = _usable([settings.index_url or ""], warnings)
        main = mains[0] if mains else None
        extras = _usable(list(settings.extra_index_urls), warnings)
        source = f"probe:{installer}"
    if index_url is not None:
        mains = _usable([index_url], warnings)
        if settings.index_url and (mains[:1] != [main]):
            where = settings.level("index-url") or f"the {installer} configuration"
            overrides.append(f"index-url {redact_url(settings.index_url)} (from {where})")
        main, source = (mains[0] if mains else None), "config"
    if extra_index_urls is not None:
        new = _usable(list(extra_index_urls), warnings)
        if settings.extra_index_urls and new != extras:
            where = settings.level("extra-index-url") or f"the {installer} configuration"
            shown = ", ".join(redact_url(u) for u in settings.extra_index_urls)
            overrides.append(f"extra-index-url {shown} (from {where})")
        extras, source = new, "config"
    remote = [u for u in settings.find_links if u.startswith(("http:", "https:"))]
    if remote:
        warnings.append(
            "find-links pages over HTTP are not searched by jupyter-envhelper: "
            + ", ".join(redact_url(u) for u in remote)
        )
    warnings.extend(settings.problems)
    no_index = settings.no_index and index_url is None and extra_index_urls is None
    return IndexConfig(
        index_url=main or PYPI_SIMPLE,
        extra_index_urls=tuple(u for u in extras if u != main),
        strategy=chosen,
        find_links=tuple(u for u in settings.find_links if u not in remote),
        source=source,
        warnings=tuple(warnings),
        installer=settings,
        overrides=tuple(overrides),
        no_index=no_index,
    )


CA_BUNDLE_VARIABLES = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def ssl_context_from_env(env: Mapping[str, str] | None = None) -> ssl.SSLContext | bool:
    """An SSL context trusting the CA bundle named by PIP_CERT, SSL_CERT_FILE or
    REQUESTS_CA_BUNDLE (first that exists), else ``True`` (httpx's default)."""
    env = os.environ if env is None else env
    for variable in CA_BUNDLE_VARIABLES:
        path = env.get(variable)
        if path and os.path.isfile(path):
            return ssl.create_default_context(cafile=path)
        if path and os.path.isdir(path):
            return ssl.create_default_context(capath=path)
    return True


# ---------------------------------------------------------------- in words


def _place(url: str) -> str:
    from urllib.parse import urlsplit

    clean = redact_url(url)
    if clean.rstrip("/") == PYPI_SIMPLE.rstrip("/"):
        return "PyPI"
    if clean.startswith("file:"):
        return f"a local index ({clean})"
    host = urlsplit(clean).hostname or clean
    return f"the index at {host}"


def _join(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def describe_settings(settings: InstallerSettings | None, overrides: Sequence[str] = ()) -> str:
    """The effective configuration in one or two plain sentences: "Packages come from
    PyPI and a local wheel folder (/opt/wheels); capped by a constraints file
    (torch<=2.14.1) set in the global pip configuration (/etc/xdg/pip/pip.conf)."
    """
    settings = settings or InstallerSettings()
    places: list[str] = []
    if not settings.no_index:
        places += [_place(u) for u in settings.extra_index_urls]
        places.append(_place(settings.index_url or PYPI_SIMPLE))
    local = [u for u in settings.find_links if "://" not in u or u.startswith("file:")]
    remote = [u for u in settings.find_links if u not in local]
    if len(local) == 1:
        places.append(f"a local wheel folder ({local[0]})")
    elif local:
        places.append(f"{len(local)} local wheel folders ({', '.join(local)})")
    places += [f"the links page {redact_url(u)}" for u in remote]
    text = f"Packages come from {_join(places) or 'nowhere (no index, no wheel folder)'}"
    parts = [text]
    if settings.constraints:
        shown = [c.requirement for c in settings.constraints[:3]]
        more = len(settings.constraints) - len(shown)
        listed = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
        files = {c.file for c in settings.constraints}
        what = "a constraints file" if len(files) == 1 else f"{len(files)} constraints files"
        where = _join([c.origin for c in settings.constraints if c.origin])
        parts.append(f"capped by {what} ({listed})" + (f" set in {where}" if where else ""))
    if ":all:" in settings.only_binary:
        parts.append("wheels only, nothing is built from source")
    elif settings.only_binary:
        parts.append(f"wheels only for {', '.join(settings.only_binary)}")
    if ":all:" in settings.no_binary:
        parts.append("everything is built from source")
    elif settings.no_binary:
        parts.append(f"built from source: {', '.join(settings.no_binary)}")
    if settings.prereleases:
        parts.append("pre-releases allowed")
    out = "; ".join(parts) + "."
    if overrides:
        out += f" This server overrides the kernel's {settings.installer} configuration: "
        out += "; ".join(overrides) + "."
    for problem in settings.problems:
        out += " " + problem
    return out
