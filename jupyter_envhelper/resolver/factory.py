"""Builds requirements and candidates for one target Environment from the index.

Which files and versions the target can use (its ``supported_tags()``, its Python),
which versions a set of requirements admits (pre-releases, yanked files, local
labels), in which order they are tried (installed first, "change as little as
possible"), and the dependencies of a chosen candidate (markers evaluated with the
target's marker environment, extras included). A project the user named by URL
(``direct``) has that URL's wheel as its one release, and no other candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..environment import Distribution, Environment
from ..errors import NotFound
from ..index import CoreMetadata, DistributionFile, ProjectPage, redact_url
from .candidates import (
    Candidate,
    ExtrasCandidate,
    PythonCandidate,
    ReleaseCandidate,
    version_order,
)
from .constraints import ResolverPolicy
from .direct import DirectWheel
from .fetching import IndexBridge
from .requirements import (
    PYTHON_IDENTIFIER,
    PythonRequirement,
    ResolverRequirement,
    SpecifierRequirement,
    pins_version,
    split_identifier,
)


@dataclass(frozen=True)
class Release:
    """One version on the index, as the target sees it."""

    version: Version
    file: DistributionFile | None  # the best usable file; None when none is usable
    excluded: str | None = None  # "requires-python" | "no-compatible-file"
    requires_python: str | None = None  # of the newest file excluded for Python

    @property
    def usable(self) -> bool:
        return self.file is not None

    @property
    def yanked(self) -> bool:
        return self.file is not None and self.file.yanked


class Factory:
    def __init__(
        self,
        env: Environment,
        bridge: IndexBridge,
        *,
        allow_prereleases: bool = False,
        upgrade: Iterable[str] = (),
        direct: Mapping[str, DirectWheel] | None = None,
        policy: ResolverPolicy | None = None,
    ) -> None:
        self.env = env
        # the target's constraints, binary formats and pre-release setting (constraints.py)
        self.policy = policy or ResolverPolicy()
        self.bridge = bridge
        self.allow_prereleases = allow_prereleases
        self.upgrade = frozenset(canonicalize_name(n) for n in upgrade)
        self.python = Version(env.python_version)
        self.markers = env.markers
        self.tag_ranks: dict[Tag, int] = {t: i for i, t in enumerate(env.supported_tags())}
        self.not_found: dict[str, str] = {}  # canonical name -> message
        self.warnings: list[str] = []
        self.display_names: dict[str, str] = {}
        self.direct: dict[str, DirectWheel] = dict(direct or {})  # canonical name -> wheel
        self._releases: dict[str, list[Release]] = {}
        self._dependencies: dict[tuple[str, str, frozenset[str]], list[ResolverRequirement]] = {}
        # canonical name -> {parent's canonical name: the first such parent, "top 1.0"}:
        # how a conflict deep in the graph is traced back to what the user asked for.
        self.dependents: dict[str, dict[str, str]] = {}

    # -- files and releases ---------------------------------------------------------------
    def file_rank(self, file: DistributionFile) -> tuple[int, int] | None:
        """(0, tag rank) for a usable wheel, (1, 0) for an sdist, None when unusable."""
        if file.kind == "sdist":
            return (1, 0)
        ranks = [self.tag_ranks[t] for t in file.tags if t in self.tag_ranks]
        return (0, min(ranks)) if ranks else None

    def python_ok(self, file: DistributionFile) -> bool:
        rp = file.requires_python
        return rp is None or rp.contains(self.python, prereleases=True)

    def releases_of(self, page: ProjectPage) -> list[Release]:
        """Every version on the page, newest first, with its best file for the target."""
        key = canonicalize_name(page.name)
        cached = self._releases.get(key)
        if cached is not None:
            return cached
        by_version: dict[Version, list[DistributionFile]] = {}
        for file in page.files:
            by_version.setdefault(file.version, []).append(file)
        out: list[Release] = []
        for version, files in by_version.items():
            fitting = [f for f in files if self.python_ok(f)]
            allowed = [f for f in fitting if self.policy.file_allowed(f)]
            ranked = [(r, f) for f in allowed if (r := self.file_rank(f)) is not None]
            if ranked:
                # Non-yanked first, then wheels by tag rank, then the sdist.
                ranked.sort(key=lambda item: (item[1].yanked, item[0]))
                out.append(Release(version, ranked[0][1]))
            elif not fitting:
                texts = [f.requires_python_text or str(f.requires_python) for f in files]
                out.append(Release(version, None, "requires-python", texts[0] if texts else None))
            else:
                out.append(Release(version, None, "no-compatible-file"))
        out.sort(key=release_order, reverse=True)
        self._releases[key] = out
        return out

    def direct_release(self, name: str) -> Release | None:
        """The one release of a project named by URL (None for any other project)."""
        wheel = self.direct.get(name)
        if wheel is None:
            return None
        file = wheel.file
        if self.file_rank(file) is None:
            return Release(file.version, None, "no-compatible-file")
        return Release(file.version, file)

    def releases(self, name: str) -> list[Release] | None:
        """None when the index has no such project (remembered for the explanation).
        A project named by URL has that wheel's release only; the index is not asked."""
        direct = self.direct_release(name)
        if direct is not None:
            return [direct]
        try:
            page = self.bridge.page(name)
        except NotFound as exc:
            self.not_found[name] = exc.message
            return None
        return self.releases_of(page)

    # -- speculation hooks (called on the event loop by the bridge) -----------------------
    def likely_files(self, page: ProjectPage) -> list[DistributionFile]:
        name = canonicalize_name(page.name)
        if name in self.direct:
            return []  # its only candidate is the URL's wheel, fetched up front
        if name not in self.upgrade and self.env.installed(name) is not None:
            return []  # the installed version is preferred and its requirements are local
        for release in self.releases_of(page):
            if release.file and not release.yanked and not release.version.is_prerelease:
                return [release.file]
        return []

    def likely_dependencies(self, name: str, metadata: CoreMetadata | None) -> list[str]:
        if metadata is None:
            dist = self.env.installed(name)
            texts = dist.requires if dist else ()
            reqs = [r for r in (_parse(t) for t in texts) if r is not None]
        else:
            reqs = metadata.requires_dist
        names = (canonicalize_name(r.name) for r in reqs if self._active(r, ""))
        return [n for n in names if n not in self.direct]  # their page is never needed

    # -- matches --------------------------------------------------------------------------
    def find_matches(
        self,
        identifier: str,
        requirements: Sequence[ResolverRequirement],
        incompatible: Iterable[Candidate],
    ) -> list[Candidate]:
        if identifier == PYTHON_IDENTIFIER:
            # The one candidate, unless resolvelib has ruled it out: ignoring that made
            # backjumping offer it again forever (the round limit instead of a conflict).
            ok = all(r.specifier.contains(self.python, prereleases=True) for r in requirements)
            if not ok or any(c.identifier == PYTHON_IDENTIFIER for c in incompatible):
                return []
            return [PythonCandidate(self.python)]
        name, extras = split_identifier(identifier)
        specifier = SpecifierSet()
        for req in requirements:
            specifier &= req.specifier
            if isinstance(req, SpecifierRequirement) and req.display_name != req.name:
                self.display_names.setdefault(name, req.display_name)
        specifier = self.policy.narrow(name, specifier)  # the target's constraints
        bad = {c.version for c in incompatible}
        bases = [c for c in self._base_matches(name, specifier) if c.version not in bad]
        if extras:
            return [ExtrasCandidate(c, extras) for c in bases]
        return list(bases)

    def _base_matches(self, name: str, specifier: SpecifierSet) -> list[ReleaseCandidate]:
        direct = self.direct_release(name)
        if direct is not None:  # the URL's wheel or nothing: never the index, never installed
            if direct.file is None or not specifier.contains(direct.version, True):
                return []
            display = self.display_names.get(name, self.direct[name].display_name)
            return [ReleaseCandidate(name, display, direct.version, direct.file)]
        releases = self.releases(name)
        dist = self.env.installed(name)
        if releases is None and dist is None:
            return []
        display = self.display_names.get(name, dist.name if dist else name)
        found: list[ReleaseCandidate] = []
        for release in releases or ():
            if release.file is None or not specifier.contains(release.version, True):
                continue
            if release.yanked and not pins_version(specifier, release.version):
                continue  # PEP 592: a yanked file only for an exact pin
            found.append(ReleaseCandidate(name, display, release.version, release.file))
        if not (self.allow_prereleases or specifier.prereleases):
            finals = [c for c in found if not c.version.is_prerelease]
            if finals:  # pre-releases only when nothing else satisfies
                found = finals
        installed = self._installed_candidate(name, dist, specifier, display)
        if installed is None:
            return found
        found = [c for c in found if c.version != installed.version]
        if name in self.upgrade:
            found.append(installed)
            found.sort(key=lambda c: release_order(Release(c.version, c.file)), reverse=True)
            return found
        return [installed, *found]  # change as little as possible

    def _installed_candidate(
        self, name: str, dist: Distribution | None, specifier: SpecifierSet, display: str
    ) -> ReleaseCandidate | None:
        if dist is None:
            return None
        try:
            version = Version(dist.version)
        except InvalidVersion:
            return None
        if not specifier.contains(version, prereleases=True):
            return None
        file = None
        page = self.bridge.known_page(name)
        if page is not None:
            file = next((r.file for r in self.releases_of(page) if r.version == version), None)
        return ReleaseCandidate(name, display, version, file, installed=dist, is_installed=True)

    # -- dependencies ---------------------------------------------------------------------
    def _active(self, req: Requirement, extra: str) -> bool:
        if req.marker is None:
            return extra == ""
        return req.marker.evaluate({**self.markers, "extra": extra})

    def requirements_of(self, candidate: ReleaseCandidate) -> tuple[list[Requirement], str | None]:
        """Requires-Dist (unevaluated) and Requires-Python of a candidate."""
        if candidate.installed is not None:
            reqs = [r for r in (_parse(t) for t in candidate.installed.requires) if r is not None]
            return reqs, None  # already installed: its Python was good enough
        if candidate.file is None:
            return [], None
        metadata = self.bridge.metadata(candidate.file)
        if metadata.name and canonicalize_name(metadata.name) == candidate.name:
            self.display_names.setdefault(candidate.name, metadata.name)
        if not metadata.complete:
            self.warn(
                f"The dependencies of {candidate.display_name} {candidate.version} may be "
                "incomplete: its metadata is only known after a build."
            )
        rp = str(metadata.requires_python) if metadata.requires_python else None
        return list(metadata.requires_dist), rp

    def note_metadata(self, candidate: ReleaseCandidate) -> None:
        """Warn about invalid Requires-Dist in the metadata of a candidate the plan
        installs: what it says, what the plan made of it, what each installer does."""
        if candidate.installed is not None or candidate.file is None:
            return
        metadata = self.bridge.metadata(candidate.file)
        shown = candidate.format_for_error()
        for written, read in metadata.repaired_requires_dist.items():
            self.warn(
                f"{shown} declares the dependency {written!r}, which is not valid (a "
                f"wildcard such as .* only goes with == and !=). uv reads it as {read} and "
                f"installs that, and so does this plan. pip 24.1 and newer skip {shown} "
                "because of it (they take another version, or fail); older pip reads it "
                "as uv does."
            )
        for written in metadata.invalid_requires_dist:
            self.warn(
                f"{shown} declares the dependency {written!r}, which no installer can "
                "read: the plan leaves it out, so that dependency will be missing unless "
                "you install it yourself. pip 24.1 and newer skip this version altogether."
            )

    def active_requirements(
        self, candidate: ReleaseCandidate, extras: frozenset[str] = frozenset()
    ) -> list[Requirement]:
        """Requires-Dist that apply on the target (with ``extras``, only the extra ones)."""
        reqs, _ = self.requirements_of(candidate)
        if not extras:
            return [r for r in reqs if self._active(r, "")]
        return [
            r
            for r in reqs
            if not self._active(r, "") and any(self._active(r, e) for e in sorted(extras))
        ]

    def dependencies(self, candidate: Candidate) -> list[ResolverRequirement]:
        if isinstance(candidate, PythonCandidate):
            return []
        base = candidate.base
        key = (base.name, str(base.version) + ("!" if base.is_installed else ""), candidate.extras)
        cached = self._dependencies.get(key)
        if cached is not None:
            return cached
        out: list[ResolverRequirement] = []
        if isinstance(candidate, ExtrasCandidate):
            out.append(SpecifierRequirement.exact(base.name, str(base.version)))
        else:
            _, requires_python = self.requirements_of(base)
            if requires_python:
                out.append(PythonRequirement(SpecifierSet(requires_python)))
        reqs = self.active_requirements(base, candidate.extras)
        for req in reqs:
            if req.url:
                self._url_dependency(base, req)
        out.extend(SpecifierRequirement.from_packaging(r) for r in reqs)
        for req in reqs:
            parents = self.dependents.setdefault(canonicalize_name(req.name), {})
            parents.setdefault(base.name, base.format_for_error())
        names = (canonicalize_name(r.name) for r in reqs)
        self.bridge.prefetch(n for n in names if n not in self.direct)
        self._dependencies[key] = out
        return out

    def _url_dependency(self, parent: ReleaseCandidate, req: Requirement) -> None:
        """A Requires-Dist ``dep @ URL``: only URLs the user gives are planned from."""
        wheel = self.direct.get(canonicalize_name(req.name))
        if wheel is not None and req.url and wheel.installed_from_here({"url": req.url}):
            return
        source = "the URL you gave" if wheel is not None else "the index"
        self.warn(
            f"{parent.format_for_error()} asks for {req.name} @ {redact_url(req.url or '')}; "
            f"the plan takes {req.name} from {source} instead (only URLs you give "
            "yourself are planned from)."
        )

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


def release_order(release: Release) -> tuple[Version, bool, bool, Version]:
    """Sort key, best last: ``version_order``, except that among equal public versions
    a release with a wheel that fits beats one that would be built from source
    (``1.2.3+foo`` with a wheel before ``1.2.3`` as an sdist only, as pip and uv choose:
    they take the higher version, and a build is never planned while a wheel of the
    same release fits)."""
    public, plain, version = version_order(release.version)
    wheel = release.file is not None and release.file.kind == "wheel"
    return public, wheel, plain, version


def _parse(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def requirement_texts(reqs: Iterable[Requirement]) -> tuple[str, ...]:
    """Display strings without markers: ``numpy>=1.26``, ``gamma[speed]``."""
    out = []
    for req in reqs:
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        out.append(f"{req.name}{extras}{req.specifier}")
    return tuple(out)
