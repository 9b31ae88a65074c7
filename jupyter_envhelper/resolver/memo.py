"""What a plan works out that the next plan with the same client can reuse.

A server serves many plans with one index client (``core/indexes.py``), mostly for
the same few targets: the second plan of a request, or another request over the same
projects, should cost the resolution and nothing it already knew. Kept per client
(``memo_for``), bounded, and keyed so that a changed input can never give an old
answer:

- ``FileFilter``: which files of a page a target can use (its Python, its wheel
  tags, only/no-binary) and each page's releases as that target sees them
  (``Releases``, lazy). Keyed by the target's interpreter and platform facts and the
  binary policy; a page's releases are kept only while the client holds that very
  page object (a page read again is a new object, and gets new releases).
- ``MarkerMemo``: the Requires-Dist of one metadata object (or one installed
  distribution) that apply on one marker environment, per set of extras; kept only
  for that very object (identity, checked on every hit).
- ``PlanMemo.plans``: whole plans, keyed by the request, its options and everything
  the target is (the probe's facts, hashed), valid only while every page and
  metadata object the plan read is still the one the client holds
  (``PlanRecord.still_valid``). A changed environment is another key; a page the
  client read again is another object: either way the plan is made afresh.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from ..environment import Environment
from ..index import CoreMetadata, DistributionFile, IndexClient, ProjectPage
from ..kept import remember, remembered
from .candidates import version_order
from .constraints import ResolverPolicy
from .fetching import Used
from .requirements import SpecifierRequirement

if TYPE_CHECKING:
    from ..plan import Plan

K = TypeVar("K")
V = TypeVar("V")

MAX_FILTERS = 8  # targets (interpreter + platform + binary policy) per client
MAX_RELEASES = 512  # pages per target: the client keeps as many (index/client.py)
MAX_ACTIVE = 20_000  # (metadata, extras) entries per marker environment
MAX_PLANS = 64  # whole plans per client


class Bounded(Generic[K, V]):
    """A small thread-safe LRU mapping (plans run in worker threads, concurrently)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


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


def release_order(release: Release) -> tuple[Version, bool, bool, Version]:
    """Sort key, best last: ``version_order``, except that among equal public versions
    a release with a wheel that fits beats one that would be built from source
    (``1.2.3+foo`` with a wheel before ``1.2.3`` as an sdist only, as pip and uv choose:
    they take the higher version, and a build is never planned while a wheel of the
    same release fits)."""
    public, plain, version = version_order(release.version)
    wheel = release.file is not None and release.file.kind == "wheel"
    return public, wheel, plain, version


def tag_ranks(env: Environment) -> dict[Tag, int]:
    """Each wheel tag ``env`` accepts, by preference (0 first): worked out once per
    environment (``kept.py``; its hundreds of tag objects are milliseconds of CPU, and
    a new filter is made on the event loop, when a plan starts). Never changed."""
    known: dict[Tag, int] | None = remembered(env, "tag_ranks")
    if known is None:
        made = {t: i for i, t in enumerate(env.supported_tags())}
        known = remember(env, "tag_ranks", made)
    return known


class FileFilter:
    """Which files a target can use, and the releases of pages as it sees them."""

    def __init__(self, env: Environment, policy: ResolverPolicy) -> None:
        self.python = Version(env.python_version)
        self.tag_ranks = tag_ranks(env)
        # only the binary formats: what the key of a filter holds (constraints narrow
        # the versions a requirement admits, not the files of a release)
        self._formats = ResolverPolicy(no_binary=policy.no_binary, only_binary=policy.only_binary)
        self._python_ok: dict[str, bool] = {}
        self._releases: Bounded[str, Releases] = Bounded(MAX_RELEASES)

    def file_allowed(self, file: DistributionFile) -> bool:
        """only-binary / no-binary, as ``ResolverPolicy.file_allowed`` decides."""
        return self._formats.file_allowed(file)

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
        allowed = [f for f in fitting if self.file_allowed(f)]
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
        """The page's releases for this target, kept while the page is the same object."""
        key = canonicalize_name(page.name)
        cached = self._releases.get(key)
        if cached is not None and cached.holds(page):
            return cached
        made = Releases(self, page)
        self._releases.put(key, made)
        return made


class Releases(Sequence[Release]):
    """A page's releases for one target, newest first (``release_order``), worked out
    lazily and kept. Iterating stops making releases where the caller stops; ``len``,
    indexing and ``bool`` work as on a list (``len`` and indexing work them all out).
    Shared by the plans of one client (and its speculation on the loop): a lock keeps
    the groups in order when two threads read further at once."""

    def __init__(self, files: FileFilter, page: ProjectPage) -> None:
        self.files = files
        # weakly: kept releases must not keep a page the client let go of alive (its
        # users, a plan and its bridge, hold the page itself while they read)
        self._page = weakref.ref(page)
        self._lock = threading.Lock()
        self._groups: list[tuple[Version, list[Version]]] | None = None
        self._done: list[Release] = []
        self._next_group = 0

    @property
    def page(self) -> ProjectPage:
        page = self._page()
        if page is None:  # only a caller that kept these but not their page gets here
            raise LookupError("the page of these releases is no longer held")
        return page

    def holds(self, page: ProjectPage) -> bool:
        return self._page() is page

    def _grouped(self) -> list[tuple[Version, list[Version]]]:
        # versions grouped by public version, newest first; the order within a group
        # depends on the files (release_order), so a group is decided as a whole
        groups: dict[Version, list[Version]] = {}
        for version in self.page.all_versions():
            public = Version(version.public) if version.local else version
            groups.setdefault(public, []).append(version)
        return sorted(groups.items(), key=lambda item: item[0], reverse=True)

    def _more(self) -> bool:
        with self._lock:
            if self._groups is None:
                self._groups = self._grouped()
            if self._next_group >= len(self._groups):
                return False
            _, versions = self._groups[self._next_group]
            files, page = self.files, self.page
            made = [files.release_for(v, page.files_for(v)) for v in versions]
            made.sort(key=release_order, reverse=True)
            self._done.extend(made)
            self._next_group += 1
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
        page = self._page()
        if page is None:
            return f"Releases(gone, {len(self._done)} made)"
        return f"Releases({page.name!r}, {len(self._done)} of {page.file_count} files)"


class MarkerMemo:
    """Requires-Dist evaluated on one marker environment, per owner and extras."""

    def __init__(self, markers: Mapping[str, str]) -> None:
        self.markers = dict(markers)
        self._envs: dict[str, dict[str, str]] = {}
        self._active: Bounded[tuple[int, frozenset[str]], tuple[object, list[Requirement]]]
        self._active = Bounded(MAX_ACTIVE)
        self._converted: Bounded[
            tuple[int, frozenset[str]], tuple[object, list[SpecifierRequirement]]
        ] = Bounded(MAX_ACTIVE)

    def applies(self, req: Requirement, extra: str) -> bool:
        if req.marker is None:
            return extra == ""
        env = self._envs.get(extra)
        if env is None:
            env = self._envs[extra] = {**self.markers, "extra": extra}
        return req.marker.evaluate(env)

    def active(
        self, owner: object, reqs: Sequence[Requirement], extras: frozenset[str] = frozenset()
    ) -> list[Requirement]:
        """Those of ``reqs`` (all of ``owner``'s) that apply here: without ``extras``
        the plain ones, with them only those the extras add. The list is shared:
        callers must not change it."""
        key = (id(owner), extras)
        hit = self._active.get(key)
        if hit is not None and hit[0] is owner:
            return hit[1]
        if not extras:
            found = [r for r in reqs if self.applies(r, "")]
        else:
            ordered = sorted(extras)
            found = [
                r
                for r in reqs
                if not self.applies(r, "") and any(self.applies(r, e) for e in ordered)
            ]
        self._active.put(key, (owner, found))
        return found

    def resolver_requirements(
        self, owner: object, reqs: Sequence[Requirement], extras: frozenset[str] = frozenset()
    ) -> tuple[list[Requirement], list[SpecifierRequirement]]:
        """``active`` and the same as the resolver's requirements, kept with it: each
        remembers which versions it admits, so the next plan asks no specifier again."""
        active = self.active(owner, reqs, extras)
        key = (id(owner), extras)
        hit = self._converted.get(key)
        if hit is not None and hit[0] is owner:
            return active, hit[1]
        converted = [SpecifierRequirement.from_packaging(r) for r in active]
        self._converted.put(key, (owner, converted))
        return active, converted


@dataclass
class PlanRecord:
    """A finished plan and what it read: valid while the client holds the same objects."""

    plan: Plan
    pages: dict[str, weakref.ref[ProjectPage]]  # weakly: a kept plan keeps no page alive
    metadata: list[tuple[DistributionFile, CoreMetadata]]

    @classmethod
    def of(cls, plan: Plan, used: Used) -> PlanRecord:
        pages, metadata = used
        return cls(plan, {name: weakref.ref(page) for name, page in pages.items()}, metadata)

    def still_valid(self, client: IndexClient) -> bool:
        for name, ref in self.pages.items():
            page = ref()
            if page is None or client.peek_project(name) is not page:
                return False
        return all(client.peek_metadata(f) is m for f, m in self.metadata)


class PlanMemo:
    """Everything above, for one index client."""

    def __init__(self) -> None:
        self._filters: Bounded[tuple[Any, ...], FileFilter] = Bounded(MAX_FILTERS)
        self._markers: Bounded[tuple[tuple[str, str], ...], MarkerMemo] = Bounded(MAX_FILTERS)
        self.plans: Bounded[tuple[Any, ...], PlanRecord] = Bounded(MAX_PLANS)

    def file_filter(self, env: Environment, policy: ResolverPolicy) -> FileFilter:
        key = (_tag_key(env), policy.no_binary, policy.only_binary)
        found = self._filters.get(key)
        if found is None:
            found = FileFilter(env, policy)
            self._filters.put(key, found)
        return found

    def marker_memo(self, markers: Mapping[str, str]) -> MarkerMemo:
        key = tuple(sorted(markers.items()))
        found = self._markers.get(key)
        if found is None:
            found = MarkerMemo(markers)
            self._markers.put(key, found)
        return found

    def clear(self) -> None:
        self._filters.clear()
        self._markers.clear()
        self.plans.clear()


def _tag_key(env: Environment) -> str:
    """What ``supported_tags`` and the Python version are made of."""
    data = env.data
    return json.dumps([data.get("interpreter"), data.get("platform")], sort_keys=True, default=str)


def environment_key(env: Environment) -> str:
    """Everything the probe said about the target (markers, tags, paths, installer
    configuration) and its distributions as the resolver reads them, as one digest:
    another environment, another key. Not the probe's own timing, so probing an
    unchanged environment again keeps the key; ``repr``, not sorted JSON: several
    times faster, and the same facts in another order only cost a plan made afresh.

    Worked out once per environment object (``kept.py``): every plan asks, on the
    server's event loop, and hashing a big environment takes a millisecond or two."""
    known = remembered(env, "environment_key")
    if known is not None:
        return str(known)
    return str(remember(env, "environment_key", _environment_key(env)))


def _environment_key(env: Environment) -> str:
    facts = [(k, v) for k, v in env.data.items() if k not in _NOT_FACTS]
    dists = [
        (key, d.name, d.version, d.requires, d.requires_python, d.editable, repr(d.direct_url))
        for key, d in env.distributions.items()
    ]
    text = f"{env.synthetic_env}\n{facts!r}\n{dists!r}"
    return hashlib.sha256(text.encode()).hexdigest()


# read from env.distributions instead (a caller may have changed them), or not a fact
_NOT_FACTS = frozenset({"distributions", "elapsed_ms"})


_MEMOS: weakref.WeakKeyDictionary[IndexClient, PlanMemo] = weakref.WeakKeyDictionary()
_MEMOS_LOCK = threading.Lock()


def memo_for(client: IndexClient) -> PlanMemo:
    """The client's memo (made on first use, gone with the client)."""
    with _MEMOS_LOCK:
        found = _MEMOS.get(client)
        if found is None:
            found = _MEMOS[client] = PlanMemo()
        return found
