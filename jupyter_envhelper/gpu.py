"""NVIDIA drivers and CUDA versions: which CUDA a driver can run, and how to say it.

The table is NVIDIA's "CUDA Toolkit and Corresponding Driver Versions" (Linux x86_64,
minimum driver of each toolkit's GA release), kept with its sources in ``gpu_facts``.
A driver at or above a row's minimum runs that CUDA version; the highest such row is
what ``cuDriverGetVersion`` reports.

Devices count: a driver without a visible device (a container started without the
GPU, ``cuInit`` answering CUDA_ERROR_NO_DEVICE) is no GPU, and ``no_device_reason``
says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import gpu_facts

#: (CUDA version, minimum Linux driver version), newest first; sources in gpu_facts.
CUDA_DRIVER_TABLE: tuple[tuple[str, str], ...] = gpu_facts.CUDA_DRIVER_TABLE


def version_tuple(version: str) -> tuple[int, ...]:
    """``"535.104.05"`` -> ``(535, 104, 5)``; non-numeric parts end the tuple."""
    parts: list[int] = []
    for piece in version.strip().split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def cuda_for_driver(driver_version: str) -> str | None:
    """The newest CUDA version a Linux driver supports, or None if older than CUDA 10.0."""
    have = version_tuple(driver_version)
    if not have:
        return None
    for cuda, minimum in CUDA_DRIVER_TABLE:
        if have >= version_tuple(minimum):
            return cuda
    return None


def format_cuda_version(value: int) -> str:
    """``cuDriverGetVersion``'s integer as text: 12020 -> ``"12.2"``."""
    return f"{value // 1000}.{(value % 1000) // 10}"


def parse_cuda_version(text: str) -> tuple[int, int] | None:
    """``"12.2"``, ``"12.2.140"``, ``"12"``, ``"cu121"`` or ``"12020"`` -> (12, 2)."""
    text = text.strip().lower()
    if text.startswith("cu"):
        digits = text[2:]
        if digits.isdigit() and len(digits) >= 2:
            return int(digits[:-1]), int(digits[-1])
        return None
    if text.isdigit() and len(text) >= 4:
        n = int(text)
        return n // 1000, (n % 1000) // 10
    parts = version_tuple(text)
    if not parts:
        return None
    return parts[0], parts[1] if len(parts) > 1 else 0


def effective_cuda(accelerators: Mapping[str, Any]) -> tuple[str | None, str]:
    """The CUDA version installs should target, and where it comes from.

    Users' own overrides win, as in conda and uv: ``CONDA_OVERRIDE_CUDA`` (a CUDA
    version; empty means "no CUDA") then ``UV_CUDA_DRIVER_VERSION`` (a driver
    version). Otherwise: what the driver reported, else the driver version's table row.
    """
    overrides = accelerators.get("overrides") or {}
    conda = overrides.get("CONDA_OVERRIDE_CUDA")
    if conda is not None:
        parsed = parse_cuda_version(conda) if conda.strip() else None
        return (f"{parsed[0]}.{parsed[1]}" if parsed else None), "CONDA_OVERRIDE_CUDA"
    uv_driver = overrides.get("UV_CUDA_DRIVER_VERSION")
    if uv_driver:
        return cuda_for_driver(uv_driver), "UV_CUDA_DRIVER_VERSION"
    if accelerators.get("cuda_driver_version"):
        return str(accelerators["cuda_driver_version"]), "driver"
    if accelerators.get("driver_version"):
        return cuda_for_driver(str(accelerators["driver_version"])), "driver table"
    return None, "none"


def judged_driver(accelerators: Mapping[str, Any]) -> tuple[str | None, str]:
    """The driver version every check judges, and where it comes from.

    ``UV_CUDA_DRIVER_VERSION`` stands for the driver, so it goes through the same
    checks as a detected one (minor version compatibility floors included).
    """
    overrides = accelerators.get("overrides") or {}
    uv_driver = overrides.get("UV_CUDA_DRIVER_VERSION")
    if uv_driver and version_tuple(str(uv_driver)):
        return str(uv_driver), "UV_CUDA_DRIVER_VERSION"
    if accelerators.get("driver_version"):
        return str(accelerators["driver_version"]), "driver"
    return None, "none"


#: cuInit's answer when the driver is loaded and no device is visible.
CUDA_ERROR_NO_DEVICE = 100


def device_count(accelerators: Mapping[str, Any]) -> int | None:
    """How many NVIDIA devices are visible: a number, or None when nobody could tell."""
    devices = accelerators.get("devices") or []
    if devices:
        return len(devices)
    lib = accelerators.get("libcuda") or {}
    if lib.get("loaded"):
        if lib.get("init_result") == CUDA_ERROR_NO_DEVICE:
            return 0
        if lib.get("init_result") == 0 and lib.get("device_count") == 0:
            return 0
    smi = accelerators.get("nvidia_smi") or {}
    if smi.get("ok"):
        return 0
    return None


def no_device_reason(accelerators: Mapping[str, Any]) -> str | None:
    """Why a machine with an NVIDIA driver has no usable GPU, in words; None otherwise."""
    acc = accelerators
    driver, source = judged_driver(acc)
    overrides = acc.get("overrides") or {}
    if overrides.get("CONDA_OVERRIDE_CUDA") is not None or source == "UV_CUDA_DRIVER_VERSION":
        return None  # a declared machine: its devices are not ours to count
    if device_count(acc) != 0:
        return None
    if driver is None and not acc.get("cuda_driver_version"):
        return None
    lib = acc.get("libcuda") or {}
    how = (
        "cuInit answered CUDA_ERROR_NO_DEVICE"
        if lib.get("init_result") == CUDA_ERROR_NO_DEVICE
        else "it lists 0 devices"
    )
    shown = _short_driver(str(driver)) if driver else f"(CUDA {acc.get('cuda_driver_version')})"
    why = f"the NVIDIA driver {shown} is loaded but no GPU device is visible ({how})"
    hidden = (acc.get("overrides") or {}).get("CUDA_VISIBLE_DEVICES")
    if hidden is not None:
        return why + f": CUDA_VISIBLE_DEVICES={hidden!r} hides them"
    return why + ": a container started without the GPU (docker --gpus) looks like this"


def _short_driver(version: str) -> str:
    return ".".join(version.split(".")[:2])


def device_counts(devices: Sequence[Mapping[str, Any]]) -> str:
    groups: dict[tuple[str, str], int] = {}
    for dev in devices:
        name = str(dev.get("name") or "unknown GPU")
        if name.startswith("NVIDIA "):
            name = name[len("NVIDIA ") :]
        cc = str(dev.get("compute_capability") or "")
        groups[(name, cc)] = groups.get((name, cc), 0) + 1
    parts = []
    for (name, cc), count in groups.items():
        sm = f" (sm_{cc.replace('.', '')})" if cc else ""
        parts.append(f"{count}× {name}{sm}")
    return ", ".join(parts)


def summary_line(accelerators: Mapping[str, Any] | None) -> str:
    """One line for people: "NVIDIA driver 535.104, CUDA ≤ 12.2, 1× A100-SXM4-80GB (sm_80)"."""
    acc = accelerators or {}
    devices = list(acc.get("devices") or [])
    driver = acc.get("driver_version")
    cuda, source = effective_cuda(acc)
    overrides = acc.get("overrides") or {}
    if source == "CONDA_OVERRIDE_CUDA" and cuda is None:
        return "No CUDA (CONDA_OVERRIDE_CUDA is empty)"
    parts: list[str] = []
    if driver:
        parts.append(f"NVIDIA driver {_short_driver(str(driver))}")
    elif source == "UV_CUDA_DRIVER_VERSION":
        parts.append(
            f"NVIDIA driver {overrides.get('UV_CUDA_DRIVER_VERSION')} (UV_CUDA_DRIVER_VERSION)"
        )
    if cuda:
        label = f"CUDA ≤ {cuda}"
        if source in ("CONDA_OVERRIDE_CUDA",):
            label += f" ({source})"
        parts.append(label)
    if devices:
        parts.append(device_counts(devices))
    elif driver or (source == "driver" and cuda):
        if not driver:
            parts.insert(0, "NVIDIA driver")
        parts.append("no GPU device visible" if device_count(acc) == 0 else "no usable GPU")
    others = _other_accelerators(acc)
    if not parts:
        line = "No NVIDIA GPU found"
        why = next(
            (n.get("reason") for n in acc.get("not_detected") or () if n.get("kind") == "nvidia"),
            None,
        )
        if why:
            line += f": {why}"
        toolkit = acc.get("toolkit") or {}
        if toolkit.get("version"):
            line += f" (CUDA toolkit {toolkit['version']} installed)"
        return "; ".join([*others, line]) if others else line
    return "; ".join([", ".join(parts), *others])


def _other_accelerators(acc: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    rocm = acc.get("rocm") or {}
    agents = [str(a) for a in rocm.get("agents") or []]
    if agents:
        groups: dict[str, int] = {}
        for agent in agents:
            groups[agent] = groups.get(agent, 0) + 1
        listed = ", ".join(f"{n}× {gfx}" for gfx, n in groups.items())
        version = f" {rocm['version']}" if rocm.get("version") else ""
        out.append(f"AMD GPU (ROCm{version}): {listed}")
    elif rocm.get("driver"):
        out.append("AMD GPU driver (kfd) loaded, no GPU agent visible")
    mps = acc.get("mps") or {}
    if mps.get("available"):
        out.append("Apple GPU (Metal/MPS; no CUDA on macOS)")
    return out
