"""Extra steps around a job's installer, for jobs that make more than an install.

A new environment's job (``core/creating.py``) installs its plan like any job, then
registers the kernel (``after_install``), and when it does not succeed removes what
it created (``discard``). Both run in a worker thread: ``after_install`` only when
every installer step succeeded (its Failure fails the job), ``discard`` after the
environment was checked and before the job's outcome is recorded, so whoever waits
for the job sees it cleaned up. ``discard`` returns the words the outcome adds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .models import Failure, Job


@dataclass(frozen=True)
class JobHooks:
    after_install: Callable[[Job], Failure | None] | None = None
    discard: Callable[[Job], str | None] | None = None
