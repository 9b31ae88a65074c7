"""The job board: jobs as every surface sees them, followed, cancelled, listed.

The job runner (``jobs/``) executes Plans; this module remembers which modules the
kernel had imported when a job started (so its outcome can say "restart the
kernel") and shapes live jobs and history rows into the one job document
(``documents.job_document``) that REST, ``--json`` and the magic all show.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from ..environment import Environment
from ..errors import NotFound
from ..jobs.models import Job

if TYPE_CHECKING:
    from ..jobs import JobRunner
from .documents import document, job_document, record_as_job

RESTART_KINDS = frozenset({"upgraded", "downgraded", "removed", "replaced"})
LOG_TAIL = 40


@dataclass(frozen=True)
class RestartWatch:
    imported: frozenset[str]
    top_level: dict[str, tuple[str, ...]]  # canonical name -> import names, before the job

    def modules(self, changes: list[dict[str, Any]]) -> list[str]:
        """The imported modules that ``changes`` replaced under the kernel's feet."""
        found: set[str] = set()
        for change in changes:
            if change.get("kind") in RESTART_KINDS:
                tops = self.top_level.get(canonicalize_name(change["name"]), ())
                found.update(m for m in tops if m in self.imported)
        return sorted(found)


class JobBoard:
    """``runner``: the job runner, or a function that makes it when first needed (a
    command that only plans never imports the job machinery: ~50 ms of its start)."""

    def __init__(self, runner: JobRunner | Callable[[], JobRunner]) -> None:
        self._runner = runner if not callable(runner) else None
        self._make = runner if callable(runner) else None
        self._watches: dict[int, RestartWatch] = {}

    @property
    def runner(self) -> JobRunner:
        if self._runner is None:
            assert self._make is not None
            self._runner = self._make()
        return self._runner

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.close()

    def watch(self, job: Job, env: Environment, imported: frozenset[str] | None) -> None:
        if imported is not None:
            tops = {k: d.top_level for k, d in env.distributions.items()}
            self._watches[job.id] = RestartWatch(imported, tops)

    def view(self, job_id: int) -> dict[str, Any]:
        """A running job from memory; a finished one from the history, so that every
        process shows the same document for it (``events`` alone is this process's:
        how many events its stream can replay)."""
        job = self.runner.find(job_id)
        if job is not None and not job.finished:
            events = job.event_list
            last = events[-1].to_json() if events else None
            log = [e.line for e in events if e.line][-LOG_TAIL:]
            return self._document(job.to_json(), last, log)
        record = self.runner.store.get(job_id)
        if record is None:
            raise NotFound(f"There is no job {job_id}.")
        return self._from_record(record, events=len(job.event_list) if job is not None else 0)

    async def events(self, job_id: int, since: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Progress and log events from ``since`` on, live; then one ``state`` event."""
        job = self.runner.find(job_id)
        if job is not None:
            async for event in job.events(since):
                data = event.to_json()
                data["index"] = event.seq
                data["type"] = "log" if event.line else "progress"
                yield data
        yield {"type": "state", "index": -1, "job": self.view(job_id)}

    async def wait(self, job_id: int) -> dict[str, Any]:
        job = self.runner.find(job_id)
        if job is not None:
            await job.wait()
        return self.view(job_id)

    def cancel(self, job_id: int) -> dict[str, Any]:
        self.runner.cancel(job_id)
        return document(job=self.view(job_id))

    async def history(self, prefix: str) -> list[dict[str, Any]]:
        rows = await asyncio.to_thread(self.runner.store.list, prefix)
        return [self._from_row(row) for row in rows]

    async def latest_done(self, prefix: str) -> int | None:
        """The newest job of ``prefix`` that succeeded (what "undo" undoes by default)."""
        rows = await asyncio.to_thread(self.runner.store.list, prefix)
        done = [r for r in rows if r["state"] == "succeeded"]
        return int(done[0]["id"]) if done else None

    async def requested_names(self, prefix: str) -> list[str]:
        """The projects the user asked for in ``prefix``'s succeeded installs."""
        from packaging.requirements import InvalidRequirement, Requirement

        rows = await asyncio.to_thread(self.runner.store.list, prefix)
        names: list[str] = []
        for row in rows:
            if row["kind"] != "install" or row["state"] != "succeeded":
                continue
            for text in (row.get("request") or {}).get("requirements") or []:
                try:
                    names.append(Requirement(str(text)).name)
                except InvalidRequirement:
                    continue
        return names

    def _from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        job = self.runner.find(int(row["id"]))
        if job is not None:
            return self.view(job.id)  # running here, or finished since the list was read
        return self._from_record(row, events=0)

    def _from_record(self, record: dict[str, Any], *, events: int) -> dict[str, Any]:
        log = str(record.get("log_tail") or "").splitlines()[-LOG_TAIL:]
        doc = record_as_job(record)
        doc["events"] = events
        last = None
        if record.get("ended"):  # a finished job's last event says how it ended
            last = {"phase": "done", "message": (record.get("outcome") or {}).get("message")}
        return self._document(doc, last, log)

    def _document(
        self, doc: dict[str, Any], last: dict[str, Any] | None, log: list[str]
    ) -> dict[str, Any]:
        watch = self._watches.get(int(doc["id"]))
        outcome = doc.get("outcome") or {}
        modules = watch.modules(outcome.get("changes") or []) if watch is not None else None
        return job_document(doc, last, log, modules)
