"""The route table: every endpoint of the REST API, relative to the server's base_url.

``docs/openapi.yaml`` describes the same paths; a test keeps the two in step.
"""

from __future__ import annotations

from typing import Any

from .currency import (
    GraphHandler,
    OutdatedHandler,
    UpdateHandler,
    UpdatePlanHandler,
    WhyHandler,
)
from .enable import EnableMagicHandler
from .environments import (
    EnvironmentsHandler,
    InterpretersHandler,
    ManagedEnvironmentHandler,
    NewEnvironmentPlanHandler,
)
from .handlers import (
    EnvironmentHandler,
    ExportHandler,
    HistoryHandler,
    JobCancelHandler,
    JobEventsHandler,
    JobHandler,
    JobsHandler,
    KernelsHandler,
    KernelSuggestionsHandler,
    NeedsHandler,
    PackageHandler,
    PlanHandler,
    RescueHandler,
    SearchHandler,
)
from .preview import UndoPreviewHandler

NAMESPACE = "envhelper"

ROUTES: list[tuple[str, Any]] = [
    (f"{NAMESPACE}/kernels", KernelsHandler),
    (f"{NAMESPACE}/environment", EnvironmentHandler),
    (f"{NAMESPACE}/search", SearchHandler),
    (rf"{NAMESPACE}/packages/(?P<name>[^/]+)", PackageHandler),
    (f"{NAMESPACE}/plan", PlanHandler),
    (f"{NAMESPACE}/kernel-suggestions", KernelSuggestionsHandler),
    (f"{NAMESPACE}/jobs", JobsHandler),
    (rf"{NAMESPACE}/jobs/(?P<job_id>\d+)", JobHandler),
    (rf"{NAMESPACE}/jobs/(?P<job_id>\d+)/events", JobEventsHandler),
    (rf"{NAMESPACE}/jobs/(?P<job_id>\d+)/cancel", JobCancelHandler),
    (f"{NAMESPACE}/history", HistoryHandler),
    (f"{NAMESPACE}/rescue", RescueHandler),
    (f"{NAMESPACE}/export", ExportHandler),
    (f"{NAMESPACE}/needs", NeedsHandler),
    (f"{NAMESPACE}/enable-magic", EnableMagicHandler),
    (f"{NAMESPACE}/undo-preview", UndoPreviewHandler),
    (f"{NAMESPACE}/interpreters", InterpretersHandler),
    (f"{NAMESPACE}/environments", EnvironmentsHandler),
    (f"{NAMESPACE}/environments/plan", NewEnvironmentPlanHandler),
    (rf"{NAMESPACE}/environments/(?P<name>[a-z0-9][a-z0-9._-]*)", ManagedEnvironmentHandler),
    (f"{NAMESPACE}/outdated", OutdatedHandler),
    (rf"{NAMESPACE}/why/(?P<name>[^/]+)", WhyHandler),
    (f"{NAMESPACE}/graph", GraphHandler),
    (f"{NAMESPACE}/update/plan", UpdatePlanHandler),
    (f"{NAMESPACE}/update", UpdateHandler),
]
