""" "Why is this package here?" for one installed distribution, as data and in words."""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name

from ..errors import NotFound
from .graph import KEEP, DependencyGraph


def why_document(graph: DependencyGraph, name: str) -> dict[str, Any]:
    """Chains from the requested roots, who requires it (and would break without it),
    what it requires, and whether it is an orphan that can be removed safely."""
    key = canonicalize_name(name)
    dist = graph.nodes.get(key)
    if dist is None:
        raise NotFound(f"{name[:80]} is not installed in this environment.")
    chains = graph.chains(key)
    required_by = graph.required_by(key)
    orphan = graph.is_orphan(key)

    def shown(n: str) -> str:
        node = graph.nodes.get(n)
        return node.name if node is not None else n

    chain_docs = [
        {
            "names": [shown(n) for n in chain],
            "root": shown(chain[0]),
            "requested": chain[0] in graph.requested,
            "text": " ← ".join(shown(n) for n in reversed(chain)),
            "requirements": [
                next(
                    (e.requirement for e in graph.requires(parent) if e.child == child),
                    "",
                )
                for parent, child in zip(chain, chain[1:])
            ],
        }
        for chain in chains
    ]
    return {
        "name": dist.name,
        "canonical_name": key,
        "version": dist.version,
        "requested": key in graph.requested,
        "chains": chain_docs,
        "required_by": [
            {
                "name": graph.nodes[e.parent].name,
                "version": graph.nodes[e.parent].version,
                "requirement": e.requirement,
            }
            for e in required_by
        ],
        "requires": [e.to_json() for e in graph.requires(key)],
        "would_break": [
            f"{graph.nodes[e.parent].name} {graph.nodes[e.parent].version} (needs {e.requirement})"
            for e in required_by
        ],
        "orphan": orphan,
        "kept": key in KEEP,
        "removal": {"kind": "uninstall", "names": [dist.name]} if orphan else None,
        "message": _words(graph, key, chain_docs, orphan),
    }


def _words(graph: DependencyGraph, key: str, chains: list[dict[str, Any]], orphan: bool) -> str:
    dist = graph.nodes[key]
    head = f"{dist.name} {dist.version}"
    if key in graph.requested:
        parents = graph.required_by(key)
        extra = (
            f"; {', '.join(graph.nodes[e.parent].name for e in parents)} also need it"
            if parents
            else ""
        )
        return f"{head}: you asked for it{extra}."
    if orphan:
        return (
            f"{head}: nothing requires it and nobody asked for it (an orphan); "
            "removing it breaks nothing."
        )
    if key in KEEP and not graph.required_by(key):
        return f"{head}: a tool of the environment itself; it stays."
    if chains:
        first = chains[0]
        asked = " (you asked for " + first["root"] + ")" if first["requested"] else ""
        more = f", and {len(chains) - 1} more way(s)" if len(chains) > 1 else ""
        return f"{head}: {first['text']}{asked}{more}."
    needed = ", ".join(graph.nodes[e.parent].name for e in graph.required_by(key))
    return f"{head}: required by {needed}."
