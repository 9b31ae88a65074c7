"""Can this file go into that environment? An answer with a reason in words.

The target is anything with ``python_version`` ("3.11" or "3.11.4") and
``supported_tags()`` (most preferred first), such as ``environment.Environment``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from packaging.tags import Tag
from packaging.version import InvalidVersion, Version

from .models import DistributionFile

Status = Literal["compatible", "needs-build", "incompatible"]


class TargetPython(Protocol):
    @property
    def python_version(self) -> str: ...

    def supported_tags(self) -> Sequence[Tag]: ...


@dataclass(frozen=True)
class Compatibility:
    status: Status
    reason: str = ""
    rank: int | None = None  # index of the best matching tag; lower is better

    @property
    def installable(self) -> bool:
        return self.status != "incompatible"

    def to_json(self) -> dict[str, object]:
        return {"status": self.status, "reason": self.reason, "rank": self.rank}


_ARCH_WORDS = {
    "x86_64": "x86-64",
    "amd64": "x86-64",
    "arm64": "arm64",
    "aarch64": "arm64 (aarch64)",
    "win32": "32-bit x86",
    "i686": "32-bit x86",
    "x86": "32-bit x86",
    "universal2": "universal2",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "armv7l": "armv7l",
}
_LINUX = re.compile(r"^(many|musl)linux_(\d+)_(\d+)_(.+)$")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def _linux(platform: str) -> tuple[str, tuple[int, int], str] | None:
    """("glibc"|"musl", (major, minor), arch) for manylinux/musllinux tags."""
    for legacy, version in _LEGACY_MANYLINUX.items():
        if platform.startswith(legacy + "_"):
            return "glibc", version, platform[len(legacy) + 1 :]
    match = _LINUX.match(platform)
    if match:
        libc = "glibc" if match[1] == "many" else "musl"
        return libc, (int(match[2]), int(match[3])), match[4]
    return None


def describe_platform(platform: str) -> str:
    """Words for a platform tag: ``macosx_11_0_arm64`` -> "macOS arm64"."""
    if platform == "any":
        return "any platform"
    linux = _linux(platform)
    if linux:
        libc, (major, minor), arch = linux
        return f"Linux {_ARCH_WORDS.get(arch, arch)} ({libc} {major}.{minor}+)"
    if platform.startswith("macosx_"):
        arch = platform.split("_", 3)[-1]
        return f"macOS {_ARCH_WORDS.get(arch, arch)}"
    if platform.startswith("win"):
        arch = platform.split("_", 1)[1] if "_" in platform else platform
        return f"Windows {_ARCH_WORDS.get(arch, arch)}"
    if platform.startswith("linux_"):
        return f"Linux {_ARCH_WORDS.get(platform[6:], platform[6:])}"
    return platform


def _describe_python(tag: str) -> str:
    match = re.match(r"^(cp|pp|py|ip|jy|graalpy)(\d)(\d*)$", tag)
    if not match:
        return tag
    name = {"cp": "CPython", "pp": "PyPy", "py": "Python", "graalpy": "GraalPy"}.get(
        match[1], match[1]
    )
    return f"{name} {match[2]}.{match[3]}" if match[3] else f"{name} {match[2]}"


def _join(words: Sequence[str]) -> str:
    unique = list(dict.fromkeys(words))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " or " + unique[-1]


def check_compatibility(file: DistributionFile, target: TargetPython) -> Compatibility:
    """``compatible`` (with the tag rank), ``needs-build`` (sdist) or ``incompatible``."""
    try:
        python = Version(target.python_version)
    except InvalidVersion:
        python = None
    rp = file.requires_python
    if rp is not None and python is not None and not rp.contains(python, prereleases=True):
        precise = python.micro and any(s.version.count(".") >= 2 for s in rp)
        shown = str(python) if precise else f"{python.major}.{python.minor}"
        return Compatibility(
            "incompatible",
            f"needs Python {file.requires_python_text or rp}; this kernel has {shown}",
        )
    if file.kind == "sdist":
        return Compatibility("needs-build", "source only: it will be built on install")
    supported = list(target.supported_tags())
    ranks = {tag: index for index, tag in enumerate(supported)}
    matching = [ranks[t] for t in file.tags if t in ranks]
    if matching:
        return Compatibility("compatible", "", min(matching))
    return Compatibility("incompatible", _explain(file, supported))


def _explain(file: DistributionFile, supported: Sequence[Tag]) -> str:
    interpreters = {t.interpreter for t in supported}
    platforms = {t.platform for t in supported}
    file_pythons = sorted({t.interpreter for t in file.tags})
    file_platforms = sorted({t.platform for t in file.tags})
    if not any(p in interpreters for p in file_pythons):
        return f"built for {_join([_describe_python(p) for p in file_pythons])}"
    if not any(p in platforms for p in file_platforms):
        needs = _glibc_gap(file_platforms, platforms)
        if needs:
            return needs
        return f"built for {_join([describe_platform(p) for p in file_platforms])} only"
    abis = sorted({t.abi for t in file.tags})
    return f"built for the {_join(abis)} ABI, which this interpreter does not provide"


def _glibc_gap(file_platforms: Sequence[str], platforms: set[str]) -> str | None:
    """ "needs glibc 2.28 (manylinux_2_28); this system has 2.17" when only libc is short."""
    best: dict[tuple[str, str], tuple[int, int]] = {}
    for platform in platforms:
        linux = _linux(platform)
        if linux:
            libc, version, arch = linux
            best[(libc, arch)] = max(best.get((libc, arch), (0, 0)), version)
    for platform in file_platforms:
        linux = _linux(platform)
        if linux is None:
            continue
        libc, version, arch = linux
        have = best.get((libc, arch))
        if have is not None and version > have:
            tag = f"{'many' if libc == 'glibc' else 'musl'}linux_{version[0]}_{version[1]}"
            return (
                f"needs {libc} {version[0]}.{version[1]} ({tag}); "
                f"this system has {have[0]}.{have[1]}"
            )
    return None
