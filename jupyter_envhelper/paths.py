"""Where jupyter-envhelper keeps its per-user files (standard library only, so that
every layer, search and the probe's caller alike, can import it without cost)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_cache_dir() -> Path:
    """The per-user cache directory of jupyter-envhelper."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return Path(base) / "jupyter-envhelper" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "jupyter-envhelper"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jupyter-envhelper"
