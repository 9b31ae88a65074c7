"""Check ``python``: the package wants another Python than the kernel's."""

from __future__ import annotations

from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from ..environment import Environment
from ..plan import Cause, Conflict, Finding, WayOut
from .context import AdviceContext, Subject

CHECK = "python"


def requirement_name(text: str) -> str:
    """The project name of a requirement string (``"alpha>=3"`` -> ``"alpha"``)."""
    try:
        return Requirement(text).name
    except InvalidRequirement:
        return text.split(";", maxsplit=1)[0].strip().split(" ")[0]


def pinned_version(requirement: str) -> str | None:
    """``"alpha==2.0"`` -> ``"2.0"``; None when the requirement is not an exact pin."""
    try:
        specs = list(Requirement(requirement).specifier)
    except InvalidRequirement:
        return None
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def _way_out_for(name: str, ways_out: list[WayOut]) -> tuple[WayOut | None, str | None]:
    """The other-version way out for ``name``, and the version it offers."""
    for way in ways_out:
        action = way.action or {}
        if way.kind not in ("other-version", "relax-pin"):
            continue
        if action.get("kind") != "use-requirement":
            continue
        requirement = str(action.get("requirement") or "")
        if requirement_name(requirement).lower() == name.lower():
            return way, pinned_version(requirement)
    return None, None


def _project(cause: Cause) -> str:
    """The project a requires-python cause is about.

    The resolver words it two ways: the requirement on the project (``alpha>=3``), or
    the project's own requirement on Python (``Python >=3.12``, required by
    ``alpha 3.0``).
    """
    name = requirement_name(cause.requirement)
    if name.lower() == "python" and cause.required_by:
        return cause.required_by.split(" ")[0].split("[")[0]
    return name


def _sentence(cause: Cause, name: str, env: Environment) -> str:
    have = env.python_version  # with its patch: Requires-Python can name one (>=3.13.2)
    subject = f"{name} {cause.version}" if cause.version else name
    if cause.requires_python:
        return f"{subject} needs Python {cause.requires_python}; this kernel has {have}."
    if cause.detail:
        return f"{subject}: {cause.detail}."
    return f"No version of {name} supports Python {have}, the Python of this kernel."


def check_python(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if not isinstance(subject, Conflict):
        return []
    findings: list[Finding] = []
    for cause in subject.causes:
        if cause.kind != "requires-python":
            continue
        name = _project(cause)
        message = _sentence(cause, name, env)
        way, version = _way_out_for(name, subject.ways_out)
        action: dict[str, Any] | None = None
        if way is not None and way.action is not None:
            requirement = str(way.action["requirement"])
            if version:
                message += f" {name} {version} is the newest that supports it."
                label = f"Use {name} {version}"
            else:
                message += f" {requirement} supports it."
                label = f"Use {requirement}"
            action = {"kind": "use-requirement", "requirement": requirement, "label": label}
        else:
            other = _elsewhere(subject.ways_out)
            if other is not None:
                action = dict(other.action or {})
                message += f" {other.message}"
        findings.append(
            Finding(
                check=CHECK,
                severity="blocker",
                message=message,
                action=action,
                details={
                    "name": name,
                    "version": cause.version,
                    "requires_python": cause.requires_python,
                    "python_version": env.python_version,
                    "required_by": cause.required_by,
                    "cause": cause.to_json(),
                },
            )
        )
    return findings


def _elsewhere(ways_out: list[WayOut]) -> WayOut | None:
    """The resolver's "another kernel / another Python" way out, when it found one."""
    for way in ways_out:
        if way.kind in ("other-kernel", "other-python") and way.action:
            return way
    return None
