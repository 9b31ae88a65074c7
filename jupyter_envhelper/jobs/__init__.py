"""Install, uninstall and undo jobs: one per environment, with progress and history.

The names below are imported when first asked for (PEP 562): a command that only
plans reads ``jobs.models`` and ``jobs.undo`` and never imports the runner, the
history's sqlite, the installers or the file check.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .history import History
    from .locks import EnvironmentLock
    from .models import (
        EnvironmentBusy,
        EnvironmentChanged,
        Failure,
        Job,
        Outcome,
        ProgressEvent,
        Refused,
    )
    from .runner import DEFAULT_DEADLINE, JobConfig, JobRunner

_WHERE = {
    "DEFAULT_DEADLINE": "runner",
    "EnvironmentBusy": "models",
    "EnvironmentChanged": "models",
    "EnvironmentLock": "locks",
    "Failure": "models",
    "History": "history",
    "Job": "models",
    "JobConfig": "runner",
    "JobRunner": "runner",
    "Outcome": "models",
    "ProgressEvent": "models",
    "Refused": "models",
}

__all__ = [
    "DEFAULT_DEADLINE",
    "EnvironmentBusy",
    "EnvironmentChanged",
    "EnvironmentLock",
    "Failure",
    "History",
    "Job",
    "JobConfig",
    "JobRunner",
    "Outcome",
    "ProgressEvent",
    "Refused",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
