"""The documents as a person reads them in a terminal or a notebook cell.

The command line and the magic (without widgets) render the same documents with these
functions, so both say the same thing in the same words.
"""

from __future__ import annotations

import textwrap
import time
from typing import Any

_SEVERITY_MARK = {"blocker": "BLOCKER", "warning": "warning", "info": "info"}


def render_plan(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    plan, conflict = doc.get("plan"), doc.get("conflict")
    target = (plan or conflict or {}).get("target") or {}
    where = f"Python {target.get('python_version')} on {plain_platform(target.get('platform'))}"
    if target.get("synthetic"):
        where += " (synthetic target)"
    lines.append(_row("Target", where))
    if plan is not None:
        changes = [a for a in plan["actions"] if a["kind"] != "keep"]
        lines.append(_row("Changes", f"{len(changes)}" + _size_words(plan["download_size"])))
        for a in plan["actions"]:
            if a["kind"] == "keep":
                continue
            before = f"{a['installed_version']} -> " if a["installed_version"] else ""
            build = " (built from source)" if (a.get("file") or {}).get("needs_build") else ""
            lines.append(f"  {a['kind']:<10} {a['name']} {before}{a['version'] or ''}{build}")
        for b in plan["breaks"]:
            lines.append(f"  breaks     {b['message']}")
    if conflict is not None:
        lines.append(_row("Conflict", conflict["message"]))
        for way in conflict["ways_out"]:
            lines.append(_row("Way out", way["message"]))
    for finding in doc.get("findings") or []:
        label = _SEVERITY_MARK.get(finding["severity"], finding["severity"])
        lines.append(_row(label, finding["message"]))
    for s in doc.get("suggestions") or []:
        if s["rank"] == "new-environment":  # core/creating.py: the last one
            lines.append(_row("New kernel", s["message"]))
            continue
        lines.append(_row("Other kernel", f"{s['display_name']} [{s['name']}]: {s['message']}"))
    lines.append(_row("Verdict", doc["verdict"]))
    return "\n".join(lines)


_MACHINES = {
    "x86_64": "64-bit Intel/AMD",
    "amd64": "64-bit Intel/AMD",
    "aarch64": "64-bit ARM",
    "arm64": "64-bit ARM",
    "universal2": "Intel or ARM",
    "i686": "32-bit Intel/AMD",
    "win32": "32-bit Intel/AMD",
}


def plain_platform(tag: object) -> str:
    """A wheel platform tag in words: ``manylinux_2_36_x86_64`` -> "Linux, 64-bit Intel/AMD".

    The same words as the panel (src/describe.ts); a tag we do not know is shown as is.
    """
    text = str(tag or "?")
    for prefix, system in (
        ("manylinux", "Linux"),
        ("musllinux", "Linux (musl)"),
        ("linux", "Linux"),
        ("macosx", "macOS"),
        ("win", "Windows"),
    ):
        if not text.startswith(prefix):
            continue
        for machine, words in _MACHINES.items():
            if text.endswith(machine):
                return f"{system}, {words}"
        return system
    return text


def _size_words(size: int | None) -> str:
    if size is None:
        return ", download size unknown"
    if size < 1_000_000:
        return f", {size / 1e3:.0f} kB to download"
    if size < 1_000_000_000:
        return f", {size / 1e6:.1f} MB to download"
    return f", {size / 1e9:.1f} GB to download"


def render_package(doc: dict[str, Any], *, every_version: bool = False) -> str:
    lines = [f"{doc['name']} — {doc.get('summary') or '(no summary)'}"]
    if doc.get("typosquat"):
        lines.append(f"WARNING: {doc['typosquat']['message']}")
    lines.append(_row("Latest", doc.get("latest") or "none"))
    if doc.get("installed_version"):
        lines.append(_row("Installed", doc["installed_version"]))
    lines.append(_row("Fits here", doc["fit"]["message"]))
    if doc.get("license"):
        lines.append(_row("License", doc["license"]))
    for label, url in (doc.get("links") or {}).items():
        lines.append(_row(label[:24], url))
    vulns = doc.get("vulnerabilities")
    if vulns is None:
        lines.append(_row("Advisories", "unknown (the index publishes no vulnerability data)"))
    elif not vulns:
        lines.append(_row("Advisories", f"none known for {doc.get('vulnerabilities_for')}"))
    else:
        for v in vulns:
            fixed = ", ".join(v["fixed_in"]) or "no fix yet"
            lines.append(_row("Advisory", f"{v['id']} (fixed in {fixed}) {v['summary'][:60]}"))
    lines.append("")
    rows = doc["versions"] if every_version else doc["versions"][:10]
    for row in rows:
        flags = []
        if row["yanked"]:
            flags.append(f"yanked: {row['yanked_reason'] or 'no reason given'}")
        if row["prerelease"]:
            flags.append("pre-release")
        why = f" ({row['reason']})" if row["fit"] == "incompatible" and row["reason"] else ""
        extra = f"  [{'; '.join(flags)}]" if flags else ""
        lines.append(f"  {row['version']:<14} {row['fit']:<13}{why}{extra}")
    if len(doc["versions"]) > len(rows):
        lines.append(f"  … {len(doc['versions']) - len(rows)} older versions (--all)")
    return "\n".join(lines)


def render_environment(payload: dict[str, Any], *, packages: bool = False) -> str:
    """The environment document as a person reads it in a terminal."""
    lines: list[str] = []
    kernel = payload.get("kernel")
    if kernel:
        lines.append(_row("Kernel", f"{kernel['display_name']} [{kernel['name']}]"))
        if kernel.get("interpreter"):
            lines.append(
                _row("Interpreter", f"{kernel['interpreter']} ({kernel.get('interpreter_source')})")
            )
        if kernel.get("mismatch"):
            lines.append(_row("Note", kernel["mismatch"]))
    env = payload.get("environment")
    if payload.get("state") != "ok" or not env:
        lines.append(_row("State", payload.get("state", "unknown")))
        if payload.get("reason"):
            lines.append(_row("Reason", payload["reason"]))
        if payload.get("detail"):
            lines.append(
                _row("Detail", str(payload["detail"]).strip().replace("\n", "\n" + " " * 14))
            )
        return "\n".join(lines)
    if not kernel:
        lines.append(_row("Interpreter", env["executable"]))
    platform = env.get("platform") or {}
    libc = platform.get("libc")
    libc_text = f", {libc['name']} {libc['version']}" if libc else ""
    implementation = _IMPLEMENTATIONS.get(env["implementation"], env["implementation"])
    lines.append(
        _row(
            "Python",
            f"{implementation} {env['python_version']} on "
            f"{platform.get('system', '?')} {platform.get('machine', '?')}{libc_text}",
        )
    )
    writable = "writable" if env.get("writable") else "NOT writable"
    lines.append(_row("Environment", f"{env['kind']} at {env['prefix']} ({writable})"))
    installers = env.get("installers") or {}
    names = [f"{n} {v.get('version') or ''}".strip() for n, v in installers.items() if v]
    lines.append(_row("Installers", ", ".join(names) if names else "none found"))
    config = env.get("installer_config") or {}
    if config.get("summary"):
        summary = str(config["summary"]).replace("\n", " ")
        lines.append(_row("Sources", textwrap.fill(summary, 86, subsequent_indent=" " * 14)))
    else:
        index = (env.get("index") or {}).get("pip") or {}
        extra = index.get("extra_index_urls") or []
        index_text = index.get("index_url") or "https://pypi.org/simple/ (default)"
        lines.append(_row("Index", index_text + (f" + {len(extra)} extra" if extra else "")))
    gpu = env.get("gpu") or {}
    lines.append(_row("GPU", gpu.get("summary", "unknown")))
    lines.append(_row("Packages", f"{env['package_count']} distributions"))
    for warning in env.get("warnings") or []:
        lines.append(_row("Warning", warning["message"]))
    if packages:
        lines.append("")
        for dist in env.get("distributions") or []:
            flags = " (editable)" if dist.get("editable") else ""
            lines.append(f"  {dist['name']:<40} {dist['version']}{flags}")
    return "\n".join(lines)


def render_kernels(payload: dict[str, Any]) -> str:
    rows = []
    for k in payload["kernels"]:
        summary = k.get("summary")
        if summary:
            what = (
                f"Python {summary['python_version']}, {summary['kind']} at {summary['prefix']}, "
                f"{summary['package_count']} packages"
            )
        else:
            what = f"({k['state']}) {k.get('reason') or ''}".strip()
        rows.append(f"{k['name']:<20} {k['display_name']:<28} {what}")
    return "\n".join(rows) if rows else "No kernelspecs found."


def render_suggestions(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No other Python kernelspecs found."
    lines = []
    for row in rows:
        if row["rank"] == "new-environment":
            lines.append(row["message"])
            continue
        python = f"Python {row['python_version']}" if row.get("python_version") else ""
        lines.append(f"{row['display_name']} [{row['name']}] {python}: {row['rank']}")
        lines.append(f"    {row['message']}")
    return "\n".join(lines)


def render_undo(doc: dict[str, Any]) -> str:
    lines = [f"Undo job {doc['job_id']}:"]
    for action in doc["plan"]["actions"]:
        if action["kind"] != "keep":
            lines.append(f"  {action['kind']:<10} {action['name']} {action['version'] or ''}")
    for missing in doc.get("unavailable") or []:
        lines.append(f"  cannot restore: {missing}")
    return "\n".join(lines)


def render_rescue(doc: dict[str, Any]) -> str:
    """The rescue document in a few lines: who provides the module, and what to do."""
    module, dist = doc["module"], doc.get("distribution")
    lines = []
    if dist is not None:
        lines.append(f"envhelp: 'import {module}' comes from the package {dist['name']}.")
    verdict, message = doc.get("verdict"), doc.get("message")
    if verdict in ("ok", "warning"):
        warn = " (with warnings)" if verdict == "warning" else ""
        lines.append(f"  In this kernel: can be installed{warn}. {message}")
    elif verdict == "blocker":
        lines.append(f"  In this kernel: cannot be installed: {message}")
    elif message:
        lines.append(f"  In this kernel: {message}")
    for other in doc.get("kernels_with_module") or []:
        lines.append(
            f"  The kernel {other['display_name']} [{other['name']}] has "
            f"{other['distribution']} {other['version']}."
        )
    if dist is not None and doc.get("verdict") not in ("installed", "blocker"):
        lines.append(f"  Install it with: %envhelp install {dist['name']}")
    return "\n".join(lines)


def render_needs(doc: dict[str, Any]) -> str:
    """A notebook's needs against a kernel, worst first."""
    words = {"missing": "MISSING", "other-version": "other version", "present": "ok"}
    lines = []
    for need in doc["needs"]:
        have = f" (has {need['installed_version']})" if need["installed_version"] else ""
        why = "recorded" if need["source"] == "recorded" else f"import {', '.join(need['modules'])}"
        optional = ", optional" if need["optional"] else ""
        lines.append(
            f"  {words.get(need['state'], need['state']):<14} {need['requirement']}{have}"
            f"  [{why}{optional}]"
        )
    if not lines:
        lines.append("  This notebook imports nothing outside the standard library.")
    lines.extend(f"note: {n}" for n in doc.get("notes") or [])
    if doc["missing"]:
        lines.append("To install what is missing: add --install (or the panel's Install).")
    return "\n".join(lines)


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
        return "No recorded changes."
    lines = []
    for job in jobs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.get("started") or 0))
        what = " ".join(job.get("requirements") or [])
        if job.get("undo_of"):
            what = f"undo of job {job['undo_of']}"
        lines.append(f"{job['id']:>4}  {when}  {job['kind']:<9} {job['state']:<10} {what}")
    return "\n".join(lines)


def outcome_parts(job: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(headline, failure line, way out) of a finished job, each said once: a cancelled
    job that changed nothing says only that; a failure already in the headline is not
    repeated; "undo the job" is no way out when nothing changed."""
    outcome = job.get("outcome") or {}
    changed = outcome.get("changed") or []
    message = str(outcome.get("message") or "")
    failure = outcome.get("failure") or {}
    if job.get("state") == "cancelled" and not changed:
        return "Cancelled: nothing was changed.", None, None
    reason = failure.get("message") or None
    if reason and reason in message:
        reason = None
    way_out = failure.get("way_out") or None
    return message, reason, way_out


def restart_words(job: dict[str, Any]) -> str | None:
    """Why to restart the kernel after ``job``, in its own terms (None: no need)."""
    outcome = job.get("outcome") or {}
    modules = ", ".join(outcome.get("restart_modules") or [])
    if not modules:
        return None
    changed = outcome.get("changed") or []
    if changed and all(not c.get("after") for c in changed):
        return (
            f"Restart the kernel: it has already imported {modules}, and keeps using what "
            "was removed until it restarts."
        )
    return (
        f"Restart the kernel: it has already imported {modules} and keeps the old code "
        "until it restarts."
    )


def render_job(job: dict[str, Any]) -> str:
    outcome = job.get("outcome") or {}
    headline, reason, way_out = outcome_parts(job)
    lines = [f"Job {job['id']} {job['state']}: {headline}"]
    if reason:
        lines.append(f"  {reason}")
    if way_out:
        lines.append(f"  Way out: {way_out}")
    for change in outcome.get("changed") or []:
        before, after = change.get("before") or "", change.get("after") or ""
        lines.append(f"  {change['kind']:<10} {change['name']} {before} -> {after}")
    restart = restart_words(job)
    if restart:
        lines.append(restart)
    return "\n".join(lines)


_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


def _row(label: str, value: str) -> str:
    return f"{label:<13} {value}"


def render_enable(doc: dict[str, Any]) -> str:
    """Whether ``%envhelp`` works in a kernel, and what enabling it would add."""
    magic = doc["magic"]
    kernel = doc.get("kernel") or {}
    where = (
        f"the kernel {kernel['display_name']}" if kernel.get("display_name") else "that environment"
    )
    if not doc["needed"]:
        return (
            f"%envhelp already works in {where} ({magic['distribution']} "
            f"{magic['version']}): %load_ext jupyter_envhelper"
        )
    plan = doc.get("plan")
    if plan is None:
        return f"%envhelp cannot be added to {where}."
    added = [a for a in plan["actions"] if a["kind"] != "keep"]
    if magic["installed"]:
        return (
            f"%envhelp in {where} is {magic['version']}; this adds {doc['version']} "
            f"({len(added)} package(s) change)."
        )
    return (
        f"To use %envhelp in {where}, this adds {len(added)} small package(s) to its "
        "environment (no JupyterLab, no Jupyter server)."
    )
