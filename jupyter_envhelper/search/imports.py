"""Import names -> distribution names: ``cv2`` is ``opencv-python``.

Three sources, merged per query: the shipped map of common mismatches
(``data/import_names.json``), index-wide data such as PEP 794 ``Import-Name`` metadata
given when the ``SearchIndex`` is built, and per-environment data such as
``importlib.metadata.packages_distributions()`` of the target given with a query.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from .names import canonicalize

ImportNames = Mapping[str, Sequence[str]]


class ImportNameMap:
    """Lookup by import name, exact first, then ignoring case."""

    def __init__(self, *sources: ImportNames) -> None:
        self._exact: dict[str, list[str]] = {}
        self._folded: dict[str, list[str]] = {}
        for source in sources:
            self.update(source)

    def update(self, source: ImportNames) -> None:
        for import_name, dists in source.items():
            name = import_name.strip()
            if not name or isinstance(dists, str):
                continue
            self._add(self._exact, name, dists)
            self._add(self._folded, name.lower(), dists)

    @staticmethod
    def _add(table: dict[str, list[str]], key: str, dists: Iterable[str]) -> None:
        known = table.setdefault(key, [])
        for dist in dists:
            canonical = canonicalize(dist)
            if canonical not in known:
                known.append(canonical)

    def lookup(self, import_name: str) -> list[str]:
        """Canonical distribution names for an import name, most likely first."""
        name = import_name.strip()
        found = self._exact.get(name)
        if found is None:
            found = self._folded.get(name.lower(), [])
        return list(found)

    def __len__(self) -> int:
        return len(self._exact)


def shipped_data() -> Path:
    """The package's data folder. A path beside this file, not ``importlib.resources``:
    that module imports tempfile, shutil and inspect (~0.1 s of a fresh search), and
    the package is always installed as files."""
    return Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def load_import_names() -> dict[str, list[str]]:
    """The shipped map of common mismatches (read once)."""
    raw = (shipped_data() / "import_names.json").read_text("utf-8")
    data = json.loads(raw)
    return {str(key): [str(dist) for dist in value] for key, value in data["imports"].items()}
