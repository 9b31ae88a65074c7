"""New environments in words, for the command line and the magic (``text.py``'s kin)."""

from __future__ import annotations

from typing import Any

from .text import render_plan


def _size(size: int | None) -> str:
    if size is None:
        return "?"
    return f"{size / 1e6:.1f} MB" if size >= 1_000_000 else f"{size / 1e3:.0f} kB"


def render_interpreters(doc: dict[str, Any]) -> str:
    lines = []
    for item in doc["interpreters"]:
        where = ", ".join(item["sources"])
        kernels = f" (kernels: {', '.join(item['kernels'])})" if item["kernels"] else ""
        venv = " [venv]" if item["is_venv"] else ""
        lines.append(
            f"{item['implementation']} {item['version']:<9} {item['path']}{venv}  "
            f"from {where}{kernels}"
        )
    if not lines:
        lines.append("No Python interpreters found.")
    downloads = doc.get("downloads")
    if downloads:
        lines.append(("Downloads: " if downloads["reachable"] else "") + downloads["message"])
    lines.append(f"New environments go to {doc['environments_dir']}.")
    return "\n".join(lines)


def render_new_environment_plan(doc: dict[str, Any]) -> str:
    python = doc["python"]
    source = "downloaded by uv" if python["download"] else python["path"]
    lines = [
        f"New kernel    {doc['display_name']} [{doc['kernel_name']}]",
        f"Folder        {doc['directory']}",
        f"Python        {python['version']} ({source})",
    ]
    if len(doc["tried"]) > 1:
        for tried in doc["tried"][:-1]:
            lines.append(f"  not {tried['python_version']}: {tried['message']}")
    lines.append(render_plan(doc))
    return "\n".join(lines)


def render_environments(doc: dict[str, Any]) -> str:
    rows = []
    for env in doc["environments"]:
        kernel = env["kernel_name"] if env["kernel_registered"] else "no kernel"
        rows.append(
            f"{env['name']:<20} Python {env['python_version']:<8} {_size(env['size']):>9}  "
            f"{kernel:<20} {env['path']}"
        )
    if not rows:
        rows.append(f"No environments made by jupyter-envhelper in {doc['environments_dir']}.")
    return "\n".join(rows)


def render_deleted(doc: dict[str, Any]) -> str:
    gone = doc["deleted"]
    kernel = " and its kernel" if gone["kernel_removed"] else ""
    return f"Deleted {gone['path']}{kernel}."
