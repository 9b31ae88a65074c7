"""The use-case layer and its composition root, shared by every surface.

``build_core(CoreConfig)`` gives a ``Core``; surfaces name a ``Target``, call one
``Core`` method and render the document it returns (``documents``).
"""

from __future__ import annotations

from .build import build_core
from .config import CoreConfig
from .documents import SCHEMA, error_document
from .targets import Target
from .usecases import Core, JobRequest, PlanOptions

__all__ = [
    "SCHEMA",
    "Core",
    "CoreConfig",
    "JobRequest",
    "PlanOptions",
    "Target",
    "build_core",
    "error_document",
]
