"""Reproducible environments: write one down (``export``).

Jupyter-free, like the other core packages: Environments and an index client in,
documents out; the use-case layer (``core``) gives them to every surface.
"""

from __future__ import annotations

from .export import FORMATS, Export, export_environment

__all__ = ["FORMATS", "Export", "export_environment"]
