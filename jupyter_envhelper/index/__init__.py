"""Package index client (Jupyter-free): Simple API pages, core metadata, compatibility."""

from __future__ import annotations

from .client import IndexClient
from .compatibility import Compatibility, TargetPython, check_compatibility, describe_platform
from .config import PYPI_SIMPLE, IndexConfig, resolve_index_config, ssl_context_from_env
from .credentials import redact_url
from .direct import DirectURLError, clean_direct_url, wheel_file_from_url
from .models import ClientStats, CoreMetadata, DistributionFile, ProjectPage

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
