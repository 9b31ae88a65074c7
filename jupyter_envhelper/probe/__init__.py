"""What is in a target interpreter's environment.

``script.py`` runs *inside* the target (stdlib only, Python 3.8+) and prints one JSON
document; ``prober.py`` runs it, caches the answer while the environment is unchanged,
and turns it into an ``Environment``; ``early.py`` starts a command line's probe
before the rest is imported.

``prober.py`` (and the ``Environment`` it imports) is loaded when one of its names is
first used, so that ``early`` can be imported at no cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .prober import DEFAULT_TIMEOUT, PROBE_SCRIPT, Prober, default_cache_dir

__all__ = ["DEFAULT_TIMEOUT", "PROBE_SCRIPT", "Prober", "default_cache_dir"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import prober

        return getattr(prober, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
