"""Check ``gpu``: does the CUDA build a plan installs fit the NVIDIA driver here?

What a build needs is read from the build itself, never guessed from its name alone:

- its local version label: ``torch 2.4.0+cu121`` needs CUDA 12.1, ``+cpu`` is CPU-only;
  ``jaxlib 0.4.20+cuda12.cudnn89`` needs CUDA 12;
- its package name: ``cupy-cuda12x`` needs CUDA 12, ``cupy-cuda117`` CUDA 11.7,
  ``jax-cuda12-plugin`` and ``nvidia-*-cu12`` CUDA 12; the CUDA runtime wheels
  (``nvidia-cuda-runtime-cu12 12.4.127``) carry the exact version;
- its dependencies: ``torch 2.4.0`` from PyPI on Linux pins
  ``nvidia-cuda-runtime-cu12==12.4.127``, so it needs CUDA 12.4.

Against that stands the CUDA version the driver supports (``gpu.effective_cuda``, which
honours ``CONDA_OVERRIDE_CUDA`` and ``UV_CUDA_DRIVER_VERSION``). NVIDIA's rules, as
applied here: a driver runs every CUDA version up to the one it reports (backward
compatibility); since CUDA 11, a build for a newer *minor* version of the same major
generally runs too ("minor version compatibility", driver >= 450.80.02 for 11.x, >=
525.60.13 for 12.x), except for code that needs the newer driver (PTX compiled at run
time, newer APIs): a warning. A newer *major* version does not run: a blocker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .. import gpu
from ..environment import Environment
from ..plan import Action, Conflict, Finding, Plan
from .context import (
    AdviceContext,
    Alternative,
    Subject,
    alternative_action,
    human_size,
    installing,
    join_words,
)

CHECK = "gpu"

#: Projects people know as "the GPU framework"; NVIDIA library wheels are their helpers.
FRAMEWORKS = frozenset(
    {
        "torch", "torchvision", "torchaudio", "tensorflow", "tensorflow-gpu",
        "tensorflow-cpu", "tf-nightly", "jax", "jaxlib", "paddlepaddle-gpu",
    }
)  # fmt: skip

#: Minimum Linux driver for minor version compatibility within a CUDA major version.
MINOR_COMPAT_DRIVER = {11: "450.80.02", 12: "525.60.13"}

_CUPY = re.compile(r"^cupy-cuda(\d+)(x?)$")
_NVIDIA = re.compile(r"^nvidia-[a-z0-9-]+-cu(\d+)$")
_JAX_PLUGIN = re.compile(r"^jax-cuda(\d+)-(plugin|pjrt)$")
_LOCAL_CU = re.compile(r"^cu(\d+)(\d)$")
_LOCAL_CUDA = re.compile(r"^cuda(\d+)(?:[._]?(\d+))?(?:\.|$)")


@dataclass(frozen=True)
class Need:
    """What one action's build needs: a CUDA version, or nothing (a CPU-only build)."""

    action: Action
    kind: Literal["cuda", "cpu"]
    cuda: tuple[int, int | None] | None  # (12, 4), or (12, None): any 12.x
    source: str  # local-version | package-name | dependency
    evidence: str

    @property
    def cuda_text(self) -> str:
        if self.cuda is None:
            return "none"
        major, minor = self.cuda
        return f"{major}.{minor}" if minor is not None else f"{major}.x"

    @property
    def is_framework(self) -> bool:
        name = self.action.canonical_name
        return name in FRAMEWORKS or name.startswith(("cupy", "jax-cuda"))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.action.name,
            "version": self.action.version,
            "kind": self.kind,
            "cuda": self.cuda_text if self.cuda else None,
            "source": self.source,
            "evidence": self.evidence,
        }


def _stronger(a: tuple[int, int | None], b: tuple[int, int | None]) -> bool:
    """Is ``a`` a stricter need than ``b``?"""
    return (a[0], -1 if a[1] is None else a[1]) > (b[0], -1 if b[1] is None else b[1])


def _from_local(action: Action) -> Need | None:
    local = (action.version or "").partition("+")[2].lower()
    if not local:
        return None
    match = _LOCAL_CU.match(local)
    if match:
        cuda = (int(match.group(1)), int(match.group(2)))
        return Need(action, "cuda", cuda, "local-version", f"+{local}")
    match = _LOCAL_CUDA.match(local)
    if match:
        minor = int(match.group(2)) if match.group(2) else None
        return Need(action, "cuda", (int(match.group(1)), minor), "local-version", f"+{local}")
    if local == "cpu" or local.startswith("cpu."):
        return Need(action, "cpu", None, "local-version", f"+{local}")
    return None


def _from_name(action: Action, name: str, version: str | None) -> Need | None:
    match = _CUPY.match(name)
    if match:
        digits, wildcard = match.groups()
        if wildcard:
            return Need(action, "cuda", (int(digits), None), "package-name", name)
        cuda = (int(digits[:-1]), int(digits[-1]))
        return Need(action, "cuda", cuda, "package-name", name)
    match = _JAX_PLUGIN.match(name)
    if match:
        return Need(action, "cuda", (int(match.group(1)), None), "package-name", name)
    match = _NVIDIA.match(name)
    if match:
        major = int(match.group(1))
        parts = gpu.version_tuple(version or "")
        # the CUDA toolkit's own wheels are versioned like the toolkit (12.4.127)
        if name.startswith("nvidia-cuda-") and len(parts) >= 2 and parts[0] == major:
            return Need(action, "cuda", (major, parts[1]), "package-name", f"{name} {version}")
        return Need(action, "cuda", (major, None), "package-name", name)
    if name == "tensorflow-cpu":
        return Need(action, "cpu", None, "package-name", name)
    return None


def _from_dependencies(action: Action, env: Environment) -> Need | None:
    best: Need | None = None
    for text in action.dependencies:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is not None and not req.marker.evaluate({**env.markers, "extra": ""}):
            continue
        name = canonicalize_name(req.name)
        pins = [s.version for s in req.specifier if s.operator in ("==", "===")]
        found = _from_name(action, name, pins[0] if pins else None)
        if found is None or found.cuda is None:
            continue
        need = Need(action, "cuda", found.cuda, "dependency", str(req).split(";")[0])
        if best is None or best.cuda is None or _stronger(found.cuda, best.cuda):
            best = need
    return best


def build_need(action: Action, env: Environment) -> Need | None:
    """What ``action``'s chosen build needs, or None when it says nothing about CUDA."""
    return (
        _from_local(action)
        or _from_name(action, action.canonical_name, action.version)
        or _from_dependencies(action, env)
    )


def _cpu_only_by_platform(action: Action, env: Environment) -> Need | None:
    """PyTorch's wheels on PyPI for Windows are CPU-only; with no label, say so."""
    if action.canonical_name != "torch" or "+" in (action.version or ""):
        return None
    if env.markers.get("platform_system") == "Windows":
        return Need(action, "cpu", None, "package-name", "torch from PyPI on Windows")
    return None


# ---------------------------------------------------------------- the driver side


@dataclass(frozen=True)
class Driver:
    cuda: tuple[int, int] | None
    source: str
    version: str | None
    devices: list[dict[str, Any]]

    @property
    def cuda_text(self) -> str:
        return f"{self.cuda[0]}.{self.cuda[1]}" if self.cuda else "none"

    def words(self) -> str:
        if self.source == "CONDA_OVERRIDE_CUDA":
            return f"CONDA_OVERRIDE_CUDA says CUDA {self.cuda_text}"
        if self.source == "UV_CUDA_DRIVER_VERSION":
            return f"UV_CUDA_DRIVER_VERSION says the driver runs CUDA {self.cuda_text}"
        shown = f" ({'.'.join((self.version or '').split('.')[:2])})" if self.version else ""
        return f"the NVIDIA driver here{shown} supports CUDA {self.cuda_text} at most"

    def to_json(self) -> dict[str, Any]:
        return {
            "cuda": self.cuda_text if self.cuda else None,
            "source": self.source,
            "driver_version": self.version,
            "devices": self.devices,
        }


def driver_facts(env: Environment) -> Driver:
    acc = env.accelerators
    text, source = gpu.effective_cuda(acc)
    parsed = gpu.parse_cuda_version(text) if text else None
    return Driver(
        cuda=parsed,
        source=source,
        version=str(acc["driver_version"]) if acc.get("driver_version") else None,
        devices=[dict(d) for d in acc.get("devices") or ()],
    )


def minimum_driver(cuda: tuple[int, int | None]) -> str | None:
    """The Linux driver a CUDA version needs (12.x: the 12.0 row), from the table."""
    wanted = f"{cuda[0]}.{cuda[1] if cuda[1] is not None else 0}"
    for version, driver in gpu.CUDA_DRIVER_TABLE:
        if version == wanted:
            return driver
    for version, driver in reversed(gpu.CUDA_DRIVER_TABLE):
        if gpu.version_tuple(version) >= (cuda[0], cuda[1] or 0):
            return driver
    return None


Verdict = Literal["ok", "minor", "too-new"]


def verdict(need: tuple[int, int | None], driver: Driver) -> Verdict:
    assert driver.cuda is not None
    major, minor = need
    if major > driver.cuda[0]:
        return "too-new"
    if major < driver.cuda[0] or minor is None or minor <= driver.cuda[1]:
        return "ok"
    floor = MINOR_COMPAT_DRIVER.get(major)
    if (
        floor
        and driver.version
        and driver.source in ("driver", "driver table")
        and gpu.version_tuple(driver.version) < gpu.version_tuple(floor)
    ):
        return "too-new"
    return "minor"


# ---------------------------------------------------------------- findings


def _label(need: Need) -> str:
    return f"{need.action.name} {need.action.version}"


def _names(needs: list[Need]) -> str:
    frameworks = [n for n in needs if n.is_framework]
    libraries = [n for n in needs if not n.is_framework]
    named = [_label(n) for n in frameworks] or [_label(n) for n in libraries[:2]]
    rest = len(libraries) if frameworks else max(len(libraries) - 2, 0)
    if rest:
        named.append(f"{rest} NVIDIA librar{'y' if rest == 1 else 'ies'}")
    return join_words(named)


def _be(needs: list[Need], one: str = "is", many: str = "are") -> str:
    return many if len(needs) > 1 else one


def _strongest(needs: list[Need]) -> Need:
    best = needs[0]
    for need in needs[1:]:
        assert need.cuda is not None and best.cuda is not None
        if _stronger(need.cuda, best.cuda):
            best = need
    return best


def _first_alternative(
    needs: list[Need], table: str, ctx: AdviceContext
) -> tuple[Need, Alternative] | None:
    lookup = ctx.cpu_alternative if table == "cpu" else ctx.cuda_alternative
    for need in sorted(needs, key=lambda n: (not n.action.requested, not n.is_framework)):
        alt = lookup(need.action.name)
        if alt and alt.get("requirement"):
            return need, alt
    return None


def _no_gpu(needs: list[Need], driver: Driver, ctx: AdviceContext) -> Finding:
    total = sum(n.action.file.size or 0 for n in needs if n.action.file)
    strongest = _strongest(needs)
    why = (
        "CONDA_OVERRIDE_CUDA is empty, which means no CUDA"
        if driver.source == "CONDA_OVERRIDE_CUDA"
        else "no NVIDIA GPU or driver was found"
    )
    size_words = f" ({human_size(total)})" if total else ""
    message = (
        f"{_names(needs)}{size_words} {_be(needs)} the CUDA {strongest.cuda_text} build: "
        f"a multi-GB download for a GPU you don't have ({why})."
    )
    action = None
    details: dict[str, Any] = {
        "builds": [n.to_json() for n in needs],
        "download_size": total or None,
        "driver": driver.to_json(),
    }
    found = _first_alternative(needs, "cpu", ctx)
    if found is not None:
        need, alt = found
        alt_size = alt.get("size")
        size = f" ({human_size(alt_size)})" if alt_size else ""
        message += f" The CPU build {alt['requirement']}{size} does the same without the GPU."
        action = alternative_action(alt, f"Use the CPU build of {need.action.name}{size}")
        details["cpu_alternative"] = dict(alt)
    return Finding(CHECK, "warning", message, action, details)


def _too_new(needs: list[Need], driver: Driver, ctx: AdviceContext) -> Finding:
    strongest = _strongest(needs)
    assert strongest.cuda is not None
    floor = minimum_driver(strongest.cuda)
    message = (
        f"{_names(needs)} {_be(needs, 'needs', 'need')} CUDA {strongest.cuda_text}, "
        f"but {driver.words()}: "
        "this build would not run on the GPU."
    )
    if floor:
        message += f" Update the NVIDIA driver to {floor} or newer"
        message += f", or use a build for CUDA {driver.cuda_text}." if driver.cuda else "."
    action = None
    details: dict[str, Any] = {
        "builds": [n.to_json() for n in needs],
        "driver": driver.to_json(),
        "minimum_driver": floor,
    }
    found = _first_alternative(needs, "cuda", ctx) or _first_alternative(needs, "cpu", ctx)
    if found is not None:
        alt = found[1]
        action = alternative_action(alt, f"Use {alt['requirement']}")
        details["alternative"] = dict(alt)
    return Finding(CHECK, "blocker", message, action, details)


def _minor(needs: list[Need], driver: Driver) -> Finding:
    strongest = _strongest(needs)
    assert strongest.cuda is not None and driver.cuda is not None
    major = strongest.cuda[0]
    floor = minimum_driver(strongest.cuda)
    message = (
        f"{_names(needs)} {_be(needs)} built for CUDA {strongest.cuda_text} and "
        f"{driver.words()}. "
        f"Builds for CUDA {major}.x generally run on any driver that supports CUDA "
        f"{major}.0 or newer (NVIDIA's minor version compatibility), so this should "
        "work; code that compiles GPU kernels at run time (PTX) or needs features newer "
        f"than CUDA {driver.cuda_text} can still fail."
    )
    if floor:
        message += f" A driver {floor} or newer removes the doubt."
    details = {
        "builds": [n.to_json() for n in needs],
        "driver": driver.to_json(),
        "minimum_driver": floor,
    }
    return Finding(CHECK, "warning", message, None, details)


def _capability_findings(needs: list[Need], driver: Driver) -> list[Finding]:
    """Hard facts only: CUDA 13 dropped GPUs older than Turing (compute capability 7.5)."""
    old = [
        d
        for d in driver.devices
        if d.get("compute_capability") and gpu.version_tuple(str(d["compute_capability"])) < (7, 5)
    ]
    cuda13 = [n for n in needs if n.cuda and n.cuda[0] >= 13]
    if not old or not cuda13:
        return []
    gpus = join_words(
        sorted(
            {f"{d.get('name')} (sm_{str(d['compute_capability']).replace('.', '')})" for d in old}
        )
    )
    message = (
        f"{_names(cuda13)} {_be(cuda13, 'needs', 'need')} CUDA 13, which no longer "
        "supports GPUs older than Turing (compute capability 7.5): "
        f"{gpus} can't run it. Use a build for CUDA 12."
    )
    details = {"builds": [n.to_json() for n in cuda13], "devices": old}
    return [Finding(CHECK, "blocker", message, None, details)]


def _cpu_on_gpu(needs: list[Need], driver: Driver, ctx: AdviceContext) -> Finding:
    gpus = join_words(sorted({str(d.get("name")) for d in driver.devices})) or "an NVIDIA GPU"
    message = (
        f"{_names(needs)} {'is the' if len(needs) == 1 else 'are'} CPU-only "
        f"build{'s' if len(needs) > 1 else ''}: this machine has {gpus} "
        f"(CUDA {driver.cuda_text}) that {'it' if len(needs) == 1 else 'they'} won't use."
    )
    action = None
    details: dict[str, Any] = {"builds": [n.to_json() for n in needs], "driver": driver.to_json()}
    found = _first_alternative(needs, "cuda", ctx)
    if found is not None:
        need, alt = found
        action = alternative_action(alt, f"Use the CUDA build of {need.action.name}")
        details["cuda_alternative"] = dict(alt)
    return Finding(CHECK, "info", message, action, details)


def _ok(needs: list[Need], driver: Driver) -> Finding:
    strongest = _strongest(needs)
    message = (
        f"{_names(needs)} {_be(needs)} built for CUDA {strongest.cuda_text}, and "
        f"{driver.words()}: {'they' if len(needs) > 1 else 'it'} can use the GPU."
    )
    details = {"builds": [n.to_json() for n in needs], "driver": driver.to_json()}
    return Finding(CHECK, "info", message, None, details)


def plan_needs(plan: Plan, env: Environment) -> list[Need]:
    needs = []
    for action in installing(plan):
        need = build_need(action, env) or _cpu_only_by_platform(action, env)
        if need is not None:
            needs.append(need)
    return needs


def check_gpu(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if isinstance(subject, Conflict):
        return []
    needs = plan_needs(subject, env)
    cuda_needs = [n for n in needs if n.kind == "cuda" and n.cuda is not None]
    cpu_needs = [n for n in needs if n.kind == "cpu" and n.is_framework]
    driver = driver_facts(env)
    if driver.cuda is None:
        if not cuda_needs or (env.synthetic_env and not env.accelerators):
            return []  # a "what if" environment says nothing about GPUs
        return [_no_gpu(cuda_needs, driver, ctx)]
    findings: list[Finding] = []
    groups: dict[Verdict, list[Need]] = {"ok": [], "minor": [], "too-new": []}
    for need in cuda_needs:
        assert need.cuda is not None
        groups[verdict(need.cuda, driver)].append(need)
    if groups["too-new"]:
        findings.append(_too_new(groups["too-new"], driver, ctx))
    if groups["minor"]:
        findings.append(_minor(groups["minor"], driver))
    findings.extend(_capability_findings(cuda_needs, driver))
    if groups["ok"] and not findings and any(n.is_framework for n in groups["ok"]):
        findings.append(_ok(groups["ok"], driver))
    if cpu_needs:
        findings.append(_cpu_on_gpu(cpu_needs, driver, ctx))
    return findings
