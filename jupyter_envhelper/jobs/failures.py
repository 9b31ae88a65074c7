"""Why an installer failed, from what it said (not only its exit code).

``classify(output, ...)`` reads the installer's output (uv's or pip's words) and
returns a ``Failure`` with a kind, a sentence for people and a way out. The patterns
are checked most specific first; ``other`` keeps the installer's last lines.
"""

from __future__ import annotations

import re

from ..index.credentials import redact_url
from ..process import stderr_tail
from .models import Failure

# (kind, patterns, message, way out) - most specific first.
_RULES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (
        "no-space",
        (r"No space left on device", r"\[Errno 28\]", r"os error 28", r"Disk quota exceeded"),
        "The disk ran full while installing.",
        "Free some disk space (or clear the uv/pip cache) and try again.",
    ),
    (
        "permission-denied",
        (r"Permission denied", r"\[Errno 13\]", r"os error 13", r"Access is denied"),
        "The installer was not allowed to write into this environment.",
        "Use an environment you own (a virtual environment), or ask its owner to install.",
    ),
    (
        "externally-managed",
        (r"externally-managed-environment", r"is externally managed"),
        "This Python is managed by the operating system and refuses installs (PEP 668).",
        "Create a virtual environment and a kernel for it, and install there.",
    ),
    (
        "hash-mismatch",
        (r"DO NOT MATCH THE HASHES", r"[Hh]ash mismatch", r"hash didn't match"),
        "A downloaded file did not match its published hash: it may be damaged or altered.",
        "Try again; if it persists, the index or a proxy serves a wrong file: tell its admin.",
    ),
    (
        "unsupported-wheel",
        (
            r"Unsupported wheel",
            r"Wheel-Version .* is not compatible",
            r"invalid wheel",
            r"is not a supported wheel",
            r"[Tt]he wheel is invalid",
        ),
        "The package's file (a wheel) cannot be installed: it is invalid or made for "
        "another Python or platform.",
        "Pick another version of the package, or report the broken file to its authors.",
    ),
    (
        "build-failure",
        (
            r"Failed to build",
            r"Failed to prepare distributions",
            r"subprocess-exited-with-error",
            r"metadata-generation-failed",
            r"[Bb]uild backend failed",
            r"error: command '.*' failed",
        ),
        "The package had to be built from source, and the build failed.",
        "Pick a version that has a ready-made wheel for this Python, or install the "
        "compilers and libraries it needs.",
    ),
    (
        "not-found",
        (
            r"No matching distribution found",
            r"Could not find a version that satisfies",
            r"was not found in the package registry",
            r"there is no version of",
            r"not found in the provided package locations",
            r"PackagesNotFoundError",
        ),
        "The index does not have the version the plan asked for (any more).",
        "Plan again: the index may have changed, or the package was removed or yanked.",
    ),
    (
        "timeout",
        (r"[Tt]imed out", r"timeout", r"ReadTimeoutError"),
        "The package index took too long to answer.",
        "Try again later, or check the network connection to the index.",
    ),
    (
        "index-unavailable",
        (
            r"Connection refused",
            r"Failed to fetch",
            r"error sending request",
            r"dns error",
            r"Max retries exceeded",
            r"NewConnectionError",
            r"HTTP status (?:server|client) error",
            r"HTTP error [45]\d\d",
            r"\b50[0-4] Server Error",
            r"Network is unreachable",
            r"Name or service not known",
        ),
        "The package index could not be reached or answered with an error.",
        "Check the network and the index configuration, then try again.",
    ),
)
_COMPILED = tuple((k, tuple(re.compile(p) for p in ps), m, w) for k, ps, m, w in _RULES)


def classify(
    output: str,
    *,
    returncode: int | None = None,
    timed_out: bool = False,
    deadline: float | None = None,
) -> Failure:
    """The failure the installer's ``output`` describes."""
    detail = redact_url(stderr_tail(output, lines=15)) or None
    if timed_out:
        limit = f" ({deadline:g} s)" if deadline is not None else ""
        return Failure(
            "timeout",
            f"The job took longer than its time limit{limit} and was stopped.",
            "Try again when the network is faster, or raise the job deadline in the "
            "configuration; see the result for what had already changed.",
            detail,
        )
    for kind, patterns, message, way_out in _COMPILED:
        if any(p.search(output) for p in patterns):
            return Failure(kind, message, way_out, detail)
    code = f" (exit code {returncode})" if returncode is not None else ""
    return Failure(
        "other",
        f"The installer failed{code}.",
        "Read the installer's last lines below; plan again or ask for help with them.",
        detail,
    )


def cancelled_failure(detail: str | None = None) -> Failure:
    return Failure(
        "cancelled",
        "The job was cancelled and its installer stopped.",
        "See the changes below; undo the job to go back to the state before it.",
        detail,
    )
