"""``%envhelp`` in any kernel: the kernel-side distribution, and the use case that installs it.

The magic needs the ``jupyter_envhelper`` package in the kernel's environment, but
the full distribution pulls in JupyterLab and jupyter-server (about 70 more
distributions). What the magic imports at run time is only the Jupyter-free core
(packaging, resolvelib, httpx, uv) plus IPython, jupyter_client and traitlets, which
every ipykernel environment has. So the kernel gets ``jupyter-envhelper-kernel``: the
same package minus ``server/`` and ``labextension/``, with the light dependencies only.

Its wheel is built here, from the files of the ``jupyter_envhelper`` package this
process runs (so server and kernel always run the same code), into a folder of the
user cache; the build is deterministic (fixed timestamps, sorted members) and the
version carries a digest of the files (``0.1.0+k1a2b3c4d5e6``), so an edited checkout
gives a new version and never a stale cached wheel. The wheel reaches the installer as
a find-links folder added to the target's own sources (``with_kernel_wheel``): the plan
and the job are an ordinary install (advice, lock, history, undo).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .._version import __version__
from ..environment import Environment
from ..errors import BadRequest
from .documents import document
from .targets import Target

if TYPE_CHECKING:
    from .usecases import Core

KERNEL_DISTRIBUTION = "jupyter-envhelper-kernel"
FULL_DISTRIBUTION = "jupyter-envhelper"
IMPORT_NAME = "jupyter_envhelper"
# Left out of the kernel wheel: what only the Jupyter server uses.
SERVER_ONLY_PARTS = frozenset({"server", "labextension"})
SERVER_ONLY_DEPENDENCIES = frozenset({"jupyter-server", "jupyterlab", "ipywidgets"})
# What the magic imports besides the Jupyter-free core; every ipykernel has them.
KERNEL_DEPENDENCIES = ("ipython>=7.23", "jupyter_client>=7")
# The run-time dependencies when this package's own metadata cannot be read (a bare
# source tree on sys.path); kept in step with pyproject.toml by tests/test_enable_magic.py.
FALLBACK_DEPENDENCIES = (
    "packaging>=24",
    "resolvelib>=1.0",
    "httpx<1,>=0.25",
    "sniffio>=1.3",
    "uv>=0.5",
    "tomli-w>=1.0",
)
# 1980-01-01, the earliest time a zip member can carry: the same files, the same bytes
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
STARTUP_FILE = ("etc", "ipython", "ipython_kernel_config.json")


@dataclass(frozen=True)
class KernelWheel:
    path: Path
    version: str

    @property
    def requirement(self) -> str:
        return f"{KERNEL_DISTRIBUTION}=={self.version}"


def package_root() -> Path:
    return Path(__file__).resolve().parent.parent


def kernel_files(root: Path | None = None) -> list[tuple[str, Path]]:
    """(archive name, file) of every file of the package that the kernel needs, sorted."""
    root = root or package_root()
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel = here.relative_to(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if d != "__pycache__" and not (rel == Path(".") and d in SERVER_ONLY_PARTS)
        )
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")) or name.startswith("."):
                continue
            found.append(((Path(IMPORT_NAME) / rel / name).as_posix(), here / name))
    found.sort()
    return found


def kernel_dependencies() -> list[str]:
    """This distribution's run-time dependencies without the server's, plus IPython's."""
    from importlib import metadata

    try:
        declared = metadata.requires(FULL_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        declared = list(FALLBACK_DEPENDENCIES)
    kept: list[str] = []
    for text in declared:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is not None and "extra" in str(req.marker):
            continue
        if canonicalize_name(req.name) in SERVER_ONLY_DEPENDENCIES:
            continue
        kept.append(str(req))
    return [*kept, *KERNEL_DEPENDENCIES]


def kernel_version(files: Iterable[tuple[str, Path]], dependencies: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update("\n".join(dependencies).encode())
    label = "k" + digest.hexdigest()[:12]
    return f"{__version__}.{label}" if "+" in __version__ else f"{__version__}+{label}"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_kernel_wheel(folder: Path, root: Path | None = None) -> KernelWheel:
    """The kernel wheel in ``folder`` (built unless a wheel of these very files is there)."""
    files = kernel_files(root)
    dependencies = kernel_dependencies()
    version = kernel_version(files, dependencies)
    dist = KERNEL_DISTRIBUTION.replace("-", "_")
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    if path.is_file():
        return KernelWheel(path, version)
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{dist}-{version}.dist-info"
    metadata_text = "\n".join(
        [
            "Metadata-Version: 2.1",
            f"Name: {KERNEL_DISTRIBUTION}",
            f"Version: {version}",
            "Summary: The %envhelp magic of jupyter-envhelper for a kernel's environment "
            "(no JupyterLab, no jupyter-server).",
            "License: BSD-3-Clause",
            "Requires-Python: >=3.9",
            *(f"Requires-Dist: {d}" for d in dependencies),
            "",
        ]
    )
    wheel_text = "Wheel-Version: 1.0\nGenerator: jupyter-envhelper\nRoot-Is-Purelib: true\n"
    wheel_text += "Tag: py3-none-any\n"
    members = [(name, file.read_bytes()) for name, file in files]
    members += [
        (f"{info}/METADATA", metadata_text.encode()),
        (f"{info}/WHEEL", wheel_text.encode()),
    ]
    record = [_record_line(name, data) for name, data in members] + [f"{info}/RECORD,,"]
    members.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    import zipfile  # only when a kernel wheel is built, not on every plan's import

    handle, temp = tempfile.mkstemp(dir=folder, suffix=".part")
    os.close(handle)
    try:
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                member = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                member.compress_type = zipfile.ZIP_DEFLATED
                member.external_attr = 0o644 << 16
                archive.writestr(member, data)
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return KernelWheel(path, version)


def wheel_folder(cache_dir: Path) -> Path:
    return Path(cache_dir) / "kernel-wheels"


def names_kernel_distribution(requirements: Sequence[str]) -> bool:
    for text in requirements:
        try:
            if canonicalize_name(Requirement(text).name) == KERNEL_DISTRIBUTION:
                return True
        except InvalidRequirement:
            continue
    return False


def with_find_links(env: Environment, folder: str) -> Environment:
    """``env`` with ``folder`` added to the find-links of its pip and uv configuration."""
    data = dict(env.data)
    index = dict(data.get("index") or {})
    for installer in ("pip", "uv"):
        section = dict(index.get(installer) or {})
        links = [str(x) for x in section.get("find_links") or [] if isinstance(x, str)]
        if folder not in links:
            section["find_links"] = [*links, folder]
        index[installer] = section
    data["index"] = index
    return replace(env, data=data)


async def with_kernel_wheel(
    env: Environment, requirements: Sequence[str], cache_dir: Path
) -> Environment:
    """``env`` able to find the kernel wheel when ``requirements`` name it; else ``env``."""
    if not names_kernel_distribution(requirements):
        return env
    folder = wheel_folder(cache_dir)
    await asyncio.to_thread(build_kernel_wheel, folder)
    return with_find_links(env, str(folder))


def magic_state(env: Environment) -> dict[str, Any]:
    """Whether ``%load_ext jupyter_envhelper`` can work in ``env``, and from which distribution."""
    for name in (FULL_DISTRIBUTION, KERNEL_DISTRIBUTION):
        dist = env.distributions.get(name)
        if dist is not None:
            return {"installed": True, "distribution": name, "version": dist.version}
    return {"installed": False, "distribution": None, "version": None}


def startup_path(prefix: str) -> Path:
    return Path(prefix, *STARTUP_FILE)


def add_to_startup(prefix: str) -> tuple[Path, bool]:
    """Load the extension in every IPython kernel of the environment at ``prefix``: its
    ``etc/ipython/ipython_kernel_config.json`` (IPython reads ``sys.prefix/etc/ipython``).
    Other settings in that file are kept. (path, whether it changed)."""
    path = startup_path(prefix)
    config: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadRequest(f"Cannot read {path} as JSON ({exc}); nothing was changed.") from exc
        if not isinstance(loaded, dict):
            raise BadRequest(f"{path} does not hold a JSON object; nothing was changed.")
        config = loaded
    app = config.setdefault("InteractiveShellApp", {})
    if not isinstance(app, dict):
        raise BadRequest(f"InteractiveShellApp in {path} is not an object; nothing was changed.")
    extensions = app.setdefault("extensions", [])
    if not isinstance(extensions, list):
        raise BadRequest(f"extensions in {path} is not a list; nothing was changed.")
    if IMPORT_NAME in extensions:
        return path, False
    extensions.append(IMPORT_NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".json.part")
    temp.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(temp, path)
    return path, True


async def enable_document(core: Core, target: Target) -> dict[str, Any]:
    """Whether ``%envhelp`` works in the target, and if not the plan that makes it work:
    ``{"magic": {installed, distribution, version}, "requirement", "needed",
    "startup": {path, enabled}, "plan", "verdict", "findings", "fingerprint", ...}``
    (the plan keys are those of ``Core.plan``, null when nothing is needed)."""
    located = await core.locator.locate(target)
    env = located.require()
    wheel = await asyncio.to_thread(
        build_kernel_wheel, wheel_folder(core.config.resolved_cache_dir)
    )
    state = magic_state(env)
    needed = not state["installed"] or (
        state["distribution"] == KERNEL_DISTRIBUTION and state["version"] != wheel.version
    )
    prefix = env.prefix
    path = startup_path(prefix) if prefix else None
    startup = {
        "prefix": prefix,
        "path": str(path) if path else None,
        "enabled": path is not None and _in_startup(path),
    }
    plan_keys: dict[str, Any] = {"plan": None, "verdict": None, "findings": [], "fingerprint": None}
    if needed:
        planned = await core.plan(target, [wheel.requirement])
        plan_keys = {k: v for k, v in planned.items() if k not in ("schema", "kernel")}
    return document(
        kernel=located.kernel,
        magic=state,
        requirement=wheel.requirement,
        version=wheel.version,
        needed=needed,
        startup=startup,
        **plan_keys,
    )


def _in_startup(path: Path) -> bool:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        return IMPORT_NAME in config["InteractiveShellApp"]["extensions"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
