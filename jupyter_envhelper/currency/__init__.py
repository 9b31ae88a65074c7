"""Keeping an environment current (Jupyter-free): what is outdated, what an update
could be without breaking anything, and why each distribution is installed.

``find_outdated(env, client)`` reads one project page per installed distribution (in
parallel, no metadata downloads) and compares it with what the probe saw;
``DependencyGraph.build(env, requested)`` answers "why is this here?" from the
installed distributions' own requirements.
"""

from __future__ import annotations

from .graph import KEEP, DependencyGraph, Edge
from .outdated import Blocker, OutdatedReport, Row, find_outdated, unmanaged_reason
from .why import why_document

__all__ = [
    "KEEP",
    "Blocker",
    "DependencyGraph",
    "Edge",
    "OutdatedReport",
    "Row",
    "find_outdated",
    "unmanaged_reason",
    "why_document",
]
