"""Domain errors, each carrying the HTTP status it maps to.

The ``message`` is what a person reads: write it for them, with a way out
where there is one. ``core.documents.error_document`` is their one JSON shape;
the server's handlers map ``status`` to the HTTP status in one place, the command
line to its exit code, the magic to a short message.
"""

from __future__ import annotations


class EnvHelperError(Exception):
    """Base class: a failure we understand and can explain."""

    status: int = 500
    reason: str = "error"

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class BadRequest(EnvHelperError):
    """The request itself is wrong (a malformed requirement, a missing parameter)."""

    status = 400
    reason = "bad-request"


class NotFound(EnvHelperError):
    """An unknown kernel, kernelspec, package or job."""

    status = 404
    reason = "not-found"


class ChangesDisabled(EnvHelperError):
    """Changes are turned off by configuration (``read_only``)."""

    status = 403
    reason = "read-only"


class Busy(EnvHelperError):
    """The environment is busy with another job, or the request conflicts with its state."""

    status = 409
    reason = "conflict"


class ProbeError(EnvHelperError):
    """The target interpreter could not be inspected (missing, crashed, timed out)."""

    status = 422
    reason = "probe-failed"


class IndexUnavailable(EnvHelperError):
    """A package index answered with an error or with data we cannot read."""

    status = 502
    reason = "index-unavailable"


class IndexTimeout(EnvHelperError):
    """A package index did not answer in time."""

    status = 504
    reason = "index-timeout"
