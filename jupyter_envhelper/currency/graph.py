"""Who requires whom in one environment: the installed dependency graph.

Built from what the probe already knows (each installed distribution's Requires-Dist),
with markers evaluated in the target's marker environment and extras followed: a
parent's ``beta[fast]`` makes beta's ``extra == "fast"`` requirements count, to a
fixed point. Nothing is downloaded.

Answers: the chains of requirements from the packages the user asked for (the roots)
down to one distribution (``jinja2 <- jupyter-server <- jupyterlab``), the installed
distributions that require it (they would break without it), the orphans (nothing
requires them and nobody asked for them: safe to remove), requirements the installed
versions do not satisfy (the environment is broken already) and depths for a layered
picture (roots at depth 0).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..environment import Distribution, Environment

# Never offered as orphans: the installers themselves and the kernel. Removing one
# leaves the environment unable to install or the notebook unable to run.
KEEP = frozenset({"pip", "setuptools", "wheel", "uv", "ipykernel", "conda", "mamba"})
MAX_CHAINS = 8


@dataclass(frozen=True)
class Edge:
    """``parent`` requires ``child`` (canonical names) with ``requirement``."""

    parent: str
    child: str
    requirement: str
    satisfied: bool  # the installed child's version is in the specifier
    installed: bool  # the child is installed at all

    def to_json(self) -> dict[str, Any]:
        return {
            "parent": self.parent,
            "child": self.child,
            "requirement": self.requirement,
            "satisfied": self.satisfied,
            "installed": self.installed,
        }


@dataclass
class DependencyGraph:
    nodes: dict[str, Distribution]
    edges: list[Edge]
    requested: set[str]
    children: dict[str, list[Edge]] = field(default_factory=dict)
    parents: dict[str, list[Edge]] = field(default_factory=dict)
    extras: dict[str, set[str]] = field(default_factory=dict)

    # -- construction -----------------------------------------------------------------

    @classmethod
    def build(
        cls,
        env: Environment,
        requested: Iterable[str] = (),
        requested_extras: Mapping[str, Iterable[str]] | None = None,
    ) -> DependencyGraph:
        """``requested``: the names the user asked for (REQUESTED files, the history);
        ``requested_extras``: extras they asked for with them (``beta[fast]``)."""
        nodes = dict(env.distributions)
        markers = dict(env.markers)
        wanted: set[str] = {str(canonicalize_name(n)) for n in requested} & set(nodes)
        extras: dict[str, set[str]] = {name: set() for name in nodes}
        for name, chosen in (requested_extras or {}).items():
            key = canonicalize_name(name)
            if key in extras:
                extras[key].update(canonicalize_name(e) for e in chosen)
        parsed = {name: _parse(dist) for name, dist in nodes.items()}
        env_key = tuple(sorted(markers.items()))
        # extras to a fixed point: a requirement `x[e]` turns on x's `extra == "e"` lines
        changed = True
        while changed:
            changed = False
            for name, reqs in parsed.items():
                for text, req in reqs:
                    child = canonicalize_name(req.name)
                    if (
                        child not in extras
                        or not req.extras
                        or not _active(text, env_key, frozenset(extras[name]))
                    ):
                        continue
                    new = {canonicalize_name(e) for e in req.extras} - extras[child]
                    if new:
                        extras[child] |= new
                        changed = True
        edges: list[Edge] = []
        seen: set[tuple[str, str]] = set()
        for name, reqs in parsed.items():
            for text, req in reqs:
                child = canonicalize_name(req.name)
                if child == name or (name, child) in seen:
                    continue
                if not _active(text, env_key, frozenset(extras[name])):
                    continue
                seen.add((name, child))
                dist = nodes.get(child)
                edges.append(
                    Edge(
                        parent=name,
                        child=child,
                        requirement=_text(req),
                        satisfied=dist is not None and _contains(req, dist.version),
                        installed=dist is not None,
                    )
                )
        graph = cls(nodes=nodes, edges=edges, requested=wanted, extras=extras)
        for edge in edges:
            graph.children.setdefault(edge.parent, []).append(edge)
            graph.parents.setdefault(edge.child, []).append(edge)
        return graph

    # -- questions ----------------------------------------------------------------------

    def required_by(self, name: str) -> list[Edge]:
        """Installed distributions that require ``name`` (they break without it)."""
        return [e for e in self.parents.get(canonicalize_name(name), []) if e.parent in self.nodes]

    def requires(self, name: str) -> list[Edge]:
        return list(self.children.get(canonicalize_name(name), []))

    def is_orphan(self, name: str) -> bool:
        key = canonicalize_name(name)
        return (
            key in self.nodes
            and key not in self.requested
            and key not in KEEP
            and not self.required_by(key)
            and self.nodes[key].installer != "conda"
        )

    def orphans(self) -> list[str]:
        return sorted(name for name in self.nodes if self.is_orphan(name))

    def roots(self) -> list[str]:
        """The requested packages; with no record of what was asked for, every
        installed distribution that nothing requires."""
        if self.requested:
            return sorted(self.requested)
        return sorted(n for n in self.nodes if not self.required_by(n))

    def chains(self, name: str, limit: int = MAX_CHAINS) -> list[list[str]]:
        """Shortest requirement chains from a root down to ``name``: each chain is a
        list of canonical names, root first, ``name`` last. A root itself: [[name]]."""
        key = canonicalize_name(name)
        roots = set(self.roots())
        if key in roots:
            return [[key]]
        # breadth-first upwards from `key`; every path that reaches a root is kept
        found: list[list[str]] = []
        queue: deque[list[str]] = deque([[key]])
        best: dict[str, int] = {key: 0}
        while queue and len(found) < limit:
            path = queue.popleft()
            for edge in self.required_by(path[-1]):
                parent = edge.parent
                if parent in path:
                    continue
                depth = len(path)
                if best.get(parent, depth) < depth and parent not in roots:
                    continue  # reached by a shorter path already
                best.setdefault(parent, depth)
                longer = [*path, parent]
                if parent in roots:
                    found.append(list(reversed(longer)))
                    if len(found) >= limit:
                        break
                else:
                    queue.append(longer)
        return found

    def depths(self) -> dict[str, int]:
        """Each node's distance from the nearest root (roots 0); unreachable nodes
        (orphans, cycles) at depth 0 as roots of their own."""
        depth: dict[str, int] = {}
        queue: deque[str] = deque()
        for root in self.roots():
            depth[root] = 0
            queue.append(root)
        while True:
            while queue:
                name = queue.popleft()
                for edge in self.children.get(name, []):
                    if edge.child in self.nodes and edge.child not in depth:
                        depth[edge.child] = depth[name] + 1
                        queue.append(edge.child)
            rest = sorted(n for n in self.nodes if n not in depth)
            if not rest:
                return depth
            depth[rest[0]] = 0
            queue.append(rest[0])

    def neighbourhood(self, name: str) -> set[str]:
        """``name``, everything above it (up to the roots) and everything below it."""
        key: str = canonicalize_name(name)
        out: set[str] = {key}
        for step in (self._up, self._down):
            todo: list[str] = [key]
            while todo:
                for nxt in step(todo.pop()):
                    if nxt not in out:
                        out.add(nxt)
                        todo.append(nxt)
        return out

    def _up(self, name: str) -> list[str]:
        return [e.parent for e in self.parents.get(name, [])]

    def _down(self, name: str) -> list[str]:
        return [e.child for e in self.children.get(name, []) if e.child in self.nodes]

    def broken(self) -> list[Edge]:
        """Requirements the environment does not satisfy now (missing or wrong version)."""
        return [e for e in self.edges if not e.satisfied]

    def to_json(self, only: set[str] | None = None) -> dict[str, Any]:
        depths = self.depths()
        names = sorted(n for n in self.nodes if only is None or n in only)
        keep = set(names)
        return {
            "roots": [r for r in self.roots() if r in keep],
            "nodes": [
                {
                    "name": self.nodes[n].name,
                    "canonical_name": n,
                    "version": self.nodes[n].version,
                    "requested": n in self.requested,
                    "depth": depths.get(n, 0),
                    "required_by": len(self.required_by(n)),
                    "orphan": self.is_orphan(n),
                    "editable": self.nodes[n].editable,
                }
                for n in names
            ],
            "edges": [
                e.to_json()
                for e in self.edges
                if e.parent in keep and (e.child in keep or not e.installed)
            ],
            "broken": [e.to_json() for e in self.broken() if e.parent in keep],
        }


def _parse(dist: Distribution) -> list[tuple[str, Requirement]]:
    found = ((text, _requirement(text)) for text in dist.requires)
    return [(text, req) for text, req in found if req is not None]


@functools.lru_cache(maxsize=8192)
def _requirement(text: str) -> Requirement | None:
    """Parsed once per process: the same Requires-Dist lines come back with every
    question about the same environment, and parsing is most of a graph's cost."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


@functools.lru_cache(maxsize=32768)
def _active(text: str, markers: tuple[tuple[str, str], ...], extras: frozenset[str]) -> bool:
    """Whether the requirement ``text`` applies in ``markers`` with ``extras`` on."""
    req = _requirement(text)
    return req is not None and _applies(req.marker, dict(markers), set(extras))


def _applies(marker: Marker | None, markers: Mapping[str, str], extras: set[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({**markers, "extra": e}) for e in ("", *sorted(extras)))


def _contains(req: Requirement, version: str) -> bool:
    try:
        return req.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return not req.specifier


def _text(req: Requirement) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{req.specifier}"
