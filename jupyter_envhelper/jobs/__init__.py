"""Install, uninstall and undo jobs: one per environment, with progress and history."""

from __future__ import annotations

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
