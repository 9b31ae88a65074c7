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
from functools import lru_cache

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..environment import Distribution, Environment
from ..errors import NotFound
from ..index import CoreMetadata, DistributionFile, ProjectPage, redact_url
from .candidates import Candidate, ExtrasCandidate, PythonCandidate, ReleaseCandidate
from .constraints import ResolverPolicy
from .direct import DirectWheel
from .fetching import IndexBridge
from .memo import PlanMemo, Release, Releases, memo_for, release_order
from .requirements import (
    PYTHON_IDENTIFIER,
    PythonRequirement,
    ResolverRequirement,
    SpecifierRequirement,
    pins_version,
    split_identifier,
)

__all__ = ["Factory", "Release", "Releases", "release_order", "requirement_texts"]


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
        memo: PlanMemo | None = None,
    ) -> None:
        """``memo``: what earlier plans with the same client worked out (``memo.py``;
        default: the client's own)."""
        self.env = env
        # the target's constraints, binary formats and pre-release setting (constraints.py)
        self.policy = policy or ResolverPolicy()
        self.bridge = bridge
        self.allow_prereleases = allow_prereleases
        self.upgrade = frozenset(canonicalize_name(n) for n in upgrade)
        self.memo = memo if memo is not None else memo_for(bridge.client)
        # which files fit, and each page's releases for this target: shared by every
        # plan of this client for the same target (memo.py)
        self.files = self.memo.file_filter(env, self.policy)
        self.python = self.files.python
        self.markers = env.markers
        self.tag_ranks: dict[Tag, int] = self.files.tag_ranks
        self.marker_memo = self.memo.marker_memo(self.markers)
        self.not_found: dict[str, str] = {}  # canonical name -> message
        self.warnings: list[str] = []
        self.display_names: dict[str, str] = {}
        self.direct: dict[str, DirectWheel] = dict(direct or {})  # canonical name -> wheel
        self._dependencies: dict[tuple[str, str, frozenset[str]], list[ResolverRequirement]] = {}
        # canonical name -> {parent's canonical name: the first such parent, "top 1.0"}:
        # how a conflict deep in the graph is traced back to what the user asked for.
        self.dependents: dict[str, dict[str, str]] = {}

    # -- files and releases ---------------------------------------------------------------
    def file_rank(self, file: DistributionFile) -> tuple[int, int] | None:
        """(0, tag rank) for a usable wheel, (1, 0) for an sdist, None when unusable."""
        return self.files.file_rank(file)

    def python_ok(self, file: DistributionFile) -> bool:
        return self.files.python_ok(file)

    def release_for(self, version: Version, files: Sequence[DistributionFile]) -> Release:
        """The release ``version`` as the target sees it: its best usable file, or why none."""
        return self.files.release_for(version, files)

    def releases_of(self, page: ProjectPage) -> Releases:
        """Every version on the page, newest first, with its best file for the target.

        Lazy: a release is worked out (and its files made) when it is first read, so a
        resolution that takes the newest version of a project with 500 never looks at
        the other 499. Kept for the next plan while the client holds the same page."""
        return self.files.releases_of(page)

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

    def likely_narrowed(
        self, name: str, metadata: CoreMetadata, extras: frozenset[str] = frozenset()
    ) -> list[tuple[str, SpecifierSet, frozenset[str]]]:
        """The active requirements of ``metadata`` (and those its ``extras`` add) that
        rule versions out (``==1.2``, ``<2``) or ask for extras: the bridge also
        guesses, for each, the newest release they allow, and what its extras need."""
        active = list(self.marker_memo.active(metadata, metadata.requires_dist))
        if extras:
            active += self.marker_memo.active(metadata, metadata.requires_dist, extras)
        out: list[tuple[str, SpecifierSet, frozenset[str]]] = []
        for r in active:
            key = canonicalize_name(r.name)
            if (r.specifier or r.extras) and key not in self.direct:
                out.append((key, r.specifier, frozenset(canonicalize_name(e) for e in r.extras)))
        return out

    def likely_file_within(
        self, page: ProjectPage, specifier: SpecifierSet
    ) -> list[DistributionFile]:
        """``likely_files`` among the releases ``specifier`` allows."""
        name = canonicalize_name(page.name)
        if name in self.direct or (name not in self.upgrade and self.env.installed(name)):
            return []
        for release in self.releases_of(page):
            usable = release.file and not release.yanked and not release.version.is_prerelease
            if usable and specifier.contains(release.version, prereleases=False):
                return [release.file]  # type: ignore[list-item]
        return []

    def likely_dependencies(self, name: str, metadata: CoreMetadata | None) -> list[str]:
        owner: object
        if metadata is None:
            dist = self.env.installed(name)
            owner = dist
            texts = dist.requires if dist else ()
            reqs = [r for r in (_parse(t) for t in texts) if r is not None]
        else:
            owner, reqs = metadata, metadata.requires_dist
        active = self.marker_memo.active(owner, reqs) if owner is not None else []
        names = (canonicalize_name(r.name) for r in active)
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
        return self.marker_memo.applies(req, extra)

    def requirements_of(self, candidate: ReleaseCandidate) -> tuple[list[Requirement], str | None]:
        """Requires-Dist (unevaluated) and Requires-Python of a candidate."""
        _, reqs, requires_python = self._requirements(candidate)
        return list(reqs), requires_python

    def _requirements(
        self, candidate: ReleaseCandidate
    ) -> tuple[object, Sequence[Requirement], str | None]:
        """What the requirements belong to (the metadata, or the installed
        distribution: the marker memo's key), Requires-Dist and Requires-Python."""
        if candidate.installed is not None:
            reqs = [r for r in (_parse(t) for t in candidate.installed.requires) if r is not None]
            return candidate.installed, reqs, None  # installed: its Python was good enough
        if candidate.file is None:
            return None, [], None
        metadata = self.bridge.metadata(candidate.file)
        if metadata.name and canonicalize_name(metadata.name) == candidate.name:
            self.display_names.setdefault(candidate.name, metadata.name)
        if not metadata.complete:
            self.warn(
                f"The dependencies of {candidate.display_name} {candidate.version} may be "
                "incomplete: its metadata is only known after a build."
            )
        rp = str(metadata.requires_python) if metadata.requires_python else None
        return metadata, metadata.requires_dist, rp

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
        owner, reqs, _ = self._requirements(candidate)
        if owner is None:
            return []
        return list(self.marker_memo.active(owner, reqs, extras))

    def dependencies(self, candidate: Candidate) -> list[ResolverRequirement]:
        if isinstance(candidate, PythonCandidate):
            return []
        base = candidate.base
        key = (base.name, str(base.version) + ("!" if base.is_installed else ""), candidate.extras)
        cached = self._dependencies.get(key)
        if cached is not None:
            return cached
        out: list[ResolverRequirement] = []
        owner, all_reqs, requires_python = self._requirements(base)
        if isinstance(candidate, ExtrasCandidate):
            out.append(SpecifierRequirement.exact(base.name, str(base.version)))
        elif requires_python:
            out.append(_python_requirement(requires_python))
        reqs: Sequence[Requirement] = ()
        if owner is not None:
            # the same objects as the last plan's: what they admit is known already
            reqs, converted = self.marker_memo.resolver_requirements(
                owner, all_reqs, candidate.extras
            )
            out.extend(converted)
        for req in reqs:
            if req.url:
                self._url_dependency(base, req)
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


@lru_cache(maxsize=1024)
def _python_requirement(text: str) -> PythonRequirement:
    return PythonRequirement(SpecifierSet(text))


@lru_cache(maxsize=8192)  # installed distributions' Requires-Dist, read by every plan
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
