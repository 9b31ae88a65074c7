"""A persistent HTTP cache on disk for index pages, plus an immutable blob store.

Pages: stored with their validators (ETag, Last-Modified) and freshness
(``Cache-Control: max-age``; ``no-store`` is never stored, ``no-cache`` is always
revalidated). A page without cache headers (PyPI's front end here sends none) is
reused for ``default_freshness`` seconds, then revalidated with a conditional
request; a 304 makes it fresh again without a body.

Blobs: core metadata of a file never changes for a given URL and hash, so it is
kept forever under that key.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PAGE_FRESHNESS = 600.0
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


@dataclass
class CachedResponse:
    url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    stored_at: float = 0.0
    max_age: float | None = None
    no_cache: bool = False

    def is_fresh(self, default_freshness: float, now: float | None = None) -> bool:
        if self.no_cache:
            return False
        age = (time.time() if now is None else now) - self.stored_at
        limit = self.max_age if self.max_age is not None else default_freshness
        return 0 <= age < limit

    def validators(self) -> dict[str, str]:
        found = {}
        if "etag" in self.headers:
            found["If-None-Match"] = self.headers["etag"]
        if "last-modified" in self.headers:
            found["If-Modified-Since"] = self.headers["last-modified"]
        return found


def parse_cache_control(value: str | None) -> tuple[bool, bool, float | None]:
    """(no_store, no_cache, max_age) from a Cache-Control header."""
    no_store = no_cache = False
    max_age: float | None = None
    for directive in (value or "").lower().split(","):
        name, _, arg = directive.strip().partition("=")
        if name == "no-store":
            no_store = True
        elif name == "no-cache":
            no_cache = True
        elif name == "max-age":
            with contextlib.suppress(ValueError):
                max_age = max(0.0, float(arg.strip('"')))
    return no_store, no_cache, max_age


_KEPT_HEADERS = ("content-type", "etag", "last-modified", "x-final-url")


class HttpCache:
    """Cache files under ``directory`` (created on first write)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._made: set[str] = set()  # directories made (or found) by _write
        self._serial = itertools.count()

    def _path(self, kind: str, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.directory / kind / digest[:2] / digest

    def _write(self, path: Path, data: bytes) -> None:
        """Write ``data`` to a new file beside ``path``, then rename it there (readers see
        the old file or the new one, never half of one). A cold plan writes hundreds
        of these: a directory made once is remembered, and the temporary name is this
        process's and thread's own with a counter (``O_EXCL``), not ``tempfile``'s."""
        parent = os.path.dirname(path)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        temp = f"{parent}/.tmp-{os.getpid()}-{threading.get_ident()}-{next(self._serial)}"
        try:
            handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600)
        except FileNotFoundError:  # the directory was removed meanwhile
            self._made.discard(parent)
            os.makedirs(parent, exist_ok=True)
            handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    # -- pages -------------------------------------------------------------------------
    def load(self, url: str, variant: str = "") -> CachedResponse | None:
        path = self._path("http", f"{variant}\n{url}")
        try:
            meta = json.loads(path.with_suffix(".json").read_text("utf-8"))
            body = path.with_suffix(".body").read_bytes()
            return CachedResponse(
                url=url,
                status=int(meta["status"]),
                body=body,
                headers=dict(meta["headers"]),
                stored_at=float(meta["stored_at"]),
                max_age=meta.get("max_age"),
                no_cache=bool(meta.get("no_cache")),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(
        self, url: str, variant: str, status: int, headers: Mapping[str, str], body: bytes
    ) -> CachedResponse | None:
        """Store a 200 answer unless it says ``no-store``; return the entry."""
        no_store, no_cache, max_age = parse_cache_control(headers.get("cache-control"))
        kept = {k: headers[k] for k in _KEPT_HEADERS if k in headers}
        entry = CachedResponse(url, status, body, kept, time.time(), max_age, no_cache)
        if no_store:
            return None
        self._save(entry, variant)
        return entry

    def refresh(self, entry: CachedResponse, variant: str, headers: Mapping[str, str]) -> None:
        """After a 304: new freshness, same body."""
        _no_store, entry.no_cache, entry.max_age = parse_cache_control(headers.get("cache-control"))
        entry.stored_at = time.time()
        for key in ("etag", "last-modified"):
            if key in headers:
                entry.headers[key] = headers[key]
        self._save(entry, variant)

    def _save(self, entry: CachedResponse, variant: str) -> None:
        path = self._path("http", f"{variant}\n{entry.url}")
        meta = {
            "status": entry.status,
            "headers": entry.headers,
            "stored_at": entry.stored_at,
            "max_age": entry.max_age,
            "no_cache": entry.no_cache,
        }
        try:
            self._write(path.with_suffix(".body"), entry.body)
            self._write(path.with_suffix(".json"), json.dumps(meta).encode())
        except OSError:
            pass  # a cache that cannot write is only slower

    # -- immutable blobs ---------------------------------------------------------------
    def get_blob(self, key: str) -> bytes | None:
        try:
            return self._path("blob", key).read_bytes()
        except OSError:
            return None

    def put_blob(self, key: str, data: bytes) -> None:
        with contextlib.suppress(OSError):
            self._write(self._path("blob", key), data)
