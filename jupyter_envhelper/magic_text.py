"""The magic's words: search hits, history, jobs and one-line verdicts as plain text.

Environment, package and plan documents are rendered by the command line's
``render_environment``/``render_package``/``render_plan``; these are the rest.
"""

from __future__ import annotations

import time
from typing import Any


def plan_line(doc: dict[str, Any]) -> str:
    """A plan's verdict in one line."""
    verdict = doc.get("verdict")
    blockers = [f["message"] for f in doc.get("findings") or [] if f["severity"] == "blocker"]
    if doc.get("plan") is None or verdict == "blocker":
        why = blockers[0] if blockers else (doc.get("conflict") or {}).get("message", "")
        return f"cannot be installed: {why}"
    changes = [a for a in doc["plan"]["actions"] if a["kind"] != "keep"]
    words = ", ".join(f"{a['name']} {a['version'] or ''}".strip() for a in changes[:4])
    warn = " (with warnings)" if verdict == "warning" else ""
    return f"can be installed{warn}: {len(changes)} change(s): {words}"


def render_search(payload: dict[str, Any]) -> str:
    lines = [f"note: {payload['note']}"] if payload.get("note") else []
    if not payload["hits"]:
        lines.append(f"Nothing found for {payload['query']!r}.")
    for hit in payload["hits"]:
        badge = f" [installed {hit['installed_version']}]" if hit["installed_version"] else ""
        lines.append(f"{hit['name']:<32} {hit['version'] or '':<12} {hit['match']:<12}{badge}")
        if hit["summary"]:
            lines.append(f"    {hit['summary'][:100]}")
        if hit["typosquat"]:
            lines.append(f"    WARNING: {hit['typosquat']['message']}")
    return "\n".join(lines)


def render_history(jobs: list[dict[str, Any]]) -> str:
    if not jobs:
        return "No recorded changes in this environment."
    lines = []
    for job in jobs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.get("started") or 0))
        what = " ".join(job.get("requirements") or [])
        if job.get("undo_of"):
            what = f"undo of job {job['undo_of']}"
        lines.append(f"{job['id']:>4}  {when}  {job['kind']:<9} {job['state']:<10} {what}")
    return "\n".join(lines)


def render_job(job: dict[str, Any], restart_modules: list[str]) -> str:
    outcome = job.get("outcome") or {}
    lines = [f"Job {job['id']} {job['state']}: {outcome.get('message', '')}"]
    failure = outcome.get("failure")
    if failure:
        lines.append(f"  {failure['message']}")
        if failure.get("way_out"):
            lines.append(f"  Way out: {failure['way_out']}")
    for change in outcome.get("changed") or []:
        before, after = change.get("before") or "", change.get("after") or ""
        lines.append(f"  {change['kind']:<10} {change['name']} {before} -> {after}")
    if restart_modules:
        lines.append(
            f"Restart the kernel: it has already imported {', '.join(restart_modules)} "
            "and keeps the old code until it restarts."
        )
    return "\n".join(lines)
