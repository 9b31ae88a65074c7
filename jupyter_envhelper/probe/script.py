"""Inspect the Python interpreter that runs this file; print one JSON document.

This module is run *by the target interpreter* as a script (``python script.py``).
jupyter-envhelper itself imports it only for ``scan_distributions`` (re-reading the
distribution directories after a job, see ``prober.py``). It must therefore:

- use the standard library only, and run on Python 3.8 and newer;
- stay fast: no ``importlib.metadata`` / ``pkg_resources``, no heavy imports
  (never ``import torch``); distributions are read from their ``*.dist-info`` /
  ``*.egg-info`` directories directly (METADATA headers only);
- never hang: every subprocess gets an argv list and a timeout, and the risky
  ``cuInit`` call runs in a child interpreter that can be killed.

The document's keys are described in ``environment.py`` (``PROBE_SCHEMA``).
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # no `typing` import at run time: it costs milliseconds
if TYPE_CHECKING:
    from typing import Any

_T0 = time.perf_counter()

SCHEMA = 1
CUDA_TIMEOUT = 8.0
TOOL_TIMEOUT = 5.0

_WARNINGS: list[dict[str, str]] = []


def _warn(code: str, message: str) -> None:
    _WARNINGS.append({"code": code, "message": message})


# ---------------------------------------------------------------- small helpers

# ``json`` imports ``re`` and costs more than the rest of the probe's imports:
# encode ourselves, and import json only to *read* the rare direct_url.json.
_ESCAPES = {i: "\\u%04x" % i for i in range(32)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def _encode(obj: Any, out: list[str]) -> None:
    if isinstance(obj, str):
        if obj.isprintable() and '"' not in obj and "\\" not in obj:
            out.append('"' + obj + '"')  # the common case: nothing to escape
        else:
            out.append('"' + obj.translate(_ESCAPES) + '"')
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(str(int(obj)))
    elif isinstance(obj, float):
        finite = obj - obj == 0.0  # False for nan and infinities
        out.append(repr(obj) if finite else "null")
    elif isinstance(obj, dict):
        out.append("{")
        first = True
        for key, value in obj.items():
            if not first:
                out.append(",")
            first = False
            _encode(str(key), out)
            out.append(":")
            _encode(value, out)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _encode(value, out)
        out.append("]")
    else:
        _encode(str(obj), out)


def to_json(obj: Any) -> str:
    out: list[str] = []
    _encode(obj, out)
    return "".join(out)


def _json_loads(text: str) -> Any:
    import json

    return json.loads(text)


def _read_ini(path: str) -> dict[str, dict[str, str]] | None:
    """{section: {key: value}} for a pip configuration file (RawConfigParser rules, roughly)."""
    text = _read_text(path)
    if text is None:
        return None
    sections: dict[str, dict[str, str]] = {}
    current = None
    key = None
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if raw[:1] in " \t" and current is not None and key is not None:
            current[key] = (current[key] + "\n" + stripped).strip()
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1].strip(), {})
            key = None
            continue
        if current is None:
            continue
        eq, colon = stripped.find("="), stripped.find(":")
        cut = eq if colon < 0 or (0 <= eq < colon) else colon
        if cut < 0:
            key = None
            continue
        key = stripped[:cut].strip().lower()
        current[key] = stripped[cut + 1 :].strip()
    return sections


def _read_text(path: str, limit: int | None = None) -> str | None:
    try:
        with open(path, "rb") as f:
            data = f.read() if limit is None else f.read(limit)
    except OSError:
        return None
    return data.decode("utf-8", "replace")


def _canonical(name: str) -> str:
    """PEP 503 normalisation without ``re``."""
    out = []
    prev_sep = False
    for ch in name.lower():
        if ch in "-_.":
            if not prev_sep:
                out.append("-")
            prev_sep = True
        else:
            out.append(ch)
            prev_sep = False
    return "".join(out)


def _path_dirs() -> list[str]:
    return [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]


def _which(name: str, extra_dirs: tuple[str, ...] = ()) -> str | None:
    exts = [""]
    if os.name == "nt":
        exts = [*os.environ.get("PATHEXT", ".EXE;.BAT;.CMD").lower().split(";"), ""]
    for d in list(_path_dirs()) + list(extra_dirs):
        for ext in exts:
            p = os.path.join(d, name + ext)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                return p
    return None


class _Child:
    """A subprocess started early and collected later, with a hard timeout."""

    def __init__(self, argv: list[str], timeout: float, env: Any = None) -> None:
        import subprocess

        self.argv = list(argv)
        self.deadline = time.monotonic() + timeout
        self.proc: Any = None
        self.error: str | None = None
        self.timed_out = False
        self.stdout = ""
        self.stderr = ""
        self.returncode: int | None = None
        kwargs: dict[str, Any] = {}
        if os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        else:
            kwargs["start_new_session"] = True
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                **kwargs,
            )
        except OSError as e:
            self.error = "could not run %s: %s" % (self.argv[0], e)

    def wait(self) -> _Child:
        import subprocess

        if self.proc is None:
            return self
        try:
            out, err = self.proc.communicate(timeout=max(0.01, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.error = "%s did not answer within the time limit" % os.path.basename(self.argv[0])
            self._kill()
            try:
                out, err = self.proc.communicate(timeout=2)
            except Exception:
                out, err = b"", b""
        self.returncode = self.proc.returncode
        self.stdout = (out or b"").decode("utf-8", "replace")
        self.stderr = (err or b"").decode("utf-8", "replace")
        return self

    def _kill(self) -> None:
        try:
            if os.name == "nt":
                self.proc.kill()
            else:
                import signal

                os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass


# ---------------------------------------------------------------- interpreter


def _sysconfig() -> Any:
    import sysconfig

    return sysconfig


def _format_version(info: Any) -> str:
    version = "%d.%d.%d" % (info.major, info.minor, info.micro)
    kind = info.releaselevel
    if kind != "final":
        version += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(kind, kind) + str(info.serial)
    return version


def interpreter_info() -> dict[str, Any]:
    sc = _sysconfig()
    impl = sys.implementation
    abiflags = getattr(sys, "abiflags", "")
    gil_disabled_build = bool(sc.get_config_var("Py_GIL_DISABLED"))
    gil_check = getattr(sys, "_is_gil_enabled", None)
    debug = bool(sc.get_config_var("Py_DEBUG")) or hasattr(sys, "gettotalrefcount")
    return {
        "executable": sys.executable,
        "version": sys.version.split()[0],
        "version_info": list(sys.version_info),
        "implementation": {"name": impl.name, "version": _format_version(impl.version)},
        "soabi": sc.get_config_var("SOABI"),
        "ext_suffix": sc.get_config_var("EXT_SUFFIX"),
        "abiflags": abiflags,
        "free_threaded": gil_disabled_build,
        "gil_enabled": bool(gil_check()) if gil_check is not None else True,
        "debug": debug,
        "pointer_bits": 64 if sys.maxsize > 2**32 else 32,
        "byteorder": sys.byteorder,
        "cache_tag": impl.cache_tag,
    }


def _uname() -> tuple[str, str, str, str]:
    if hasattr(os, "uname"):
        u = os.uname()
        return u.sysname, u.release, u.version, u.machine
    import platform

    return platform.system(), platform.release(), platform.version(), platform.machine()


def marker_environment() -> dict[str, str]:
    """The PEP 508 environment, same keys as packaging.markers.default_environment()."""
    system, release, version, machine = _uname()
    impl = sys.implementation
    py_impl = {
        "cpython": "CPython",
        "pypy": "PyPy",
        "ironpython": "IronPython",
        "jython": "Jython",
        "graalpy": "GraalVM",
    }.get(impl.name, impl.name)
    return {
        "implementation_name": impl.name,
        "implementation_version": _format_version(impl.version),
        "os_name": os.name,
        "platform_machine": machine,
        "platform_release": release,
        "platform_system": system,
        "platform_version": version,
        "python_full_version": sys.version.split()[0],
        "platform_python_implementation": py_impl,
        "python_version": "%d.%d" % sys.version_info[:2],
        "sys_platform": sys.platform,
    }


def _elf_interpreter(path: str) -> str | None:
    """The PT_INTERP of an ELF file (the dynamic loader), or None."""
    import struct

    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if ident[:4] != b"\x7fELF":
                return None
            is64 = ident[4] == 2
            end = "<" if ident[5] == 1 else ">"
            if is64:
                f.seek(32)
                (phoff,) = struct.unpack(end + "Q", f.read(8))
                f.seek(54)
                phentsize, phnum = struct.unpack(end + "HH", f.read(4))
            else:
                f.seek(28)
                (phoff,) = struct.unpack(end + "I", f.read(4))
                f.seek(42)
                phentsize, phnum = struct.unpack(end + "HH", f.read(4))
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                hdr = f.read(phentsize)
                (p_type,) = struct.unpack(end + "I", hdr[:4])
                if p_type != 3:  # PT_INTERP
                    continue
                if is64:
                    offset, _vaddr, _paddr, filesz = struct.unpack(end + "QQQQ", hdr[8:40])
                else:
                    offset, _vaddr, _paddr, filesz = struct.unpack(end + "IIII", hdr[4:20])
                f.seek(offset)
                return f.read(filesz).rstrip(b"\0").decode("utf-8", "replace")
    except (OSError, ValueError, struct.error):
        return None
    return None


def libc_info() -> dict[str, Any] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        glibc = None
    if glibc:
        name, _, version = glibc.partition(" ")
        return {"name": name, "version": version}
    loader = _elf_interpreter(os.path.realpath(sys.executable))
    if loader and "musl" in loader:
        child = _Child([loader], TOOL_TIMEOUT).wait()
        for line in (child.stderr + child.stdout).splitlines():
            if line.startswith("Version "):
                return {"name": "musl", "version": line.split()[1], "loader": loader}
        return {"name": "musl", "version": None, "loader": loader}
    return {"name": None, "version": None, "loader": loader}


def platform_info(markers: dict[str, str]) -> dict[str, Any]:
    sc = _sysconfig()
    info = {
        "system": markers["platform_system"],
        "machine": markers["platform_machine"],
        "release": markers["platform_release"],
        "sysconfig_platform": sc.get_platform(),
        "libc": libc_info(),
        "mac_version": None,
    }
    if sys.platform == "darwin":
        import platform

        info["mac_version"] = platform.mac_ver()[0] or None
    return info


# ---------------------------------------------------------------- environment


def _pyvenv_cfg(prefix: str) -> dict[str, str] | None:
    text = _read_text(os.path.join(prefix, "pyvenv.cfg"))
    if text is None:
        return None
    cfg = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            cfg[key.strip().lower()] = value.strip()
    return cfg


def _writable(path: str | None) -> bool:
    while path and not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return bool(path) and os.access(path or "", os.W_OK)


def paths_info() -> dict[str, Any]:
    sc = _sysconfig()
    paths = sc.get_paths()
    info = {
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "exec_prefix": sys.exec_prefix,
        "purelib": paths.get("purelib"),
        "platlib": paths.get("platlib"),
        "scripts": paths.get("scripts"),
        "stdlib": paths.get("stdlib"),
        "include": paths.get("include"),
        "sys_path": list(sys.path),
        "user_site": None,
        "enable_user_site": False,
    }
    site = sys.modules.get("site")
    if site is not None:
        info["enable_user_site"] = bool(getattr(site, "ENABLE_USER_SITE", False))
        try:
            info["user_site"] = site.getusersitepackages()
        except Exception:
            pass
    return info


def environment_info(paths: dict[str, Any]) -> dict[str, Any]:
    prefix = paths["prefix"]
    in_venv = prefix != paths["base_prefix"]
    cfg = _pyvenv_cfg(prefix) if in_venv else None
    if cfg is not None and "uv" in cfg:
        kind = "uv"
    elif cfg is not None and "virtualenv" in cfg:
        kind = "virtualenv"
    elif in_venv:
        kind = "venv"
    elif os.path.isdir(os.path.join(prefix, "conda-meta")):
        kind = "conda"
    else:
        kind = "system"
    conda_base = os.path.isdir(os.path.join(paths["base_prefix"], "conda-meta"))
    writable = _writable(paths["purelib"]) and _writable(paths["platlib"])
    managed = None
    if not in_venv and paths["stdlib"]:
        marker = os.path.join(paths["stdlib"], "EXTERNALLY-MANAGED")
        if os.path.isfile(marker):
            managed = {"marker": marker, "error": _externally_managed_error(marker)}
    return {
        "kind": kind,
        "in_venv": in_venv,
        "pyvenv_cfg": cfg,
        "base_is_conda": conda_base,
        "site_packages_writable": writable,
        "externally_managed": managed,
        "conda_packages": _conda_packages(prefix) if kind == "conda" else None,
        "home": os.environ.get("HOME") or os.path.expanduser("~"),
        # names only: JUPYTERHUB_API_TOKEN and friends never leave the target
        "jupyterhub": [v for v in _JUPYTERHUB_VARS if os.environ.get(v)],
        **_ownership(paths["purelib"]),
    }


def _ownership(purelib: str | None) -> dict[str, Any]:
    """Who owns site-packages, who we are, and whether this runs in a container
    (core/placement.py: "where a change lives")."""
    path = purelib
    while path and not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    owner_uid = owner = None
    try:
        owner_uid = os.stat(path or "").st_uid if os.name != "nt" else None
    except OSError:
        pass
    uid = os.getuid() if hasattr(os, "getuid") else None
    if owner_uid is not None:
        try:
            import pwd

            owner = pwd.getpwuid(owner_uid).pw_name
        except (ImportError, KeyError):
            owner = None
    container = None
    for marker in ("/.dockerenv", "/run/.containerenv"):
        if os.path.exists(marker):
            container = marker
    if container is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        container = "KUBERNETES_SERVICE_HOST"
    return {"owner_uid": owner_uid, "owner": owner, "uid": uid, "container": container}


_JUPYTERHUB_VARS = ("JUPYTERHUB_USER", "JUPYTERHUB_API_URL", "JUPYTERHUB_SERVICE_PREFIX")


def _conda_packages(prefix: str) -> dict[str, str]:
    """{canonical name: version} of what conda installed, from conda-meta's file names.

    Each record is ``<name>-<version>-<build>.json``; the names are conda's, which
    match the PyPI names of most Python packages.
    """
    out: dict[str, str] = {}
    try:
        entries = os.listdir(os.path.join(prefix, "conda-meta"))
    except OSError:
        return out
    for entry in entries:
        if not entry.endswith(".json"):
            continue
        parts = entry[:-5].rsplit("-", 2)
        if len(parts) == 3:
            out[_canonical(parts[0])] = parts[1]
    return out


def _externally_managed_error(path: str) -> str | None:
    sections = _read_ini(path) or {}
    return (sections.get("externally-managed") or {}).get("error")


def build_tools_info(paths: dict[str, Any]) -> dict[str, Any]:
    """What building an sdist needs: a C compiler on PATH and Python's headers."""
    names = ("cl",) if os.name == "nt" else ("cc", "gcc", "clang")
    compilers = {}
    for name in names:
        found = _which(name)
        if found:
            compilers[name] = found
    include = paths.get("include")
    header = os.path.join(include, "Python.h") if include else None
    return {
        "compilers": compilers,
        "include_dir": include,
        "python_h": header if header and os.path.isfile(header) else None,
    }


# ---------------------------------------------------------------- distributions

_WANTED = {
    "name": "name",
    "version": "version",
    "summary": "summary",
    "requires-dist": "requires",
    "requires-python": "requires_python",
    "provides-extra": "provides_extra",
}
_MULTI = ("requires", "provides_extra")


def _read_headers(path: str) -> dict[str, Any] | None:
    """The RFC 822 headers of a METADATA / PKG-INFO file, up to the first blank line."""
    try:
        with open(path, "rb") as f:
            data = f.read(8192)
            while True:
                end = data.find(b"\n\n")
                end_crlf = data.find(b"\n\r\n")
                if end_crlf >= 0 and (end < 0 or end_crlf < end):
                    end = end_crlf
                if end >= 0:
                    data = data[:end]
                    break
                chunk = f.read(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    meta: dict[str, Any] = {"requires": [], "provides_extra": []}
    key = None
    for line in data.decode("utf-8", "replace").splitlines():
        if line[:1] in (" ", "\t"):
            if key is not None and key not in _MULTI and key in meta:
                meta[key] = (meta[key] + " " + line.strip()).strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            key = None
            continue
        key = _WANTED.get(name.strip().lower())
        if key is None:
            continue
        value = value.strip()
        if key in _MULTI:
            meta[key].append(value)
        elif key not in meta:
            meta[key] = value
    return meta


def _requires_txt(path: str) -> list[str]:
    text = _read_text(path)
    if not text:
        return []
    out = []
    extra = marker = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line[1:-1].partition(":")
            extra, marker = extra.strip(), marker.strip()
            continue
        parts = []
        if marker:
            parts.append("(%s)" % marker)
        if extra:
            parts.append('extra == "%s"' % extra)
        out.append(line + ("; " + " and ".join(parts) if parts else ""))
    return out


def _top_level_from_record(path: str) -> list[str]:
    """Top-level import names from a RECORD: the first component of each installed path.

    RECORDs can hold thousands of lines, mostly under a few directories. When a
    directory's lines are contiguous (they almost always are; checked with C-level
    counts) we jump over them in one step instead of looking at each line.
    """
    try:
        with open(path, "rb") as f:
            data = b"\n" + f.read()
    except OSError:
        return []
    names: list[str] = []
    seen: set[bytes] = set()
    size = len(data)
    pos = 0  # at the newline that precedes the current line
    while pos < size:
        end = data.find(b"\n", pos + 1)
        if end < 0:
            end = size
        line = data[pos + 1 : end]
        slash, comma = line.find(b"/"), line.find(b",")
        if slash >= 0 and (comma < 0 or slash < comma):
            head = line[:slash]
            if head not in seen:
                seen.add(head)
                key = b"\n" + head + b"/"
                last = data.rfind(key, end)
                if last > end and data.count(b"\n", end, last) == data.count(key, end, last):
                    end = data.find(b"\n", last + 1)
                    if end < 0:
                        end = size
                name = head.decode("utf-8", "replace")
                if not name.endswith((".dist-info", ".data", ".egg-info")) and name not in (
                    "..",
                    "__pycache__",
                    "",
                ):
                    names.append(name)
        else:
            entry = (line[:comma] if comma >= 0 else line).decode("utf-8", "replace").strip()
            if entry.endswith(".py"):
                entry = entry[:-3]
            elif entry.endswith((".so", ".pyd")):
                entry = entry.split(".", 1)[0]
            else:
                entry = ""
            if entry and entry.encode() not in seen:
                seen.add(entry.encode())
                names.append(entry)
        pos = end
    return names


def _read_distribution(location: str, entry: str) -> dict[str, Any] | None:
    meta_dir = os.path.join(location, entry)
    is_dist_info = entry.endswith(".dist-info")
    try:
        files = set(os.listdir(meta_dir))
    except NotADirectoryError:
        files = None  # a single-file .egg-info is the PKG-INFO itself
    except OSError:
        return None
    if files is None:
        headers = _read_headers(meta_dir)
    else:
        headers = _read_headers(os.path.join(meta_dir, "METADATA" if is_dist_info else "PKG-INFO"))
    if headers is None:
        return None
    stem = entry.rsplit(".", 1)[0]
    dir_name, _, dir_version = stem.partition("-")
    name = headers.get("name") or dir_name
    dist = {
        "name": name,
        "version": headers.get("version") or dir_version.split("-")[0] or None,
        "summary": headers.get("summary") or "",
        "requires": headers["requires"],
        "requires_python": headers.get("requires_python"),
        "provides_extra": headers["provides_extra"],
        "installer": None,
        "requested": False,
        "editable": False,
        "direct_url": None,
        "top_level": [],
        "location": location,
        "metadata_dir": meta_dir,
        "format": "dist-info" if is_dist_info else "egg-info",
    }
    if files is None:
        return dist
    if "INSTALLER" in files:
        dist["installer"] = (_read_text(os.path.join(meta_dir, "INSTALLER")) or "").strip() or None
    dist["requested"] = "REQUESTED" in files  # PEP 376: asked for by name, not a dependency
    if "direct_url.json" in files:
        try:
            direct = _json_loads(_read_text(os.path.join(meta_dir, "direct_url.json")) or "null")
        except ValueError:
            direct = None
        if isinstance(direct, dict):
            dist["direct_url"] = direct
            dist["editable"] = bool((direct.get("dir_info") or {}).get("editable"))
    if "top_level.txt" in files:
        text = _read_text(os.path.join(meta_dir, "top_level.txt")) or ""
        dist["top_level"] = [t.strip() for t in text.splitlines() if t.strip()]
    elif "RECORD" in files:
        dist["top_level"] = _top_level_from_record(os.path.join(meta_dir, "RECORD"))
    if not is_dist_info:
        if "requires.txt" in files:
            dist["requires"] = _requires_txt(os.path.join(meta_dir, "requires.txt"))
        # an egg-info beside a project's own files: `setup.py develop` / legacy editable
        for marker in ("setup.py", "setup.cfg", "pyproject.toml"):
            if os.path.exists(os.path.join(location, marker)):
                dist["editable"] = True
                break
    return dist


def scan_distributions(
    paths: dict[str, Any],
) -> tuple[list[Any], list[str], dict[str, Any], list[dict[str, str]]]:
    """``distributions_info`` for a process that imported this module: the warnings it
    raised are returned, and the module's own list is left as it was. Not thread-safe
    (the warnings list is shared): callers serialise (``Prober`` holds a lock)."""
    kept = list(_WARNINGS)
    del _WARNINGS[:]
    try:
        dists, dist_dirs, by_name = distributions_info(paths)
        found = list(_WARNINGS)
    finally:
        _WARNINGS[:] = kept
    return dists, dist_dirs, by_name, found


def distributions_info(paths: dict[str, Any]) -> tuple[list[Any], list[str], dict[str, Any]]:
    seen: dict[str, Any] = {}
    dists: list[Any] = []
    dist_dirs: list[str] = []
    script_dir = os.path.dirname(os.path.abspath(__file__))
    for entry_dir in paths["sys_path"]:
        if not entry_dir:
            continue
        location = os.path.abspath(entry_dir)
        if location == script_dir or location in dist_dirs:
            continue
        try:
            entries = os.listdir(location)
        except OSError:
            continue
        found = False
        for entry in sorted(entries):
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            dist = _read_distribution(location, entry)
            if dist is None:
                continue
            found = True
            key = _canonical(dist["name"])
            if key in seen:
                first = seen[key]
                _warn(
                    "shadowed",
                    "%s %s in %s is hidden by %s %s in %s, which Python imports first."
                    % (
                        dist["name"],
                        dist["version"],
                        location,
                        first["name"],
                        first["version"],
                        first["location"],
                    ),
                )
                first.setdefault("shadows", []).append(
                    {"version": dist["version"], "location": location}
                )
                continue
            seen[key] = dist
            dists.append(dist)
        if found:
            dist_dirs.append(location)
    return dists, dist_dirs, seen


# ---------------------------------------------------------------- installers & indexes


def installers_info(
    paths: dict[str, Any], env_info: dict[str, Any], by_name: dict[str, Any]
) -> dict[str, Any]:
    pip = by_name.get("pip")
    info: dict[str, Any] = {
        "pip": {"version": pip["version"], "location": pip["location"]} if pip else None,
        "uv": None,
        "conda": [],
    }
    uv_dist = by_name.get("uv")
    scripts = paths.get("scripts") or ""
    if uv_dist is not None:
        exe = os.path.join(scripts, "uv.exe" if os.name == "nt" else "uv")
        if os.path.isfile(exe):
            info["uv"] = {"path": exe, "source": "package", "version": uv_dist["version"]}
    if info["uv"] is None:
        found = _which("uv")
        if found:
            info["uv"] = {"path": found, "source": "PATH", "version": None}
    if env_info["kind"] == "conda" or env_info["base_is_conda"]:
        seen = set()
        candidates = [
            ("conda", os.environ.get("CONDA_EXE")),
            ("mamba", os.environ.get("MAMBA_EXE")),
        ]
        for tool in ("conda", "mamba", "micromamba"):
            candidates.append((tool, _which(tool)))
        prefix = paths["prefix"]
        candidates.append(("conda", os.path.join(prefix, "bin", "conda")))
        candidates.append(("conda", os.path.join(prefix, "condabin", "conda")))
        parent = os.path.dirname(os.path.dirname(prefix))  # <base>/envs/<name>
        candidates.append(("conda", os.path.join(parent, "condabin", "conda")))
        for tool, path in candidates:
            if path and os.path.isfile(path) and os.path.realpath(path) not in seen:
                name = os.path.basename(path).split(".")[0]
                seen.add(os.path.realpath(path))
                if name in ("conda", "mamba", "micromamba"):
                    tool = name  # noqa: PLW2901
                info["conda"].append({"name": tool, "path": path})
    return info


def _pip_config_files() -> list[tuple[str, str]]:
    """(kind, path) in the order pip reads them; later ones override earlier ones."""
    files = []
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    if sys.platform == "darwin":
        files.append(("global", "/Library/Application Support/pip/pip.conf"))
    elif os.name == "nt":
        files.append(("global", os.path.join(os.environ.get("PROGRAMDATA", ""), "pip", "pip.ini")))
    else:
        for d in xdg_dirs.split(os.pathsep):
            if d:
                files.append(("global", os.path.join(d, "pip", "pip.conf")))
        files.append(("global", "/etc/pip.conf"))
    name = "pip.ini" if os.name == "nt" else "pip.conf"
    home = os.path.expanduser("~")
    files.append(("user", os.path.join(home, ".pip", name)))
    if os.name == "nt":
        files.append(("user", os.path.join(os.environ.get("APPDATA", ""), "pip", name)))
    elif sys.platform == "darwin":
        files.append(("user", os.path.join(home, "Library", "Application Support", "pip", name)))
    else:
        config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        files.append(("user", os.path.join(config_home, "pip", name)))
    files.append(("site", os.path.join(sys.prefix, name)))
    return files


def _truthy(value: str) -> bool | None:
    """pip's strtobool: None for a value that is neither."""
    text = value.strip().lower()
    if text in ("y", "yes", "t", "true", "on", "1"):
        return True
    if text in ("n", "no", "f", "false", "off", "0"):
        return False
    return None


_PIP_KEYS = (
    "index-url",
    "extra-index-url",
    "find-links",
    "no-index",
    "trusted-host",
    "constraint",
    "no-binary",
    "only-binary",
    "pre",
    "cert",
)


def _expand_vars(line: str) -> str:
    """``${NAME}`` (POSIX names) replaced from the environment, as pip's req_file does."""
    start = line.find("${")
    while start >= 0:
        end = line.find("}", start)
        if end < 0:
            break
        name = line[start + 2 : end]
        ok = name and all(c.isupper() or c.isdigit() or c == "_" for c in name)
        value = os.environ.get(name) if ok else None
        if value:
            line = line[:start] + value + line[end + 1 :]
            start = line.find("${", start + len(value))
        else:
            start = line.find("${", end)
    return line


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with ``\\`` continuations joined and comments removed."""
    out = []
    buffer, first = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not buffer:
            first = number
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            buffer += raw[:-1]
            continue
        line = buffer + raw
        buffer = ""
        if line.lstrip().startswith("#"):
            continue
        cut = line.find(" #")
        tab = line.find("\t#")
        cuts = [c for c in (cut, tab) if c >= 0]
        if cuts:
            line = line[: min(cuts)]
        line = _expand_vars(line).strip()
        if line:
            out.append((first, line))
    if buffer.strip():
        out.append((first, _expand_vars(buffer).strip()))
    return out


def _option_value(line: str, names: tuple[str, ...]) -> str | None:
    for name in names:
        if line == name:
            return ""
        if line.startswith((name + "=", name + " ")):
            return line[len(name) + 1 :].strip()
        if len(name) == 2 and line.startswith(name):  # -cfile
            return line[2:].strip()
    return None


def _is_url(text: str) -> bool:
    head = text.split(":", 1)[0].lower()
    return "://" in text and head in ("http", "https", "file")


def read_constraint_files(paths: list[str], base: str | None = None) -> dict[str, Any]:
    """Every constraint of ``paths`` (nested ``-c``/``-r`` followed, relative to the file
    that names them, as pip's req_file does); missing or unreadable files are listed."""
    entries: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    seen: set[str] = set()

    def one(path: str, parent: str | None, depth: int) -> None:
        if _is_url(path):
            if not path.lower().startswith("file:"):
                files.append(
                    {"path": path, "ok": False, "error": "remote constraint files are not read"}
                )
                return
            path = path.split("://", 1)[1]
        path = os.path.expanduser(path)
        if not os.path.isabs(path):
            path = os.path.join(parent if parent is not None else (base or os.getcwd()), path)
        path = os.path.normpath(path)
        if path in seen or depth > 10:
            return
        seen.add(path)
        if not os.path.isfile(path):
            files.append({"path": path, "ok": False, "error": "no such file"})
            return
        text = _read_text(path)
        if text is None:
            files.append({"path": path, "ok": False, "error": "cannot be read"})
            return
        files.append({"path": path, "ok": True, "error": None})
        for number, line in _logical_lines(text):
            nested = _option_value(line, ("-c", "--constraint", "-r", "--requirement"))
            if nested:
                one(nested, os.path.dirname(path), depth + 1)
                continue
            if line.startswith("-"):
                entries.append({"option": line, "file": path, "line": number})
                continue
            entries.append({"requirement": line, "file": path, "line": number})

    for path in paths:
        one(path, None, 0)
    return {"entries": entries, "files": files}


def pip_index_info() -> dict[str, Any]:
    """pip's effective settings for ``install``, read as pip reads them
    (pip/_internal/configuration.py, cli/parser.py): files in the order global, user,
    site (``<prefix>/pip.conf``), ``PIP_CONFIG_FILE``; within them ``[global]`` then
    ``[install]``; then ``PIP_*`` variables; empty values are dropped."""
    env_file = os.environ.get("PIP_CONFIG_FILE")
    files = []
    if env_file != os.devnull:
        for kind, path in _pip_config_files():
            if kind == "user" and env_file and os.path.exists(env_file):
                continue  # pip skips user files when PIP_CONFIG_FILE names an existing file
            files.append((kind, path))
        if env_file:
            files.append(("env", env_file))
    merged: dict[str, dict[str, tuple[str, str]]] = {"global": {}, "install": {}}
    listed = []
    for kind, path in files:
        sections = _read_ini(path) if os.path.isfile(path) else None
        listed.append({"kind": kind, "path": path, "exists": sections is not None})
        if sections is None:
            continue
        for section in ("global", "install"):
            for key, value in (sections.get(section) or {}).items():
                merged[section][key] = (value, kind + ":" + path)
    values: dict[str, str] = {}
    sources: dict[str, str] = {}  # key -> file path or "env:PIP_..."
    levels: dict[str, str] = {}  # key -> global | user | site | env | env-var
    for section in ("global", "install"):
        for key, (value, where) in merged[section].items():
            if key in _PIP_KEYS and value:
                values[key] = value
                levels[key], sources[key] = where.split(":", 1)
    for key in _PIP_KEYS:
        var = "PIP_" + key.upper().replace("-", "_")
        if os.environ.get(var):
            values[key] = os.environ[var]
            sources[key] = "env:" + var
            levels[key] = "env-var"
    no_index = _truthy(values.get("no-index", "")) is True
    find_links = []
    for link in values.get("find-links", "").split():
        expanded = link if _is_url(link) else os.path.expanduser(link)
        local = not _is_url(link) and os.path.exists(expanded)
        find_links.append(os.path.abspath(expanded) if local else link)
    constraint_paths = values.get("constraint", "").split()
    return {
        "index_url": values.get("index-url", "").strip() or None,
        "extra_index_urls": values.get("extra-index-url", "").split(),
        "find_links": find_links,
        "trusted_hosts": values.get("trusted-host", "").split(),
        "no_index": no_index,
        "constraint_paths": constraint_paths,
        "constraints": read_constraint_files(constraint_paths),
        "no_binary": values.get("no-binary", "").split(),
        "only_binary": values.get("only-binary", "").split(),
        "pre": _truthy(values.get("pre", "")) is True,
        "cert": values.get("cert") or None,
        "cwd": os.getcwd(),
        "config_files": listed,
        "sources": sources,
        "levels": levels,
    }


def _uv_config_files() -> list[dict[str, Any]]:
    """uv's configuration files, as uv-settings finds them: ``UV_CONFIG_FILE`` alone,
    else the nearest project ``uv.toml`` / ``pyproject.toml`` with ``[tool.uv]`` (from
    the working directory up), the user's and the system's ``uv.toml``; the text goes
    to the caller, which parses TOML (no TOML reader before Python 3.11)."""
    env = os.environ
    if _truthy(env.get("UV_NO_CONFIG", "")) is True:
        return []
    found = []

    def add(kind: str, path: str) -> bool:
        text = _read_text(path, 65536) if os.path.isfile(path) else None
        if text is None:
            return False
        if os.path.basename(path) == "pyproject.toml" and "[tool.uv" not in text:
            return False
        found.append({"kind": kind, "path": path, "text": text})
        return True

    if env.get("UV_CONFIG_FILE"):
        add("env", env["UV_CONFIG_FILE"])
        return found
    here = os.getcwd()
    while True:
        if add("project", os.path.join(here, "uv.toml")) or add(
            "project", os.path.join(here, "pyproject.toml")
        ):
            break
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    home = os.path.expanduser("~")
    config_home = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    add("user", os.path.join(config_home, "uv", "uv.toml"))
    for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep):
        if d and add("system", os.path.join(d, "uv", "uv.toml")):
            break
    else:
        add("system", "/etc/uv/uv.toml")
    return found


def uv_index_info() -> dict[str, Any]:
    env = os.environ
    constraint_paths = (env.get("UV_CONSTRAINT") or "").split()
    return {
        "index_url": env.get("UV_INDEX_URL") or None,
        "default_index": env.get("UV_DEFAULT_INDEX") or None,
        "extra_index_urls": (env.get("UV_EXTRA_INDEX_URL") or "").split(),
        "indexes": (env.get("UV_INDEX") or "").split(),
        "find_links": (env.get("UV_FIND_LINKS") or "").replace(",", " ").split(),
        "index_strategy": env.get("UV_INDEX_STRATEGY") or None,
        "no_build": _truthy(env.get("UV_NO_BUILD", "")) is True,
        "no_binary": _truthy(env.get("UV_NO_BINARY", "")) is True,
        "prerelease": env.get("UV_PRERELEASE") or None,
        "no_index": _truthy(env.get("UV_NO_INDEX", "")) is True,
        "constraint_paths": constraint_paths,
        "constraints": read_constraint_files(constraint_paths),
        "cwd": os.getcwd(),
        "config_files": _uv_config_files(),
    }


# ---------------------------------------------------------------- accelerators

_CUDA_CHILD = r"""
import ctypes, json, sys
def out(**kw):
    sys.stdout.write(json.dumps(kw) + "\n"); sys.stdout.flush()
lib = None
for name in sys.argv[1:]:
    try:
        lib = (ctypes.WinDLL if sys.platform == "win32" else ctypes.CDLL)(name)
        break
    except OSError as e:
        err = str(e)
if lib is None:
    out(event="load", ok=False, error=err); sys.exit(0)
out(event="load", ok=True, path=getattr(lib, "_name", None))
v = ctypes.c_int(0)
rc = lib.cuDriverGetVersion(ctypes.byref(v))
out(event="version", rc=rc, version=v.value)
rc = lib.cuInit(0)
out(event="init", rc=rc)
if rc != 0: sys.exit(0)
n = ctypes.c_int(0)
rc = lib.cuDeviceGetCount(ctypes.byref(n))
out(event="count", rc=rc, count=n.value)
for i in range(n.value if rc == 0 else 0):
    d = ctypes.c_int(0)
    if lib.cuDeviceGet(ctypes.byref(d), i) != 0: continue
    buf = ctypes.create_string_buffer(256)
    lib.cuDeviceGetName(buf, 256, d)
    ma, mi = ctypes.c_int(0), ctypes.c_int(0)
    lib.cuDeviceGetAttribute(ctypes.byref(ma), 75, d)
    lib.cuDeviceGetAttribute(ctypes.byref(mi), 76, d)
    out(event="device", index=i, name=buf.value.decode("utf-8", "replace"),
        compute_capability="%d.%d" % (ma.value, mi.value))
"""

_LIB_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/lib/wsl/lib",
    "/usr/local/cuda/lib64",
    "/usr/local/cuda/compat",
    "/usr/local/nvidia/lib64",
    "/usr/local/nvidia/lib",
)


def _find_libcuda() -> str | None:
    if os.name == "nt":
        root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        path = os.path.join(root, "System32", "nvcuda.dll")
        return path if os.path.isfile(path) else None
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if d]
    for d in dirs + list(_LIB_DIRS):
        for name in ("libcuda.so.1", "libcuda.so"):
            path = os.path.join(d, name)
            if os.path.exists(path):
                return path
    return None


def _driver_from_files() -> tuple[str | None, str | None, bool]:
    text = _read_text("/proc/driver/nvidia/version", 4096)
    if text:
        for token in text.split():
            parts = token.split(".")
            if len(parts) >= 2 and all(p.isdigit() for p in parts):
                return token, "/proc/driver/nvidia/version", True
        return None, None, True
    text = _read_text("/sys/module/nvidia/version", 256)
    if text and text.strip():
        return text.strip(), "/sys/module/nvidia/version", False
    return None, None, False


def _toolkit_version_from_root(root: str) -> tuple[str | None, str | None]:
    text = _read_text(os.path.join(root, "version.json"))
    if text:
        try:
            v = _json_loads(text)["cuda"]["version"]
            return ".".join(v.split(".")[:2]), "version.json"
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
    text = _read_text(os.path.join(root, "version.txt"))
    if text and "Version" in text:
        return ".".join(text.split("Version", 1)[1].split()[0].split(".")[:2]), "version.txt"
    text = _read_text(os.path.join(root, "include", "cuda_runtime_api.h"), 65536)
    if text:
        for line in text.splitlines():
            if line.startswith("#define CUDART_VERSION"):
                n = int(line.split()[2])
                return "%d.%d" % (n // 1000, (n % 1000) // 10), "cuda_runtime_api.h"
    return None, None


def _wrapped_nvcc(path: str) -> str | None:
    """The real nvcc that a small wrapper script (``exec /opt/cuda/bin/nvcc "$@"``) runs."""
    text = _read_text(path, 2048)
    if not text or not text.startswith("#!"):
        return None
    for token in text.replace('"', " ").replace("'", " ").split():
        if token.startswith("/") and token.endswith("/bin/nvcc") and token != path:
            return os.path.realpath(token)
    return None


class _Accelerators:
    """Starts the slow parts (child processes) early; ``collect`` finishes the report."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.driver_version, self.driver_source, proc_exists = _driver_from_files()
        self.libcuda_path = _find_libcuda()
        self.cuda_child = None
        if proc_exists or self.libcuda_path:
            names = ["nvcuda.dll"] if os.name == "nt" else ["libcuda.so.1", "libcuda.so"]
            if self.libcuda_path and self.libcuda_path not in names:
                names.append(self.libcuda_path)
            timeout = float(os.environ.get("JUPYTER_ENVHELPER_CUDA_TIMEOUT") or CUDA_TIMEOUT)
            self.cuda_child = _Child(
                [sys.executable, "-I", "-S", "-c", _CUDA_CHILD, *names], timeout
            )
        self.smi_path = _which("nvidia-smi")
        self.smi_child = None
        if self.smi_path and (self.cuda_child is None or not self.driver_version):
            self.smi_child = self._start_smi()
        self.rocm = _RocmProbe()
        self.toolkit = self._toolkit()

    def _start_smi(self) -> _Child:
        argv = [
            self.smi_path or "nvidia-smi",
            "--query-gpu=name,compute_cap,driver_version",
            "--format=csv,noheader",
        ]
        return _Child(argv, TOOL_TIMEOUT)

    def _toolkit(self) -> dict[str, Any] | None:
        nvcc = _which("nvcc.exe" if os.name == "nt" else "nvcc")
        roots = []
        for var in ("CUDA_HOME", "CUDA_PATH"):
            if os.environ.get(var):
                roots.append((os.environ[var], "env:" + var))
        if nvcc:
            real = os.path.realpath(nvcc)
            roots.append((os.path.dirname(os.path.dirname(real)), "nvcc"))
            target = _wrapped_nvcc(real)
            if target:
                roots.append((os.path.dirname(os.path.dirname(target)), "nvcc wrapper"))
        if not roots and os.path.isdir("/usr/local/cuda"):
            roots.append(("/usr/local/cuda", "default"))
        for root, how in roots:
            version, source = _toolkit_version_from_root(root)
            if version:
                found_nvcc = os.path.join(root, "bin", "nvcc")
                return {
                    "version": version,
                    "root": root,
                    "found_by": how,
                    "source": source,
                    "nvcc": nvcc or (found_nvcc if os.path.exists(found_nvcc) else None),
                }
        if nvcc:
            self.nvcc_child = _Child([nvcc, "--version"], TOOL_TIMEOUT)
            return {
                "version": None,
                "root": None,
                "found_by": "nvcc",
                "source": "nvcc --version",
                "nvcc": nvcc,
            }
        return None

    def collect(self, by_name: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {
            "driver_version": self.driver_version,
            "driver_source": self.driver_source,
            "cuda_driver_version": None,
            "libcuda": None,
            "nvidia_smi": None,
            "devices": [],
            "cuda_wheels": [],
            "toolkit": self.toolkit,
            "torch": None,
            "overrides": {
                "CONDA_OVERRIDE_CUDA": os.environ.get("CONDA_OVERRIDE_CUDA"),
                "UV_CUDA_DRIVER_VERSION": os.environ.get("UV_CUDA_DRIVER_VERSION"),
                "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
            },
        }
        if self.cuda_child is not None:
            result["libcuda"] = self._collect_cuda(result)
        if self.smi_child is None and self.smi_path and not result["devices"]:
            self.smi_child = self._start_smi()
        if self.smi_child is not None:
            result["nvidia_smi"] = self._collect_smi(result)
        nvcc_child = getattr(self, "nvcc_child", None)
        if nvcc_child is not None and self.toolkit is not None:
            nvcc_child.wait()
            text = nvcc_child.stdout
            if "release " in text:
                self.toolkit["version"] = text.split("release ", 1)[1].split(",")[0].strip()
            elif nvcc_child.error:
                self.toolkit["error"] = nvcc_child.error
        for key, dist in sorted(by_name.items()):
            if key.startswith("nvidia-"):
                result["cuda_wheels"].append({"name": dist["name"], "version": dist["version"]})
        torch = by_name.get("torch")
        if torch is not None:
            result["torch"] = torch_cuda(torch)
        result["device_count"] = _nvidia_device_count(result)
        result["rocm"] = self.rocm.collect()
        result["mps"] = _mps_info()
        result["not_detected"] = _not_detected(result, self.smi_path)
        result["elapsed_ms"] = round((time.perf_counter() - self.t0) * 1000, 2)
        return result

    def _collect_cuda(self, result: dict[str, Any]) -> dict[str, Any]:
        assert self.cuda_child is not None
        child = self.cuda_child.wait()
        info: dict[str, Any] = {
            "attempted": True,
            "path": self.libcuda_path,
            "loaded": False,
            "init_result": None,
            "driver_version_int": None,
            "device_count": None,
            "timed_out": child.timed_out,
            "error": child.error,
        }
        for line in child.stdout.splitlines():
            try:
                ev = _json_loads(line)
            except ValueError:
                continue
            kind = ev.get("event")
            if kind == "load":
                info["loaded"] = bool(ev.get("ok"))
                if ev.get("ok"):
                    info["path"] = ev.get("path") or info["path"]
                else:
                    info["error"] = ev.get("error")
            elif kind == "version" and ev.get("rc") == 0 and ev.get("version"):
                n = int(ev["version"])
                info["driver_version_int"] = n
                result["cuda_driver_version"] = "%d.%d" % (n // 1000, (n % 1000) // 10)
            elif kind == "init":
                info["init_result"] = ev.get("rc")
                if ev.get("rc"):
                    info["error"] = "cuInit failed with CUDA error %s" % ev.get("rc")
            elif kind == "count":
                info["device_count"] = ev.get("count")
            elif kind == "device":
                result["devices"].append(
                    {
                        "index": ev.get("index"),
                        "name": ev.get("name"),
                        "compute_capability": ev.get("compute_capability"),
                        "source": "libcuda",
                    }
                )
        if child.returncode not in (0, None) and not child.timed_out and not info["error"]:
            info["error"] = "the CUDA check crashed (exit code %s)" % child.returncode
        if info["error"]:
            _warn("cuda-check-failed", "The NVIDIA driver check failed: %s." % info["error"])
        return info

    def _collect_smi(self, result: dict[str, Any]) -> dict[str, Any]:
        assert self.smi_child is not None
        child = self.smi_child.wait()
        info = {"path": self.smi_path, "ok": False, "error": child.error}
        if child.returncode == 0:
            info["ok"] = True
            devices = []
            for i, line in enumerate(child.stdout.splitlines()):
                parts = [p.strip() for p in line.split(",")]
                if len(parts) < 3 or not parts[0]:
                    continue
                devices.append(
                    {
                        "index": i,
                        "name": parts[0],
                        "compute_capability": parts[1] if parts[1][:1].isdigit() else None,
                        "source": "nvidia-smi",
                    }
                )
                if not result["driver_version"] and parts[2][:1].isdigit():
                    result["driver_version"] = parts[2]
                    result["driver_source"] = "nvidia-smi"
            if not result["devices"]:
                result["devices"] = devices
        elif not info["error"]:
            tail = (child.stderr or child.stdout).strip().splitlines()[-1:]
            info["error"] = "nvidia-smi exited with code %s%s" % (
                child.returncode,
                (": " + tail[0]) if tail else "",
            )
        return info


def _nvidia_device_count(result: dict[str, Any]) -> int | None:
    """Visible NVIDIA devices; 0 when the driver answered "no device"; None: unknown."""
    if result["devices"]:
        return len(result["devices"])
    lib = result.get("libcuda") or {}
    if lib.get("loaded") and lib.get("init_result") == 100:  # CUDA_ERROR_NO_DEVICE
        return 0
    if lib.get("loaded") and lib.get("init_result") == 0 and lib.get("device_count") == 0:
        return 0
    if (result.get("nvidia_smi") or {}).get("ok"):
        return 0
    return None


def _not_detected(result: dict[str, Any], smi_path: str | None) -> list[dict[str, str]]:
    """What was looked for and not found, and why, so silence is never the answer."""
    out = []
    if not result["devices"]:
        lib = result.get("libcuda") or {}
        smi = result.get("nvidia_smi") or {}
        if result.get("device_count") == 0:
            reason = "the NVIDIA driver is loaded but no GPU device is visible"
            if lib.get("init_result") == 100:
                reason += " (cuInit: CUDA_ERROR_NO_DEVICE)"
        elif not lib and not smi_path:
            reason = "no NVIDIA driver (libcuda.so.1) and no nvidia-smi were found"
        elif lib.get("error") or smi.get("error"):
            reason = "the NVIDIA driver check failed: %s" % (lib.get("error") or smi.get("error"))
        else:
            reason = "no NVIDIA GPU was reported"
        out.append({"kind": "nvidia", "reason": reason})
    rocm = result.get("rocm") or {}
    if not rocm.get("agents"):
        out.append({"kind": "rocm", "reason": rocm.get("reason") or "no AMD GPU was reported"})
    mps = result.get("mps") or {}
    if not mps.get("available"):
        out.append({"kind": "mps", "reason": mps.get("reason") or "not an Apple Silicon Mac"})
    return out


def _mps_info() -> dict[str, Any]:
    """Apple's GPU backend: PyTorch builds for macOS arm64 use MPS (Metal), never CUDA."""
    if getattr(sys, "platform", "") != "darwin":  # getattr: checked at run time, not by mypy
        return {"available": False, "reason": "not macOS"}
    machine = os.uname().machine if hasattr(os, "uname") else ""
    if machine == "arm64":
        return {"available": True, "source": "platform (macOS arm64)"}
    return {"available": False, "reason": "an Intel Mac: PyTorch's MPS needs Apple Silicon"}


_KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"


class _RocmProbe:
    """AMD GPUs: the amdgpu kernel driver's kfd topology, else ``rocm_agent_enumerator``
    (or ``amd-smi list``) when installed; ``gfx…`` names are what ROCm builds target."""

    def __init__(self) -> None:
        self.kfd = os.path.isdir("/sys/class/kfd")
        self.child = None
        self.tool = _which("rocm_agent_enumerator", ("/opt/rocm/bin",))
        self.smi = None if self.tool else _which("amd-smi", ("/opt/rocm/bin",))
        if self.tool:
            self.child = _Child([self.tool], TOOL_TIMEOUT)
        elif self.smi:
            self.child = _Child([self.smi, "list"], TOOL_TIMEOUT)

    def collect(self) -> dict[str, Any]:
        info: dict[str, Any] = {"driver": self.kfd, "agents": [], "source": None}
        text = _read_text("/opt/rocm/.info/version", 256)
        info["version"] = text.strip().split("-")[0] if text and text.strip() else None
        if self.kfd:
            info["agents"] = _kfd_agents()
            info["source"] = "/sys/class/kfd"
        if not info["agents"] and self.child is not None:
            child = self.child.wait()
            if child.returncode == 0 and self.tool:
                names = [line.strip() for line in child.stdout.splitlines()]
                info["agents"] = [n for n in names if n.startswith("gfx") and n != "gfx000"]
                info["source"] = "rocm_agent_enumerator"
            elif child.returncode == 0:
                info["agents"] = _amd_smi_agents(child.stdout)
                info["source"] = "amd-smi"
            else:
                info["error"] = child.error or "%s exited with code %s" % (
                    os.path.basename(child.argv[0]),
                    child.returncode,
                )
        if not info["agents"]:
            if self.kfd:
                info["reason"] = "the AMD kernel driver (kfd) is loaded but lists no GPU"
            elif self.child is None:
                info["reason"] = "no AMD GPU driver (/sys/class/kfd) and no ROCm tools found"
            else:
                info["reason"] = info.get("error") or "the ROCm tools list no GPU"
        return info


def _kfd_agents() -> list[str]:
    try:
        nodes = sorted(os.listdir(_KFD_NODES), key=lambda n: int(n) if n.isdigit() else 0)
    except OSError:
        return []
    agents = []
    for node in nodes:
        text = _read_text(os.path.join(_KFD_NODES, node, "properties"), 16384) or ""
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "gfx_target_version" and value.strip().isdigit():
                n = int(value)
                if n:  # CPU nodes say 0; 90010 -> gfx90a, 110000 -> gfx1100
                    major, minor, step = n // 10000, (n // 100) % 100, n % 100
                    agents.append("gfx%d%x%x" % (major, minor, step))
    return agents


def _amd_smi_agents(text: str) -> list[str]:
    """``amd-smi list`` names GPUs, not gfx targets: one ``unknown`` entry per GPU."""
    return ["unknown" for line in text.splitlines() if line.strip().startswith("GPU:")]


def torch_cuda(dist: dict[str, Any]) -> dict[str, Any]:
    version = dist["version"] or ""
    info = {"version": version, "cuda": None, "cpu_only": False, "source": None}
    local = version.partition("+")[2]
    if local.startswith("cu") and local[2:].isdigit():
        digits = local[2:]
        info["cuda"] = "%s.%s" % (digits[:-1], digits[-1])
        info["source"] = "local-version"
        return info
    if local in ("cpu", "cxx11abi") or local.startswith("rocm"):
        info["cpu_only"] = local == "cpu"
        info["source"] = "local-version"
        if local.startswith("rocm"):
            info["rocm"] = local[4:]
        return info
    text = _read_text(os.path.join(dist["location"], "torch", "version.py"), 8192) or ""
    for line in text.splitlines():
        if line.startswith("cuda"):
            value = line.split("=", 1)[-1].strip().strip("'\"")
            if value and value != "None":
                info["cuda"] = value
            else:
                info["cpu_only"] = True
            info["source"] = "torch/version.py"
            return info
    for req in dist["requires"]:
        name = req.split(";")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower()
        base = name.split("[")[0].strip()
        if base == "cuda-toolkit" or (base.startswith("nvidia-cuda-") and "-cu1" not in base):
            # CUDA 13 wheels: no -cu13 suffix, the pin is the toolkit's version
            pin = req.split(";")[0].partition("==")[2].strip().split(".")
            if len(pin) >= 2 and pin[0].isdigit() and pin[1].isdigit():
                info["cuda"] = "%s.%s" % (pin[0], pin[1])
                info["source"] = "requirements"
                return info
        if name.startswith("nvidia-") and "-cu" in name:
            info["cuda"] = name.rsplit("-cu", 1)[1]
            info["source"] = "requirements"
            return info
    return info


# ---------------------------------------------------------------- main


def probe() -> dict[str, Any]:
    accel = _Accelerators()  # starts child processes first; they run while we read files
    markers = marker_environment()
    paths = paths_info()
    env_info = environment_info(paths)
    dists, dist_dirs, by_name = distributions_info(paths)
    paths["distribution_dirs"] = dist_dirs
    installers = installers_info(paths, env_info, by_name)
    if env_info["externally_managed"]:
        _warn(
            "externally-managed",
            "This Python is managed by the system (PEP 668): installing into it is refused.",
        )
    if not env_info["site_packages_writable"]:
        _warn("not-writable", "You cannot write to %s." % paths["purelib"])
    doc = {
        "schema": SCHEMA,
        "interpreter": interpreter_info(),
        "markers": markers,
        "platform": platform_info(markers),
        "paths": paths,
        "environment": env_info,
        "installers": installers,
        "index": {"pip": pip_index_info(), "uv": uv_index_info()},
        "distributions": dists,
        "build_tools": build_tools_info(paths),
        "accelerators": accel.collect(by_name),
        "warnings": _WARNINGS,
    }
    doc["elapsed_ms"] = round((time.perf_counter() - _T0) * 1000, 2)
    return doc


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == here:
        del sys.path[0]  # our own directory is not part of the target's environment
    doc = probe()
    data = (to_json(doc) + "\n").encode("utf-8", "replace")
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        stream.write(data)
    sys.stdout.flush()
    if "--bytecode" in sys.argv[1:-1]:
        target = sys.argv[sys.argv.index("--bytecode") + 1]
        if hasattr(os, "fork") and not os.path.exists(target):
            # the answer is out: the caller need not wait for the compiling (~50 ms),
            # so a child writes the file once this process has exited
            sys.stderr.flush()
            if os.fork() != 0:
                os._exit(0)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)  # the caller's pipes end with this process
            try:
                _write_bytecode(target)
            finally:
                os._exit(0)
        _write_bytecode(target)


def _write_bytecode(target: str) -> None:
    """Compile this file to ``target`` so the next run skips compiling ~1000 lines.

    ``python target.pyc`` runs it directly; the caller keys ``target`` by this
    file's content and the interpreter, so a stale file is never used.
    """
    if not __file__.endswith(".py") or os.path.exists(target):
        return
    try:
        import py_compile

        os.makedirs(os.path.dirname(target), exist_ok=True)
        py_compile.compile(__file__, cfile=target, doraise=True)
    except Exception:
        pass


if __name__ == "__main__":
    main()
