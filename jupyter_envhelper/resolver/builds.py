"""Builds from source, predicted from the index: will the sdist the plan chose build?

The index cannot run a compiler, but it says a lot: when a release has wheels built for
other Pythons (``cp36`` ... ``cp39``) and all of them are older than the target's, it is
a compiled package that predates this Python, and its source almost never builds there
(numpy 1.19.5 on Python 3.11: the C code uses interpreter internals that changed). Then
the forecast names the nearest release with a wheel for this target, checked against
the rest of the request by one more resolution, and the Pythons the asked release has
wheels for (a kernel or a new environment with one of them takes it as it is).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from packaging.version import Version

from ..plan import BuildForecast
from .candidates import ReleaseCandidate
from .explain import Retry
from .factory import Factory, Release
from .requirements import SpecifierRequirement

MAX_CHECKED = 3  # resolutions spent checking nearest releases, per plan
_CPYTHON = re.compile(r"^cp(\d)(\d+)$")


def wheel_pythons(factory: Factory, candidate: ReleaseCandidate) -> list[tuple[int, int]]:
    """The CPython versions some wheel of ``candidate``'s public version was built for."""
    page = factory.bridge.known_page(candidate.name)
    public = Version(candidate.version.public)
    found: set[tuple[int, int]] = set()
    versions = [v for v in page.all_versions() if Version(v.public) == public] if page else []
    for file in (f for v in versions for f in page.files_for(v)) if page else ():
        if file.kind != "wheel":
            continue
        for tag in file.tags:
            match = _CPYTHON.match(tag.interpreter)
            if match and tag.abi != "abi3":
                found.add((int(match[1]), int(match[2])))
    return sorted(found)


def nearest_wheel(releases: Sequence[Release], version: Version) -> Version | None:
    """The nearest release with a wheel for the target: the series of the oldest newer
    one (its newest patch: 1.23.5 rather than 1.23.0), else the newest older one."""
    wheels = [
        r.version
        for r in releases
        if r.file is not None
        and r.file.kind == "wheel"
        and not r.yanked
        and (version.is_prerelease or not r.version.is_prerelease)
    ]
    newer = sorted(v for v in wheels if v > version)
    if newer:
        series = newer[0].release[:2]
        return max(v for v in newer if v.release[:2] == series)
    older = [v for v in wheels if v < version]
    return max(older) if older else None


def forecast(
    factory: Factory,
    candidate: ReleaseCandidate,
    requested: Sequence[SpecifierRequirement],
    retry: Retry | None,
) -> BuildForecast:
    """The forecast for building ``candidate`` (an sdist) on the factory's target.
    ``retry`` (None when the budget is spent) checks the nearest release with a wheel."""
    pythons = wheel_pythons(factory, candidate)
    target = (factory.python.major, factory.python.minor)
    shown = tuple(f"{major}.{minor}" for major, minor in pythons)
    page = factory.bridge.known_page(candidate.name)
    public = Version(candidate.version.public)
    same = next(
        (
            r.version
            for r in (factory.releases_of(page) if page else ())
            if r.file is not None and r.file.kind == "wheel" and Version(r.version.public) == public
        ),
        None,
    )
    if same is not None:  # a wheel of this very release fits: only an exact pin gets here
        return BuildForecast(likely_fails=False, wheel_pythons=shown, same_release_wheel=str(same))
    likely_fails = bool(pythons) and all(p < target for p in pythons)
    if not likely_fails:
        return BuildForecast(likely_fails=False, wheel_pythons=shown)
    nearest = nearest_wheel(factory.releases_of(page), candidate.version) if page else None
    fits = False
    if nearest is not None and retry is not None:
        pin = SpecifierRequirement.exact(candidate.name, str(nearest))
        rest = [r for r in requested if r.name != candidate.name or r.extras]
        chosen = retry([*rest, pin])
        fits = chosen is not None and chosen.get(candidate.name) == nearest
    return BuildForecast(
        likely_fails=True,
        wheel_pythons=shown,
        nearest_wheel=str(nearest) if nearest is not None else None,
        nearest_fits=fits,
    )


def forecast_builds(
    factory: Factory,
    candidates: Sequence[ReleaseCandidate],
    requested: Sequence[SpecifierRequirement],
    retry: Retry,
) -> dict[str, BuildForecast]:
    """Canonical name -> forecast, for every candidate that the plan builds from source."""
    out: dict[str, BuildForecast] = {}
    budget = MAX_CHECKED
    for candidate in candidates:
        file = candidate.file
        if candidate.is_installed or file is None or file.kind != "sdist":
            continue
        out[candidate.name] = forecast(factory, candidate, requested, retry if budget > 0 else None)
        if out[candidate.name].likely_fails:
            budget -= 1
    return out
