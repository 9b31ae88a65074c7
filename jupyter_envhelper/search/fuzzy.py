"""Names within two typos of a query, among a few thousand names (the popular ones).

A deletion neighbourhood (the SymSpell idea): every name is stored under each string
obtained by deleting up to two of its characters. Two strings within edit distance two
(with transpositions) share such a string, so a query looks up its own deletions (~60
for a ten-letter word) and checks the few names found with the bounded distance.

The table maps strings to strings (names joined by spaces), which the garbage collector
never has to walk: a few hundred thousand small lists would make its full passes slow.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

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


class NearIndex(Protocol):
    def near(self, query: str, *, limit: int = MAX_DISTANCE) -> dict[str, int]: ...


class ScanNear:
    """Names within two edits found by scanning them all (with cheap filters first: the
    length, and the characters used, which two edits change by at most four). Nothing
    to build; ~15 ms a query over the few thousand popular names."""

    def __init__(self, names: Iterable[str], *, min_length: int = 4) -> None:
        self._min_length = min_length
        self._names = [
            (n, len(n), frozenset(n)) for n in dict.fromkeys(names) if len(n) >= min_length
        ]

    def near(self, query: str, *, limit: int = MAX_DISTANCE) -> dict[str, int]:
        found: dict[str, int] = {}
        if len(query) < self._min_length - limit:
            return found
        size, chars = len(query), frozenset(query)
        for name, length, used in self._names:
            if abs(length - size) > limit or len(used ^ chars) > 2 * limit:
                continue
            distance = osa_distance(query, name, limit)
            if 0 < distance <= limit:
                found[name] = distance
        return found


class _Pending:
    """Scans until the stored index is written (by another process), then uses it."""

    def __init__(self, path: Path, digest: str, min_length: int, scan: ScanNear) -> None:
        self._path, self._digest, self._min_length = path, digest, min_length
        self._scan = scan
        self._stored: StoredDeletionIndex | None = None
        self._next_look = 0.0

    def near(self, query: str, *, limit: int = MAX_DISTANCE) -> dict[str, int]:
        if self._stored is None and time.monotonic() >= self._next_look:
            self._next_look = time.monotonic() + 5.0
            self._stored = StoredDeletionIndex._open(self._path, self._digest, self._min_length)
        if self._stored is not None:
            return self._stored.near(query, limit=limit)
        return self._scan.near(query, limit=limit)


class StoredDeletionIndex:
    """A ``DeletionIndex`` kept in a sqlite file (``open_or_build``): built once per
    user and shipped data (~1 s, half a million keys), then opened by every process
    in a millisecond instead of being rebuilt in memory (tens of megabytes)."""

    FORMAT = "1"

    def __init__(self, path: Path, min_length: int) -> None:
        self.path = path
        self._min_length = min_length
        self._local = threading.local()

    @classmethod
    def open_or_build(
        cls,
        path: str | os.PathLike[str],
        names: Sequence[str],
        *,
        min_length: int = 4,
        deep_from: int = 8,
        background: Callable[[], object] | None = None,
    ) -> NearIndex:
        """The stored index for exactly these names and settings; when it is missing or
        stale, the in-memory ``DeletionIndex``, and the file is written for the next
        process: here, or by whatever ``background`` starts."""
        path = Path(path)
        digest = hashlib.sha256(
            f"{cls.FORMAT}\n{min_length}\n{deep_from}\n".encode() + "\n".join(names).encode()
        ).hexdigest()
        found = cls._open(path, digest, min_length)
        if found is not None:
            return found
        if background is not None:
            # the file is written elsewhere (another process: half a million rows
            # written from a thread here would hold this one's GIL for seconds); until
            # it is there, names are scanned (~15 ms a query, nothing to build)
            background()
            return _Pending(path, digest, min_length, ScanNear(names, min_length=min_length))
        built = DeletionIndex(names, min_length=min_length, deep_from=deep_from)
        if not _write_quietly(path, built._keys, digest):
            return built
        return cls._open(path, digest, min_length) or built

    @classmethod
    def _open(cls, path: Path, digest: str, min_length: int) -> StoredDeletionIndex | None:
        if not path.is_file():
            return None
        try:
            with contextlib.closing(_connect_ro(path)) as db:
                row = db.execute("SELECT value FROM meta WHERE key = 'digest'").fetchone()
        except sqlite3.Error:
            row = None
        if row is None or row[0] != digest:
            return None
        return cls(path, min_length)

    def _lookup(self, keys: list[str]) -> dict[str, str]:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _connect_ro(self.path)
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key, names FROM near WHERE key IN ({marks})"  # noqa: S608 - only ?s
            found.update(db.execute(sql, chunk).fetchall())
        return found

    def near(self, query: str, *, limit: int = MAX_DISTANCE) -> dict[str, int]:
        """As ``DeletionIndex.near``; nothing (not an error) when the file is damaged."""
        found: dict[str, int] = {}
        if len(query) < self._min_length - limit:
            return found
        try:
            keys = self._lookup(sorted(deletions(query, limit)))
        except sqlite3.Error:
            return found
        seen: set[str] = set()
        for names in keys.values():
            for name in names.split(" "):
                if name in seen:
                    continue
                seen.add(name)
                distance = osa_distance(query, name, limit)
                if 0 < distance <= limit:
                    found[name] = distance
        return found


def _connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def _write_quietly(path: Path, keys: dict[str, str], digest: str) -> bool:
    try:
        _write_keys(path, keys, digest)
    except (OSError, sqlite3.Error):
        return False  # a cache that cannot be written is only slower
    return True


def _write_keys(path: Path, keys: dict[str, str], digest: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(".tmp-*.sqlite"):  # left by a process that exited
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink()
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".sqlite")
    os.close(handle)
    try:
        with contextlib.closing(sqlite3.connect(temp)) as db:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("CREATE TABLE near (key TEXT PRIMARY KEY, names TEXT) WITHOUT ROWID")
            db.executemany("INSERT INTO near VALUES (?, ?)", sorted(keys.items()))
            db.execute("INSERT INTO meta VALUES ('digest', ?)", (digest,))
            db.commit()
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
