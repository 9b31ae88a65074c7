"""What is out of date in one environment, and what an update could be without breaking it.

For each installed distribution: the newest release on the configured indexes, and
the newest one that *fits*: a file this kernel can use (its Python, its wheel tags, the
installer's binary policy), not yanked, not a pre-release unless the installed version
is one (or the installer allows them), the same local-label variant as installed
(``2.1.0+cpu`` is compared with other ``+cpu`` builds), inside every constraint of the
installer's configuration and inside every installed distribution's requirement on it
("pandas 2.0 needs numpy<2"). Editable and direct-URL installs, and conda's packages,
are reported as not managed by an index and not looked up.

How it stays fast: only the project pages are read (one per distribution, all at
once, bounded by the client's concurrency); no release's metadata is downloaded. The
requirements that decide whether a version fits are those of the *installed*
distributions, which the probe already read from disk. What this does not know, and
says: the new version's own requirements. A plan made from an update resolves them
(and names what they would change or break), so nothing is hidden; it is just not
part of "outdated".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..environment import Distribution, Environment
from ..errors import EnvHelperError, NotFound
from ..index import DistributionFile, IndexClient, ProjectPage, check_compatibility
from ..resolver.constraints import ResolverPolicy
from .graph import DependencyGraph

Status = Literal["update", "held-back", "current", "unmanaged", "not-on-index", "unknown"]


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
    memo: dict[int, Any] | None = None,
) -> OutdatedReport:
    """The report for every installed distribution (or ``names`` only).

    ``memo``: kept by the caller between calls; when the client answers with the very
    same pages (its memoised ones) for the same graph, the rows are not computed again."""
    started = time.perf_counter()
    graph = graph or DependencyGraph.build(env)
    policy = (
        policy
        if policy is not None
        else ResolverPolicy.from_settings(client.config.installer, env.markers)
    )
    wanted = (
        [canonicalize_name(n) for n in names] if names is not None else sorted(env.distributions)
    )
    dists = [env.distributions[n] for n in wanted if n in env.distributions]
    looked_up = [d for d in dists if unmanaged_reason(d) is None]

    async def page_of(dist: Distribution) -> ProjectPage | EnvHelperError:
        try:
            return await client.get_project(dist.name)
        except EnvHelperError as exc:
            return exc

    pages = await asyncio.gather(*(page_of(d) for d in looked_up))
    found = {d.canonical_name: p for d, p in zip(looked_up, pages)}
    ident = (id(graph), id(client), *(_identity(p) for p in pages))
    hit = memo.get(id(client)) if memo is not None else None
    if hit is not None and hit[0] == ident:
        rows = hit[2]  # the same pages for the same graph: the same answer
    else:
        # the comparison is CPU work over the newer files of every page: not on the loop
        rows = await asyncio.to_thread(_rows, env, dists, found, graph, policy)
        if memo is not None:
            memo[id(client)] = (ident, (graph, client, pages), rows)  # keeps the ids alive
    return OutdatedReport(
        rows=rows,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        pages=len(looked_up),
        warnings=list(policy.warnings),
    )


def _identity(page: ProjectPage | EnvHelperError) -> object:
    if isinstance(page, ProjectPage):
        return id(page)
    return (type(page).__name__, page.message)


def _rows(
    env: Environment,
    dists: Sequence[Distribution],
    pages: Mapping[str, ProjectPage | EnvHelperError],
    graph: DependencyGraph,
    policy: ResolverPolicy,
) -> list[Row]:
    target = _Target(env)
    return [_row(d, pages.get(d.canonical_name), target, graph, policy) for d in dists]


def _row(
    dist: Distribution,
    page: ProjectPage | EnvHelperError | None,
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
    by_version: dict[Version, list[DistributionFile]] = {}
    # newest first, and only the newer versions' files are looked at (a lazy page
    # builds no file for the thousands of older ones)
    for version in page.all_versions():
        if version <= installed:
            break
        if version.local != installed.local or (version.is_prerelease and not allow_pre):
            continue
        files = [f for f in page.files_for(version) if not f.yanked and policy.file_allowed(f)]
        if files:
            by_version[version] = files
    if not by_version:
        return row
    newer = sorted(by_version, reverse=True)
    row.latest = str(newer[0])
    dependents = [
        (graph.nodes[e.parent], e.requirement, _spec(e.requirement, key))
        for e in graph.required_by(key)
    ]
    constraints = policy.constraints.get(key, ())
    for version in newer:
        kinds = {target.usable(f) for f in by_version[version]}
        if kinds <= {None}:
            if version == newer[0]:
                row.blockers.append(_kernel_blocker(by_version[version], target))
            continue
        if row.latest_usable is None:
            row.latest_usable = str(version)
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
    row.status = "update" if row.fit is not None else "held-back"
    return row


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
