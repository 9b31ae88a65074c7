"""The jupyter-server surface: the extension app, its routes and REST handlers."""

from __future__ import annotations
