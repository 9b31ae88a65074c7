"""Check ``gpu``: does the CUDA build a plan installs fit the NVIDIA driver here?

What a build needs is read from the build itself, never guessed from its name alone:

- its local version label: ``torch 2.4.0+cu121`` needs CUDA 12.1, ``+cpu`` is CPU-only;
  ``jaxlib 0.4.20+cuda12.cudnn89`` needs CUDA 12;
- its package name: ``cupy-cuda12x`` needs CUDA 12, ``cupy-cuda117`` CUDA 11.7,
  ``jax-cuda12-plugin`` and ``nvidia-*-cu12`` CUDA 12; the CUDA runtime wheels
  (``nvidia-cuda-runtime-cu12 12.4.127``) carry the exact version;
- its dependencies: ``torch 2.4.0`` from PyPI on Linux pins
  ``nvidia-cuda-runtime-cu12==12.4.127``, so it needs CUDA 12.4; CUDA 13 wheels dropped
  the suffix (``nvidia-cuda-runtime 13.0.96``) and torch 2.15 pins the metapackage
  ``cuda-toolkit[...]==13.2.2``.

What a GPU can run is read from the build's architecture list (``gpu_facts``): SASS
for the GPU's major version at or below its minor runs natively; PTX for an older
architecture runs through JIT compilation (slow first start); neither means "no kernel
image is available for execution on the device".

Against that stands the CUDA version the driver supports (``gpu.effective_cuda``, which
honours ``CONDA_OVERRIDE_CUDA`` and ``UV_CUDA_DRIVER_VERSION``). NVIDIA's rules, as
applied here: a driver runs every CUDA version up to the one it reports (backward
compatibility); since CUDA 11, a build for a newer *minor* version of the same major
generally runs too ("minor version compatibility", driver >= 450.80.02 for 11.x, >=
525.60.13 for 12.x), except for code that needs the newer driver (PTX compiled at run
time, newer APIs): a warning. A newer *major* version does not run: a blocker. A driver
below the minor-compatibility floor, detected or given as ``UV_CUDA_DRIVER_VERSION``,
is a blocker too. No visible device means no GPU, whatever the driver.

Every finding names the build that would run here (``recommend``): the newest official
PyTorch backend (cpu, cu118, cu126, cu128, cu130, …) the driver and the GPUs can run,
and, when the core confirmed it on that backend's index, a one-click plan against it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .. import gpu, gpu_facts
from ..environment import Environment
from ..plan import Action, Conflict, Finding, Plan, Severity, TargetSummary
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
MINOR_COMPAT_DRIVER = gpu_facts.MINOR_COMPAT_FLOOR

_CUPY = re.compile(r"^cupy-cuda(\d+)(x?)$")
_NVIDIA = re.compile(r"^nvidia-[a-z0-9-]+-cu(\d+)$")
_JAX_PLUGIN = re.compile(r"^jax-cuda(\d+)-(plugin|pjrt)$")
_LOCAL_CU = re.compile(r"^cu(\d+)(\d)$")
_LOCAL_CUDA = re.compile(r"^cuda(\d+)(?:[._]?(\d+))?(?:\.|$)")


@dataclass(frozen=True)
class Need:
    """What one action's build needs: a CUDA version, or nothing (a CPU-only build)."""

    action: Action
    kind: Literal["cuda", "cpu", "rocm"]
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
    if local.startswith("rocm"):
        return Need(action, "rocm", None, "local-version", f"+{local}")
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
    parts = gpu.version_tuple(version or "")
    if (name == "cuda-toolkit" or name.startswith("nvidia-cuda-")) and not _NVIDIA.match(name):
        # CUDA 13 wheels carry no -cu13 suffix; their version is the toolkit's
        if len(parts) >= 2 and parts[0] >= 13:
            return Need(action, "cuda", (parts[0], parts[1]), "package-name", f"{name} {version}")
        return None
    match = _NVIDIA.match(name)
    if match:
        major = int(match.group(1))
        # the CUDA toolkit's own wheels are versioned like the toolkit (12.4.127)
        if name.startswith("nvidia-cuda-") and len(parts) >= 2 and parts[0] == major:
            return Need(action, "cuda", (major, parts[1]), "package-name", f"{name} {version}")
        return Need(action, "cuda", (major, None), "package-name", name)
    if name == "tensorflow-cpu":
        return Need(action, "cpu", None, "package-name", name)
    return None


@functools.lru_cache(maxsize=4096)
def _dependency(text: str) -> Requirement | None:
    """A plan's dependency texts repeat from plan to plan (every package of every
    plan is looked at, twice: for the recommendation and for the check)."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


# the names _from_name can find a CUDA version in: a dependency named otherwise is
# not parsed at all (most are not, and parsing each costs more than the rest here)
_CUDA_NAMED = ("cupy-cuda", "jax-cuda", "cuda-toolkit", "nvidia-")
_LEADING_NAME = re.compile(r"[A-Za-z0-9._-]*")


def _from_dependencies(action: Action, env: Environment) -> Need | None:
    best: Need | None = None
    for text in action.dependencies:
        lead = _LEADING_NAME.match(text)
        if lead is None or not canonicalize_name(lead.group()).startswith(_CUDA_NAMED):
            continue
        req = _dependency(text)
        if req is None:
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


# ---------------------------------------------------------------- the machine side


@dataclass(frozen=True)
class Driver:
    """What the machine offers: the CUDA version to judge against and the devices.

    ``version`` is the driver judged (detected, or ``UV_CUDA_DRIVER_VERSION``);
    ``no_device`` says why a loaded driver is still no GPU.
    """

    cuda: tuple[int, int] | None
    source: str
    version: str | None
    devices: list[dict[str, Any]]
    device_count: int | None = None
    no_device: str | None = None

    @property
    def cuda_text(self) -> str:
        return f"{self.cuda[0]}.{self.cuda[1]}" if self.cuda else "none"

    @property
    def usable(self) -> bool:
        return self.cuda is not None and self.no_device is None

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
            "device_count": self.device_count,
            "no_device": self.no_device,
        }


def driver_facts(env: Environment) -> Driver:
    acc = env.accelerators
    text, source = gpu.effective_cuda(acc)
    parsed = gpu.parse_cuda_version(text) if text else None
    version, _ = gpu.judged_driver(acc)
    overridden = source in ("CONDA_OVERRIDE_CUDA", "UV_CUDA_DRIVER_VERSION")
    return Driver(
        cuda=parsed,
        source=source,
        version=version if source != "CONDA_OVERRIDE_CUDA" else None,
        devices=[dict(d) for d in acc.get("devices") or ()],
        device_count=gpu.device_count(acc),
        no_device=None if overridden else gpu.no_device_reason(acc),
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
    """A CUDA need against the driver: runs, runs by minor version compatibility, or not.

    The floor of minor version compatibility applies to every driver version known,
    detected or ``UV_CUDA_DRIVER_VERSION`` alike.
    """
    assert driver.cuda is not None
    major, minor = need
    if major > driver.cuda[0]:
        return "too-new"
    if major < driver.cuda[0] or minor is None or minor <= driver.cuda[1]:
        return "ok"
    floor = MINOR_COMPAT_DRIVER.get(major)
    if floor and driver.version and gpu.version_tuple(driver.version) < gpu.version_tuple(floor):
        return "too-new"
    return "minor"


# ---------------------------------------------------------------- architectures

ArchFit = Literal["sass", "ptx", "none"]
Level = Literal["ok", "warn", "block"]
_LEVEL = {"ok": 0, "warn": 1, "block": 2}


def _cc(text: object) -> tuple[int, int] | None:
    parts = gpu.version_tuple(str(text or ""))
    return (parts[0], parts[1] if len(parts) > 1 else 0) if parts else None


def sm(text: object) -> str:
    cc = _cc(text)
    return f"sm_{cc[0]}{cc[1]}" if cc else "sm_?"


def arch_fit(capability: str, build: gpu_facts.TorchBuild) -> ArchFit:
    """SASS for X.y runs on X.z with z >= y; PTX for any older architecture is JIT-compiled."""
    cc = _cc(capability)
    if cc is None:
        return "none"
    for arch in build.sass:
        have = _cc(arch)
        if have and have[0] == cc[0] and have[1] <= cc[1]:
            return "sass"
    for arch in build.ptx:
        have = _cc(arch)
        if have and have <= cc:
            return "ptx"
    return "none"


def _linux_x86(env: Environment) -> bool:
    m = env.markers
    return m.get("sys_platform") == "linux" and m.get("platform_machine") in ("x86_64", "AMD64")


def _public(version: str | None) -> Version | None:
    try:
        return Version(Version(version or "").public)
    except InvalidVersion:
        return None


def torch_build(version: str | None, backend: str, env: Environment) -> gpu_facts.TorchBuild | None:
    """The official wheel family of ``torch==version+backend`` here, if the facts know it."""
    public = _public(version)
    if public is None or not _linux_x86(env):
        return None
    for row in gpu_facts.TORCH_BUILDS:
        if row.backend == backend and SpecifierSet(row.torch).contains(public, prereleases=True):
            return row
    return None


def backend_of(need: Need) -> str | None:
    """``cu128`` for ``torch 2.9.1+cu128``, and for PyPI's torch that pins CUDA 12.8."""
    if need.kind == "cpu":
        return "cpu"
    if need.kind != "cuda" or need.cuda is None or need.cuda[1] is None:
        return None
    return f"cu{need.cuda[0]}{need.cuda[1]}"


def _devices_fit(
    build: gpu_facts.TorchBuild, driver: Driver
) -> list[tuple[dict[str, Any], ArchFit]]:
    return [
        (d, arch_fit(str(d["compute_capability"]), build))
        for d in driver.devices
        if d.get("compute_capability")
    ]


def _worst_arch(fits: list[tuple[dict[str, Any], ArchFit]]) -> ArchFit | None:
    kinds = {f for _, f in fits}
    order: tuple[ArchFit, ...] = ("none", "ptx", "sass")
    return next((kind for kind in order if kind in kinds), None)


def build_level(build: gpu_facts.TorchBuild, driver: Driver) -> Level:
    """How well one official build would run on this machine."""
    if build.cuda is None:
        return "ok"
    if not driver.usable:
        return "block"
    level: Level = "ok"
    v = verdict(build.cuda, driver)
    if v == "too-new":
        return "block"
    if v == "minor":
        level = "warn"
    arch = _worst_arch(_devices_fit(build, driver))
    if arch == "none":
        return "block"
    if arch == "ptx":
        level = "warn"
    return level


@dataclass(frozen=True)
class Recommendation:
    """The build to get: ``torch`` is ``==2.9.1`` (the same release) or a range."""

    backend: str
    torch: str
    level: Level
    same_release: bool
    source: str

    def requirement(self, name: str = "torch") -> str:
        if self.torch.startswith("=="):
            return f"{name}{self.torch}+{self.backend}"
        return f"{name}{self.torch}"

    def words(self) -> str:
        if self.backend == "cpu":
            return f"the CPU build ({self.requirement()})"
        cuda = f"CUDA {self.backend[2:-1]}.{self.backend[-1]}"
        if self.same_release:
            return f"the {cuda} build {self.requirement()}"
        return f"the {cuda} build of torch {_releases(self.torch)} ({self.requirement()})"

    def to_json(self, index_url: str) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "torch": self.torch,
            "requirement": self.requirement(),
            "index_url": index_url,
            "level": self.level,
            "same_release": self.same_release,
            "source": self.source,
        }


def recommend(version: str | None, driver: Driver, env: Environment) -> Recommendation | None:
    """The newest official PyTorch build this machine runs, for torch ``version``.

    No usable GPU: the CPU build. Otherwise, in this order: a build of the same release
    that runs natively (newest CUDA first), one that runs with a warning (closest CUDA
    first), then the same for older releases (newest first), else the CPU build. None:
    the facts don't cover this platform or this (newer) release.
    """
    public = _public(version)
    if public is None:
        return None
    if not driver.usable:
        return Recommendation("cpu", f"=={public}", "ok", True, "no usable GPU")
    if not _linux_x86(env):
        return None
    if public >= max(_upper(r) for r in gpu_facts.TORCH_BUILDS):
        return None  # a release newer than the facts: which builds it has is not known
    same: list[tuple[gpu_facts.TorchBuild, Level]] = []
    older: list[tuple[gpu_facts.TorchBuild, Level]] = []
    for row in gpu_facts.TORCH_BUILDS:
        spec = SpecifierSet(row.torch)
        level = build_level(row, driver)
        if level == "block":
            continue
        if spec.contains(public, prereleases=True):
            same.append((row, level))
        elif _upper(row) <= public:
            older.append((row, level))

    levels: tuple[Level, ...] = ("ok", "warn")
    for pool, is_same in ((same, True), (older, False)):
        for wanted in levels:
            rows = [r for r, lv in pool if lv == wanted]
            if not rows:
                continue
            newest = max(_upper(r) for r in rows)
            rows = [r for r in rows if _upper(r) == newest]
            # natively: the newest CUDA; by compatibility: the one closest to the driver
            pick = max if wanted == "ok" else min
            row = pick(rows, key=lambda r: r.cuda or (0, 0))
            torch = f"=={public}" if is_same else row.torch
            return Recommendation(row.backend, torch, wanted, is_same, row.source)
    return Recommendation("cpu", f"=={public}", "ok", True, "no official GPU build runs here")


def _releases(spec: str) -> str:
    """``">=2.7,<2.8"`` -> ``"2.7.x"``; ``">=2.9,<2.11"`` -> ``"2.9.x to 2.10.x"``."""
    bounds = {s.operator: Version(s.version) for s in SpecifierSet(spec)}
    low, high = bounds.get(">="), bounds.get("<")
    if low is None or high is None or high.major != low.major or high.minor <= low.minor:
        return spec
    last = f"{high.major}.{high.minor - 1}.x"
    first = f"{low.major}.{low.minor}.x"
    return first if first == last else f"{first} to {last}"


def _upper(row: gpu_facts.TorchBuild) -> Version:
    """The first torch release after ``row``'s range."""
    return min(Version(s.version) for s in SpecifierSet(row.torch) if s.operator == "<")


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


def _torch_need(needs: list[Need]) -> Need | None:
    return next((n for n in needs if n.action.canonical_name == "torch"), None)


def _torch_version(plan: Plan, env: Environment) -> str | None:
    for action in installing(plan):
        if action.canonical_name == "torch":
            return action.version
    dist = env.installed("torch")
    return dist.version if dist is not None else None


class _Way:
    """The build to get, in words, details and (when possible) one click."""

    def __init__(self, rec: Recommendation | None, ctx: AdviceContext) -> None:
        self.rec = rec
        self.ctx = ctx
        self.url = ctx.torch_index_url(rec.backend) if rec is not None else None
        self.alt = ctx.backend_alternative(rec.backend) if rec is not None else None

    def same_as(self, need: Need | None) -> bool:
        """Is the build to get the one planned already (nothing better runs here)?"""
        rec = self.rec
        return (
            rec is not None
            and need is not None
            and rec.same_release
            and rec.backend == backend_of(need)
        )

    def details(self) -> dict[str, Any] | None:
        if self.rec is None or self.url is None:
            return None
        doc = self.rec.to_json(self.url)
        if self.alt is not None:
            doc["confirmed"] = dict(self.alt)
        return doc

    def sentence(self) -> str:
        if self.rec is None:
            return ""
        where = f" from {self.url}" if self.url else ""
        if not self.rec.same_release:
            where += ", the newest release with a build for this machine"
        if self.rec.level == "warn":
            return f" The build that comes closest here is {self.rec.words()}{where}."
        return f" The build that runs here is {self.rec.words()}{where}."

    def action(self, label: str | None = None) -> dict[str, Any] | None:
        if self.rec is None or self.url is None:
            return None
        requirement = (self.alt or {}).get("requirement") or self.rec.requirement()
        size = (self.alt or {}).get("size")
        shown = f" ({human_size(size)})" if size else ""
        return {
            "kind": "use-requirement",
            "requirement": requirement,
            "index_url": self.url,
            "torch_backend": self.rec.backend,
            "label": label or f"Plan {requirement}{shown} instead",
        }


def _with_way(details: dict[str, Any], way: _Way) -> dict[str, Any]:
    recommended = way.details()
    if recommended is not None:
        details["recommended"] = recommended
    return details


def _no_gpu(needs: list[Need], driver: Driver, ctx: AdviceContext, way: _Way) -> Finding:
    total = sum(n.action.file.size or 0 for n in needs if n.action.file)
    strongest = _strongest(needs)
    if driver.source == "CONDA_OVERRIDE_CUDA":
        why = "CONDA_OVERRIDE_CUDA is empty, which means no CUDA"
    elif driver.no_device:
        why = driver.no_device
    else:
        why = "no NVIDIA GPU or driver was found"
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
    alt = way.alt if way.rec is not None and way.rec.backend == "cpu" else None
    found = (None, alt) if alt else _first_alternative(needs, "cpu", ctx)
    if found is not None:
        need, alt = found
        alt_size = alt.get("size")
        size = f" ({human_size(alt_size)})" if alt_size else ""
        saves = ""
        if alt_size and total > alt_size:
            saves = f", {human_size(total - alt_size)} less to download"
        message += (
            f" The CPU build {alt['requirement']}{size} does the same without the GPU{saves}."
        )
        name = need.action.name if need is not None else "torch"
        if alt is way.alt:
            action = way.action(f"Use the CPU build of {name}{size}")
        else:
            action = alternative_action(alt, f"Use the CPU build of {name}{size}")
        details["cpu_alternative"] = dict(alt)
        details["saves"] = (total - alt_size) if alt_size and total > alt_size else None
    elif way.rec is not None and way.rec.backend == "cpu":
        message += way.sentence()
        action = way.action(f"Plan {way.rec.requirement()} instead")
    return Finding(CHECK, "warning", message, action, _with_way(details, way))


def _update_words(need: tuple[int, int | None]) -> str:
    full = minimum_driver(need)
    floor = MINOR_COMPAT_DRIVER.get(need[0])
    major = need[0]
    text = f" Update the NVIDIA driver to {full} or newer (full support)" if full else ""
    if floor and full and gpu.version_tuple(floor) < gpu.version_tuple(full):
        text += f"; any {floor} or newer runs CUDA {major}.x builds (minor version compatibility)"
    return text + "." if text else ""


def _too_new(needs: list[Need], driver: Driver, ctx: AdviceContext, way: _Way) -> Finding:
    strongest = _strongest(needs)
    assert strongest.cuda is not None
    floor = minimum_driver(strongest.cuda)
    message = (
        f"{_names(needs)} {_be(needs, 'needs', 'need')} CUDA {strongest.cuda_text}, "
        f"but {driver.words()}"
    )
    compat = MINOR_COMPAT_DRIVER.get(strongest.cuda[0])
    if (
        driver.cuda
        and driver.cuda[0] == strongest.cuda[0]
        and compat
        and driver.version
        and gpu.version_tuple(driver.version) < gpu.version_tuple(compat)
    ):
        message += (
            f", older than {compat}, the oldest driver of CUDA {strongest.cuda[0]}.x minor "
            "version compatibility"
        )
    message += ": this build would not run on the GPU."
    message += _update_words(strongest.cuda)
    message += way.sentence()
    details: dict[str, Any] = {
        "builds": [n.to_json() for n in needs],
        "driver": driver.to_json(),
        "minimum_driver": floor,
        "minor_compat_driver": compat,
    }
    action = way.action()
    if action is None:
        found = _first_alternative(needs, "cuda", ctx) or _first_alternative(needs, "cpu", ctx)
        if found is not None:
            alt = found[1]
            action = alternative_action(alt, f"Use {alt['requirement']}")
            details["alternative"] = dict(alt)
    return Finding(CHECK, "blocker", message, action, _with_way(details, way))


def _minor(needs: list[Need], driver: Driver, way: _Way) -> Finding:
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
    rec = way.rec
    action = None
    torch = _torch_need(needs)
    if rec is not None and torch is not None and rec.backend != backend_of(torch):
        message += way.sentence()
        action = way.action()
    details = {
        "builds": [n.to_json() for n in needs],
        "driver": driver.to_json(),
        "minimum_driver": floor,
    }
    return Finding(CHECK, "warning", message, action, _with_way(details, way))


def _arch_finding(
    need: Need, build: gpu_facts.TorchBuild, driver: Driver, way: _Way
) -> Finding | None:
    fits = _devices_fit(build, driver)
    worst = _worst_arch(fits)
    if worst in (None, "sass"):
        return None
    shown = ", ".join(a + ("+PTX" if a in build.ptx else "") for a in build.sass)
    label = f"{need.action.name} {need.action.version}"
    bad = sorted(
        {f"{d.get('name')} ({sm(d['compute_capability'])})" for d, f in fits if f == worst}
    )
    if worst == "none":
        message = (
            f"{label} has GPU code for compute capability {shown} only: "
            f"{join_words(bad)} can't run it (\"no kernel image is available for execution "
            'on the device").'
        )
        severity: Severity = "blocker"
    else:
        message = (
            f"{label} has no native code for {join_words(bad)}: it runs through PTX "
            f"compiled at start-up (JIT) from the {join_words(list(build.ptx))} code, slowly "
            "the first time, and libraries without PTX can still fail."
        )
        severity = "warning"
    same = way.same_as(need)
    if not same:
        message += way.sentence()
    details = {
        "builds": [need.to_json()],
        "architectures": {"sass": list(build.sass), "ptx": list(build.ptx), "source": build.source},
        "devices": [dict(d, fit=f) for d, f in fits],
        "driver": driver.to_json(),
    }
    action = None if same else way.action()
    return Finding(CHECK, severity, message, action, _with_way(details, way))


def _capability_findings(needs: list[Need], driver: Driver, way: _Way) -> list[Finding]:
    """Without an architecture list (not torch, or not covered by the facts): the hard
    toolkit rule only: CUDA 13 dropped GPUs older than Turing (compute capability 7.5)."""
    old = [
        d
        for d in driver.devices
        if d.get("compute_capability") and gpu.version_tuple(str(d["compute_capability"])) < (7, 5)
    ]
    cuda13 = [n for n in needs if n.cuda and n.cuda[0] >= 13]
    if not old or not cuda13:
        return []
    gpus = join_words(sorted({f"{d.get('name')} ({sm(d['compute_capability'])})" for d in old}))
    message = (
        f"{_names(cuda13)} {_be(cuda13, 'needs', 'need')} CUDA 13, which no longer "
        "supports GPUs older than Turing (compute capability 7.5): "
        f"{gpus} can't run it. Use a build for CUDA 12."
    )
    details = {"builds": [n.to_json() for n in cuda13], "devices": old}
    return [Finding(CHECK, "blocker", message, way.action(), _with_way(details, way))]


def _cpu_on_gpu(needs: list[Need], driver: Driver, ctx: AdviceContext, way: _Way) -> Finding:
    gpus = join_words(sorted({str(d.get("name")) for d in driver.devices})) or "an NVIDIA GPU"
    message = (
        f"{_names(needs)} {'is the' if len(needs) == 1 else 'are'} CPU-only "
        f"build{'s' if len(needs) > 1 else ''}: this machine has {gpus} "
        f"(CUDA {driver.cuda_text}) that {'it' if len(needs) == 1 else 'they'} won't use."
    )
    details: dict[str, Any] = {"builds": [n.to_json() for n in needs], "driver": driver.to_json()}
    action = None
    if way.rec is not None and way.rec.backend != "cpu":
        message += way.sentence()
        action = way.action()
    if action is None:
        found = _first_alternative(needs, "cuda", ctx)
        if found is not None:
            need, alt = found
            action = alternative_action(alt, f"Use the CUDA build of {need.action.name}")
            details["cuda_alternative"] = dict(alt)
    return Finding(CHECK, "info", message, action, _with_way(details, way))


def _ok(needs: list[Need], driver: Driver, way: _Way) -> Finding:
    strongest = _strongest(needs)
    gpus = _device_words(driver)
    message = (
        f"{_names(needs)} {_be(needs)} built for CUDA {strongest.cuda_text}, and "
        f"{driver.words()}{gpus}: {'they' if len(needs) > 1 else 'it'} can use the GPU."
    )
    details = {"builds": [n.to_json() for n in needs], "driver": driver.to_json()}
    return Finding(CHECK, "info", message, None, _with_way(details, way))


def _device_words(driver: Driver) -> str:
    if not driver.devices:
        return ""
    return f", with {gpu.device_counts(driver.devices)}"


def _mac_finding(actions: list[Action], env: Environment) -> Finding | None:
    torch = [a for a in actions if a.canonical_name in gpu_facts.TORCH_FAMILY]
    m = env.markers
    if not torch or m.get("sys_platform") != "darwin":
        return None
    if m.get("platform_machine") == "arm64":
        message = (
            f"{join_words([f'{a.name} {a.version}' for a in torch])} on this Mac uses Apple's "
            "GPU through MPS (Metal, torch.device('mps')); PyTorch publishes no CUDA builds "
            "for macOS."
        )
    else:
        message = "PyTorch on an Intel Mac runs on the CPU: there is neither CUDA nor MPS for it."
    return Finding(CHECK, "info", message, None, {"accelerator": "mps"})


def _rocm_findings(needs: list[Need], env: Environment, driver: Driver, way: _Way) -> list[Finding]:
    rocm = env.accelerators.get("rocm") or {}
    agents = [str(a) for a in rocm.get("agents") or []]
    labels = join_words([_label(n) for n in needs])
    if not agents:
        why = rocm.get("reason") or "no AMD GPU was found"
        message = f"{labels} {_be(needs)} built for AMD GPUs (ROCm), but {why}."
        if driver.usable:
            message += " This machine has an NVIDIA GPU: use a CUDA build."
        message += way.sentence()
        return [Finding(CHECK, "warning", message, way.action(), _with_way({"rocm": rocm}, way))]
    findings = []
    for need in needs:
        backend = (need.action.version or "").partition("+")[2]
        public = _public(need.action.version)
        row = next(
            (
                r
                for r in gpu_facts.TORCH_ROCM_BUILDS
                if r.backend == backend
                and public is not None
                and SpecifierSet(r.torch).contains(public, prereleases=True)
                and need.action.canonical_name == "torch"
            ),
            None,
        )
        if row is None:
            continue
        missing = sorted({a for a in agents if a not in row.gfx and a != "unknown"})
        if missing:
            message = (
                f"{_label(need)} has GPU code for {', '.join(row.gfx)} only: "
                f"{join_words(missing)} can't run it."
            )
            findings.append(
                Finding(
                    CHECK,
                    "blocker",
                    message,
                    None,
                    {"rocm": rocm, "gfx": list(row.gfx), "source": row.source},
                )
            )
    return findings


def plan_needs(plan: Plan, env: Environment) -> list[Need]:
    needs = []
    for action in installing(plan):
        need = build_need(action, env) or _cpu_only_by_platform(action, env)
        if need is not None:
            needs.append(need)
    return needs


def recommendation_for(plan: Plan, env: Environment) -> Recommendation | None:
    """The build ``check_gpu`` will name for this plan (the core looks it up on the
    backend's index first, so the finding can offer it with its size)."""
    if env.synthetic_env and not env.accelerators:
        return None
    if _torch_need(plan_needs(plan, env)) is None:
        return None
    return recommend(_torch_version(plan, env), driver_facts(env), env)


def package_gpu(
    name: str,
    version: str | None,
    requires_dist: list[str] | None,
    env: Environment,
    *,
    torch_index_template: str = gpu_facts.TORCH_INDEX_TEMPLATE,
) -> dict[str, Any] | None:
    """The GPU fit of one version of a package, for its details: what this machine has,
    what the build on the index needs, the verdict, and the build that runs here.
    None for projects that say nothing about GPUs (no CUDA build, not torch)."""
    if version is None:
        return None
    action = Action(
        "install",
        name,
        canonicalize_name(name),
        version,
        requested=True,
        dependencies=tuple(requires_dist or ()),
    )
    need = build_need(action, env) or _cpu_only_by_platform(action, env)
    is_torch = action.canonical_name in gpu_facts.TORCH_FAMILY
    if need is None and not is_torch:
        return None
    target = TargetSummary(env.python_version, env.implementation, "")
    ctx = AdviceContext(torch_index_template=torch_index_template)
    findings = check_gpu(Plan([name], target, [action]), env, ctx)
    worst = next(
        (f for s in ("blocker", "warning", "info") for f in findings if f.severity == s), None
    )
    recommended = next(
        (f.details["recommended"] for f in findings if f.details.get("recommended")), None
    )
    return {
        "machine": gpu.summary_line(env.accelerators),
        "build": need.to_json() if need is not None else None,
        "verdict": worst.severity if worst is not None else "ok",
        "message": worst.message if worst is not None else None,
        "action": worst.action if worst is not None else None,
        "recommended": recommended,
    }


def check_gpu(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if isinstance(subject, Conflict):
        return []
    findings: list[Finding] = []
    mac = _mac_finding(installing(subject), env)
    if mac is not None:
        findings.append(mac)
    needs = plan_needs(subject, env)
    cuda_needs = [n for n in needs if n.kind == "cuda" and n.cuda is not None]
    rocm_needs = [n for n in needs if n.kind == "rocm"]
    cpu_needs = [n for n in needs if n.kind == "cpu" and n.is_framework]
    driver = driver_facts(env)
    if env.synthetic_env and not env.accelerators:
        return findings  # a "what if" environment says nothing about GPUs
    torch_version = _torch_version(subject, env)
    way = _Way(recommend(torch_version, driver, env) if _torch_need(needs) else None, ctx)
    if rocm_needs:
        findings.extend(_rocm_findings(rocm_needs, env, driver, way))
    if not driver.usable:
        if cuda_needs:
            findings.append(_no_gpu(cuda_needs, driver, ctx, way))
        return findings
    groups: dict[Verdict, list[Need]] = {"ok": [], "minor": [], "too-new": []}
    for need in cuda_needs:
        assert need.cuda is not None
        groups[verdict(need.cuda, driver)].append(need)
    gpu_findings: list[Finding] = []
    if groups["too-new"]:
        gpu_findings.append(_too_new(groups["too-new"], driver, ctx, way))
    if groups["minor"]:
        gpu_findings.append(_minor(groups["minor"], driver, way))
    torch = _torch_need(cuda_needs)
    backend = backend_of(torch) if torch is not None else None
    build = torch_build(torch.action.version, backend, env) if torch and backend else None
    if torch is not None and build is not None:
        arch = _arch_finding(torch, build, driver, way)
        if arch is not None:
            gpu_findings.append(arch)
        rest = [
            n
            for n in cuda_needs
            if n is not torch and not n.action.canonical_name.startswith("nvidia-")
        ]
        gpu_findings.extend(_capability_findings(rest, driver, way))
    else:
        gpu_findings.extend(_capability_findings(cuda_needs, driver, way))
    if groups["ok"] and not gpu_findings and any(n.is_framework for n in groups["ok"]):
        gpu_findings.append(_ok(groups["ok"], driver, way))
    findings.extend(gpu_findings)
    if cpu_needs:
        findings.append(_cpu_on_gpu(cpu_needs, driver, ctx, way))
    return findings
