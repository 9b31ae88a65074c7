"""The probe of a command's target, started as the process starts (standard library only).

A command line that plans for an interpreter probes it first: a subprocess of ~100 ms.
Importing the rest of jupyter-envhelper takes longer than that, and needs nothing from
the probe, so ``start_for_command`` (called by ``__main__`` before those imports)
starts the probe the command will ask for on a thread right away, unless the disk
cache already holds a fresh answer for it. ``Prober`` then takes a successful result
(``take``) instead of probing the same interpreter with the same environment again;
anything else (another interpreter or environment, a failed early run, whose failure
is then found and told as always) is probed as before, so starting early never
changes an answer, it only makes it sooner.

The helpers that decide what a probe runs and whether a cached answer still holds live
here too, so that this module and ``prober.py`` cannot disagree about them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import process
from ..paths import user_cache_dir

PROBE_SCRIPT = Path(__file__).with_name("script.py")
DEFAULT_TIMEOUT = 60.0
# the commands that probe their target first (``--python``, or this interpreter)
PROBING_COMMANDS = frozenset(
    {"plan", "install", "inspect", "show", "needs", "export", "outdated", "update", "why"}
)
# the commands whose plan reads JSON API documents through a helper process
# (index/offload.py), started as the command starts
HELPED_COMMANDS = frozenset({"plan", "install"})
# a target that is not an interpreter given here: a kernel, an imagined target
_OTHER_TARGETS = ("--kernel", "--target-python-version", "--target-platform")


class _Run:
    """One early run: its result (or what it raised) once the thread is done."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: process.ProcessResult | None = None
        self.error: BaseException | None = None

    def wait(self) -> process.ProcessResult:
        self.done.wait()
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


_started: dict[tuple[Any, ...], _Run] = {}
_lock = threading.Lock()


# -- what a probe runs, and whether a kept answer holds (shared with prober.py) -------------


def source_hash() -> str:
    return hashlib.sha256(PROBE_SCRIPT.read_bytes()).hexdigest()[:16]


def bytecode_path(cache_dir: Path, python: str, script_hash: str) -> Path | None:
    """Where the probe script compiled for ``python`` is kept (None: no such program)."""
    try:
        st = os.stat(python)
    except OSError:
        return None
    ident = f"{os.path.realpath(python)}\0{st.st_mtime_ns}\0{st.st_size}"
    digest = hashlib.sha256(ident.encode()).hexdigest()[:16]
    return cache_dir / "bytecode" / f"probe-{script_hash}-{digest}.pyc"


def run_environment(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment a probe runs with: ours, ``env`` on top, no start-up script."""
    run_env = dict(os.environ)
    run_env.update(env or {})
    run_env.pop("PYTHONSTARTUP", None)
    run_env["PYTHONIOENCODING"] = "utf-8"
    return run_env


def cache_key(python: str, env: Mapping[str, str] | None) -> str:
    extra = json.dumps(sorted((env or {}).items()))
    return os.path.abspath(python) + "\0" + extra


def disk_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "probes" / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")


def stat_sig(path: str | None) -> list[Any]:
    if not path:
        return [None, None]
    try:
        st = os.stat(path)
    except OSError:
        return [path, None]
    return [path, st.st_mtime_ns, st.st_size]


def config_paths(doc: Mapping[str, Any]) -> list[str]:
    """The installer configuration files the probe looked at (existing or not) and the
    constraint files they name: editing, adding or removing one makes a new probe."""
    out: list[str] = []
    for section in (doc.get("index") or {}).values():
        if not isinstance(section, Mapping):
            continue
        for item in section.get("config_files") or ():
            if isinstance(item, Mapping) and isinstance(item.get("path"), str):
                out.append(item["path"])
        constraints = section.get("constraints") or {}
        for item in constraints.get("files") or () if isinstance(constraints, Mapping) else ():
            if isinstance(item, Mapping) and isinstance(item.get("path"), str):
                out.append(item["path"])
    return out


def signature(python: str, doc: Mapping[str, Any]) -> list[Any]:
    paths = doc.get("paths") or {}
    watched = [python]
    for key in ("purelib", "platlib", "user_site"):
        if paths.get(key):
            watched.append(paths[key])
    watched.extend(paths.get("distribution_dirs") or ())
    watched.extend(config_paths(doc))
    seen: set[str] = set()
    out = []
    for path in watched:
        if path not in seen:
            seen.add(path)
            out.append(stat_sig(path))
    return out


def _kept_and_fresh(cache_dir: Path, python: str, key: str) -> bool:
    """Whether the disk cache has an answer for ``key`` whose signature still holds."""
    try:
        raw = json.loads(disk_path(cache_dir, key).read_text(encoding="utf-8"))
        return bool(raw.get("key") == key and raw["signature"] == signature(python, raw["doc"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False


# -- starting early, taking the result --------------------------------------------------------


def _argv(python: str, cache_dir: Path) -> list[str]:
    pyc = bytecode_path(cache_dir, python, source_hash())
    if pyc is not None and pyc.exists():
        return [python, str(pyc)]
    argv = [python, str(PROBE_SCRIPT)]
    if pyc is not None:
        argv += ["--bytecode", str(pyc)]
    return argv


def _run_key(python: str, run_env: Mapping[str, str]) -> tuple[Any, ...]:
    return (os.path.abspath(python), tuple(sorted(run_env.items())))


def start(
    python: str,
    probe_env: Mapping[str, str] | None = None,
    *,
    cache_dir: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> bool:
    """Start probing ``python`` on a daemon thread unless a fresh answer is on disk;
    True when a run was started. Never raises: a probe that could not start early is
    started later, and says then what is wrong."""
    try:
        python = os.path.abspath(python)
        if not os.path.isfile(python) or not os.access(python, os.X_OK):
            return False
        cache_dir = cache_dir if cache_dir is not None else user_cache_dir()
        if _kept_and_fresh(cache_dir, python, cache_key(python, probe_env)):
            return False
        argv = _argv(python, cache_dir)
        run_env = run_environment(probe_env)
    except (OSError, ValueError):
        return False
    early = _Run()
    with _lock:
        if _started:
            return False  # one early probe per process
        _started[_run_key(python, run_env)] = early

    def run() -> None:
        try:
            early.result = process.run(argv, env=run_env, timeout=timeout)
        except BaseException as exc:  # handed to whoever takes it
            early.error = exc
        finally:
            early.done.set()

    threading.Thread(target=run, name="envhelper-early-probe", daemon=True).start()
    return True


def take(python: str, run_env: Mapping[str, str]) -> process.ProcessResult | None:
    """The result of the early probe of ``python`` with exactly this environment,
    waited for (once: a second ask runs anew); None when there was none. Whether it
    ran the script or its compiled form, the report is the same."""
    with _lock:
        found = _started.pop(_run_key(python, run_env), None) if _started else None
    return None if found is None else found.wait()


def _import_http(index_url: str | None, spare: bool = False) -> None:
    if spare:  # first: it starts in ~0.1 s, on the other core
        from ..index.offload import spawn_spare

        spawn_spare()
    # httpx is not imported by the command's own imports (only by its first client):
    # done here meanwhile, it is off the way to the first request; so are the CA
    # bundle (the client's SSL context) and the first connections to the index the
    # command names (else PyPI, which a plan connects to first unless configured
    # otherwise, as core/indexes.py does once it knows: then these go unused)
    with contextlib.suppress(ImportError):  # a dependency: the client says it then
        import httpx  # noqa: F401

        from ..index.config import PYPI_SIMPLE, ssl_context_from_env
        from ..index.threaded import connect_ahead

        url = index_url or PYPI_SIMPLE
        if url.startswith(("https://", "http://")):
            connect_ahead(url.split("#", 1)[0], verify=ssl_context_from_env)


def start_for_command(argv: Sequence[str]) -> bool:
    """``start`` for the command line ``argv`` (without the program name) when its
    command probes an interpreter given with ``--python`` (or this one); True when a
    probe was started. Such a command asks an index next: the HTTP client's modules
    are imported on another thread meanwhile (and, for a plan, the helper process that
    reads the JSON API documents is started)."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in PROBING_COMMANDS or "--help" in argv or "-h" in argv:
        return False
    index_url = _option(argv, "--index-url")
    threading.Thread(
        target=_import_http,
        args=(index_url, command in HELPED_COMMANDS),
        name="envhelper-early-imports",
        daemon=True,
    ).start()
    if any(
        a in _OTHER_TARGETS or a.startswith(tuple(f"{o}=" for o in _OTHER_TARGETS)) for a in argv
    ):
        return False
    python = _option(argv, "--python") or sys.executable
    # a --python target's probe carries our whole environment (core/targets.py)
    return start(python, dict(os.environ))


def _option(argv: Sequence[str], name: str) -> str | None:
    """The value of the last ``name VALUE`` or ``name=VALUE`` in ``argv``."""
    found = None
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith(f"{name}="):
            found = arg.partition("=")[2]
    return found
