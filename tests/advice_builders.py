"""Builders for advice tests: Plans, Conflicts and Environments from the plan.py records."""

from __future__ import annotations

import copy
from typing import Any

from jupyter_envhelper.environment import Distribution, Environment
from jupyter_envhelper.plan import Action, Breakage, FileChoice, Plan, TargetSummary

TARGET = TargetSummary("3.11.7", "cpython", "manylinux_2_28_x86_64")


def wheel(name: str, version: str, size: int | None = 1000, **kw: Any) -> FileChoice:
    filename = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    url = f"https://files.example/{filename}"
    return FileChoice(filename, url, "https://pypi.org/simple/", "wheel", size, **kw)


def sdist(name: str, version: str, size: int | None = 1000) -> FileChoice:
    filename = f"{name}-{version}.tar.gz"
    url = f"https://files.example/{filename}"
    return FileChoice(filename, url, "https://pypi.org/simple/", "sdist", size)


def act(
    kind: str,
    name: str,
    version: str | None,
    *,
    installed: str | None = None,
    size: int | None = 1000,
    file: FileChoice | None = None,
    requested: bool = False,
    deps: tuple[str, ...] = (),
) -> Action:
    from packaging.utils import canonicalize_name

    if file is None and kind in ("install", "upgrade", "downgrade") and version:
        file = wheel(name, version, size)
    return Action(
        kind,  # type: ignore[arg-type]
        name,
        canonicalize_name(name),
        version,
        installed_version=installed,
        requested=requested,
        file=file,
        dependencies=deps,
    )


def plan(*actions: Action, breaks: list[Breakage] | None = None) -> Plan:
    requested = [f"{a.name}" for a in actions if a.requested]
    return Plan(requested, TARGET, list(actions), breaks=list(breaks or []))


def probed_env(
    python: str = "3.11",
    platform: str = "manylinux_2_28_x86_64",
    *,
    environment: dict[str, Any] | None = None,
    dists: list[Distribution] | None = None,
    accelerators: dict[str, Any] | None = None,
    build_tools: dict[str, Any] | None = None,
    purelib: str = "/srv/venv/lib/python3.11/site-packages",
) -> Environment:
    """A synthetic environment made to look probed (as a real probe doc would)."""
    base = Environment.synthetic(python, platform)
    doc = copy.deepcopy(base.data)
    doc["environment"] = {
        "kind": "venv",
        "in_venv": True,
        "site_packages_writable": True,
        "externally_managed": None,
        "base_is_conda": False,
        "conda_packages": None,
        "home": "/home/ada",
        "jupyterhub": [],
        **(environment or {}),
    }
    doc["paths"] = {"prefix": "/srv/venv", "purelib": purelib, "platlib": purelib}
    doc["accelerators"] = accelerators or {}
    if build_tools is not None:
        doc["build_tools"] = build_tools
    env = Environment(data=doc)
    for dist in dists or ():
        env.distributions[dist.canonical_name] = dist
    return env
