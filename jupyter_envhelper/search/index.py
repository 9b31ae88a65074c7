"""``SearchIndex``: find a package by name, import name or purpose.

Built once from the index's whole project list (plain strings, ~700,000) plus the
shipped data; each query then does a bounded amount of work:

* exact / normalized: one set lookup;
* import name: dictionary lookups in the caller's maps and the shipped map;
* prefix: two bisections in the sorted name list, at most ``PREFIX_SCAN`` names read,
  plus the popular names with that prefix;
* fuzzy: the query's one-edit neighbourhood (~2,000 strings for a 15-letter query)
  looked up in the name set, and a deletion index for two edits among popular names;
* purpose: an inverted index over popular projects' summaries and keywords.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import os
import subprocess
import sys
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from ..errors import BadRequest
from ..paths import user_cache_dir
from . import purpose as purpose_module
from .distance import edits1
from .fuzzy import DeletionIndex, NearIndex, StoredDeletionIndex
from .imports import ImportNameMap, ImportNames, load_import_names, shipped_data
from .nameindex import locked
from .names import NameTable, canonicalize, query_to_name
from .popular import PopularTable, load_popular
from .purpose import PurposeIndex
from .ranking import (
    EXACT_SCORE,
    FUZZY_SCORES,
    IMPORT_NAME_SCORE,
    INSTALLED_BOOST,
    NORMALIZED_SCORE,
    POPULARITY_WEIGHT,
    PREFIX_CLOSENESS,
    PREFIX_SCORE,
    PURPOSE_POPULARITY_WEIGHT,
    PURPOSE_SCORE,
    SPACED_NAME_CAP,
    UNRANKED_FUZZY_SCORE,
    UNRANKED_PREFIX_CLOSENESS,
    UNRANKED_PREFIX_SCORE,
    Candidates,
    MatchKind,
    SearchHit,
    sort_key,
)
from .typosquat import TyposquatChecker

MAX_QUERY_LENGTH = 200
MAX_LIMIT = 200
PREFIX_SCAN = 200
FUZZY_MAX_LENGTH = 40


class SearchIndex:
    """Search over an index's project names and the shipped popular-project data."""

    def __init__(
        self,
        names: Iterable[str] = (),
        *,
        popular: PopularTable | None = None,
        import_names: ImportNames | None = None,
        shipped_import_names: ImportNames | None = None,
        table: NameSource | None = None,
    ) -> None:
        """``names``: every project name of the index; ``import_names``: index-wide
        import name -> distributions data (e.g. PEP 794 ``Import-Name``), consulted
        before the shipped map of common mismatches. ``table``: the index's names
        already in a table (a persistent ``nameindex.NameIndex``) instead of ``names``."""
        shipped = load_import_names() if shipped_import_names is None else shipped_import_names
        self._imports = ImportNameMap(*(source for source in (import_names, shipped) if source))
        parts = _shipped_parts() if popular is None else _PopularParts(popular)
        self.popular = parts.popular
        own = NameTable(_with_popular(names, self.popular))
        self._names: NameSource = own if table is None else _Combined(table, own)
        self._popular_sorted = parts.sorted_names
        self._popular_near = parts.near
        self._parts = parts
        self.typosquat = TyposquatChecker(
            self.popular, import_names=self._imports, near=self._popular_near
        )

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonicalize(name) in self._names

    @property
    def names(self) -> NameSource:
        """Every canonical name searched (``in`` works on it)."""
        return self._names

    def search(
        self,
        query: str,
        *,
        installed: Mapping[str, str] | None = None,
        import_names: ImportNames | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """The best ``limit`` hits for ``query``, best first.

        ``installed``: canonical (or any) name -> version of what the target environment
        has; those hits carry ``installed_version`` and get a small boost.
        ``import_names``: the environment's import name -> distributions (like
        ``importlib.metadata.packages_distributions()``), consulted first.
        Raises ``BadRequest`` for an empty, over-long or unprintable query.
        """
        text = _validate(query, limit)
        installed_versions = {canonicalize(k): v for k, v in (installed or {}).items()}
        candidates = Candidates()
        name = query_to_name(text)
        spaced = any(char.isspace() for char in text)
        if name is not None:
            self._match_names(text, name, spaced, installed_versions, candidates)
        self._match_import_names(text, name, import_names, candidates)
        for match in self._parts.purpose.search(text):
            words = ", ".join(match.matched)
            candidates.offer(
                match.canonical_name,
                MatchKind.PURPOSE,
                PURPOSE_SCORE * match.relevance,
                f"its description matches: {words}",
            )
        return self._hits(candidates, installed_versions, limit)

    # -- matching ---------------------------------------------------------------------

    def _known(self, canonical: str, installed: Mapping[str, str]) -> bool:
        return canonical in self._names or canonical in installed

    def _match_names(
        self,
        text: str,
        name: str,
        spaced: bool,
        installed: Mapping[str, str],
        candidates: Candidates,
    ) -> None:
        if self._known(name, installed):
            display = self._display(name)
            if text.lower() == display.lower():
                kind, score, why = MatchKind.EXACT, EXACT_SCORE, "the name as typed"
            else:
                kind, score, why = MatchKind.NORMALIZED, NORMALIZED_SCORE, "the same name"
            if spaced and name not in self.popular:
                score = SPACED_NAME_CAP
            candidates.offer(name, kind, score, why)
        if len(name) >= 2 and not spaced:
            self._match_prefix(name, installed, candidates)
        if 3 <= len(name) <= FUZZY_MAX_LENGTH:
            self._match_fuzzy(name, spaced, installed, candidates)

    def _match_prefix(
        self, prefix: str, installed: Mapping[str, str], candidates: Candidates
    ) -> None:
        found = list(self._names.with_prefix(prefix, limit=PREFIX_SCAN))
        start = bisect_left(self._popular_sorted, prefix)
        for canonical in self._popular_sorted[start:]:
            if not canonical.startswith(prefix):
                break
            found.append(canonical)
        found.extend(canonical for canonical in installed if canonical.startswith(prefix))
        for canonical in found:
            if canonical == prefix:
                continue
            closeness = len(prefix) / len(canonical)
            if canonical in self.popular:
                score = PREFIX_SCORE + PREFIX_CLOSENESS * closeness
            else:
                score = UNRANKED_PREFIX_SCORE + UNRANKED_PREFIX_CLOSENESS * closeness
            candidates.offer(canonical, MatchKind.PREFIX, score, f"starts with '{prefix}'")

    def _match_fuzzy(
        self, name: str, spaced: bool, installed: Mapping[str, str], candidates: Candidates
    ) -> None:
        # Obscure names one typo away are offered below popular ones; for a spaced query
        # (likely a purpose) or a short one (most three-letter strings are names) they
        # are noise, so lower still or left out.
        if spaced:
            obscure: float | None = SPACED_NAME_CAP
        elif len(name) >= 4:
            obscure = UNRANKED_FUZZY_SCORE
        else:
            obscure = None
        variants = edits1(name)
        # one batch lookup, not ~2,000 (a persistent table answers a batch at once)
        on_index = self._names.known(variants) if obscure is not None else set()
        for variant in variants:
            if variant in self.popular or variant in installed:
                candidates.offer(variant, MatchKind.FUZZY, FUZZY_SCORES[1], "one typo away")
            elif obscure is not None and variant in on_index:
                candidates.offer(variant, MatchKind.FUZZY, obscure, "one typo away")
        if len(name) < 5:
            return
        for canonical, distance in self._popular_near.near(name).items():
            if distance == 2:
                candidates.offer(canonical, MatchKind.FUZZY, FUZZY_SCORES[2], "two typos away")

    def _match_import_names(
        self, text: str, name: str | None, extra: ImportNames | None, candidates: Candidates
    ) -> None:
        if any(char.isspace() for char in text) or len(text) > 100:
            return
        dists: list[str] = []
        if extra:
            dists.extend(ImportNameMap(extra).lookup(text))
        dists.extend(self._imports.lookup(text))
        for position, dist in enumerate(dict.fromkeys(dists)):
            if dist == name:
                continue  # ``import numpy`` from numpy: the name match says it better
            # Earlier (the environment's own, then the most common) first.
            candidates.offer(
                dist,
                MatchKind.IMPORT_NAME,
                IMPORT_NAME_SCORE - 0.5 * position,
                f"provides 'import {text}'",
            )

    # -- results ----------------------------------------------------------------------

    def _display(self, canonical: str) -> str:
        project = self.popular.get(canonical)
        if project is not None:
            return project.name
        return self._names.display(canonical)

    def _hits(
        self, candidates: Candidates, installed: Mapping[str, str], limit: int
    ) -> list[SearchHit]:
        scored: list[SearchHit] = []
        for candidate in candidates:
            canonical = candidate.canonical_name
            project = self.popular.get(canonical)
            weight = (
                PURPOSE_POPULARITY_WEIGHT
                if candidate.match is MatchKind.PURPOSE
                else POPULARITY_WEIGHT
            )
            score = candidate.relevance + self.popular.boost(canonical, weight=weight)
            installed_version = installed.get(canonical)
            if installed_version is not None:
                score += INSTALLED_BOOST
            scored.append(
                SearchHit(
                    name=self._display(canonical),
                    canonical_name=canonical,
                    match=candidate.match,
                    score=round(score, 2),
                    why=candidate.why,
                    summary=project.summary if project else None,
                    version=project.version if project else None,
                    popularity_rank=project.rank if project else None,
                    installed_version=installed_version,
                )
            )
        scored.sort(key=sort_key)
        hits = scored[:limit]
        return [self._with_warning(hit, installed) for hit in hits]

    def _with_warning(self, hit: SearchHit, installed: Mapping[str, str]) -> SearchHit:
        if hit.popularity_rank is not None or hit.installed_version is not None:
            return hit
        warning = self.typosquat.check(hit.canonical_name, installed=installed)
        if warning is None:
            return hit
        return SearchHit(**{**hit.__dict__, "typosquat": warning})


class NameSource(Protocol):
    """What a search needs of a table of names (``NameTable``, ``NameIndex``)."""

    def __len__(self) -> int: ...

    def __contains__(self, canonical: object) -> bool: ...

    def display(self, canonical: str) -> str: ...

    def with_prefix(self, prefix: str, *, limit: int) -> Iterator[str]: ...

    def known(self, canonical_names: Iterable[str]) -> set[str]: ...


class _Combined:
    """A persistent table plus the (small) in-memory one of popular names."""

    def __init__(self, table: NameSource, own: NameTable) -> None:
        self.table = table
        self.own = own

    def __len__(self) -> int:
        return max(len(self.table), len(self.own))

    def __contains__(self, canonical: object) -> bool:
        return canonical in self.own or canonical in self.table

    def known(self, canonical_names: Iterable[str]) -> set[str]:
        wanted = list(canonical_names)
        return self.own.known(wanted) | self.table.known(wanted)

    def display(self, canonical: str) -> str:
        if canonical in self.own:
            return self.own.display(canonical)
        return self.table.display(canonical)

    def with_prefix(self, prefix: str, *, limit: int) -> Iterator[str]:
        merged = heapq.merge(
            self.table.with_prefix(prefix, limit=limit),
            self.own.with_prefix(prefix, limit=limit),
        )
        seen = 0
        last = None
        for name in merged:
            if name != last:
                yield name
                seen += 1
                if seen >= limit:
                    return
            last = name


class _PopularParts:
    """What depends on the popular table alone: built once and shared (immutable)."""

    def __init__(self, popular: PopularTable, *, stored_as: str | None = None) -> None:
        self.popular = popular
        self.stored_as = stored_as  # the shipped table: a key for its stored parts
        self.sorted_names = sorted(project.canonical_name for project in popular)
        self.near: NearIndex = _near_index(self.sorted_names)

    @functools.cached_property
    def purpose(self) -> PurposeIndex:
        """Built on first use (a third of a second): a plan's typo-squat check never
        needs it. The shipped table's is kept in the user cache, so a fresh process
        loads it in milliseconds."""
        if self.stored_as is None:
            return PurposeIndex(self.popular)
        path: Path | None = None
        try:
            path = user_cache_dir().joinpath("search", f"purpose-{self.stored_as}.marshal")
            found = PurposeIndex.loads(path.read_bytes())
        except (OSError, RuntimeError):  # not written yet; RuntimeError: no home directory
            found = None
        if found is not None:
            return found
        built = PurposeIndex(self.popular)
        if path is not None:
            _write_atomically(path, built.dumps())
            for old in path.parent.glob("purpose-*.marshal"):  # an earlier release's
                if old != path:
                    with contextlib.suppress(OSError):
                        old.unlink()
        return built


NEAR_FILE = ("search", "popular-near.sqlite")
_near_started = threading.Event()


def _near_index(names: list[str], *, here: bool = False) -> NearIndex:
    """Popular names two typos away: from the user cache when it can be used (a fresh
    process then starts in milliseconds, not a second), else built in memory while a
    separate process writes the file (``here``: written by this process)."""
    try:
        path = user_cache_dir().joinpath(*NEAR_FILE)
    except (OSError, RuntimeError):  # no home directory
        return DeletionIndex(names, min_length=4)
    return StoredDeletionIndex.open_or_build(
        path, names, min_length=4, background=None if here else _write_near_elsewhere
    )


def _write_near_elsewhere() -> None:
    if _near_started.is_set():
        return
    _near_started.set()
    try:
        with locked(user_cache_dir().joinpath(*NEAR_FILE)) as free:
            if not free:
                return  # a writer is at it already (another process started it)
    except OSError:
        return  # no cache to write to
    with contextlib.suppress(OSError):
        subprocess.Popen(  # our own interpreter and module, an argv list
            [sys.executable, "-m", "jupyter_envhelper.search"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


_parts_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _shipped_parts() -> _PopularParts:
    with _parts_lock:  # once, even when a search and the warm-up ask together
        return _shipped_parts_once()


@functools.lru_cache(maxsize=1)
def _shipped_parts_once() -> _PopularParts:
    return _PopularParts(load_popular(), stored_as=_shipped_key())


def _shipped_key() -> str | None:
    """Names the stored parts of the shipped table: its data and the code that indexes
    it (a new release, or new weights, makes new files)."""
    digest = hashlib.sha256()
    try:
        digest.update((shipped_data() / "popular.json.gz").read_bytes())
        digest.update(Path(purpose_module.__file__ or "").read_bytes())
    except OSError:
        return None
    return digest.hexdigest()[:20]


def _write_atomically(path: Path, data: bytes) -> None:
    with contextlib.suppress(OSError):  # a cache that cannot be written is only slower
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_bytes(data)
        os.replace(temp, path)


def warm_up() -> None:
    """Build the structures of the shipped popular data now (about a second), not on
    the first query."""
    _shipped_parts()


def _with_popular(names: Iterable[str], popular: PopularTable) -> Iterable[str]:
    yield from names
    for project in popular:
        yield project.name


def _validate(query: object, limit: object) -> str:
    if not isinstance(query, str):
        raise BadRequest("The search query must be text.")
    text = query.strip()
    if not text:
        raise BadRequest("Type a package name, an import name, or what you need it for.")
    if len(text) > MAX_QUERY_LENGTH:
        raise BadRequest(
            f"The search query is too long ({len(text)} characters); "
            f"use at most {MAX_QUERY_LENGTH}."
        )
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in text):
        raise BadRequest("The search query contains control characters; type plain text.")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"The number of results must be between 1 and {MAX_LIMIT}.")
    return text


def write_near() -> None:
    """Write the stored near-index of the shipped data (``python -m
    jupyter_envhelper.search``), unless another process is at it."""
    with locked(user_cache_dir().joinpath(*NEAR_FILE)) as mine:
        if mine:
            _near_index(sorted(p.canonical_name for p in load_popular()), here=True)
