"""What is in a target interpreter's environment.

``script.py`` runs *inside* the target (stdlib only, Python 3.8+) and prints one JSON
document; ``prober.py`` runs it, caches the answer while the environment is unchanged,
and turns it into an ``Environment``.
"""

from __future__ import annotations

from .prober import DEFAULT_TIMEOUT, PROBE_SCRIPT, Prober, default_cache_dir

__all__ = ["DEFAULT_TIMEOUT", "PROBE_SCRIPT", "Prober", "default_cache_dir"]
