"""The ipywidgets face of ``%envhelp``: a plan with its findings, Confirm, progress, outcome.

Built in the kernel's main thread; the job's progress arrives from the magic's
background loop thread and is written into the widgets from there (widget state
updates are plain comm messages, which ipykernel sends from any thread).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..text import outcome_parts, restart_words

SEVERITY_COLOURS = {
    "blocker": "var(--jp-error-color1, #d32f2f)",
    "warning": "var(--jp-warn-color1, #f57c00)",
    "info": "var(--jp-info-color1, #0288d1)",
}
VERDICT_WORDS = {
    "nothing": "Nothing to change: it is already there.",
    "ok": "Safe to go ahead.",
    "warning": "Possible, but read the warnings first.",
    "blocker": "Not possible in this kernel.",
}


class PlanView:
    """One plan (install or uninstall) and, once confirmed, the job that carries it out."""

    def __init__(
        self,
        doc: dict[str, Any],
        *,
        action: str,
        on_confirm: Callable[[PlanView], None],
    ) -> None:
        self.action = action
        self._on_confirm = on_confirm
        verdict = str(doc.get("verdict") or "ok")
        changes = _has_changes(doc)
        can_run = doc.get("plan") is not None and verdict != "blocker" and changes
        if doc.get("plan") is not None and not changes:
            verdict = "nothing"
        self.confirm = widgets.Button(
            description=button_words(doc, action, can_run),
            button_style="danger" if verdict == "warning" else "primary",
            icon="check",
            disabled=not can_run,
            tooltip="Run it in this kernel's environment" if can_run else "Nothing to run",
        )
        self.confirm.on_click(self._clicked)
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, description="Waiting", bar_style="info"
        )
        self.progress.layout.visibility = "hidden"
        self.status = widgets.HTML(value="")
        self.outcome = widgets.HTML(value="")
        self.box = widgets.VBox(
            [
                widgets.HTML(value=_plan_html(doc, action)),
                widgets.HTML(value=_findings_html(doc)),
                widgets.HTML(value=_verdict_html(verdict)),
                widgets.HBox([self.confirm, self.progress]),
                self.status,
                self.outcome,
            ]
        )

    def _clicked(self, _button: Any = None) -> None:
        self.start()

    def start(self) -> None:
        """Run the job now (the Confirm button, or ``-y``)."""
        if self.confirm.disabled:
            return
        self.confirm.disabled = True
        self.progress.layout.visibility = "visible"
        self.progress.description = "Starting"
        self._on_confirm(self)

    # -- called from the loop thread -------------------------------------------------

    def update(self, fraction: float | None, phase: str, message: str | None) -> None:
        if fraction is not None:
            self.progress.value = max(self.progress.value, float(fraction))
        self.progress.description = phase.capitalize()[:12]
        if message:
            self.status.value = f"<span>{html.escape(message)}</span>"

    def finish(self, job: dict[str, Any]) -> None:
        ok = job.get("state") == "succeeded"
        self.status.value = ""  # the outcome says it (not "Done: ..." twice)
        self.progress.value = 1.0
        self.progress.bar_style = "success" if ok else "danger"
        self.progress.description = "Done" if ok else str(job.get("state", "failed")).capitalize()
        self.outcome.value = outcome_html(job)

    def fail(self, message: str) -> None:
        self.progress.bar_style = "danger"
        self.progress.description = "Refused"
        self.outcome.value = _coloured("blocker", message)


def button_words(doc: dict[str, Any], action: str, can_run: bool) -> str:
    """What the button does: "Install 3 packages, 12.4 MB", or why there is nothing."""
    plan = doc.get("plan") or {}
    changes = [a for a in plan.get("actions") or [] if a.get("kind") != "keep"]
    if doc.get("plan") is not None and not changes:
        return "Nothing to change"
    if not can_run:
        return f"Cannot {action}"
    count = len(changes)
    words = f"{action.capitalize()} {count} package{'s' if count != 1 else ''}"
    size = plan.get("download_size")
    if action == "install" and isinstance(size, int) and size > 0:
        words += f", {_size_words(size)}"
    return words


def _size_words(size: int) -> str:
    if size >= 1_000_000_000:
        return f"{size / 1e9:.1f} GB"
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{max(1, round(size / 1e3))} kB"


def outcome_html(job: dict[str, Any]) -> str:
    headline, reason, way_out = outcome_parts(job)
    outcome = job.get("outcome") or {}
    parts = [
        f"<b>Job {job.get('id')} {html.escape(str(job.get('state')))}</b>: {html.escape(headline)}"
    ]
    if reason:
        parts.append(_coloured("blocker", reason))
    if way_out:
        parts.append(f"Way out: {html.escape(way_out)}")
    rows = [
        f"<li>{html.escape(str(c['kind']))} {html.escape(str(c['name']))} "
        f"{html.escape(str(c.get('before') or ''))} → {html.escape(str(c.get('after') or ''))}</li>"
        for c in outcome.get("changed") or []
    ]
    if rows:
        parts.append("<ul>" + "".join(rows) + "</ul>")
    restart = restart_words(job)
    if restart:
        parts.append(_coloured("warning", restart))
    return "<br>".join(parts)


def _has_changes(doc: dict[str, Any]) -> bool:
    plan = doc.get("plan") or {}
    return any(a.get("kind") != "keep" for a in plan.get("actions") or [])


def _plan_html(doc: dict[str, Any], action: str) -> str:
    plan, conflict = doc.get("plan"), doc.get("conflict")
    target = (plan or conflict or {}).get("target") or {}
    head = (
        f"<b>{html.escape(action.capitalize())} plan</b> for Python "
        f"{html.escape(str(target.get('python_version')))} on "
        f"{html.escape(str(target.get('platform')))}"
    )
    rows: list[str] = []
    if plan is not None:
        for a in plan.get("actions") or []:
            if a["kind"] == "keep":
                continue
            before = f"{a['installed_version']} → " if a.get("installed_version") else ""
            rows.append(
                f"<li><code>{html.escape(a['kind'])}</code> {html.escape(a['name'])} "
                f"{html.escape(before + (a.get('version') or ''))}</li>"
            )
        for b in plan.get("breaks") or []:
            rows.append(f"<li>{_coloured('warning', 'breaks ' + str(b['message']))}</li>")
        if not rows:
            rows.append("<li>Nothing to change: it is already there.</li>")
    if conflict is not None:
        rows.append(f"<li>{_coloured('blocker', str(conflict['message']))}</li>")
        rows.extend(
            f"<li>Way out: {html.escape(str(w['message']))}</li>"
            for w in conflict.get("ways_out") or []
        )
    return head + "<ul>" + "".join(rows) + "</ul>"


def _findings_html(doc: dict[str, Any]) -> str:
    items = [
        f"<li>{_coloured(f['severity'], f['severity'].upper() + ': ' + str(f['message']))}</li>"
        for f in doc.get("findings") or []
    ]
    items.extend(
        f"<li>Other kernel {html.escape(s['display_name'])} [{html.escape(s['name'])}]: "
        f"{html.escape(s['message'])}</li>"
        for s in doc.get("suggestions") or []
    )
    return "<ul>" + "".join(items) + "</ul>" if items else ""


def _verdict_html(verdict: str) -> str:
    return f"<b>Verdict:</b> {_coloured(verdict, VERDICT_WORDS.get(verdict, verdict))}"


def _coloured(severity: str, text: str) -> str:
    colour = SEVERITY_COLOURS.get(severity)
    if colour is None:
        return html.escape(text)
    return f'<span style="color: {colour}">{html.escape(text)}</span>'
