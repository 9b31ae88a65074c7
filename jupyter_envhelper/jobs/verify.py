"""After a job: did the Plan happen, and is the environment still whole?

- ``compare_with_plan``: each pin installed at its version, each removal gone;
- ``verify_environment``: no two ``.dist-info`` for one name, no ``.dist-info``
  without ``RECORD``, every installed distribution's requirements still satisfied
  (``packaging``, markers evaluated with the target's marker environment), and for
  the distributions the job touched, every file their ``RECORD`` lists is there with
  the size it gives (an install cut short, by a full disk say, leaves a dist-info
  whose RECORD names files that were never written: Python then finds the package
  and fails on import).

Problems are dicts ``{"kind", "name", "message", "preexisting"}``; ``preexisting`` is
true when the environment had the same problem before the job.
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Collection, Iterable
from typing import Any

from packaging.markers import InvalidMarker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..environment import Environment
from ..plan import Plan


def compare_with_plan(plan: Plan, env: Environment) -> list[str]:
    """Sentences for every way the environment differs from what ``plan`` promised."""
    out: list[str] = []
    for action in plan.actions:
        dist = env.installed(action.canonical_name)
        if action.kind == "remove":
            if dist is not None:
                out.append(
                    f"{action.name} should have been removed but {dist.version} is still installed."
                )
        elif action.pin is not None:
            if dist is None:
                out.append(f"{action.name} {action.version} should be installed but is missing.")
            elif not _same_version(dist.version, action.version):
                out.append(
                    f"{action.name} should be {action.version} but {dist.version} is installed."
                )
    return out


def _same_version(a: str, b: str | None) -> bool:
    if b is None:
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _site_dirs(env: Environment) -> list[str]:
    paths = env.data.get("paths") or {}
    dirs = [paths.get("purelib"), paths.get("platlib"), *env.distribution_dirs]
    seen: list[str] = []
    for d in dirs:
        if isinstance(d, str) and d and os.path.isdir(d) and d not in seen:
            seen.append(d)
    return seen


def _metadata_problems(env: Environment) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    by_name: dict[str, list[str]] = {}
    for site in _site_dirs(env):
        try:
            entries = os.listdir(site)
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            stem = entry.rsplit(".", 1)[0]
            name = str(canonicalize_name(stem.split("-", 1)[0]))
            path = os.path.join(site, entry)
            by_name.setdefault(name, []).append(path)
            if entry.endswith(".dist-info") and not os.path.isfile(os.path.join(path, "RECORD")):
                problems.append(
                    {
                        "kind": "missing-record",
                        "name": name,
                        "message": f"{entry} has no RECORD file: it cannot be uninstalled cleanly.",
                    }
                )
    for name, paths in sorted(by_name.items()):
        if len(paths) > 1:
            shown = ", ".join(os.path.basename(p) for p in sorted(paths))
            problems.append(
                {
                    "kind": "duplicate-metadata",
                    "name": name,
                    "message": f"{name} is installed more than once ({shown}): Python may import "
                    "a mix of versions.",
                }
            )
    return problems


MAX_SHOWN = 3


def _record_rows(path: str) -> list[list[str]]:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return [row for row in csv.reader(handle) if row and row[0]]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def record_problems(env: Environment, names: Collection[str]) -> list[dict[str, Any]]:
    """For the ``.dist-info`` of each of ``names`` (canonical): files its RECORD lists
    that are missing or have another size. Byte-compiled files are left out (they
    are made and removed freely and never break an import)."""
    problems: list[dict[str, Any]] = []
    wanted = {str(canonicalize_name(n)) for n in names}
    for site in _site_dirs(env):
        try:
            entries = sorted(os.listdir(site))
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".dist-info"):
                continue
            name = str(canonicalize_name(entry[: -len(".dist-info")].split("-", 1)[0]))
            if name not in wanted:
                continue
            missing: list[str] = []
            wrong_size: list[str] = []
            for row in _record_rows(os.path.join(site, entry, "RECORD")):
                relative = row[0]
                if relative.endswith((".pyc", ".pyo")) or "__pycache__" in relative:
                    continue
                path = os.path.normpath(os.path.join(site, relative))
                try:
                    size = os.stat(path).st_size
                except OSError:
                    missing.append(relative)
                    continue
                expected = row[2] if len(row) > 2 else ""
                if expected.isdigit() and int(expected) != size:
                    wrong_size.append(relative)
            if missing or wrong_size:
                parts = []
                if missing:
                    shown = ", ".join(missing[:MAX_SHOWN]) + (" ..." if len(missing) > 3 else "")
                    parts.append(f"{len(missing)} missing ({shown})")
                if wrong_size:
                    shown = ", ".join(wrong_size[:MAX_SHOWN])
                    shown += " ..." if len(wrong_size) > MAX_SHOWN else ""
                    parts.append(f"{len(wrong_size)} cut short ({shown})")
                problems.append(
                    {
                        "kind": "incomplete-files",
                        "name": name,
                        "message": f"{entry} lists files that are not there as installed: "
                        f"{'; '.join(parts)}. The install was cut short; importing it may "
                        "fail.",
                        "missing": missing[:50],
                        "wrong_size": wrong_size[:50],
                    }
                )
    return problems


@functools.lru_cache(maxsize=16384)
def _requirement(text: str) -> Requirement | None:
    """``Requirement(text)``, parsed once per text: a job checks every installed
    distribution's requirements before and after, nearly all of them the same."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def requirement_problems(env: Environment) -> list[dict[str, Any]]:
    """Installed distributions whose requirements the environment does not satisfy."""
    problems: list[dict[str, Any]] = []
    markers = env.markers
    for key, dist in sorted(env.distributions.items()):
        for text in dist.requires:
            req = _requirement(text)
            if req is None:
                continue
            if req.marker is not None:
                try:
                    if not req.marker.evaluate({**markers, "extra": ""}):
                        continue
                except (InvalidMarker, UndefinedEnvironmentName):
                    continue
            dep = env.installed(req.name)
            if dep is None:
                problems.append(
                    {
                        "kind": "missing-requirement",
                        "name": key,
                        "message": f"{dist.name} {dist.version} needs {req}, "
                        "which is not installed.",
                    }
                )
            elif req.specifier and not req.specifier.contains(dep.version, prereleases=True):
                problems.append(
                    {
                        "kind": "unsatisfied-requirement",
                        "name": key,
                        "message": f"{dist.name} {dist.version} needs {req}, but {dep.name} "
                        f"{dep.version} is installed.",
                    }
                )
    return problems


def verify_environment(
    env: Environment,
    *,
    before: Iterable[dict[str, Any]] = (),
    touched: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Problems of ``env``; those also in ``before`` are marked ``preexisting``.
    ``touched``: the distributions the job changed, whose files are checked too."""
    known = {(p["kind"], p["message"]) for p in before}
    found = before_problems(env, touched)
    for problem in found:
        problem["preexisting"] = (problem["kind"], problem["message"]) in known
    return found


def before_problems(env: Environment, touched: Collection[str] = ()) -> list[dict[str, Any]]:
    """What ``verify_environment`` would say of the environment before a job."""
    return _metadata_problems(env) + requirement_problems(env) + record_problems(env, touched)
