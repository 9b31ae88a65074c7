"""What a search returns and how hits are ordered.

Every way of matching gives a base score; popularity adds up to ``POPULARITY_WEIGHT``
points (log of the rank; ``PURPOSE_POPULARITY_WEIGHT`` for purpose matches), being
installed adds ``INSTALLED_BOOST``. The bases are spaced
so that relevance decides first and popularity second:

=============  =====  ==========================================================
match          base   note
=============  =====  ==========================================================
import-name    101    ``sklearn`` -> scikit-learn, above a project named ``sklearn``
exact          100    the name as typed (case-insensitive)
normalized      97    the same name after PEP 503 normalization
prefix       50-65    longer names score less; 40-52 for names of unknown popularity
fuzzy        45-55    55 for one edit, 45 for two; 48 for one edit to an unknown name
purpose       0-50    50 x relevance of the summary/keyword match
=============  =====  ==========================================================

A name typed with spaces (``deep learning``) is likely a purpose: unpopular projects
with that name, or one typo from it, are kept, but at ``SPACED_NAME_CAP``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .typosquat import TyposquatWarning

IMPORT_NAME_SCORE = 101.0
EXACT_SCORE = 100.0
NORMALIZED_SCORE = 97.0
PREFIX_SCORE = 50.0
PREFIX_CLOSENESS = 15.0
# Hundreds of obscure names start like popular ones ("dataframe" -> "dataframez"); below
# popular purpose matches they add little.
UNRANKED_PREFIX_SCORE = 40.0
UNRANKED_PREFIX_CLOSENESS = 12.0
UNRANKED_FUZZY_SCORE = 48.0
FUZZY_SCORES = {1: 55.0, 2: 45.0}
PURPOSE_SCORE = 50.0
POPULARITY_WEIGHT = 15.0
# Many projects describe themselves alike, so among purpose matches popularity counts more.
PURPOSE_POPULARITY_WEIGHT = 30.0
INSTALLED_BOOST = 3.0
SPACED_NAME_CAP = 40.0


class MatchKind(str, Enum):
    """How a hit matched the query."""

    EXACT = "exact"
    NORMALIZED = "normalized"
    IMPORT_NAME = "import-name"
    PREFIX = "prefix"
    FUZZY = "fuzzy"
    PURPOSE = "purpose"


# On equal scores the more direct kind of match goes first.
_KIND_ORDER = {kind: order for order, kind in enumerate(MatchKind)}


@dataclass(frozen=True)
class SearchHit:
    """One result. ``summary``/``version`` are None when the shipped data lacks them."""

    name: str
    canonical_name: str
    match: MatchKind
    score: float
    why: str
    summary: str | None = None
    version: str | None = None
    popularity_rank: int | None = None
    installed_version: str | None = None
    typosquat: TyposquatWarning | None = None

    @property
    def installed(self) -> bool:
        return self.installed_version is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "canonical_name": self.canonical_name,
            "match": self.match.value,
            "score": self.score,
            "why": self.why,
            "summary": self.summary,
            "version": self.version,
            "popularity_rank": self.popularity_rank,
            "installed_version": self.installed_version,
            "typosquat": self.typosquat.to_json() if self.typosquat else None,
        }


@dataclass
class Candidate:
    """A name on its way to becoming a hit: the best match found so far."""

    canonical_name: str
    match: MatchKind
    relevance: float
    why: str


class Candidates:
    """Best match per canonical name."""

    def __init__(self) -> None:
        self._best: dict[str, Candidate] = {}

    def offer(self, canonical: str, match: MatchKind, relevance: float, why: str) -> None:
        known = self._best.get(canonical)
        if known is None or (relevance, -_KIND_ORDER[match]) > (
            known.relevance,
            -_KIND_ORDER[known.match],
        ):
            self._best[canonical] = Candidate(canonical, match, relevance, why)

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self._best.values())

    def __len__(self) -> int:
        return len(self._best)


def sort_key(hit: SearchHit) -> tuple[float, int, int, str]:
    """Score, then popularity, then directness of the match, then name."""
    rank = hit.popularity_rank if hit.popularity_rank is not None else 1 << 30
    return (-hit.score, rank, _KIND_ORDER[hit.match], hit.canonical_name)
