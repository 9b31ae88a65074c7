"""A target Python environment, as the probe saw it (or as a "what if" describes it).

``Environment.from_probe(doc)`` builds it from the JSON that ``probe.py`` prints in the
target interpreter. Tags are computed with explicit ``packaging.tags`` calls from the
*target's* version, ABI and platform, never from the server's own interpreter.

``Environment.to_json()`` is the REST document. Its keys (schema 1):

- ``schema``, ``executable``, ``python_version``, ``implementation``, ``kind``, ``prefix``
- ``interpreter`` / ``markers`` / ``platform`` / ``paths`` / ``environment`` /
  ``installers``: as the probe reported them (see ``probe.py``)
- ``index``: ``{"pip": {...}, "uv": {...}}`` with credentials in URLs replaced by ``***``
  (at any depth; the text of uv configuration files is left out)
- ``installer_config``: the effective configuration of the installer this target's
  user installs with (``index.config.InstallerSettings.to_json``) and ``summary``, the
  same in words ("Packages come from PyPI and a local wheel folder; capped by ...")
- ``distributions``: list, sorted by canonical name, each with ``name``, ``canonical_name``,
  ``version``, ``summary``, ``requires``, ``requires_python``, ``installer``,
  ``editable``, ``direct_url``, ``top_level``, ``location``
- ``accelerators``: the probe's part (NVIDIA ``devices`` and ``device_count``, AMD
  ``rocm`` agents, Apple ``mps``, and ``not_detected``: what was looked for and why it
  was not found) plus ``cuda`` (the CUDA version to target, or null), ``cuda_source``
  and ``summary`` (one line)
- ``build_tools``: ``{"compilers": {name: path}, "include_dir", "python_h"}`` (what
  building an sdist needs), or null when unknown
- ``warnings``: list of ``{"code", "message"}``
- ``synthetic``: true for a "what if" environment that no probe saw
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging import tags
from packaging.utils import canonicalize_name

from . import gpu
from .index.credentials import redact_url

SCHEMA = 1  # the probe's own output format (probe/script.py), not the API's (core.documents)

_MANYLINUX_LEGACY = {
    (2, 17): (
        "manylinux2014",
        {"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"},
    ),
    (2, 12): ("manylinux2010", {"x86_64", "i686"}),
    (2, 5): ("manylinux1", {"x86_64", "i686"}),
}


@dataclass(frozen=True)
class Distribution:
    """One installed distribution (the first one Python finds for its name)."""

    name: str
    version: str
    summary: str = ""
    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()
    installer: str | None = None
    editable: bool = False
    direct_url: Mapping[str, Any] | None = None
    top_level: tuple[str, ...] = ()
    location: str | None = None
    metadata_dir: str | None = None
    requested: bool = False  # a REQUESTED file: installed by name, not as a dependency

    @property
    def canonical_name(self) -> str:
        return canonicalize_name(self.name)

    @classmethod
    def from_probe(cls, data: Mapping[str, Any]) -> Distribution:
        return cls(
            name=str(data["name"]),
            version=str(data.get("version") or "0"),
            summary=str(data.get("summary") or ""),
            requires=tuple(data.get("requires") or ()),
            requires_python=data.get("requires_python"),
            provides_extra=tuple(data.get("provides_extra") or ()),
            installer=data.get("installer"),
            editable=bool(data.get("editable")),
            direct_url=data.get("direct_url"),
            top_level=tuple(data.get("top_level") or ()),
            location=data.get("location"),
            metadata_dir=data.get("metadata_dir"),
            requested=bool(data.get("requested")),
        )

    def to_json(self) -> dict[str, Any]:
        direct = copy.deepcopy(dict(self.direct_url)) if self.direct_url else None
        if direct and isinstance(direct.get("url"), str):
            direct["url"] = redact_url(direct["url"])
        return {
            "name": self.name,
            "canonical_name": self.canonical_name,
            "version": self.version,
            "summary": self.summary,
            "requires": list(self.requires),
            "requires_python": self.requires_python,
            "provides_extra": list(self.provides_extra),
            "installer": self.installer,
            "requested": self.requested,
            "editable": self.editable,
            "direct_url": direct,
            "top_level": list(self.top_level),
            "location": self.location,
        }


def _redacted(value: Any) -> Any:
    """A copy with credentials in every URL, at any depth, replaced by ``***``; the
    text of uv configuration files is left out (it may hold an index password)."""
    if isinstance(value, str):
        return redact_url(value) if "://" in value else value
    if isinstance(value, Mapping):
        return {k: _redacted(v) for k, v in value.items() if k != "text"}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return copy.deepcopy(value)


def _redact_index(index: Mapping[str, Any]) -> dict[str, Any]:
    return {str(tool): _redacted(conf or {}) for tool, conf in index.items()}


@dataclass
class Environment:
    """A Python environment that packages can be installed into (or a "what if")."""

    data: dict[str, Any]
    distributions: dict[str, Distribution] = field(default_factory=dict)
    synthetic_env: bool = False

    # ------------------------------------------------------------ construction

    @classmethod
    def from_probe(cls, data: Mapping[str, Any]) -> Environment:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"unsupported probe schema {data.get('schema')!r}")
        doc = dict(data)
        dists: dict[str, Distribution] = {}
        for item in doc.get("distributions") or ():
            dist = Distribution.from_probe(item)
            dists.setdefault(dist.canonical_name, dist)
        return cls(data=doc, distributions=dists)

    @classmethod
    def synthetic(
        cls, python_version: str = "3.12", platform: str = "manylinux_2_28_x86_64"
    ) -> Environment:
        """An environment no probe saw: "would this work on Python 3.9 on macOS arm64?".

        ``platform`` is a wheel platform tag: ``manylinux_2_28_x86_64``,
        ``musllinux_1_2_aarch64``, ``macosx_14_0_arm64``, ``win_amd64``, ``linux_x86_64``.
        """
        parts = [int(p) for p in python_version.split(".")]
        if len(parts) < 2:
            raise ValueError(f"give a Python version like 3.9, not {python_version!r}")
        padded = [*parts, 0, 0][:3]
        full = ".".join(str(p) for p in padded)
        libc: dict[str, Any] | None = None
        mac_version = None
        if platform.startswith(("manylinux", "musllinux", "linux_")):
            system, sys_platform, os_name = "Linux", "linux", "posix"
            bits = platform.split("_")
            if platform.startswith("manylinux_"):
                libc = {"name": "glibc", "version": f"{bits[1]}.{bits[2]}"}
                machine = "_".join(bits[3:])
            elif platform.startswith("musllinux_"):
                libc = {"name": "musl", "version": f"{bits[1]}.{bits[2]}"}
                machine = "_".join(bits[3:])
            else:
                libc = {"name": None, "version": None}
                machine = "_".join(bits[1:])
            sysconfig_platform = f"linux-{machine}"
        elif platform.startswith("macosx_"):
            system, sys_platform, os_name = "Darwin", "darwin", "posix"
            bits = platform.split("_")
            mac_version = f"{bits[1]}.{bits[2]}"
            machine = "_".join(bits[3:])
            sysconfig_platform = f"macosx-{bits[1]}.{bits[2]}-{machine}"
        elif platform.startswith("win"):
            system, sys_platform, os_name = "Windows", "win32", "nt"
            machine = {"win_amd64": "AMD64", "win32": "x86", "win_arm64": "ARM64"}.get(
                platform, "AMD64"
            )
            sysconfig_platform = platform.replace("_", "-")
        else:
            raise ValueError(f"unknown platform tag {platform!r}")
        bits32 = machine in ("i686", "x86", "armv7l")
        markers = {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": os_name,
            "platform_machine": machine,
            "platform_release": "",
            "platform_system": system,
            "platform_version": "",
            "python_full_version": full,
            "platform_python_implementation": "CPython",
            "python_version": f"{parts[0]}.{parts[1]}",
            "sys_platform": sys_platform,
        }
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "interpreter": {
                "executable": None,
                "version": full,
                "version_info": [*padded, "final", 0],
                "implementation": {"name": "cpython", "version": full},
                "soabi": None,
                "abiflags": "",
                "free_threaded": False,
                "debug": False,
                "pointer_bits": 32 if bits32 else 64,
                "cache_tag": f"cpython-{parts[0]}{parts[1]}",
            },
            "markers": markers,
            "platform": {
                "system": system,
                "machine": machine,
                "sysconfig_platform": sysconfig_platform,
                "libc": libc,
                "mac_version": mac_version,
            },
            "paths": {"prefix": None},
            "environment": {"kind": "synthetic", "site_packages_writable": True},
            "installers": {},
            "index": {},
            "distributions": [],
            "accelerators": {},
            "warnings": [],
        }
        return cls(data=doc, synthetic_env=True)

    # ------------------------------------------------------------ plain facts

    @property
    def executable(self) -> str | None:
        value = self.data["interpreter"].get("executable")
        return str(value) if value else None

    @property
    def python_version(self) -> str:
        return str(self.data["interpreter"]["version"])

    @property
    def python_version_tuple(self) -> tuple[int, int, int]:
        info = self.data["interpreter"]["version_info"]
        return int(info[0]), int(info[1]), int(info[2])

    @property
    def implementation(self) -> str:
        return str(self.data["interpreter"]["implementation"]["name"])

    @property
    def kind(self) -> str:
        return str(self.data["environment"]["kind"])

    @property
    def prefix(self) -> str | None:
        value = self.data.get("paths", {}).get("prefix")
        return str(value) if value else None

    @property
    def markers(self) -> dict[str, str]:
        """The PEP 508 environment: ``Marker(...).evaluate(env.markers)``."""
        return {k: str(v) for k, v in self.data["markers"].items()}

    @property
    def accelerators(self) -> dict[str, Any]:
        return dict(self.data.get("accelerators") or {})

    @property
    def build_tools(self) -> dict[str, Any] | None:
        """``{"compilers": {"gcc": path, ...}, "include_dir", "python_h"}``; None: unknown."""
        value = self.data.get("build_tools")
        return dict(value) if isinstance(value, Mapping) else None

    @property
    def home(self) -> str | None:
        value = (self.data.get("environment") or {}).get("home")
        return str(value) if value else None

    @property
    def jupyterhub_vars(self) -> list[str]:
        """Names of the JupyterHub variables set where the probe ran (JUPYTERHUB_USER, ...)."""
        return list((self.data.get("environment") or {}).get("jupyterhub") or [])

    @property
    def conda_packages(self) -> dict[str, str] | None:
        """{canonical name: version} from conda-meta; None when not a conda environment."""
        value = (self.data.get("environment") or {}).get("conda_packages")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else None

    @property
    def distribution_dirs(self) -> list[str]:
        return list(self.data.get("paths", {}).get("distribution_dirs") or [])

    def installed(self, name: str) -> Distribution | None:
        return self.distributions.get(canonicalize_name(name))

    # ------------------------------------------------------------ tags

    def _interpreter_abis(self) -> tuple[str, list[str]]:
        interp = self.data["interpreter"]
        major, minor, _ = self.python_version_tuple
        if self.implementation == "cpython":
            nodot = f"{major}{minor}"
            threading = "t" if interp.get("free_threaded") else ""
            abis = [f"cp{nodot}{threading}"]
            if interp.get("debug"):
                abis.insert(0, f"cp{nodot}{threading}d")
            return f"cp{nodot}", abis
        name = {"pypy": "pp", "graalpy": "graalpy"}.get(self.implementation, self.implementation)
        soabi = interp.get("soabi")
        abis = [soabi.replace(".", "_").replace("-", "_")] if soabi else []
        return f"{name}{major}{minor}", abis

    def platform_tags(self) -> list[str]:
        """Platform tags the target accepts, most specific first."""
        plat = self.data["platform"]
        sysconfig_platform = str(plat.get("sysconfig_platform") or "")
        bits = int(self.data["interpreter"].get("pointer_bits") or 64)
        if sysconfig_platform.startswith("linux"):
            arch = sysconfig_platform.split("-", 1)[1].replace("-", "_").replace(".", "_")
            if bits == 32 and arch == "x86_64":
                arch = "i686"
            elif bits == 32 and arch == "aarch64":
                arch = "armv8l"
            return self._linux_platforms(arch, plat.get("libc") or {})
        if sysconfig_platform.startswith("macosx") or plat.get("system") == "Darwin":
            mac = str(plat.get("mac_version") or sysconfig_platform.split("-")[1])
            nums = [int(p) for p in mac.split(".")[:2]]
            version = (nums[0], nums[1] if len(nums) > 1 else 0)
            arch = str(plat.get("machine") or sysconfig_platform.rsplit("-", 1)[-1])
            return list(tags.mac_platforms(version, arch))
        return [sysconfig_platform.replace("-", "_").replace(".", "_")]

    @staticmethod
    def _linux_platforms(arch: str, libc: Mapping[str, Any]) -> list[str]:
        # Same order as packaging >= 25: a locally built linux_<arch> wheel is the most
        # specific, then manylinux from the target's glibc down, then musllinux.
        archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
        out = [f"linux_{a}" for a in archs]
        version = gpu.version_tuple(str(libc.get("version") or ""))
        if libc.get("name") == "glibc" and len(version) >= 2:
            for a in archs:
                lowest = 5 if a in ("x86_64", "i686") else 17
                for minor in range(version[1], lowest - 1, -1):
                    out.append(f"manylinux_{version[0]}_{minor}_{a}")
                    legacy = _MANYLINUX_LEGACY.get((version[0], minor))
                    if legacy and a in legacy[1]:
                        out.append(f"{legacy[0]}_{a}")
        elif libc.get("name") == "musl" and len(version) >= 2:
            for a in archs:
                for minor in range(version[1], -1, -1):
                    out.append(f"musllinux_{version[0]}_{minor}_{a}")
        return out

    def supported_tags(self) -> list[tags.Tag]:
        """Wheel tags the target accepts, most preferred first (like its own ``sys_tags()``)."""
        major, minor, _ = self.python_version_tuple
        interpreter, abis = self._interpreter_abis()
        platforms = self.platform_tags()
        if self.implementation == "cpython":
            found = list(tags.cpython_tags((major, minor), abis, platforms))
        else:
            found = list(tags.generic_tags(interpreter, abis, platforms))
        found.extend(tags.compatible_tags((major, minor), interpreter, platforms))
        return found

    # ------------------------------------------------------------ words for people

    def warnings(self) -> list[dict[str, str]]:
        out = [dict(w) for w in self.data.get("warnings") or ()]
        codes = {w.get("code") for w in out}
        env = self.data.get("environment") or {}
        installers = self.data.get("installers") or {}

        def add(code: str, message: str) -> None:
            if code not in codes:
                codes.add(code)
                out.append({"code": code, "message": message})

        if self.synthetic_env:
            return out
        managed = env.get("externally_managed")
        if managed:
            detail = managed.get("error") or ""
            add(
                "externally-managed",
                "This Python belongs to the operating system (PEP 668) and refuses "
                "installs; use a virtual environment instead." + (f" {detail}" if detail else ""),
            )
        if env.get("site_packages_writable") is False:
            add(
                "not-writable",
                f"You cannot write to {self.data['paths'].get('purelib')}: installing "
                "here needs other permissions.",
            )
        if not installers.get("pip") and not installers.get("uv") and not installers.get("conda"):
            from .installers.uv import find_uv  # late: installers import this module

            if find_uv(None, self) is not None:
                add(
                    "no-installer",
                    "This Python has neither pip nor uv of its own, so 'pip install' in a "
                    "terminal will not work here; installs from jupyter-envhelper use the "
                    "uv it comes with.",
                )
            else:
                add(
                    "no-installer",
                    "Neither pip nor uv is available for this Python, and jupyter-envhelper "
                    "found no uv of its own, so nothing can be installed into it yet. "
                    "Install the 'uv' package next to jupyter-envhelper, or run "
                    "'python -m ensurepip' with this environment's Python.",
                )
        if self.kind == "conda":
            add(
                "conda-environment",
                "This is a conda environment: packages installed with pip can clash with "
                "the ones conda manages.",
            )
        return out

    def installer_config(self) -> dict[str, Any]:
        """The effective pip/uv configuration of this target (redacted), and in words."""
        from .index.config import describe_settings, environment_installer, installer_settings

        if self.synthetic_env:
            return {"summary": "Packages come from PyPI (an imagined environment)."}
        settings = installer_settings(
            self.data.get("index") or None, environment_installer(self.data)
        )
        return {**settings.to_json(), "summary": describe_settings(settings)}

    def gpu_summary(self) -> str:
        return gpu.summary_line(self.data.get("accelerators"))

    def summary(self) -> dict[str, Any]:
        return {
            "python_version": self.python_version,
            "implementation": self.implementation,
            "kind": self.kind,
            "prefix": self.prefix,
            "executable": self.executable,
            "package_count": len(self.distributions),
            "gpu": self.gpu_summary(),
            "warnings": len(self.warnings()),
        }

    def to_json(self) -> dict[str, Any]:
        acc = copy.deepcopy(self.accelerators)
        if acc or not self.synthetic_env:
            cuda, source = gpu.effective_cuda(acc)
            acc.update({"cuda": cuda, "cuda_source": source, "summary": self.gpu_summary()})
        return {
            "schema": SCHEMA,
            "synthetic": self.synthetic_env,
            "executable": self.executable,
            "python_version": self.python_version,
            "implementation": self.implementation,
            "kind": self.kind,
            "prefix": self.prefix,
            "interpreter": copy.deepcopy(self.data["interpreter"]),
            "markers": self.markers,
            "platform": copy.deepcopy(self.data["platform"]),
            "paths": copy.deepcopy(self.data.get("paths") or {}),
            "environment": copy.deepcopy(self.data.get("environment") or {}),
            "installers": copy.deepcopy(self.data.get("installers") or {}),
            "index": _redact_index(self.data.get("index") or {}),
            "installer_config": self.installer_config(),
            "distributions": [
                d.to_json() for _, d in sorted(self.distributions.items(), key=_first)
            ],
            "accelerators": acc,
            "build_tools": copy.deepcopy(self.data.get("build_tools")),
            "warnings": self.warnings(),
        }


def _first(item: tuple[str, Distribution]) -> str:
    return item[0]


def tag_strings(found: Iterable[tags.Tag]) -> list[str]:
    return [str(t) for t in found]
