"""Build real, small, valid wheels and sdists from a declarative description.

Pure stdlib. A wheel holds one importable module, a ``.dist-info`` with METADATA,
WHEEL and RECORD (with real hashes), optional incompressible padding for "big"
files, and can be deliberately broken so an installer refuses it. An sdist holds
PKG-INFO, the module and a tiny in-tree PEP 517 backend (stdlib only), so pip and
uv can build it offline from our index.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import random
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from functools import cache

# A fixed timestamp keeps archives (and so ETags and hashes) reproducible.
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
_TAR_MTIME = 1704067200


@dataclass(frozen=True)
class DistSpec:
    """One distribution file to build.

    ``tags`` is the wheel's tag triple(s), e.g. ``"cp311-cp311-manylinux_2_17_x86_64"``
    or ``"py3-none-any"``; ignored for sdists. ``broken`` is ``None``,
    ``"path-escape"`` (a member named ``../``: pip and uv refuse to install it) or
    ``"bad-record"`` (RECORD hashes do not match the files) or ``"wheel-version"``
    (``Wheel-Version: 9.0``: pip and uv both refuse it before installing anything).
    """

    name: str
    version: str
    kind: str = "wheel"
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    extras: tuple[str, ...] = ()
    tags: str = "py3-none-any"
    module: str | None = None
    summary: str = ""
    padding: int = 0
    broken: str | None = None
    yanked: bool | str = False
    upload_time: str | None = "2024-01-01T00:00:00Z"
    metadata_version: str = "2.1"
    import_names: tuple[str, ...] = ()
    license_expression: str | None = None
    dynamic: tuple[str, ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = field(default=())

    @property
    def dist_name(self) -> str:
        """The name as it appears in file names (PEP 427 escaping)."""
        return re.sub(r"[-_.]+", "_", self.name).lower()

    @property
    def module_name(self) -> str:
        return self.module or self.dist_name

    @property
    def filename(self) -> str:
        if self.kind == "sdist":
            return f"{self.dist_name}-{self.version}.tar.gz"
        return f"{self.dist_name}-{self.version}-{self.tags}.whl"


@dataclass(frozen=True)
class BuiltFile:
    spec: DistSpec
    filename: str
    data: bytes
    metadata: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def metadata_sha256(self) -> str:
        return hashlib.sha256(self.metadata).hexdigest()


def render_metadata(spec: DistSpec) -> str:
    """Core metadata (METADATA / PKG-INFO) for ``spec``."""
    lines = [
        f"Metadata-Version: {spec.metadata_version}",
        f"Name: {spec.name}",
        f"Version: {spec.version}",
    ]
    if spec.summary:
        lines.append(f"Summary: {spec.summary}")
    if spec.license_expression:
        lines.append(f"License-Expression: {spec.license_expression}")
    if spec.requires_python:
        lines.append(f"Requires-Python: {spec.requires_python}")
    lines += [f"Dynamic: {d}" for d in spec.dynamic]
    lines += [f"Provides-Extra: {e}" for e in spec.extras]
    lines += [f"Requires-Dist: {r}" for r in spec.requires_dist]
    lines += [f"Import-Name: {n}" for n in spec.import_names]
    lines += [f"{k}: {v}" for k, v in spec.extra_headers]
    return "\n".join(lines) + "\n\n" + f"# {spec.name}\n\nA generated test distribution.\n"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def _padding(spec: DistSpec) -> bytes:
    # Incompressible but reproducible, so "big" files stay big inside the zip.
    seed = int(hashlib.sha256(spec.filename.encode()).hexdigest()[:8], 16)
    return random.Random(seed).randbytes(spec.padding)


def _module_source(spec: DistSpec) -> bytes:
    return f'"""{spec.name} (generated)."""\n\n__version__ = "{spec.version}"\n'.encode()


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


@cache
def build_wheel(spec: DistSpec) -> BuiltFile:
    """A wheel for ``spec``: module first, padding, then ``.dist-info`` (RECORD last)."""
    dist_info = f"{spec.dist_name}-{spec.version}.dist-info"
    metadata = render_metadata(spec).encode()
    tag_lines = []
    pythons, abis, platforms = spec.tags.split("-")
    for py in pythons.split("."):
        for abi in abis.split("."):
            for plat in platforms.split("."):
                tag_lines.append(f"Tag: {py}-{abi}-{plat}")
    pure = "true" if spec.tags == "py3-none-any" else "false"
    wheel_version = "9.0" if spec.broken == "wheel-version" else "1.0"
    wheel_text = (
        f"Wheel-Version: {wheel_version}\nGenerator: envhelper-tests\n"
        f"Root-Is-Purelib: {pure}\n" + "\n".join(tag_lines) + "\n"
    ).encode()
    members: list[tuple[str, bytes]] = [(f"{spec.module_name}/__init__.py", _module_source(spec))]
    if spec.padding:
        members.append((f"{spec.module_name}/_padding.bin", _padding(spec)))
    if spec.broken == "path-escape":
        members.append(("../escaped_by_envhelper_tests.py", b"raise SystemExit('escaped')\n"))
    members += [(f"{dist_info}/METADATA", metadata), (f"{dist_info}/WHEEL", wheel_text)]
    record = []
    for name, data in members:
        hashed = _record_hash(b"tampered" + data) if spec.broken == "bad-record" else None
        record.append(f"{name},{hashed or _record_hash(data)},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    members.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    return BuiltFile(spec, spec.filename, _zip(members), metadata)


# An in-tree PEP 517 backend (stdlib only): builds a pure wheel from PKG-INFO + src/.
_BACKEND = '''\
"""Minimal offline build backend for generated test sdists."""
import base64, email, hashlib, os, zipfile


def _pkg_info():
    with open("PKG-INFO", encoding="utf-8") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _h(data):
    d = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + d.decode()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    text = _pkg_info()
    msg = email.message_from_string(text)
    name = msg["Name"].replace("-", "_").replace(".", "_").lower()
    dist_info = name + "-" + msg["Version"] + ".dist-info"
    members = []
    for root, _dirs, files in os.walk("src"):
        for fn in sorted(files):
            path = os.path.join(root, fn)
            with open(path, "rb") as f:
                members.append((os.path.relpath(path, "src").replace(os.sep, "/"), f.read()))
    members.append((dist_info + "/METADATA", text.encode()))
    members.append((dist_info + "/WHEEL", b"Wheel-Version: 1.0\\nGenerator: envhelper-tests\\n"
                    b"Root-Is-Purelib: true\\nTag: py3-none-any\\n"))
    record = [m + "," + _h(d) + "," + str(len(d)) for m, d in members]
    record.append(dist_info + "/RECORD,,")
    members.append((dist_info + "/RECORD", ("\\n".join(record) + "\\n").encode()))
    filename = name + "-" + msg["Version"] + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as z:
        for m, d in members:
            z.writestr(m, d)
    return filename
'''


@cache
def build_sdist(spec: DistSpec) -> BuiltFile:
    """An sdist for ``spec``: PKG-INFO, pyproject.toml, the module and an in-tree backend."""
    root = f"{spec.dist_name}-{spec.version}"
    pkg_info = render_metadata(spec).encode()
    pyproject = (
        b'[build-system]\nrequires = []\nbuild-backend = "_envhelper_backend"\n'
        b'backend-path = ["."]\n'
    )
    members = [
        ("PKG-INFO", pkg_info),
        ("pyproject.toml", pyproject),
        ("_envhelper_backend.py", _BACKEND.encode()),
        (f"src/{spec.module_name}/__init__.py", _module_source(spec)),
    ]
    if spec.padding:
        members.append((f"src/{spec.module_name}/_padding.bin", _padding(spec)))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size = len(data)
            info.mtime = _TAR_MTIME
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    data = gzip.compress(buffer.getvalue(), mtime=0)
    return BuiltFile(spec, spec.filename, data, pkg_info)


def build_dist(spec: DistSpec) -> BuiltFile:
    return build_sdist(spec) if spec.kind == "sdist" else build_wheel(spec)
