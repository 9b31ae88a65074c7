"""What the advice checks know besides the Plan and the Environment: ``AdviceContext``.

The service fills it from the index (vulnerabilities, CPU/CUDA alternatives), the
search index (typo-squats), the running kernel (imported modules) and the kernel list
(other kernels). Every field has a default meaning "not known", and a check that lacks
a fact stays silent rather than guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Union

from packaging.utils import canonicalize_name

from .. import gpu_facts
from ..environment import Environment
from ..plan import Action, Conflict, Finding, Plan

Subject = Union[Plan, Conflict]
Check = Callable[[Subject, Environment, "AdviceContext"], list[Finding]]

MB = 1_000_000


class VulnerabilityRecord(TypedDict, total=False):
    """One advisory, as PyPI's JSON API lists it under ``vulnerabilities``."""

    id: str
    aliases: list[str]
    summary: str | None
    details: str | None
    fixed_in: list[str]
    link: str | None
    withdrawn: str | None


class VulnerabilityReport(TypedDict):
    """What the index said about one project: ``records`` apply to ``version`` only.

    ``records`` is None when the index gave no vulnerability data (most mirrors);
    an empty list means "none known" for that version.
    """

    version: str | None
    records: list[VulnerabilityRecord] | None


class Alternative(TypedDict, total=False):
    """Another build of a project: ``{"requirement": "torch==2.4.0+cpu", ...}``."""

    requirement: str
    index_url: str | None
    size: int | None


class KernelChoice(TypedDict, total=False):
    """A kernel that can take installs: ``{"name": "py312", "display_name": ...}``."""

    name: str
    display_name: str
    python_version: str | None


@dataclass(frozen=True)
class AdviceContext:
    """Facts from outside the Plan and the Environment. Keys are canonical names.

    - ``size_threshold``: bytes; downloads above it get a warning.
    - ``vulnerabilities``: name -> ``{"version", "records"}`` for the versions the plan
      installs; None: nobody looked (no finding at all).
    - ``typosquat``: name -> ``{"suggestion", "message", ...}`` or None (None: no check).
    - ``imported_modules``: top-level modules in the kernel's ``sys.modules``; None when
      the kernel is not running or did not answer.
    - ``cpu_alternatives`` / ``cuda_alternatives``: name -> ``{"requirement",
      "index_url", "size"}``: the CPU build, and the CUDA build that fits this driver.
    - ``other_kernels``: kernels that can take installs (offered when this one can't).
    - ``server_prefix``: the Jupyter server's own ``sys.prefix``; None: not known (no
      server, or not said).
    """

    size_threshold: int = 500 * MB
    vulnerabilities: Mapping[str, VulnerabilityReport | None] | None = None
    typosquat: Callable[[str], Mapping[str, Any] | None] | None = None
    imported_modules: frozenset[str] | None = None
    cpu_alternatives: Mapping[str, Alternative] = field(default_factory=dict)
    cuda_alternatives: Mapping[str, Alternative] = field(default_factory=dict)
    other_kernels: Sequence[KernelChoice] = ()
    torch_index_template: str = gpu_facts.TORCH_INDEX_TEMPLATE
    backend_alternatives: Mapping[str, Alternative] = field(default_factory=dict)

    def torch_index_url(self, backend: str) -> str | None:
        """The index of a PyTorch backend; None for a name outside the allow-list."""
        return torch_index_url(self.torch_index_template, backend)

    def backend_alternative(self, backend: str) -> Alternative | None:
        return self.backend_alternatives.get(backend)

    server_prefix: str | None = None

    def cpu_alternative(self, name: str) -> Alternative | None:
        return _lookup(self.cpu_alternatives, name)

    def cuda_alternative(self, name: str) -> Alternative | None:
        return _lookup(self.cuda_alternatives, name)


def torch_index_url(template: str, backend: str) -> str | None:
    """``template`` with ``{backend}`` filled in, only for an allow-listed backend name."""
    if backend not in gpu_facts.TORCH_BACKENDS or "{backend}" not in template:
        return None
    url = template.replace("{backend}", backend)
    return url if url.endswith("/") else url + "/"


def _lookup(table: Mapping[str, Alternative], name: str) -> Alternative | None:
    key = canonicalize_name(name)
    for candidate, value in table.items():
        if canonicalize_name(candidate) == key:
            return value
    return None


def alternative_action(alt: Alternative, label: str) -> dict[str, Any]:
    """A ``use-requirement`` button for another build."""
    return {
        "kind": "use-requirement",
        "requirement": alt.get("requirement"),
        "index_url": alt.get("index_url"),
        "label": label,
    }


def switch_kernel_action(kernel: KernelChoice) -> dict[str, Any]:
    shown = kernel.get("display_name") or kernel.get("name")
    return {"kind": "switch-kernel", "kernel": kernel.get("name"), "label": f"Switch to {shown}"}


def installing(plan: Plan) -> list[Action]:
    """Actions that download something: install, upgrade, downgrade."""
    return [a for a in plan.actions if a.kind in ("install", "upgrade", "downgrade")]


def human_size(size: int) -> str:
    """``2_534_000_000`` -> ``"2.5 GB"``; decimal units, as download pages show them."""
    if size >= 1000 * MB:
        return f"{size / (1000 * MB):.1f} GB"
    if size >= MB:
        return f"{size / MB:.0f} MB"
    return f"{max(size, 1000) / 1000:.0f} kB"


def join_words(items: Sequence[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
