"""Jobs as data: ``Job``, its state, its ``ProgressEvent``s, snapshots and failures.

A ``Job`` is created and changed on the event loop only; the worker thread that runs
the installer reaches it through ``loop.call_soon_threadsafe``. Its events are an
append-only list: ``async for event in job.events(since=n)`` gives every event from
``n`` on and then waits for more until the job has finished, so a client that
connects late still sees the whole story.

JSON of a job, ``Job.to_json()`` (the surfaces show it as ``core.documents.job_document``)::

    {"id": 7, "kind": "install"|"uninstall"|"undo", "undo_of": null,
     "state": "running"|"succeeded"|"failed"|"cancelled"|"interrupted",
     "environment": {"prefix": ..., "interpreter": ...}, "backend": "uv",
     "request": {...}, "plan": {...Plan.to_json()},
     "created": 1700000000.0, "started": ..., "ended": null,
     "phase": "downloading", "events": 12,
     "outcome": null | {"message", "failure", "changes", "differences", "problems",
                        "damaged", "restore": {...} | null}}

An event, ``ProgressEvent.to_json()``::

    {"seq": 3, "time": ..., "phase": "downloading", "message": "...", "line": "...",
     "package": "delta", "bytes_done": 1000, "bytes_total": 401000,
     "files_done": 1, "files_total": 3, "state": "running"}
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from packaging.utils import canonicalize_name

from ..environment import Environment
from ..errors import Busy, EnvHelperError
from ..index.credentials import redact_url
from ..plan import Plan

JobKind = Literal["install", "uninstall", "undo", "create"]
JobState = Literal["running", "succeeded", "failed", "cancelled", "interrupted"]
Phase = Literal["resolving", "downloading", "building", "installing", "verifying", "done"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "interrupted"})


class EnvironmentChanged(Busy):
    """The environment is not what the plan was made for: plan again."""

    reason = "changed"


class EnvironmentBusy(Busy):
    """Another job holds the environment."""

    reason = "busy"

    def __init__(self, message: str, *, job_id: int | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id


class Refused(EnvHelperError):
    """The job may not run here (externally managed, not writable, no space)."""

    status = 409

    def __init__(self, message: str, *, reason: str, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.reason = reason


# ------------------------------------------------------------------ snapshots


@dataclass(frozen=True)
class Installed:
    """One distribution in a snapshot: its version and how it got there."""

    name: str
    version: str
    source: Literal["index", "editable", "direct-url", "unknown"] = "unknown"
    index_url: str | None = None
    url: str | None = None  # redacted direct URL
    installer: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "index_url": self.index_url,
            "url": self.url,
            "installer": self.installer,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Installed:
        return cls(
            name=str(data["name"]),
            version=str(data["version"]),
            source=data.get("source") or "unknown",
            index_url=data.get("index_url"),
            url=data.get("url"),
            installer=data.get("installer"),
        )


Snapshot = dict[str, Installed]  # canonical name -> Installed


def snapshot_of(
    env: Environment, plan: Plan | None = None, previous: Snapshot | None = None
) -> Snapshot:
    """What ``env`` holds. ``plan`` tells which index the files it installed came from;
    ``previous`` keeps what an earlier snapshot knew of unchanged distributions."""
    out: Snapshot = {}
    for key, dist in sorted(env.distributions.items()):
        direct = dict(dist.direct_url or {})
        url = direct.get("url")
        index_url = None
        if dist.editable:
            source: Literal["index", "editable", "direct-url", "unknown"] = "editable"
        elif isinstance(url, str) and url:
            source = "direct-url"
        else:
            source = "index" if (dist.installer or "").strip() in ("pip", "uv") else "unknown"
            action = plan.action_for(key) if plan is not None else None
            earlier = (previous or {}).get(key)
            if action is not None and action.file is not None and action.version == dist.version:
                index_url, source = redact_url(action.file.index_url), "index"
            elif earlier is not None and earlier.version == dist.version:
                index_url = earlier.index_url
        out[key] = Installed(
            name=dist.name,
            version=dist.version,
            source=source,
            index_url=index_url,
            url=redact_url(url) if isinstance(url, str) and url else None,
            installer=(dist.installer or "").strip() or None,
        )
    return out


def fingerprint(env: Environment) -> dict[str, str]:
    """name -> version: what must be unchanged between planning and running."""
    return {key: dist.version for key, dist in env.distributions.items()}


@dataclass(frozen=True)
class Change:
    """One distribution that differs between two snapshots."""

    name: str
    kind: Literal["installed", "removed", "upgraded", "downgraded", "replaced"]
    before: str | None
    after: str | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "before": self.before, "after": self.after}


def diff_snapshots(before: Snapshot, after: Snapshot) -> list[Change]:
    from packaging.version import InvalidVersion, Version

    changes: list[Change] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None and new is not None:
            changes.append(Change(new.name, "installed", None, new.version))
        elif new is None and old is not None:
            changes.append(Change(old.name, "removed", old.version, None))
        elif old is not None and new is not None and old.version != new.version:
            try:
                kind: Literal["upgraded", "downgraded", "replaced"] = (
                    "upgraded" if Version(new.version) > Version(old.version) else "downgraded"
                )
            except InvalidVersion:
                kind = "replaced"
            changes.append(Change(new.name, kind, old.version, new.version))
    return changes


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    return {key: item.to_json() for key, item in sorted(snapshot.items())}


def snapshot_from_json(data: Mapping[str, Any] | None) -> Snapshot:
    return {canonicalize_name(k): Installed.from_json(v) for k, v in (data or {}).items()}


# ------------------------------------------------------------------ failures, events


@dataclass(frozen=True)
class Failure:
    """Why a job failed, from what the installer said: a kind, words, and a way out."""

    kind: str  # not-found, index-unavailable, timeout, hash-mismatch, build-failure,
    # no-space, permission-denied, unsupported-wheel, externally-managed, cancelled, other
    message: str
    way_out: str
    detail: str | None = None  # the installer's own last lines (redacted)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "way_out": self.way_out,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Failure | None:
        if not data:
            return None
        return cls(
            str(data["kind"]), str(data["message"]), str(data["way_out"]), data.get("detail")
        )


_COUNTS = ("bytes_done", "bytes_total", "files_done", "files_total")
_COUNTED = frozenset({"downloading", "building", "installing"})


@dataclass(frozen=True)
class ProgressEvent:
    seq: int
    time: float
    phase: Phase
    state: JobState
    message: str | None = None
    line: str | None = None
    package: str | None = None
    bytes_done: int | None = None
    bytes_total: int | None = None
    files_done: int | None = None  # files of the step fetched so far
    files_total: int | None = None  # files the step fetches (one per package)
    since: float | None = None  # when this phase began (a clock that moves in a long build)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "phase": self.phase,
            "state": self.state,
            "message": self.message,
            "line": self.line,
            "package": self.package,
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "files_done": self.files_done,
            "files_total": self.files_total,
            "since": self.since,
        }


@dataclass
class Outcome:
    """How a finished job left the environment."""

    message: str
    failure: Failure | None = None
    changes: list[Change] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)  # plan vs what is installed
    problems: list[dict[str, Any]] = field(default_factory=list)  # from verify
    damaged: bool = False
    restore: dict[str, Any] | None = None  # what "undo" would do, when offered

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "failure": self.failure.to_json() if self.failure else None,
            "changes": [c.to_json() for c in self.changes],
            "differences": list(self.differences),
            "problems": [dict(p) for p in self.problems],
            "damaged": self.damaged,
            "restore": self.restore,
        }


# ------------------------------------------------------------------ the job


class Job:
    """One install/uninstall/undo of one environment. Lives on one event loop."""

    def __init__(
        self,
        job_id: int,
        *,
        kind: JobKind,
        plan: Plan,
        environment: Environment,
        request: Mapping[str, Any] | None = None,
        backend: str | None = None,
        undo_of: int | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.id = job_id
        self.kind: JobKind = kind
        self.plan = plan
        self.environment = environment
        self.prefix = environment.prefix or ""
        self.interpreter = environment.executable or ""
        self.request = dict(request or {})
        self.backend = backend
        self.undo_of = undo_of
        self.state: JobState = "running"
        self.phase: Phase = "resolving"
        self.created = time.time()
        self._phase_since = self.created  # when the current phase began
        self.started: float | None = None
        self.ended: float | None = None
        self.outcome: Outcome | None = None
        self.before: Snapshot = {}
        self.after: Snapshot | None = None
        self.pids: list[int] = []  # process groups started for this job (POSIX: pgid)
        # where a job's time went (``time.perf_counter()``): "submitted" (submit was
        # called), "started" (checks and history done), "installer" / "installer_done"
        # (first installer start, last installer end), "inspected" (read and verified
        # after it), "recorded" (its end in the history). For benchmarks and logs.
        self.timings: dict[str, float] = {}
        self._events: list[ProgressEvent] = []
        self._loop = loop or asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._finished = asyncio.Event()

    # -- events ------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def emit(self, **fields: Any) -> ProgressEvent:
        """Append an event (on the loop)."""
        phase = fields.pop("phase", None) or self.phase
        if phase != self.phase or not self._events:
            self._phase_since = time.time()
        self.phase = phase
        fields["since"] = self._phase_since
        if self._events and phase in _COUNTED:  # counts stay until a step says others
            last = self._events[-1]
            for key in _COUNTS:
                if key not in fields:
                    fields[key] = getattr(last, key)
        event = ProgressEvent(
            seq=len(self._events), time=time.time(), phase=phase, state=self.state, **fields
        )
        self._events.append(event)
        self._changed.set()
        self._changed = asyncio.Event()
        return event

    def emit_threadsafe(self, **fields: Any) -> None:
        """``emit`` from a worker thread."""
        self._loop.call_soon_threadsafe(lambda: self.emit(**fields))

    def finish(self, state: JobState, outcome: Outcome) -> None:
        self.state = state
        self.outcome = outcome
        self.ended = time.time()
        self.emit(phase="done", message=outcome.message)
        self._finished.set()

    @property
    def event_list(self) -> list[ProgressEvent]:
        return list(self._events)

    async def events(self, since: int = 0) -> AsyncIterator[ProgressEvent]:
        """Every event from ``since`` on, then new ones as they come, until the end."""
        index = max(0, since)
        while True:
            while index < len(self._events):
                yield self._events[index]
                index += 1
            if self.finished:
                return
            await self._changed.wait()

    async def wait(self) -> Job:
        await self._finished.wait()
        return self

    # -- JSON --------------------------------------------------------------------

    def to_json(self, *, with_events: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "undo_of": self.undo_of,
            "state": self.state,
            "environment": {"prefix": self.prefix, "interpreter": self.interpreter},
            "backend": self.backend,
            "request": dict(self.request),
            "plan": self.plan.to_json(),
            "created": self.created,
            "started": self.started,
            "ended": self.ended,
            "phase": self.phase,
            "events": len(self._events),
            "outcome": self.outcome.to_json() if self.outcome else None,
        }
        if with_events:
            doc["event_list"] = [e.to_json() for e in self._events]
        return doc
