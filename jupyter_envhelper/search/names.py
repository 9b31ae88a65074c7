"""Project names: PEP 503 normalization, exact lookup and prefix search.

``NameTable`` holds every project name of an index (~700,000) as a sorted list of
canonical names (prefix search is two bisections) plus a set for exact lookups. Display
names are kept only where they differ from the canonical form, which keeps memory low.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator

_SEPARATORS = re.compile(r"[-_.]+")
_WHITESPACE = re.compile(r"\s+")
# Characters a canonical project name may contain (PEP 508 names, normalized).
NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"
_VALID_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def canonicalize(name: str) -> str:
    """PEP 503 normalization: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    lowered = name.lower()
    if "_" in lowered or "." in lowered or "--" in lowered:
        return _SEPARATORS.sub("-", lowered)
    return lowered


def query_to_name(query: str) -> str | None:
    """The canonical project name a typed query could mean, or None if none.

    Whitespace counts as a separator (``python dateutil`` -> ``python-dateutil``).
    """
    candidate = canonicalize(_WHITESPACE.sub("-", query.strip()))
    candidate = candidate.strip("-")
    if _VALID_NAME.match(candidate):
        return candidate
    return None


class NameTable:
    """All project names of an index, canonical and sorted."""

    def __init__(self, names: Iterable[str]) -> None:
        display: dict[str, str] = {}
        canonical_names: set[str] = set()
        for name in names:
            key = canonicalize(name)
            if key in canonical_names:
                continue
            canonical_names.add(key)
            if key != name:
                display[key] = name
        self._set = canonical_names
        self._sorted = sorted(canonical_names)
        self._display = display

    def __len__(self) -> int:
        return len(self._sorted)

    def __contains__(self, canonical: object) -> bool:
        return canonical in self._set

    def known(self, canonical_names: Iterable[str]) -> set[str]:
        """Those of ``canonical_names`` that are in the table."""
        return {name for name in canonical_names if name in self._set}

    def display(self, canonical: str) -> str:
        """The name as the index spells it."""
        return self._display.get(canonical, canonical)

    def with_prefix(self, prefix: str, *, limit: int) -> Iterator[str]:
        """Up to ``limit`` canonical names starting with ``prefix``, in sorted order."""
        start = bisect_left(self._sorted, prefix)
        names = self._sorted
        for position in range(start, min(start + limit, len(names))):
            name = names[position]
            if not name.startswith(prefix):
                return
            yield name
