"""Install, uninstall and undo jobs: one per environment, with progress and history.

The names below are imported when first asked for (PEP 562): a command that only
plans reads ``jobs.models`` and ``jobs.undo`` and never imports the runner, the
history's sqlite, the installers or the file check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

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


__getattr__, __dir__ = exports(__name__, globals(), _WHERE)
