"""What is out of date in one environment, and what an update could be without breaking it.

For each installed distribution: the newest release on the configured indexes, and
the newest one that *fits*: a file this kernel can use (its Python, its wheel tags, the
installer's binary policy), not yanked, not a pre-release unless the installed version
is one (or the installer allows them), the same local-label variant as installed
(``2.1.0+cpu`` is compared with other ``+cpu`` builds), inside every constraint of the
installer's configuration and inside every installed distribution's requirement on it
("pandas 2.0 needs numpy<2"). Editable and direct-URL installs, and conda's packages,
are reported as not managed by an index and not looked up. A newer release that
this kernel cannot use at all (it needs a newer Python, or has files for other
platforms only) is no update and holds nothing back: the row stays "current" and
says why ("1.4.0 needs Python >=3.12"); "held-back" is for a newer release this
kernel could install but that another package's requirement or a constraint excludes.

How it stays fast: only the project pages are read (one per distribution, all at
once over the client's kept-alive connections), and of each page only the releases
newer than the installed one (``releases.py``: no parse of the thousands of older
ones); no release's metadata is downloaded. The
requirements that decide whether a version fits are those of the *installed*
distributions, which the probe already read from disk. What this does not know, and
says: the new version's own requirements. A plan made from an update resolves them
(and names what they would change or break), so nothing is hidden; it is just not
part of "outdated".
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..environment import Distribution, Environment
from ..errors import EnvHelperError, NotFound
from ..index import DistributionFile, IndexClient, check_compatibility, redact_url
from ..index.local import LocalIndexClient
from ..resolver.constraints import ResolverPolicy
from .graph import DependencyGraph
from .releases import INLINE_BYTES, MergedReleases, Releases, read_newer

Status = Literal["update", "held-back", "current", "unmanaged", "not-on-index", "unknown"]
MEMO_ENTRIES = 4096  # releases kept per core (distributions x installed versions)


@dataclass(frozen=True)
class Blocker:
    """Why a newer version does not fit: an installed distribution's requirement, a
    constraint of the installer's configuration, or the kernel itself."""

    kind: Literal["dependent", "constraint", "python", "platform", "build"]
    message: str
    name: str | None = None  # the dependent
    version: str | None = None
    requirement: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "name": self.name,
            "version": self.version,
            "requirement": self.requirement,
        }


@dataclass
class Row:
    name: str
    canonical_name: str
    installed: str
    status: Status
    latest: str | None = None  # the newest release (not yanked; pre only if installed as one)
    latest_usable: str | None = None  # the newest this kernel can install at all
    fit: str | None = None  # the newest newer release that fits; None: no update fits
    fit_needs_build: bool = False
    blockers: list[Blocker] = field(default_factory=list)  # why ``latest`` is not ``fit``
    requested: bool = False
    required_by: list[str] = field(default_factory=list)  # "pandas 2.0 (numpy<2)"
    reason: str | None = None  # for unmanaged / not-on-index / unknown
    index_url: str | None = None

    @property
    def update(self) -> str | None:
        return self.fit

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "canonical_name": self.canonical_name,
            "installed": self.installed,
            "status": self.status,
            "latest": self.latest,
            "latest_usable": self.latest_usable,
            "fit": self.fit,
            "fit_needs_build": self.fit_needs_build,
            "blocked": [b.to_json() for b in self.blockers],
            "message": self.message,
            "requested": self.requested,
            "required_by": list(self.required_by),
            "reason": self.reason,
            "index_url": self.index_url,
        }

    @property
    def message(self) -> str:
        """The row in words: "numpy 1.26.4 → 2.3.5 available; 2.3.5 would break ..."."""
        head = f"{self.name} {self.installed}"
        if self.status == "current" and self.latest is not None:
            why = "; ".join(b.message for b in self.blockers) or "is not for this kernel"
            return f"{head} is the newest this kernel can use; {self.latest} {why}."
        if self.status == "current":
            return f"{head} is the newest release."
        if self.status in ("unmanaged", "not-on-index", "unknown"):
            return f"{head}: {self.reason}"
        assert self.latest is not None
        why = "; ".join(b.message for b in self.blockers)
        if self.status == "update" and self.fit == self.latest:
            return f"{head} → {self.latest} available."
        if self.status == "update":
            return (
                f"{head} → {self.latest} available; {self.latest} {why}. "
                f"{self.fit} is the newest that fits."
            )
        return f"{head}: {self.latest} is out, but {why}; no newer version fits."


@dataclass
class OutdatedReport:
    rows: list[Row]
    elapsed_ms: float
    pages: int
    warnings: list[str] = field(default_factory=list)

    @property
    def updates(self) -> list[Row]:
        return [r for r in self.rows if r.status == "update"]

    def to_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        return {
            "packages": [r.to_json() for r in self.rows],
            "counts": counts,
            "outdated": len(self.updates),
            "held_back": counts.get("held-back", 0),
            "elapsed_ms": self.elapsed_ms,
            "pages": self.pages,
            "warnings": list(self.warnings),
        }


class _Target:
    """The kernel's tags and Python, computed once (not once per file)."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.tags: frozenset[Tag] = frozenset(env.supported_tags())
        try:
            self.python: Version | None = Version(env.python_version)
        except InvalidVersion:
            self.python = None

    def python_ok(self, file: DistributionFile) -> bool:
        rp = file.requires_python
        return rp is None or self.python is None or rp.contains(self.python, prereleases=True)

    def usable(self, file: DistributionFile) -> Literal["wheel", "sdist", None]:
        if not self.python_ok(file):
            return None
        if file.kind == "sdist":
            return "sdist"
        return "wheel" if not self.tags.isdisjoint(file.tags) else None


def unmanaged_reason(dist: Distribution) -> str | None:
    """Why ``dist`` is not updated from an index, or None when it is."""
    if dist.editable:
        where = (dist.direct_url or {}).get("url") if dist.direct_url else None
        return "an editable install" + (f" from {where}" if where else "") + "; not from an index."
    if dist.direct_url:
        return "installed from a URL or a local path, not from an index."
    if dist.installer == "conda":
        return "managed by conda, not by a package index."
    return None


async def find_outdated(
    env: Environment,
    client: IndexClient,
    *,
    graph: DependencyGraph | None = None,
    policy: ResolverPolicy | None = None,
    names: Iterable[str] | None = None,
    memo: dict[Any, Any] | None = None,
    releases: Mapping[str, Releases | EnvHelperError] | None = None,
) -> OutdatedReport:
    """The report for every installed distribution (or ``names`` only).

    ``releases``: what ``read_releases`` read, when the caller started it early (to
    build the graph while the pages arrive). ``memo``: kept by the caller between
    calls; the same releases for the same graph give the same rows, not computed again."""
    started = time.perf_counter()
    graph = graph or DependencyGraph.build(env)
    policy = (
        policy
        if policy is not None
        else ResolverPolicy.from_settings(client.config.installer, env.markers)
    )
    dists = wanted(env, names)
    looked_up = [d for d in dists if unmanaged_reason(d) is None]
    if releases is None:
        releases = await read_releases(client, looked_up, memo=memo)
    found = {d.canonical_name: releases.get(d.canonical_name) for d in looked_up}
    ident = (id(graph), id(client), *(_identity(found[d.canonical_name]) for d in looked_up))
    hit = memo.get(("rows", id(client))) if memo is not None else None
    if hit is not None and hit[0] == ident:
        rows = hit[2]  # the same releases for the same graph: the same answer
    else:
        # the comparison is CPU work over the newer files of every page: not on the loop
        rows = await asyncio.to_thread(_rows, env, dists, found, graph, policy)
        if memo is not None:  # keeps the ids alive
            memo[("rows", id(client))] = (ident, (graph, client, list(found.values())), rows)
    return OutdatedReport(
        rows=rows,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        pages=len(looked_up),
        warnings=list(policy.warnings),
    )


def wanted(env: Environment, names: Iterable[str] | None = None) -> list[Distribution]:
    """The installed distributions asked about (all of them by default), by name."""
    keys = [canonicalize_name(n) for n in names] if names is not None else sorted(env.distributions)
    return [env.distributions[k] for k in keys if k in env.distributions]


def reads_pages_raw(client: IndexClient) -> bool:
    """Whether the newer releases can be read straight off each page (``releases``):
    HTTP(S) indexes asked in turn (first-match: the first that has the project gives
    all its files), find-links folders added as the client adds them. Otherwise
    (merge over several indexes, ``file://`` indexes, find-links URLs) the client's own
    pages, parsed in full."""
    config = client.config
    links_ok = not config.find_links or (
        isinstance(client, LocalIndexClient) and len(client.find_links) == len(config.find_links)
    )
    return (
        (config.no_index or bool(client.index_urls))
        and all(u.startswith(("https://", "http://")) for u in client.index_urls)
        and (len(client.index_urls) <= 1 or client.strategy == "first-match")
        and links_ok
    )


async def read_releases(
    client: IndexClient,
    dists: Sequence[Distribution],
    *,
    memo: dict[Any, Any] | None = None,
) -> dict[str, Releases | EnvHelperError]:
    """Each distribution's releases newer than the installed one, all pages at once
    (the client bounds the connections and keeps them alive).

    Kept in ``memo`` for the client's page freshness, by name and installed version;
    a page the client already parsed (a plan read it) is used as it is."""
    raw = reads_pages_raw(client)
    now = time.monotonic()

    async def one(dist: Distribution) -> Releases | EnvHelperError:
        key = dist.canonical_name
        try:
            installed: Version | None = Version(dist.version)
        except InvalidVersion:
            installed = None
        memo_key = ("releases", id(client), key, dist.version)
        kept = memo.get(memo_key) if memo is not None else None
        if kept is not None and kept[2] is client and now - kept[0] < client.page_freshness:
            return cast("Releases | EnvHelperError", kept[1])
        known = client.peek_project(key)
        try:
            if known is not None:
                return known
            if not raw or installed is None:
                return await client.get_project(dist.name)
            found: Releases | EnvHelperError = await _read_newer(client, dist.name, installed)
        except NotFound as exc:
            found = exc
        except EnvHelperError as exc:
            return exc  # asked again next time
        if memo is not None:
            _keep(memo, memo_key, (now, found, client))
        return found

    answers = await asyncio.gather(*(one(d) for d in dists))
    return {d.canonical_name: a for d, a in zip(dists, answers)}


async def _read_newer(client: IndexClient, name: str, installed: Version) -> Releases:
    """From the first index that has the project, as the client's first-match does,
    with the find-links folders' files after it (the client's merge)."""
    key = canonicalize_name(name)
    remote: Releases | None = None
    for index_url in () if client.config.no_index else client.index_urls:
        page = await client.read_page(index_url, name)
        if page is None:
            continue
        args = (page.body, page.content_type, page.url, index_url, key)
        if len(page.body) > INLINE_BYTES:  # megabytes of JSON: off the loop
            remote = await asyncio.to_thread(read_newer, *args, installed=installed)
        else:
            remote = read_newer(*args, installed=installed)
        break
    local = await client.local_pages(name) if isinstance(client, LocalIndexClient) else []
    parts: list[Releases] = [*([remote] if remote is not None else []), *local]
    if not parts:
        where = " or ".join(redact_url(u) for u in [*client.index_urls, *client.config.find_links])
        raise NotFound(f"No project named {key} on {where or 'no index'}.")
    return parts[0] if len(parts) == 1 else MergedReleases(parts)


def _keep(memo: dict[Any, Any], key: object, value: object) -> None:
    memo.pop(key, None)
    memo[key] = value
    while len(memo) > MEMO_ENTRIES:
        del memo[next(iter(memo))]


def _identity(page: Releases | EnvHelperError | None) -> object:
    if page is None or isinstance(page, EnvHelperError):
        return None if page is None else (type(page).__name__, page.message)
    return id(page)


def _rows(
    env: Environment,
    dists: Sequence[Distribution],
    pages: Mapping[str, Releases | EnvHelperError | None],
    graph: DependencyGraph,
    policy: ResolverPolicy,
) -> list[Row]:
    target = _Target(env)
    return [_row(d, pages.get(d.canonical_name), target, graph, policy) for d in dists]


def _row(
    dist: Distribution,
    page: Releases | EnvHelperError | None,
    target: _Target,
    graph: DependencyGraph,
    policy: ResolverPolicy,
) -> Row:
    key = dist.canonical_name
    row = Row(
        name=dist.name,
        canonical_name=key,
        installed=dist.version,
        status="current",
        requested=key in graph.requested,
        required_by=[
            f"{graph.nodes[e.parent].name} {graph.nodes[e.parent].version} ({e.requirement})"
            for e in graph.required_by(key)
        ],
    )
    unmanaged = unmanaged_reason(dist)
    if unmanaged is not None:
        row.status, row.reason = "unmanaged", unmanaged
        return row
    if isinstance(page, NotFound):
        row.status, row.reason = "not-on-index", "not on the configured package indexes."
        return row
    if isinstance(page, EnvHelperError) or page is None:
        row.status = "unknown"
        row.reason = page.message if isinstance(page, EnvHelperError) else "not looked up."
        return row
    row.index_url = page.index_url
    try:
        installed = Version(dist.version)
    except InvalidVersion:
        row.status, row.reason = "unknown", f"its version {dist.version!r} is not PEP 440."
        return row
    allow_pre = installed.is_prerelease or policy.prereleases
    dependents: list[tuple[Any, str, SpecifierSet | None]] | None = None  # when needed
    constraints = policy.constraints.get(key, ())
    # Newest first, one pass, and only as far as the newest release that fits: the
    # files of older releases are never made (a page read by ``releases`` holds only
    # the newer ones anyway).
    for version in page.all_versions():
        if version <= installed:
            break
        if version.local != installed.local or (version.is_prerelease and not allow_pre):
            continue
        files = [f for f in page.files_for(version) if not f.yanked and policy.file_allowed(f)]
        if not files:
            continue
        if row.latest is None:
            row.latest = str(version)
        kinds = {target.usable(f) for f in files}
        if kinds <= {None}:
            if str(version) == row.latest:
                row.blockers.append(_kernel_blocker(files, target))
            continue
        if row.latest_usable is None:
            row.latest_usable = str(version)
        if dependents is None:
            dependents = [
                (graph.nodes[e.parent], e.requirement, _spec(e.requirement, key))
                for e in graph.required_by(key)
            ]
        stops = [
            Blocker(
                "dependent",
                f"would break {parent.name} {parent.version} (needs {requirement})",
                parent.name,
                parent.version,
                requirement,
            )
            for parent, requirement, spec in dependents
            if spec is not None and not spec.contains(version, prereleases=True)
        ]
        stops += [
            Blocker(
                "constraint",
                f"is outside the constraint {c.text} ({c.where})",
                requirement=c.text,
            )
            for c in constraints
            if not c.specifier.contains(version, prereleases=True)
        ]
        if not stops:
            row.fit = str(version)
            row.fit_needs_build = "wheel" not in kinds
            break
        if str(version) == row.latest_usable:
            row.blockers += stops
    if row.fit is not None:
        row.status = "update"
    elif row.latest_usable is not None:
        row.status = "held-back"  # a newer release this kernel could use breaks something
    # else: every newer release is one this kernel cannot use (its Python, its
    # platform): not an update, nothing held back; "current", with the reason kept
    return row


@functools.lru_cache(maxsize=4096)
def _spec(requirement: str, name: str) -> SpecifierSet | None:
    """The specifier of a graph edge's requirement text (``numpy[x]<2``)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return None
    return req.specifier if canonicalize_name(req.name) == name else None


def _kernel_blocker(files: Sequence[DistributionFile], target: _Target) -> Blocker:
    """Why no file of the newest release can go into this kernel, in words."""
    reasons = [check_compatibility(f, target.env) for f in files]
    python = next((r for r in reasons if "needs Python" in r.reason), None)
    if python is not None:
        return Blocker("python", python.reason)
    first = next((r.reason for r in reasons if r.reason), "has no file for this kernel")
    return Blocker("platform", f"has no file for this kernel: {first}")
