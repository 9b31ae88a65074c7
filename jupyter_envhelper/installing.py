"""Install, uninstall and undo for a kernel: the service side of jobs.

The job runner (``jobs/``) executes Plans; this module decides what plan a
request means (re-planned now, refused if the environment changed since the
user saw the plan, or if the plan has a blocker), remembers which modules the
running kernel had imported so the outcome can say "restart the kernel", and
shapes jobs and history rows into the one JSON document every surface reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .environment import Environment
from .errors import BadRequest, EnvHelperError, NotFound
from .jobs import JobRunner
from .jobs.models import EnvironmentChanged, Refused
from .jobs.undo import index_checker
from .plan import ResolutionConflict

if TYPE_CHECKING:
    from .service import EnvHelperService

SCHEMA = 1
PHASE_FRACTION = {"resolving": 0.05, "downloading": 0.1, "installing": 0.7, "verifying": 0.9}
RESTART_KINDS = frozenset({"upgraded", "downgraded", "removed", "replaced"})


def default_history_path() -> str:
    """One history for the server, the command line and the magic."""
    import os

    from jupyter_core.paths import jupyter_data_dir

    return os.path.join(jupyter_data_dir(), "envhelper", "history.sqlite")


class ChangesDisabled(EnvHelperError):
    status = 403
    reason = "read-only"


@dataclass
class _RestartWatch:
    imported: frozenset[str]
    top_level: dict[str, tuple[str, ...]]  # canonical name -> import names, before the job


class Installs:
    def __init__(self, service: EnvHelperService, runner: JobRunner, *, read_only: bool) -> None:
        self.service = service
        self.runner = runner
        self.read_only = read_only
        self._watches: dict[int, _RestartWatch] = {}

    # -- starting jobs ---------------------------------------------------------------------

    async def submit(
        self,
        *,
        action: str,
        kernel: str | None,
        kernel_id: str | None,
        requirements: list[str] | None = None,
        names: list[str] | None = None,
        job_id: int | None = None,
        fingerprint: str | None = None,
    ) -> dict[str, Any]:
        if self.read_only:
            raise ChangesDisabled(
                "Changes are turned off on this server (c.EnvHelperApp.read_only); "
                "ask its administrator, or use another environment."
            )
        if action not in {"install", "uninstall", "undo"}:
            raise BadRequest("`action` must be install, uninstall or undo.")
        env, probe_env = await self.service.resolve_target(kernel=kernel, kernel_id=kernel_id)
        if action == "undo":
            if job_id is None:
                raise BadRequest("Undo needs the `job_id` of the job to undo.")
            client = self.service.index_client(env)
            job = await self.runner.undo(job_id, checker=index_checker(client), probe_env=probe_env)
        else:
            job = await self._change(
                action=action,
                env=env,
                probe_env=probe_env,
                kernel=kernel,
                requirements=requirements,
                names=names,
                fingerprint=fingerprint,
            )
        if kernel_id:
            imported = await self.service.imported_modules(kernel_id)
            if imported is not None:
                self._watches[job.id] = _RestartWatch(
                    imported, {k: d.top_level for k, d in env.distributions.items()}
                )
        return {"schema": SCHEMA, "job": self.view(job.id)}

    async def _change(
        self,
        *,
        action: str,
        env: Environment,
        probe_env: dict[str, str],
        kernel: str | None,
        requirements: list[str] | None,
        names: list[str] | None,
        fingerprint: str | None,
    ) -> Any:
        from .planning import fingerprint as fingerprint_of
        from .planning import make_plan
        from .resolver import plan_uninstall

        if fingerprint is not None and fingerprint != fingerprint_of(env):
            raise EnvironmentChanged(
                "The environment changed since this plan was made; look at the new plan "
                "and confirm again."
            )
        if action == "uninstall":
            if not names:
                raise BadRequest("Uninstall needs `names`, the packages to remove.")
            plan = plan_uninstall(names, env, kernel=kernel)
            return await self.runner.submit(
                plan, env, kind="uninstall", request={"names": names}, probe_env=probe_env
            )
        if not requirements:
            raise BadRequest("Install needs `requirements`, like ['pandas>=2'].")
        answer = await make_plan(
            requirements,
            env,
            self.service.index_client(env),
            kernel=kernel,
            imported_modules=None,
        )
        if answer.plan is None:
            assert answer.conflict is not None
            raise ResolutionConflict(answer.conflict)
        blockers = [f for f in answer.findings if f.severity == "blocker"]
        if blockers:
            raise Refused(blockers[0].message, reason="blocker")
        return await self.runner.submit(
            answer.plan,
            env,
            kind="install",
            request={"requirements": requirements},
            probe_env=probe_env,
        )

    # -- reading ---------------------------------------------------------------------------

    def view(self, job_id: int) -> dict[str, Any]:
        try:
            job = self.runner.get(job_id)
        except NotFound:
            job = None
        if job is not None:
            doc = job.to_json()
            events = job.event_list
            last = events[-1].to_json() if events else None
            log = [e.line for e in events if e.line][-40:]
            return self._shape(doc, last, log)
        record = self.runner.store.get(job_id)
        if record is None:
            raise NotFound(f"There is no job {job_id}.")
        return self._shape_record(record)

    async def events(self, job_id: int, since: int) -> AsyncIterator[dict[str, Any]]:
        try:
            job = self.runner.get(job_id)
        except NotFound:
            job = None
        if job is not None:
            async for event in job.events(since):
                data = event.to_json()
                data["index"] = event.seq
                data["type"] = "log" if event.line else "progress"
                yield data
        yield {"type": "state", "index": -1, "job": self.view(job_id)}

    def cancel(self, job_id: int) -> dict[str, Any]:
        self.runner.cancel(job_id)
        return {"schema": SCHEMA, "job": self.view(job_id)}

    async def history(self, *, kernel: str | None, kernel_id: str | None) -> dict[str, Any]:
        env = await self.service.resolve_environment(kernel=kernel, kernel_id=kernel_id)
        rows = await self.runner.history_async(env.prefix)
        jobs = []
        for row in rows:
            live = self.runner._jobs.get(int(row["id"]))
            jobs.append(self.view(int(row["id"])) if live else self._shape_record(row))
        return {"schema": SCHEMA, "jobs": jobs}

    # -- the one JSON shape ----------------------------------------------------------------

    def _shape(
        self, doc: dict[str, Any], last: dict[str, Any] | None, log: list[str]
    ) -> dict[str, Any]:
        request = doc.get("request") or {}
        phase = doc.get("phase") or (last or {}).get("phase") or "resolving"
        done, total = (last or {}).get("bytes_done"), (last or {}).get("bytes_total")
        fraction = _fraction(doc["state"], phase, done, total)
        outcome = doc.get("outcome")
        return {
            "schema": SCHEMA,
            "id": doc["id"],
            "kind": doc["kind"],
            "undo_of": doc.get("undo_of"),
            "state": doc["state"],
            "environment": doc.get("environment"),
            "backend": doc.get("backend"),
            "requirements": request.get("requirements") or request.get("names") or [],
            "created": doc.get("created"),
            "started": doc.get("started"),
            "finished": doc.get("ended"),
            "plan": doc.get("plan"),
            "progress": {
                "phase": phase,
                "fraction": fraction,
                "bytes_done": done,
                "bytes_total": total,
                "package": (last or {}).get("package"),
                "message": (last or {}).get("message"),
            },
            "outcome": self._outcome(doc["id"], outcome) if outcome else None,
            "log_tail": log,
            "events": doc.get("events", 0),
        }

    def _shape_record(self, record: dict[str, Any]) -> dict[str, Any]:
        doc = {
            "id": record["id"],
            "kind": record["kind"],
            "undo_of": record.get("undo_of"),
            "state": record["state"],
            "environment": {"prefix": record["prefix"], "interpreter": record["interpreter"]},
            "backend": record.get("backend"),
            "request": record.get("request") or {},
            "created": record.get("started"),
            "started": record.get("started"),
            "ended": record.get("ended"),
            "plan": record.get("plan"),
            "phase": "done" if record.get("ended") else None,
            "outcome": record.get("outcome"),
            "events": 0,
        }
        log = str(record.get("log_tail") or "").splitlines()[-40:]
        return self._shape(doc, None, log)

    def _outcome(self, job_id: int, outcome: dict[str, Any]) -> dict[str, Any]:
        changed = outcome.get("changes") or []
        watch = self._watches.get(job_id)
        modules: set[str] = set()
        if watch is not None:
            from packaging.utils import canonicalize_name

            for change in changed:
                if change.get("kind") in RESTART_KINDS:
                    tops = watch.top_level.get(canonicalize_name(change["name"]), ())
                    modules.update(m for m in tops if m in watch.imported)
        return {
            **outcome,
            "changed": changed,
            "restart_needed": bool(modules),
            "restart_modules": sorted(modules),
        }


def _fraction(state: str, phase: str, done: int | None, total: int | None) -> float | None:
    if state in {"succeeded", "failed", "cancelled", "interrupted"}:
        return 1.0
    if phase == "downloading" and done is not None and total:
        return 0.1 + 0.6 * min(1.0, done / total)
    return PHASE_FRACTION.get(phase)
