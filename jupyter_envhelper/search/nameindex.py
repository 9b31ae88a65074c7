"""A persistent name index: every project name of an index, in one sqlite file.

PyPI lists ~900,000 projects in a ~50 MB page that takes seconds to fetch and parse.
Kept in memory as Python strings that is hundreds of megabytes per process (per user,
under JupyterHub), and a fresh process (the command line, a new kernel's magic) had
to fetch it again. Instead the list is written once to
``<cache>/names/<key>.sqlite`` (``key``: a digest of the index URLs) and read from
there: opening it is a millisecond, a lookup or a prefix scan a few microseconds,
and the operating system shares its pages between processes.

The file is built by ``build`` in a worker thread with its own event loop and client
(a command that started it finishes it before it exits; its answer is already out),
or by a separate process (``python -m jupyter_envhelper.search.nameindex PATH``, the
index configuration on its standard input, credentials included, never in argv;
``start_build``). A lock file keeps one builder per index. The file
records the index URLs it is for, a digest of the names (the page's identity; the
front end sends no validators) and when it was built; a file that is not a readable
name index (a crash mid-write cannot make one: it is written aside and renamed) is
removed and built again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .names import canonicalize

FORMAT = "1"
_CHUNK = 20_000


def store_path(directory: str | os.PathLike[str], index_urls: Sequence[str]) -> Path:
    """Where the name index of these (clean) index URLs lives."""
    digest = hashlib.sha256("\n".join(index_urls).encode()).hexdigest()[:32]
    return Path(directory) / f"{digest}.sqlite"


class NameIndex:
    """A read-only view of a built name index; the ``NameTable`` interface.

    Thread-safe (one connection per thread). A query that finds the file damaged
    answers "not there" and sets ``broken``, so the caller can rebuild it."""

    def __init__(self, path: Path, meta: dict[str, str]) -> None:
        self.path = path
        self.meta = meta
        self.broken = False
        self._count = int(meta.get("count", "0"))
        self._local = threading.local()

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> NameIndex | None:
        """The index at ``path``, or None when there is none or it cannot be read (a
        damaged or foreign file is removed, so the next build replaces it)."""
        path = Path(path)
        if not path.is_file():
            return None
        try:
            with contextlib.closing(_connect(path)) as db:
                meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
                db.execute("SELECT canonical FROM names LIMIT 1").fetchall()
            if meta.get("format") != FORMAT or "built_at" not in meta:
                raise sqlite3.DatabaseError("not a name index of this format")
        except sqlite3.Error:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        return cls(path, meta)

    @property
    def built_at(self) -> float:
        return float(self.meta.get("built_at", "0"))

    @property
    def identity(self) -> str:
        return self.meta.get("identity", "")

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _connect(self.path)
        return db

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self.broken:
            return []
        try:
            return self._db().execute(sql, args).fetchall()
        except sqlite3.Error:
            self.broken = True
            return []

    def __len__(self) -> int:
        return self._count

    def __contains__(self, canonical: object) -> bool:
        if not isinstance(canonical, str):
            return False
        return bool(self._rows("SELECT 1 FROM names WHERE canonical = ?", (canonical,)))

    def known(self, canonical_names: Iterable[str]) -> set[str]:
        """Those of ``canonical_names`` in the index, in a few queries."""
        wanted = list(canonical_names)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT canonical FROM names WHERE canonical IN ({marks})"  # noqa: S608
            found.update(row[0] for row in self._rows(sql, tuple(chunk)))
        return found

    def display(self, canonical: str) -> str:
        rows = self._rows("SELECT display FROM names WHERE canonical = ?", (canonical,))
        return rows[0][0] or canonical if rows else canonical

    def with_prefix(self, prefix: str, *, limit: int) -> Iterator[str]:
        rows = self._rows(
            "SELECT canonical FROM names WHERE canonical >= ? AND canonical < ? "
            "ORDER BY canonical LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return iter([row[0] for row in rows])

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def write(path: str | os.PathLike[str], names: Iterable[str], index_urls: Sequence[str]) -> bool:
    """Write the index of ``names`` to ``path`` (aside, then renamed). Returns False
    when the file there already holds exactly these names (then only its build time
    is renewed, in place)."""
    path = Path(path)
    ordered: dict[str, str] = {}
    for name in names:
        key = canonicalize(name)
        if key and key not in ordered:
            ordered[key] = name
    digest = hashlib.sha256()
    keys = sorted(ordered)
    for key in keys:
        digest.update(key.encode() + b"\n")
    identity = digest.hexdigest()
    existing = NameIndex.open(path)
    if existing is not None and existing.identity == identity:
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'built_at'", (repr(time.time()),))
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # here: it imports shutil and random, ~30 ms a fresh search needs not

    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".sqlite")
    os.close(handle)
    try:
        with contextlib.closing(sqlite3.connect(temp)) as db:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute(
                "CREATE TABLE names (canonical TEXT PRIMARY KEY, display TEXT) WITHOUT ROWID"
            )
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                db.executemany(
                    "INSERT INTO names VALUES (?, ?)",
                    ((k, ordered[k] if ordered[k] != k else None) for k in chunk),
                )
            meta = {
                "format": FORMAT,
                "index_urls": json.dumps(list(index_urls)),
                "identity": identity,
                "count": str(len(keys)),
                "built_at": repr(time.time()),
            }
            db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            db.commit()
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return True


# -- building in a separate process -------------------------------------------------------


def start_build(path: Path, request: dict[str, Any]) -> subprocess.Popen[bytes] | None:
    """Start a builder process for ``path``; ``request``: see ``_build_main``.
    None when it cannot be started (the caller goes on with the popular data)."""
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_envhelper.search.nameindex", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a command that started it may exit before it ends
        )
    except OSError:
        return None
    assert proc.stdin is not None
    try:
        proc.stdin.write(json.dumps(request).encode())
        proc.stdin.close()
    except OSError:
        pass
    return proc


def locked(path: Path) -> contextlib.AbstractContextManager[bool]:
    """Holds ``<path>.lock``; yields False when another builder holds it."""

    @contextlib.contextmanager
    def hold() -> Iterator[bool]:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.lock", "a+b") as handle:
            try:
                import fcntl

                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except ImportError:  # no fcntl (Windows): no lock, the rename keeps it sound
                pass
            except OSError:
                yield False
                return
            yield True

    return hold()


async def _fetch_names(request: dict[str, Any]) -> list[str]:
    from ..index import IndexConfig
    from ..index.cache import DEFAULT_PAGE_FRESHNESS
    from ..index.local import LocalIndexClient

    config = IndexConfig(
        index_url=request["index_url"],
        extra_index_urls=tuple(request.get("extra_index_urls") or ()),
        find_links=tuple(request.get("find_links") or ()),
        no_index=bool(request.get("no_index")),
    )
    async with LocalIndexClient(
        config,
        cache_dir=request.get("http_cache"),
        timeout=float(request.get("timeout", 30.0)),
        page_freshness=float(request.get("page_freshness", DEFAULT_PAGE_FRESHNESS)),
        download_timeout=float(request.get("download_timeout", 300.0)),
    ) as client:
        names: list[str] = []
        for url in client.index_urls:
            names.extend(await client.project_list(url))
        return names


def build(path: str | os.PathLike[str], request: dict[str, Any]) -> bool:
    """Fetch the names and write the index at ``path``, synchronously (its own event
    loop and client: call it from a worker thread or a separate process). False when
    another process holds the lock (it is building the same file). Raises
    ``EnvHelperError`` when the index's list cannot be read."""
    path = Path(path)
    with locked(path) as mine:
        if not mine:
            return False
        import asyncio  # here: ~60 ms that a fresh search needs not

        names = asyncio.run(_fetch_names(request))
        write(path, names, request.get("key_urls") or [request["index_url"]])
        return True


def _build_main(argv: Sequence[str]) -> int:
    """``python -m jupyter_envhelper.search.nameindex PATH`` with a JSON request on
    stdin: ``index_url``, ``extra_index_urls``, ``find_links``, ``no_index``,
    ``http_cache``, ``key_urls`` (the clean URLs the file is for)."""
    from ..errors import EnvHelperError

    if len(argv) != 1:
        print("usage: python -m jupyter_envhelper.search.nameindex PATH < request.json")
        return 2
    request = json.loads(sys.stdin.buffer.read() or b"{}")
    try:
        build(argv[0], request)
    except EnvHelperError as exc:
        sys.stderr.write(exc.message + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_build_main(sys.argv[1:]))
