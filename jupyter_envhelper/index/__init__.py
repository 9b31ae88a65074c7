"""Package index client (Jupyter-free): Simple API pages, core metadata, compatibility.

The names below are imported when first asked for (PEP 562): importing one submodule
(``index.jsonapi``, ``index.bulk``: what a helper process runs) must not import the
client and its HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .client import IndexClient
    from .compatibility import Compatibility, TargetPython, check_compatibility, describe_platform
    from .config import PYPI_SIMPLE, IndexConfig, resolve_index_config, ssl_context_from_env
    from .credentials import redact_url
    from .direct import DirectURLError, clean_direct_url, wheel_file_from_url
    from .models import ClientStats, CoreMetadata, DistributionFile, ProjectPage

_WHERE = {
    "IndexClient": "client",
    "Compatibility": "compatibility",
    "TargetPython": "compatibility",
    "check_compatibility": "compatibility",
    "describe_platform": "compatibility",
    "PYPI_SIMPLE": "config",
    "IndexConfig": "config",
    "resolve_index_config": "config",
    "ssl_context_from_env": "config",
    "redact_url": "credentials",
    "DirectURLError": "direct",
    "clean_direct_url": "direct",
    "wheel_file_from_url": "direct",
    "ClientStats": "models",
    "CoreMetadata": "models",
    "DistributionFile": "models",
    "ProjectPage": "models",
}

__all__ = [
    "PYPI_SIMPLE",
    "ClientStats",
    "Compatibility",
    "CoreMetadata",
    "DirectURLError",
    "DistributionFile",
    "IndexClient",
    "IndexConfig",
    "ProjectPage",
    "TargetPython",
    "check_compatibility",
    "clean_direct_url",
    "describe_platform",
    "redact_url",
    "resolve_index_config",
    "ssl_context_from_env",
    "wheel_file_from_url",
]


__getattr__, __dir__ = exports(__name__, globals(), _WHERE)
