"""Builds requirements and candidates for one target Environment from the index.

Which files and versions the target can use (its ``supported_tags()``, its Python),
which versions a set of requirements admits (pre-releases, yanked files, local
labels), in which order they are tried (installed first, "change as little as
possible"), and the dependencies of a chosen candidate (markers evaluated with the
target's marker environment, extras included). A project the user named by URL
(``direct``) has that URL's wheel as its one release, and no other candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

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


class Releases(Sequence[Release]):
    """A page's releases for one target, newest first (``release_order``), worked out
    lazily and kept. Iterating stops making releases where the caller stops; ``len``,
    indexing and ``bool`` work as on a list (``len`` and indexing work them all out)."""

    def __init__(self, factory: Factory, page: ProjectPage) -> None:
        self.factory = factory
        self.page = page
        # versions grouped by public version, newest first; the order within a group
        # depends on the files (release_order), so a group is decided as a whole
        groups: dict[Version, list[Version]] = {}
        for version in page.all_versions():
            groups.setdefault(Version(version.public) if version.local else version, []).append(
                version
            )
        self._groups = sorted(groups.items(), key=lambda item: item[0], reverse=True)
        self._done: list[Release] = []
        self._next_group = 0

    def _more(self) -> bool:
        if self._next_group >= len(self._groups):
            return False
        _, versions = self._groups[self._next_group]
        self._next_group += 1
        made = [self.factory.release_for(v, self.page.files_for(v)) for v in versions]
        made.sort(key=release_order, reverse=True)
        self._done.extend(made)
        return True

    def __iter__(self) -> Iterator[Release]:
        position = 0
        while True:
            while position >= len(self._done):
                if not self._more():
                    return
            yield self._done[position]
            position += 1

    def _all(self) -> list[Release]:
        while self._more():
            pass
        return self._done

    def __len__(self) -> int:
        return len(self._all())

    def __bool__(self) -> bool:
        return bool(self._done) or any(True for _ in self)

    @overload
    def __getitem__(self, index: int) -> Release: ...

    @overload
    def __getitem__(self, index: slice) -> list[Release]: ...

    def __getitem__(self, index: int | slice) -> Release | list[Release]:
        if isinstance(index, int) and index >= 0:
            while index >= len(self._done) and self._more():
                pass
            return self._done[index]
        return self._all()[index]

    def __repr__(self) -> str:
        return f"Releases({self.page.name!r}, {len(self._done)} of {self.page.file_count} files)"


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
        self._releases: dict[str, Releases] = {}
        self._python_ok: dict[str, bool] = {}
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
        if rp is None:
            return True
        text = file.requires_python_text or str(rp)
        ok = self._python_ok.get(text)
        if ok is None:  # one check per distinct Requires-Python, not per file
            ok = self._python_ok[text] = rp.contains(self.python, prereleases=True)
        return ok

    def release_for(self, version: Version, files: Sequence[DistributionFile]) -> Release:
        """The release ``version`` as the target sees it: its best usable file, or why none."""
        fitting = [f for f in files if self.python_ok(f)]
        allowed = [f for f in fitting if self.policy.file_allowed(f)]
        ranked = [(r, f) for f in allowed if (r := self.file_rank(f)) is not None]
        if ranked:
            # Non-yanked first, then wheels by tag rank, then the sdist.
            ranked.sort(key=lambda item: (item[1].yanked, item[0]))
            return Release(version, ranked[0][1])
        if not fitting:
            texts = [f.requires_python_text or str(f.requires_python) for f in files]
            return Release(version, None, "requires-python", texts[0] if texts else None)
        return Release(version, None, "no-compatible-file")

    def releases_of(self, page: ProjectPage) -> Releases:
        """Every version on the page, newest first, with its best file for the target.

        Lazy: a release is worked out (and its files made) when it is first read, so a
        resolution that takes the newest version of a project with 500 never looks at
        the other 499."""
        key = canonicalize_name(page.name)
        cached = self._releases.get(key)
        if cached is not None and cached.page is page:
            return cached
        made = Releases(self, page)
        self._releases[key] = made
        return made

    def direct_release(self, name: str) -> Release | None:
        """The one release of a project named by URL (None for any other project)."""
        wheel = self.direct.get(name)
        if wheel is None:
            return None
        file = wheel.file
        if self.file_rank(file) is None:
            return Release(file.version, None, "no-compatible-file")
        return Release(file.version, file)

    def releases(self, name: str) -> Sequence[Release] | None:
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
        return list(self.iter_matches(identifier, requirements, incompatible)())

    def iter_matches(
        self,
        identifier: str,
        requirements: Sequence[ResolverRequirement],
        incompatible: Iterable[Candidate],
    ) -> Callable[[], Iterator[Candidate]]:
        """``find_matches`` as resolvelib takes it lazily: a function that returns a
        fresh iterator over the same candidates, best first, each time it is called;
        releases are only worked out as far as the resolver reads."""
        if identifier == PYTHON_IDENTIFIER:
            # The one candidate, unless resolvelib has ruled it out: ignoring that made
            # backjumping offer it again forever (the round limit instead of a conflict).
            ok = all(r.specifier.contains(self.python, prereleases=True) for r in requirements)
            if not ok or any(c.identifier == PYTHON_IDENTIFIER for c in incompatible):
                return lambda: iter(())
            python = [PythonCandidate(self.python)]
            return lambda: iter(python)
        name, extras = split_identifier(identifier)
        specifier = SpecifierSet()
        for req in requirements:
            specifier &= req.specifier
            if isinstance(req, SpecifierRequirement) and req.display_name != req.name:
                self.display_names.setdefault(name, req.display_name)
        specifier = self.policy.narrow(name, specifier)  # the target's constraints
        bad = {c.version for c in incompatible}
        bases = self._base_matches(name, specifier)

        def matches() -> Iterator[Candidate]:
            for candidate in bases():
                if candidate.version in bad:
                    continue
                yield ExtrasCandidate(candidate, extras) if extras else candidate

        return matches

    def _base_matches(
        self, name: str, specifier: SpecifierSet
    ) -> Callable[[], Iterator[ReleaseCandidate]]:
        direct = self.direct_release(name)
        if direct is not None:  # the URL's wheel or nothing: never the index, never installed
            if direct.file is None or not specifier.contains(direct.version, True):
                return lambda: iter(())
            display = self.display_names.get(name, self.direct[name].display_name)
            only = [ReleaseCandidate(name, display, direct.version, direct.file)]
            return lambda: iter(only)
        releases = self.releases(name)
        dist = self.env.installed(name)
        if releases is None and dist is None:
            return lambda: iter(())
        display = self.display_names.get(name, dist.name if dist else name)
        installed = self._installed_candidate(name, dist, specifier, display)
        finals_only = not (self.allow_prereleases or specifier.prereleases)
        skip = installed.version if installed is not None else None

        def matching() -> Iterator[ReleaseCandidate]:
            for release in releases or ():
                if release.file is None or not specifier.contains(release.version, True):
                    continue
                if release.yanked and not pins_version(specifier, release.version):
                    continue  # PEP 592: a yanked file only for an exact pin
                yield ReleaseCandidate(name, display, release.version, release.file)

        def found() -> Iterator[ReleaseCandidate]:
            if not finals_only:
                yield from (c for c in matching() if c.version != skip)
                return
            any_final = False  # pre-releases only when nothing else satisfies
            for candidate in matching():
                if not candidate.version.is_prerelease:
                    any_final = True
                    if candidate.version != skip:
                        yield candidate
            if not any_final:
                yield from (c for c in matching() if c.version != skip)

        if installed is None:
            return found
        if name in self.upgrade:
            ordered = [*found(), installed]
            ordered.sort(key=lambda c: release_order(Release(c.version, c.file)), reverse=True)
            return lambda: iter(ordered)

        def installed_first() -> Iterator[ReleaseCandidate]:
            yield installed  # change as little as possible
            yield from found()

        return installed_first

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
            file = self.release_for(version, page.files_for(version)).file
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
