"""NVIDIA drivers and CUDA versions: which CUDA a driver can run, and how to say it.

The table is NVIDIA's "CUDA Toolkit and Corresponding Driver Versions" (Linux x86_64,
minimum driver of each toolkit's GA release). A driver at or above a row's minimum runs
that CUDA version; the highest such row is what ``cuDriverGetVersion`` reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: (CUDA version, minimum Linux driver version), newest first.
CUDA_DRIVER_TABLE: tuple[tuple[str, str], ...] = (
    ("13.0", "580.65.06"),
    ("12.9", "575.51.03"),
    ("12.8", "570.26"),
    ("12.6", "560.28.03"),
    ("12.5", "555.42.02"),
    ("12.4", "550.54.14"),
    ("12.3", "545.23.06"),
    ("12.2", "535.54.03"),
    ("12.1", "530.30.02"),
    ("12.0", "525.60.13"),
    ("11.8", "520.61.05"),
    ("11.7", "515.43.04"),
    ("11.6", "510.39.01"),
    ("11.5", "495.29.05"),
    ("11.4", "470.42.01"),
    ("11.3", "465.19.01"),
    ("11.2", "460.27.03"),
    ("11.1", "455.23"),
    ("11.0", "450.36.06"),
    ("10.2", "440.33"),
    ("10.1", "418.39"),
    ("10.0", "410.48"),
)


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


def _short_driver(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _device_counts(devices: list[Mapping[str, Any]]) -> str:
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
        parts.append(_device_counts(devices))
    elif driver:
        parts.append("no usable GPU")
    if not parts:
        line = "No NVIDIA GPU found"
        toolkit = acc.get("toolkit") or {}
        if toolkit.get("version"):
            line += f" (CUDA toolkit {toolkit['version']} installed)"
        return line
    return ", ".join(parts)
