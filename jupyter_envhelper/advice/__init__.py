"""Advice over a Plan or a Conflict: is it safe for this Python, platform and GPU?

Each check is a small function ``(subject, env, ctx) -> list[Finding]`` in its own
module; ``run_checks`` runs them all and sorts the findings, blockers first.

- ``python``: the package needs another Python (from a Conflict)
- ``platform``: no file for this platform; a build from source and its tools
- ``gpu``: CUDA builds against the NVIDIA driver and each GPU's architecture, ROCm
  builds against AMD GPUs, MPS on macOS; CPU builds on GPU machines; the build to get
- ``size``: big downloads
- ``yanked``, ``vulnerable``, ``typosquat``
- ``environment``: PEP 668, not writable, conda-owned packages, JupyterHub persistence
- ``breaks``: installed distributions the plan would break
- ``restart``: modules the kernel imported that the plan replaces
- ``server-env``: the target is the Jupyter server's own environment
- ``conflict``: a Conflict as one blocker with its ways out
"""

from __future__ import annotations

from ..environment import Environment
from ..plan import SEVERITY_ORDER, Finding
from .breaks import check_breaks
from .conflict import check_conflict
from .context import (
    AdviceContext,
    Alternative,
    Check,
    KernelChoice,
    Subject,
    VulnerabilityRecord,
    VulnerabilityReport,
)
from .cuda import check_gpu
from .platform_support import check_platform
from .python_support import check_python
from .restart import check_restart
from .server_env import check_server_env
from .size import check_size
from .target_env import check_environment
from .typosquat import check_typosquat
from .vulnerable import check_vulnerable
from .yanked import check_yanked

#: Every check, in the order their findings appear within one severity.
CHECKS: tuple[Check, ...] = (
    check_conflict,
    check_python,
    check_platform,
    check_environment,
    check_server_env,
    check_gpu,
    check_breaks,
    check_vulnerable,
    check_typosquat,
    check_yanked,
    check_size,
    check_restart,
)


def run_checks(
    subject: Subject,
    env: Environment,
    ctx: AdviceContext | None = None,
    checks: tuple[Check, ...] = CHECKS,
) -> list[Finding]:
    """All findings for ``subject`` in ``env``: blockers first, then warnings, then info."""
    context = ctx if ctx is not None else AdviceContext()
    findings: list[Finding] = []
    for check in checks:
        findings.extend(check(subject, env, context))
    return sorted(findings, key=lambda f: -SEVERITY_ORDER[f.severity])


__all__ = [
    "CHECKS",
    "AdviceContext",
    "Alternative",
    "Check",
    "KernelChoice",
    "Subject",
    "VulnerabilityRecord",
    "VulnerabilityReport",
    "run_checks",
]
