"""The documents every surface shows: one shape per answer, one schema number.

The REST API sends them, ``--json`` prints them, the magic renders them; nothing
else builds an answer's JSON. ``SCHEMA`` changes when a key changes meaning or goes
away (new keys are additive and keep it).
"""

from __future__ import annotations

from typing import Any

from ..environment import Environment
from ..errors import EnvHelperError

SCHEMA = 1
PHASE_FRACTION = {
    "resolving": 0.05,
    "downloading": 0.1,
    "building": 0.5,  # a build from source: no bytes to count, it takes what it takes
    "installing": 0.7,
    "verifying": 0.9,
}
FINISHED = frozenset({"succeeded", "failed", "cancelled", "interrupted"})


def document(**fields: Any) -> dict[str, Any]:
    """An answer: ``{"schema": SCHEMA, ...fields}``."""
    return {"schema": SCHEMA, **fields}


def error_document(exc: EnvHelperError) -> dict[str, Any]:
    """What a failed request answers, on every surface: message, reason, detail."""
    return {"message": exc.message, "reason": exc.reason, "detail": exc.detail}


def environment_document(env: Environment) -> dict[str, Any]:
    """The Environment as the REST API, the panel, the magic and ``inspect`` show it.

    The probe's full document, plus the few facts every surface leads with, at the
    top level so that clients don't each dig them out.
    """
    doc = env.to_json()
    facts = doc.get("environment") or {}
    paths = doc.get("paths") or {}
    doc.update(
        base_prefix=paths.get("base_prefix"),
        writable=bool(facts.get("site_packages_writable")),
        externally_managed=facts.get("externally_managed"),
        package_count=len(doc.get("distributions") or []),
        gpu={"summary": env.gpu_summary()},
        elapsed_ms=env.data.get("elapsed_ms"),
    )
    return doc


def job_document(
    doc: dict[str, Any],
    last_event: dict[str, Any] | None,
    log_tail: list[str],
    restart_modules: list[str] | None,
) -> dict[str, Any]:
    """A job (live ``Job.to_json()`` or a history record in the same keys) as shown.

    ``restart_modules``: the modules the kernel had imported that the job changed
    (``None`` when nobody knows what the kernel imported).
    """
    request = doc.get("request") or {}
    last = last_event or {}
    phase = doc.get("phase") or last.get("phase") or "resolving"
    done, total = last.get("bytes_done"), last.get("bytes_total")
    files_done, files_total = last.get("files_done"), last.get("files_total")
    outcome = doc.get("outcome")
    if outcome:
        modules = restart_modules or []
        outcome = {
            **outcome,
            "changed": outcome.get("changes") or [],
            "restart_needed": bool(modules),
            "restart_modules": sorted(modules),
        }
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
            "fraction": _fraction(doc["state"], phase, done, total, files_done, files_total),
            "bytes_done": done,
            "bytes_total": total,
            "files_done": files_done,
            "files_total": files_total,
            "since": last.get("since"),
            "package": last.get("package"),
            "message": last.get("message"),
        },
        "outcome": outcome or None,
        "log_tail": log_tail,
        "events": doc.get("events", 0),
    }


def record_as_job(record: dict[str, Any]) -> dict[str, Any]:
    """A history row in the keys of ``Job.to_json()``."""
    return {
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


def _fraction(  # noqa: PLR0917
    state: str,
    phase: str,
    done: int | None,
    total: int | None,
    files_done: int | None = None,
    files_total: int | None = None,
) -> float | None:
    if state in FINISHED:
        return 1.0
    if phase == "downloading" and done is not None and total:
        return 0.1 + 0.6 * min(1.0, done / total)
    if phase == "downloading" and files_done is not None and files_total:
        return 0.1 + 0.6 * min(1.0, files_done / files_total)
    return PHASE_FRACTION.get(phase)
