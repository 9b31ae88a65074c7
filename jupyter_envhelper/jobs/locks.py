"""One job per environment at a time, across processes: a lock file per environment.

``<lock_dir>/<sha256(real path of the prefix)[:24]>.lock`` is locked with
``fcntl.flock`` (POSIX) or ``msvcrt.locking`` (Windows), never waited for: a second
job for the same environment is refused at once with the id of the job that holds it
(written into the file by the holder). A crashed holder's lock is released by the
operating system. The lock directory is the user's cache (``default_lock_dir``), not
anything configurable: the server, the command line and the magic of one user
exclude each other whatever their settings, and a symlinked path to the same
environment is the same environment.

uv takes ``<venv>/.lock`` while it changes a venv. A job cannot hold that one (the uv
it starts would wait for it), but a job refuses to start while someone else's uv
holds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .models import EnvironmentBusy

if sys.platform == "win32":  # pragma: no cover - Windows only
    import msvcrt
else:
    import fcntl


def _key(prefix: str) -> str:
    return hashlib.sha256(os.path.normcase(os.path.realpath(prefix)).encode()).hexdigest()[:24]


def default_lock_dir() -> Path:
    """``<user cache>/locks``: the same for every process of this user."""
    from ..probe import default_cache_dir

    return default_cache_dir() / "locks"


class EnvironmentLock:
    """An exclusive, non-blocking lock on one environment (by prefix)."""

    def __init__(self, lock_dir: str | os.PathLike[str], prefix: str) -> None:
        self.prefix = prefix
        self.path = Path(lock_dir) / f"{_key(prefix)}.lock"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, job_id: int | None = None) -> None:
        """Take the lock or raise ``EnvironmentBusy`` naming the holder's job."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            holder = self.holder()
            job = holder.get("job") if holder else None
            owner = f"job {job}" if job is not None else "another job"
            raise EnvironmentBusy(
                f"This environment is busy: {owner} is changing it. Wait until it has "
                "finished, then plan again (its result changes what a new plan would do).",
                job_id=job if isinstance(job, int) else None,
            ) from None
        try:
            _check_uv_lock(self.prefix)
        except EnvironmentBusy:
            _unlock(fd)
            os.close(fd)
            raise
        self._fd = fd
        self.set_holder(job_id)

    def set_holder(self, job_id: int | None) -> None:
        if self._fd is None:
            return
        data = json.dumps({"job": job_id, "pid": os.getpid(), "prefix": self.prefix}).encode()
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, data)

    def holder(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
            value = json.loads(text) if text.strip() else None
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> EnvironmentLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _check_uv_lock(prefix: str) -> None:
    """Refuse while a uv process holds the venv's own ``.lock`` (never waits)."""
    path = os.path.join(prefix, ".lock")
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return  # no uv lock file (or not ours to open): nothing to honour
    try:
        try:
            _lock(fd)
        except OSError:
            raise EnvironmentBusy(
                f"This environment is busy: a uv command is changing it (it holds {path}). "
                "Wait until it has finished, then plan again."
            ) from None
        _unlock(fd)
    finally:
        os.close(fd)


def _lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
