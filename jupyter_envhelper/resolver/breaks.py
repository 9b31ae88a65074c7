"""Installed distributions that a plan would break (pip warns after the fact; we say it first).

An installed distribution that the plan does not touch keeps its Requires-Dist;
each one that applies on the target (markers evaluated with its marker
environment, ``extra == ""``) and names a project the plan changes is checked
against the new version, or reported when the plan removes that project.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from ..environment import Environment
from ..plan import Breakage


def requirement_text(req: Requirement) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{req.specifier}"


@functools.lru_cache(maxsize=16384)
def _parsed(text: str) -> Requirement | None:
    """A Requires-Dist line, parsed once per process (every plan reads every installed
    distribution's: on a busy server that parsing was most of a plan's time)."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def find_breaks(
    env: Environment,
    changes: Mapping[str, tuple[str, Version | None]],
) -> list[Breakage]:
    """``changes``: canonical name -> (display like "numpy 1.26.4", new version or None
    when removed). Distributions named in ``changes`` are the plan's own and skipped."""
    markers = {**env.markers, "extra": ""}
    out: list[Breakage] = []
    for key in sorted(env.distributions):
        if key in changes:
            continue
        dist = env.distributions[key]
        for text in dist.requires:
            req = _parsed(text)
            if req is None:
                continue
            target = canonicalize_name(req.name)
            if target not in changes:
                continue
            if req.marker is not None and not req.marker.evaluate(markers):
                continue
            shown, new = changes[target]
            if new is None:
                out.append(Breakage(dist.name, dist.version, requirement_text(req), shown, True))
            elif not req.specifier.contains(new, prereleases=True):
                out.append(Breakage(dist.name, dist.version, requirement_text(req), shown))
    return out
