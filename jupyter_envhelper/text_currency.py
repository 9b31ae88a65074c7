"""The currency documents (outdated, why, update plans) in words, for the command
line and the magic (``text.py`` has the others)."""

from __future__ import annotations

from typing import Any

STATUS_ORDER = {"update": 0, "held-back": 1, "unknown": 2, "not-on-index": 3, "unmanaged": 4}


def render_outdated(doc: dict[str, Any], *, every: bool = False) -> str:
    rows = [r for r in doc["packages"] if every or r["status"] not in ("current", "not-on-index")]
    rows.sort(key=lambda r: (STATUS_ORDER.get(r["status"], 9), r["canonical_name"]))
    lines: list[str] = []
    updates = doc["outdated"]
    held = doc.get("held_back", 0)
    total = len(doc["packages"])
    if not updates and not held:
        lines.append(f"All {total} packages are current.")
    else:
        lines.append(
            f"{updates} of {total} packages can be updated"
            + (f"; {held} held back (a newer release would break something)" if held else "")
            + "."
        )
    width = max((len(r["name"]) for r in rows), default=4)
    for row in rows:
        mark = {"update": "↑", "held-back": "⚠", "unmanaged": "·", "unknown": "?"}.get(
            row["status"], " "
        )
        asked = "" if row["requested"] else "  (dependency)"
        if row["status"] in ("update", "held-back"):
            target = row["fit"] or "-"
            latest = row["latest"] or "-"
            shown = f"{row['installed']:>12} → {target:<12} newest {latest}"
        else:
            shown = f"{row['installed']:>12}"
        lines.append(f" {mark} {row['name']:<{width}} {shown}{asked}")
        if (row["status"] != "current" or row.get("latest")) and (
            row["status"] != "update" or row["fit"] != row["latest"]
        ):
            # (a current row with a newer release: one this kernel cannot use, and why)
            lines.append(f"     {row['message']}")
    for warning in doc.get("warnings") or []:
        lines.append(f"warning: {warning}")
    if updates:
        lines.append(
            "Update with `update NAME`, `update --all-that-fit` (breaks nothing) or `update --all`."
        )
    return "\n".join(lines)


def render_why(doc: dict[str, Any]) -> str:
    lines = [doc["message"]]
    for chain in doc["chains"][1:]:
        lines.append(f"  also: {chain['text']}")
    if doc["required_by"]:
        lines.append("Required by (they would break without it):")
        for dep in doc["required_by"]:
            lines.append(f"  {dep['name']} {dep['version']} needs {dep['requirement']}")
    if doc["requires"]:
        needs = ", ".join(e["requirement"] for e in doc["requires"])
        lines.append(f"It requires: {needs}")
    if doc["removal"]:
        lines.append(f"Remove it with `uninstall {doc['name']}` (a plan first, undoable).")
    return "\n".join(lines)


def render_update(doc: dict[str, Any]) -> str:
    update = doc.get("update") or {}
    lines = []
    for package in update.get("packages") or []:
        lines.append(f"  {package['message']}")
    if doc.get("state") == "up-to-date":
        lines.append(update.get("message") or "Nothing to update.")
    return "\n".join(lines)
