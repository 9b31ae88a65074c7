"""Write an environment down: pinned requirements with hashes, a PEP 751 lock, or a
conda ``environment.yml``, so that another machine (or next month) gets the same set.

Jupyter-free: an ``Environment`` (what is installed) and an ``IndexClient`` (which files
the index offers for each installed release, with their hashes) in, text out. What an
index cannot reproduce (editable installs, direct URLs, local folders, releases the
index does not have) is written as a comment saying so, never silently dropped.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .._version import __version__
from ..environment import Distribution, Environment
from ..errors import BadRequest, EnvHelperError, NotFound
from ..index import DistributionFile, IndexClient, redact_url

Format = Literal["requirements", "pylock", "environment-yml"]
FORMATS: tuple[Format, ...] = ("requirements", "pylock", "environment-yml")
FILENAMES = {
    "requirements": "requirements.txt",
    "pylock": "pylock.toml",
    "environment-yml": "environment.yml",
}
# Never part of an export: the installers themselves, as `pip freeze` leaves them out.
TOOLING = frozenset({"pip", "setuptools", "wheel", "distribute", "uv"})


@dataclass
class Pinned:
    """One installed distribution and what the index offers for its release."""

    dist: Distribution
    files: list[DistributionFile] = field(default_factory=list)
    index_url: str | None = None
    problem: str | None = None  # why it cannot be reproduced from an index

    @property
    def name(self) -> str:
        return self.dist.canonical_name


@dataclass
class Export:
    format: Format
    filename: str
    content: str
    packages: int
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "filename": self.filename,
            "content": self.content,
            "packages": self.packages,
            "notes": list(self.notes),
        }


def chosen(
    env: Environment, *, only_requested: bool, requested: Iterable[str] = ()
) -> list[Distribution]:
    """The distributions to write down: all but the installers' own, or only those the
    user asked for.

    "Asked for" is: named in one of the project's recorded installs, or marked by a
    ``REQUESTED`` file and needed by no other installed distribution. (pip writes
    ``REQUESTED`` only for what was named on its command line; uv writes it for every
    package it installs, so the file alone would keep every dependency.)
    """
    asked = {canonicalize_name(n) for n in requested}
    needed = _needed_by_others(env)
    return [
        d
        for key, d in sorted(env.distributions.items())
        if key not in TOOLING
        and (not only_requested or key in asked or (d.requested and key not in needed))
    ]


def _needed_by_others(env: Environment) -> set[str]:
    from packaging.requirements import InvalidRequirement, Requirement

    markers = {**env.markers, "extra": ""}
    needed: set[str] = set()
    for key, dist in env.distributions.items():
        for text in dist.requires:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is None or req.marker.evaluate(markers):
                name = canonicalize_name(req.name)
                if name != key:
                    needed.add(name)
    return needed


async def pin_all(client: IndexClient, dists: Sequence[Distribution]) -> list[Pinned]:
    """Each distribution with its release's files on the index (in parallel)."""

    async def one(dist: Distribution) -> Pinned:
        pinned = Pinned(dist)
        if dist.editable:
            pinned.problem = "installed in editable mode from a local folder"
            return pinned
        if dist.direct_url:
            url = dist.direct_url.get("url")
            pinned.problem = f"installed from {redact_url(str(url)) if url else 'a direct URL'}"
            return pinned
        try:
            version = Version(dist.version)
            page = await client.get_project(dist.name)
        except InvalidVersion:
            pinned.problem = f"its version {dist.version!r} is not a valid version"
            return pinned
        except NotFound:
            pinned.problem = "the index has no project of that name"
            return pinned
        except EnvHelperError as exc:
            pinned.problem = f"the index could not be read ({exc.message})"
            return pinned
        pinned.files = [f for f in page.files if f.version == version and f.sha256]
        if not pinned.files:
            pinned.problem = f"the index has no file of version {dist.version} with a hash"
        else:
            pinned.index_url = pinned.files[0].index_url
        return pinned

    return list(await asyncio.gather(*(one(d) for d in dists)))


def requirements_text(
    env: Environment, pinned: Sequence[Pinned], *, complete: bool = True
) -> tuple[str, list[str]]:
    """``name==version`` with every ``--hash`` the index offers: ``pip install
    --require-hashes -r`` installs exactly this set, or nothing. Not ``complete`` (only
    what was asked for): pins without hashes, dependencies resolved at install time."""
    how = (
        "#   pip install --require-hashes --no-deps -r requirements.txt"
        if complete
        else "#   pip install -r requirements.txt   (what was asked for; dependencies resolve then)"
    )
    lines = [
        f"# The environment of {env.executable} (Python {env.python_version}),",
        f"# written by jupyter-envhelper {__version__}. Install with",
        how,
    ]
    notes: list[str] = []
    indexes = sorted({p.index_url for p in pinned if p.index_url})
    if indexes and indexes != ["https://pypi.org/simple/"]:
        lines.append(f"--index-url {redact_url(indexes[0])}")
        lines.extend(f"--extra-index-url {redact_url(u)}" for u in indexes[1:])
    for p in pinned:
        if p.problem is not None:
            notes.append(f"{p.dist.name} {p.dist.version}: {p.problem}")
            lines.append(
                f"# {p.dist.name}=={p.dist.version}: not reproducible from an index, {p.problem}"
            )
            continue
        if not complete:
            lines.append(f"{p.dist.name}=={p.dist.version}")
            continue
        hashes = sorted({f.sha256 for f in p.files if f.sha256})
        lines.append(f"{p.dist.name}=={p.dist.version} \\")
        lines.extend(f"    --hash=sha256:{h} \\" for h in hashes[:-1])
        lines.append(f"    --hash=sha256:{hashes[-1]}")
    return "\n".join(lines) + "\n", notes


def pylock_text(env: Environment, pinned: Sequence[Pinned]) -> tuple[str, list[str]]:
    """A PEP 751 ``pylock.toml``: every package with its index, wheels and sdist (with
    hashes), for the kernel's marker environment (recorded in ``environments``)."""
    import tomli_w

    markers = env.markers
    environment = " and ".join(
        f'{key} == "{markers[key]}"'
        for key in (
            "sys_platform",
            "platform_machine",
            "implementation_name",
            "python_full_version",
        )
        if key in markers
    )
    notes: list[str] = []
    packages: list[dict[str, Any]] = []
    for p in pinned:
        if p.problem is not None:
            notes.append(f"{p.dist.name} {p.dist.version}: {p.problem}")
            continue
        entry: dict[str, Any] = {"name": p.name, "version": p.dist.version}
        if p.index_url:
            entry["index"] = redact_url(p.index_url)
        wheels = [f for f in p.files if f.kind == "wheel"]
        sdists = [f for f in p.files if f.kind == "sdist"]
        if sdists:
            entry["sdist"] = _file_entry(sdists[0])
        if wheels:
            entry["wheels"] = [_file_entry(f) for f in wheels]
        packages.append(entry)
    doc: dict[str, Any] = {
        "lock-version": "1.0",
        "environments": [environment] if environment else [],
        "requires-python": f"=={env.python_version}",
        "created-by": "jupyter-envhelper",
        "packages": packages,
        "tool": {
            "jupyter-envhelper": {
                "version": __version__,  # no timestamp: the same set gives the same file
                "markers": dict(markers),
                "not-reproducible": notes,
            }
        },
    }
    return tomli_w.dumps(doc), notes


def _file_entry(file: DistributionFile) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": file.filename,
        "url": redact_url(file.url.split("#", 1)[0]),
        "hashes": {"sha256": file.sha256},
    }
    if file.size is not None:
        entry["size"] = file.size
    if file.upload_time is not None:
        entry["upload-time"] = file.upload_time
    return entry


def environment_yml_text(env: Environment, pinned: Sequence[Pinned]) -> tuple[str, list[str]]:
    """A conda ``environment.yml``: the conda packages (from ``conda-meta``) with their
    channels, and what pip/uv installed in a ``pip:`` section with hashes' pins."""
    meta = os.path.join(env.prefix or "", "conda-meta")
    if not env.prefix or not os.path.isdir(meta):
        raise BadRequest(
            "This is not a conda environment (it has no conda-meta folder): export it as "
            "requirements or pylock instead."
        )
    conda, channels = _conda_packages(meta)
    conda_names = {canonicalize_name(n) for n, _, _ in conda}
    notes: list[str] = []
    pip_lines: list[str] = []
    for p in pinned:
        if p.name in conda_names or (p.dist.installer or "").strip() == "conda":
            continue
        if p.problem is not None:
            notes.append(f"{p.dist.name} {p.dist.version}: {p.problem}")
            continue
        pip_lines.append(f"{p.dist.name}=={p.dist.version}")
    name = os.path.basename(env.prefix.rstrip(os.sep)) or "env"
    lines = [f"name: {json.dumps(name)}", "channels:"]
    lines.extend(f"  - {c}" for c in channels or ["conda-forge"])
    lines.append("dependencies:")
    lines.extend(f"  - {n}={v}={b}" if b else f"  - {n}={v}" for n, v, b in conda)
    if pip_lines:
        lines.append("  - pip:")
        lines.extend(f"      - {line}" for line in pip_lines)
    for note in notes:
        lines.append(f"# not reproducible: {note}")
    return "\n".join(lines) + "\n", notes


def _conda_packages(meta: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    packages: list[tuple[str, str, str]] = []
    channels: list[str] = []
    for entry in sorted(os.listdir(meta)):
        if not entry.endswith(".json"):
            continue
        try:
            with open(os.path.join(meta, entry), encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            continue
        name, version = record.get("name"), record.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        packages.append((name, version, str(record.get("build") or "")))
        channel = _channel_name(str(record.get("channel") or ""), str(record.get("subdir") or ""))
        if channel and channel not in channels:
            channels.append(channel)
    return packages, channels


_SUBDIR = re.compile(r"^(noarch|(linux|osx|win|emscripten|wasi|zos)-[a-z0-9_]+)$")


def _channel_name(url: str, subdir: str) -> str | None:
    """A record's channel as environment.yml names it: ``conda-forge`` for
    ``https://conda.anaconda.org/conda-forge/linux-64``, ``defaults`` for Anaconda's
    own ``repo.anaconda.com/pkgs/...``, else the channel URL without its subdir."""
    url = url.rstrip("/")
    if not url or url in {"pypi", "<unknown>"}:
        return None
    head, _, last = url.rpartition("/")
    if head and (last == subdir or _SUBDIR.match(last)):
        url = head
    if "repo.anaconda.com/pkgs/" in url:
        return "defaults"
    if url.startswith(("https://conda.anaconda.org/", "http://conda.anaconda.org/")):
        return url.split("conda.anaconda.org/", 1)[1]
    return redact_url(url)


async def export_environment(
    env: Environment,
    client: IndexClient,
    fmt: str,
    *,
    only_requested: bool = False,
    requested: Iterable[str] = (),
) -> Export:
    """``env`` written down in ``fmt`` (one of ``FORMATS``)."""
    if fmt not in FORMATS:
        raise BadRequest(f"`format` must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    if env.synthetic_env:
        raise BadRequest("An imagined environment has nothing installed to export.")
    if only_requested and fmt == "pylock":
        raise BadRequest(
            "A lock file lists every package, dependencies included: export pylock without "
            "--only-requested, or export requirements with it."
        )
    dists = chosen(env, only_requested=only_requested, requested=requested)
    pinned = await pin_all(client, dists)
    if fmt == "requirements":
        content, notes = requirements_text(env, pinned, complete=not only_requested)
    elif fmt == "pylock":
        content, notes = pylock_text(env, pinned)
    else:
        content, notes = environment_yml_text(env, pinned)
    kept = sum(1 for p in pinned if p.problem is None)
    return Export(fmt, FILENAMES[fmt], content, kept, notes)
