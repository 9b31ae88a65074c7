"""A real Simple Repository API index on 127.0.0.1, built from generated wheels and sdists.

``wheels`` builds small valid distributions from a declarative description;
``server`` serves them as a PEP 691 JSON + PEP 503 HTML index with PEP 658/714
``.metadata`` files, ranges, validators, counters and fault modes; ``fixtures``
exposes them to pytest (``index_server`` factory and ``sample_index``).
"""

from __future__ import annotations

from .server import Fault, IndexServer, IndexServerFactory, PathStats
from .wheels import BuiltFile, DistSpec, build_dist, build_sdist, build_wheel

__all__ = [
    "BuiltFile",
    "DistSpec",
    "Fault",
    "IndexServer",
    "IndexServerFactory",
    "PathStats",
    "build_dist",
    "build_sdist",
    "build_wheel",
]
