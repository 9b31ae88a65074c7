"""Names within two typos of a query, among a few thousand names (the popular ones).

A deletion neighbourhood (the SymSpell idea): every name is stored under each string
obtained by deleting up to two of its characters. Two strings within edit distance two
(with transpositions) share such a string, so a query looks up its own deletions (~60
for a ten-letter word) and checks the few names found with the bounded distance.

The table maps strings to strings (names joined by spaces), which the garbage collector
never has to walk: a few hundred thousand small lists would make its full passes slow.
"""

from __future__ import annotations

from collections.abc import Iterable

from .distance import osa_distance

MAX_DISTANCE = 2


def deletions(word: str, depth: int = MAX_DISTANCE) -> set[str]:
    """``word`` with up to ``depth`` (1 or 2) characters deleted, ``word`` included."""
    size = len(word)
    found = {word}
    found.update(word[:i] + word[i + 1 :] for i in range(size))
    if depth >= 2 and size > 2:
        found.update(
            word[:i] + word[i + 1 : j] + word[j + 1 :]
            for i in range(size)
            for j in range(i + 1, size)
        )
    return found


class DeletionIndex:
    """Finds names within ``MAX_DISTANCE`` edits of a query."""

    def __init__(self, names: Iterable[str], *, min_length: int = 4, deep_from: int = 8) -> None:
        """Names shorter than ``deep_from`` are stored one deletion deep: two-typo
        matches of short names are mostly noise, and this halves the build time."""
        self._min_length = min_length
        keys: dict[str, str] = {}
        for name in dict.fromkeys(names):
            if len(name) < min_length:
                continue
            for key in deletions(name, 2 if len(name) >= deep_from else 1):
                known = keys.get(key)
                keys[key] = name if known is None else f"{known} {name}"
        self._keys = keys

    def near(self, query: str, *, limit: int = MAX_DISTANCE) -> dict[str, int]:
        """Names within ``limit`` edits of ``query`` (itself excluded), with distances."""
        found: dict[str, int] = {}
        if len(query) < self._min_length - limit:
            return found
        seen: set[str] = set()
        keys = self._keys
        for key in deletions(query, limit):
            names = keys.get(key)
            if names is None:
                continue
            for name in names.split(" "):
                if name in seen:
                    continue
                seen.add(name)
                distance = osa_distance(query, name, limit)
                if 0 < distance <= limit:
                    found[name] = distance
        return found
