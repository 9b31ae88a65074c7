"""Search by purpose: "dataframe" finds pandas and polars, "deep learning" finds torch.

Over the popular projects only (they are the ones with summaries). Explainable scoring:

* text is split into words, lower-cased, lightly stemmed (``plotting`` -> ``plot``,
  ``images`` -> ``image``), British spellings folded (``visualisation``); adjacent words
  also form a pair token (``deep_learn``) so phrases count more than scattered words;
* a word found in a project's curated purpose words weighs 3, in its name 2.5, in its
  keywords 2, in its summary 1.5;
* each query word counts by its rarity (``idf = ln(1 + N / df)``);
* a small synonym table widens a query word (``photo`` -> ``image``) at 0.7 weight;
* relevance = matched weight / best possible weight, times the share of query words
  matched; the caller adds popularity.
"""

from __future__ import annotations

import marshal
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .popular import PopularTable

PURPOSE_WEIGHT = 3.0
NAME_WEIGHT = 2.5
KEYWORD_WEIGHT = 2.0
SUMMARY_WEIGHT = 1.5
SYNONYM_WEIGHT = 0.7

_WORD = re.compile(r"[^\W_][\w+#]*")

# fmt: off
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from", "get", "how",
    "i", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "that", "the", "this",
    "to", "use", "used", "using", "want", "need", "with", "without", "python", "py", "library",
    "libraries", "lib", "package", "packages", "module", "modules", "tool", "tools", "simple",
    "easy", "fast", "pure", "based", "some", "way",
})
# fmt: on

_BRITISH = (("isation", "ization"), ("ising", "izing"), ("colour", "color"), ("yse", "yze"))

# Query word -> words it can also mean. Keys and values are stems.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "df": ("dataframe",),
    "table": ("dataframe", "tabular"),
    "spreadsheet": ("excel", "xlsx"),
    "xlsx": ("excel",),
    "excel": ("xlsx", "spreadsheet"),
    "picture": ("image",),
    "photo": ("image",),
    "img": ("image",),
    "imaging": ("image",),
    "image": ("imaging",),
    "chart": ("plot", "visualization"),
    "graph": ("plot", "chart"),
    "plot": ("chart", "visualization"),
    "visualization": ("plot", "chart"),
    "viz": ("visualization", "plot"),
    "ml": ("machine_learn",),
    "dl": ("deep_learn",),
    "ai": ("artificial_intelligence", "machine_learn"),
    "nn": ("neural_network",),
    "llm": ("language_model", "gpt"),
    "gpt": ("llm",),
    "nlp": ("natural_language", "text"),
    "cv": ("computer_vision",),
    "vision": ("image",),
    "scrape": ("scraping", "crawler"),
    "scraping": ("scrape", "crawler"),
    "crawl": ("crawler", "scraping"),
    "download": ("http",),
    "web": ("http",),
    "sql": ("database",),
    "database": ("sql", "db"),
    "db": ("database",),
    "gpu": ("cuda",),
    "cuda": ("gpu",),
    "test": ("testing",),
    "testing": ("test",),
    "regex": ("regular_expression",),
    "config": ("configuration", "settings"),
    "date": ("datetime", "time"),
    "time": ("datetime",),
    "stat": ("statistic",),
    "statistic": ("stat",),
    "stats": ("statistic",),
    "map": ("geospatial", "gis"),
    "geo": ("geospatial", "gis"),
    "audio": ("sound", "music"),
    "sound": ("audio",),
    "video": ("movie",),
    "pdf": ("pdf",),
    "async": ("asyncio",),
}


def stem(word: str) -> str:
    """A light suffix stripper: enough to join ``images``/``image``, ``plotting``/``plot``."""
    for british, american in _BRITISH:
        if british in word:
            word = word.replace(british, american)
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
        if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
            word = word[:-1]
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Stemmed words of ``text``, stopwords removed."""
    return [stem(word) for word in _WORD.findall(text.lower()) if word not in STOPWORDS]


def tokens(text: str) -> list[str]:
    """Words plus adjacent pairs (``deep_learn``)."""
    found = words(text)
    return found + [f"{left}_{right}" for left, right in zip(found, found[1:])]


@dataclass(frozen=True)
class PurposeMatch:
    """Why a project matched: relevance in [0, 1] and the query words it matched."""

    canonical_name: str
    relevance: float
    matched: tuple[str, ...]


class PurposeIndex:
    """An inverted index over the names, keywords and summaries of popular projects."""

    def __init__(self, popular: PopularTable) -> None:
        postings: dict[str, dict[int, float]] = {}
        self._names: list[str] = []
        for position, project in enumerate(popular):
            self._names.append(project.canonical_name)
            fields = (
                (project.purpose, PURPOSE_WEIGHT),
                (project.canonical_name.replace("-", " "), NAME_WEIGHT),
                (project.keywords, KEYWORD_WEIGHT),
                (project.summary or "", SUMMARY_WEIGHT),
            )
            for text, weight in fields:
                for token in tokens(text):
                    posting = postings.setdefault(token, {})
                    if posting.get(position, 0.0) < weight:
                        posting[position] = weight
        count = max(1, len(self._names))
        self._postings = postings
        self._idf = {token: math.log(1 + count / len(docs)) for token, docs in postings.items()}

    _FORMAT = 2

    def dumps(self) -> bytes:
        """The built index, for ``loads`` in another process (marshal: plain data).
        Each token's postings are packed on their own, so that a loaded index
        unpacks only the tokens a query asks about."""
        packed = {
            token: marshal.dumps((self._idf[token], docs)) for token, docs in self._postings.items()
        }
        return marshal.dumps((self._FORMAT, self._names, packed))

    @classmethod
    def loads(cls, data: bytes) -> PurposeIndex | None:
        """An index from ``dumps``; None when ``data`` is not one (then build it)."""
        try:
            found = marshal.loads(data)  # noqa: S302 - our own cache file, as .pyc files are
        except (EOFError, ValueError, TypeError):
            return None
        if not (isinstance(found, tuple) and len(found) == 3 and found[0] == cls._FORMAT):
            return None
        _, names, packed = found
        if not (isinstance(names, list) and isinstance(packed, dict)):
            return None
        index = cls.__new__(cls)
        index._names = names
        index._postings = index._idf = _Packed(packed)  # type: ignore[assignment]
        return index

    def _alternatives(self, token: str) -> Iterable[tuple[str, float]]:
        yield token, 1.0
        for synonym in SYNONYMS.get(token, ()):
            yield synonym, SYNONYM_WEIGHT

    def search(self, query: str, *, limit: int = 50) -> list[PurposeMatch]:
        query_words = list(dict.fromkeys(words(query)))[:12]
        if not query_words:
            return []
        pairs = [f"{left}_{right}" for left, right in zip(query_words, query_words[1:])]
        scores: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        best_possible = 0.0
        for token in query_words + pairs:
            weights: dict[int, float] = {}
            idf_best = 0.0
            for alternative, factor in self._alternatives(token):
                docs = self._postings.get(alternative)
                if not docs:
                    continue
                idf = self._idf[alternative]
                idf_best = max(idf_best, idf)
                for doc, weight in docs.items():
                    value = weight * factor * idf
                    if value > weights.get(doc, 0.0):
                        weights[doc] = value
            is_word = "_" not in token or token in query_words
            if not is_word and not weights:
                continue  # a pair no project has is no phrase to miss
            # Unknown words still count in the best possible score: a query of one known
            # and one unknown word matches at most half.
            best_possible += PURPOSE_WEIGHT * (idf_best or math.log(1 + len(self._names)))
            for doc, value in weights.items():
                scores[doc] = scores.get(doc, 0.0) + value
                if is_word:
                    matched.setdefault(doc, []).append(token)
        if not scores or best_possible <= 0:
            return []
        results = []
        for doc, score in scores.items():
            words_matched = matched.get(doc, [])
            if not words_matched:
                continue
            coverage = len(words_matched) / len(query_words)
            relevance = min(1.0, score / best_possible) * coverage
            results.append(PurposeMatch(self._names[doc], relevance, tuple(words_matched)))
        results.sort(key=lambda match: (-match.relevance, match.canonical_name))
        return results[:limit]


class _Packed:
    """The postings and idf of a loaded index, unpacked per token on first use."""

    def __init__(self, packed: dict[str, bytes]) -> None:
        self._packed = packed
        self._open: dict[str, tuple[float, dict[int, float]] | None] = {}

    def _unpack(self, token: str) -> tuple[float, dict[int, float]] | None:
        if token in self._open:
            return self._open[token]
        raw = self._packed.get(token)
        found = None
        if isinstance(raw, bytes):
            try:
                value = marshal.loads(raw)  # noqa: S302 - as in PurposeIndex.loads
            except (EOFError, ValueError, TypeError):
                value = None
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict):
                found = (float(value[0]), value[1])
        self._open[token] = found
        return found

    def get(self, token: str) -> dict[int, float] | None:
        found = self._unpack(token)
        return found[1] if found else None

    def __getitem__(self, token: str) -> float:
        found = self._unpack(token)
        if found is None:
            raise KeyError(token)
        return found[0]
