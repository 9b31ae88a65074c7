"""The durable record of every job: a small sqlite database (stdlib ``sqlite3``).

WAL mode, ``synchronous=NORMAL``, one short transaction per write, a new connection
per operation (so threads and processes never share one; one more is only held open,
see ``__init__``): a crash loses at most the last write, never the file. A job is
written when it starts (state ``running``) and again when it ends; a row still
``running`` whose environment lock is free belongs to a process that died, and
``mark_interrupted`` says so.

Stored per job: id, environment prefix and interpreter, kind, state, times, the
request, the plan JSON, before- and after-snapshots, the outcome and a redacted log
tail. Job ids come from sqlite (``AUTOINCREMENT``), unique across processes.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..index.credentials import redact_url

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prefix TEXT NOT NULL,
    interpreter TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    backend TEXT,
    undo_of INTEGER,
    started REAL NOT NULL,
    ended REAL,
    request TEXT NOT NULL,
    plan TEXT NOT NULL,
    before TEXT,
    after TEXT,
    outcome TEXT,
    log_tail TEXT
);
CREATE INDEX IF NOT EXISTS jobs_prefix ON jobs (prefix, id);
"""
_JSON_COLUMNS = ("request", "plan", "before", "after", "outcome")


class History:
    """Jobs of all environments, in one sqlite file at ``path``."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        # Held open, never used: when the last connection to a WAL database closes,
        # sqlite checkpoints the log into the file and syncs it, which made every
        # write (a connection each) cost 20-40 ms on a slow disk and a job's start
        # and end wait for it. With this one open, a write is a log append again;
        # the log is still checkpointed as it grows, and when this closes.
        self._keeper: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        self._keeper.execute("SELECT 1 FROM jobs LIMIT 1").fetchall()

    def close(self) -> None:
        """Let go of the kept connection (the log is checkpointed into the file)."""
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            db.row_factory = sqlite3.Row
            yield db
        finally:
            db.close()

    def create(
        self,
        *,
        prefix: str,
        interpreter: str,
        kind: str,
        request: Mapping[str, Any],
        plan: Mapping[str, Any],
        before: Mapping[str, Any] | None = None,
        backend: str | None = None,
        undo_of: int | None = None,
        started: float | None = None,
    ) -> int:
        """A new job row in state ``running``; its id."""
        values = _insert_values(
            _norm(prefix),
            started if started is not None else time.time(),
            before,
            interpreter=interpreter,
            kind=kind,
            request=request,
            plan=plan,
            backend=backend,
            undo_of=undo_of,
        )
        with self._connect() as db:
            row_id = db.execute(_INSERT, values).lastrowid
        assert row_id is not None
        return int(row_id)

    def begin(
        self,
        *,
        prefix: str,
        before: Callable[[Mapping[str, Any] | None], Mapping[str, Any]],
        **row: Any,
    ) -> tuple[int, Mapping[str, Any]]:
        """A job's start in one connection and one transaction: the environment's rows
        still ``running`` become ``interrupted`` (``mark_interrupted``: hold its lock),
        ``before(after of its newest job)`` gives the before-snapshot, and the new row
        (``create``'s fields) is written with it. Returns its id and that snapshot.
        One connection instead of three: each open and close costs a job's start
        about half a millisecond."""
        norm = _norm(prefix)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                db.execute(
                    "UPDATE jobs SET state = 'interrupted', ended = ?"
                    " WHERE prefix = ? AND state = 'running'",
                    (now, norm),
                )
                last = db.execute(
                    "SELECT after FROM jobs WHERE prefix = ? ORDER BY id DESC LIMIT 1", (norm,)
                ).fetchone()
                after = json.loads(last["after"]) if last and last["after"] else None
                snapshot = before(after)
                cursor = db.execute(_INSERT, _insert_values(norm, now, snapshot, **row))
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid), snapshot

    def update(self, job_id: int, **fields: Any) -> None:
        """Set columns of one job (JSON columns are serialised, the log tail redacted)."""
        allowed = {"state", "backend", "ended", "before", "after", "outcome", "log_tail", "plan"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown history fields {sorted(unknown)}")
        if not fields:
            return
        values: list[Any] = []
        for key, raw in fields.items():
            if key in _JSON_COLUMNS and raw is not None:
                values.append(_dump(raw))
            elif key == "log_tail" and raw is not None:
                values.append(redact_url(str(raw)))
            else:
                values.append(raw)
        assignments = ", ".join(f"{key} = ?" for key in fields)
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*values, job_id))  # noqa: S608

    def get(self, job_id: int) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _row(row) if row is not None else None

    def list(
        self, env_prefix: str | None = None, *, limit: int = 100
    ) -> builtins.list[dict[str, Any]]:
        """Jobs, newest first; of one environment when ``env_prefix`` is given."""
        with self._connect() as db:
            if env_prefix is None:
                rows = db.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,))
            else:
                rows = db.execute(
                    "SELECT * FROM jobs WHERE prefix = ? ORDER BY id DESC LIMIT ?",
                    (_norm(env_prefix), limit),
                )
            return [_row(r) for r in rows.fetchall()]

    def mark_interrupted(
        self, env_prefix: str, *, except_id: int | None = None
    ) -> builtins.list[int]:
        """Rows of ``env_prefix`` still ``running`` (their process died): ``interrupted``.

        Call only while holding the environment's lock: then no live job can own them.
        """
        with self._connect() as db:
            rows = db.execute(
                "SELECT id FROM jobs WHERE prefix = ? AND state = 'running' AND id != ?",
                (_norm(env_prefix), except_id if except_id is not None else -1),
            ).fetchall()
            ids = [int(r["id"]) for r in rows]
            if ids:
                db.executemany(
                    "UPDATE jobs SET state = 'interrupted', ended = ? WHERE id = ?",
                    [(time.time(), i) for i in ids],
                )
        return ids


_INSERT = (
    "INSERT INTO jobs (prefix, interpreter, kind, state, backend, undo_of, started,"
    " request, plan, before) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)"
)


def _insert_values(
    prefix: str,
    started: float,
    before: Mapping[str, Any] | None,
    *,
    interpreter: str,
    kind: str,
    request: Mapping[str, Any],
    plan: Mapping[str, Any],
    backend: str | None = None,
    undo_of: int | None = None,
) -> tuple[Any, ...]:
    return (
        prefix,
        interpreter,
        kind,
        backend,
        undo_of,
        started,
        _dump(request),
        _dump(plan),
        _dump(before) if before is not None else None,
    )


def _norm(prefix: str) -> str:
    return os.path.normcase(os.path.abspath(prefix)) if prefix else ""


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _row(row: sqlite3.Row) -> dict[str, Any]:
    out = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row
    for key in _JSON_COLUMNS:
        if out.get(key) is not None:
            out[key] = json.loads(out[key])
    return out
