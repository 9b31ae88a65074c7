"""From a kernelspec (or a running kernel) to the Python interpreter it runs.

The kernel's interpreter is the target of everything this project does, so it
is found the way the kernel itself is started: ``argv[0]`` as jupyter_client
formats it (``python``/``python3``/``python3.X`` of the server's own version
become the server's ``sys.executable``), looked up on the PATH the kernel
would see (the server's environment with the kernelspec's ``env`` on top),
through the wrappers people put in front of Python (``env``, ``conda run``,
nb_conda_kernels' runner, ``bash -c "source .../activate && exec python"``).

When the kernel runs, the kernel itself is asked (``sys.executable``, executed
silently, not stored in history) and its answer wins over the kernelspec.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import queue
import re
import shlex
import shutil
import string
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WINDOWS = sys.platform == "win32"
_CONDA_RUNNERS = {"conda", "mamba", "micromamba"}
_SHELLS = {"sh", "bash", "zsh", "dash"}


@dataclass(frozen=True)
class Resolution:
    """Where a kernelspec's Python is, or why we cannot tell."""

    interpreter: str | None
    source: str | None
    reason: str | None = None


@dataclass(frozen=True)
class KernelTarget:
    """A kernelspec, resolved to the interpreter it would start."""

    name: str
    display_name: str
    language: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    resolution: Resolution = Resolution(None, None, "not resolved")

    @property
    def is_python(self) -> bool:
        return is_python_language(self.language)

    @property
    def interpreter(self) -> str | None:
        return self.resolution.interpreter

    def probe_env(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment the kernel process would get: the server's, with the spec's on top."""
        return kernel_environment(self.env, os.environ if environ is None else environ)


def is_python_language(language: str) -> bool:
    return language.strip().lower() in {"python", "python3", "python2"}


def kernel_environment(spec_env: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """Merge a kernelspec's ``env`` onto ``environ``, expanding ``${VAR}`` like jupyter_client."""
    merged = dict(environ)
    for key, value in spec_env.items():
        merged[key] = string.Template(str(value)).safe_substitute(environ)
    return merged


def target_from_spec(
    name: str,
    spec: Any,
    *,
    server_python: str = sys.executable,
    environ: Mapping[str, str] | None = None,
) -> KernelTarget:
    """Build a KernelTarget from a jupyter_client KernelSpec (or anything shaped like one)."""
    environ = os.environ if environ is None else environ
    language = str(getattr(spec, "language", "") or "")
    argv = [str(a) for a in (getattr(spec, "argv", None) or [])]
    spec_env = {str(k): str(v) for k, v in (getattr(spec, "env", None) or {}).items()}
    resource_dir = str(getattr(spec, "resource_dir", "") or "")
    argv = [a.replace("{resource_dir}", resource_dir) for a in argv]
    if not is_python_language(language):
        resolution = Resolution(None, None, f"This is a {language or 'non-Python'} kernel.")
    else:
        resolution = resolve_interpreter(
            argv, kernel_environment(spec_env, environ), server_python=server_python
        )
    return KernelTarget(
        name=name,
        display_name=str(getattr(spec, "display_name", "") or name),
        language=language,
        argv=argv,
        env=spec_env,
        resolution=resolution,
    )


def resolve_interpreter(
    argv: Sequence[str], env: Mapping[str, str], *, server_python: str = sys.executable
) -> Resolution:
    """Find the Python a kernel command line starts."""
    if not argv:
        return Resolution(None, None, "The kernelspec has an empty argv.")
    args = list(argv)
    source = "kernelspec"
    # `env [-i] [NAME=VALUE ...] cmd ...`
    if _basename(args[0]) == "env":
        args = _strip_env_wrapper(args[1:])
        source = "env wrapper"
        if not args:
            return Resolution(None, None, "The kernelspec runs `env` with no command.")
    head = _basename(args[0])
    if head in _CONDA_RUNNERS and len(args) > 1 and args[1] == "run":
        return _resolve_conda_run(args, env)
    if head in _SHELLS:
        return _resolve_shell_wrapper(args, env, server_python)
    if "nb_conda_kernels.runner" in args:
        i = args.index("nb_conda_kernels.runner")
        if len(args) > i + 2:
            return _existing(_python_in_prefix(args[i + 2]), "nb_conda_kernels runner")
        return Resolution(None, None, "The nb_conda_kernels runner has no environment path.")
    return _resolve_command(args[0], env, server_python, source)


def _resolve_command(
    cmd: str, env: Mapping[str, str], server_python: str, source: str
) -> Resolution:
    major, minor = sys.version_info[:2]
    if cmd in {"python", f"python{major}", f"python{major}.{minor}"}:
        # jupyter_client swaps these for the server's own interpreter.
        return Resolution(server_python, "server's Python")
    if os.path.isabs(cmd):
        return _existing(cmd, source)
    found = shutil.which(cmd, path=env.get("PATH", os.defpath))
    if found is None:
        return Resolution(
            None,
            None,
            f"`{cmd}` from the kernelspec is not on the kernel's PATH; "
            "install it or fix the kernelspec's argv.",
        )
    return Resolution(os.path.abspath(found), f"{cmd} on the kernel's PATH")


def _existing(path: str, source: str) -> Resolution:
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return Resolution(path, source)
    return Resolution(
        None,
        None,
        f"The kernelspec points at {path}, which does not exist (was the environment removed?).",
    )


def _strip_env_wrapper(args: list[str]) -> list[str]:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in {"-i", "--ignore-environment", "-0", "--null", "-v"}:
            i += 1
        elif arg in {"-u", "--unset", "-C", "--chdir"}:
            i += 2
        elif arg.startswith("-") or ("=" in arg and not arg.startswith("/")):
            i += 1
        else:
            break
    return args[i:]


def _python_in_prefix(prefix: str) -> str:
    if _WINDOWS:
        return os.path.join(prefix, "python.exe")
    return os.path.join(prefix, "bin", "python")


def _resolve_conda_run(args: list[str], env: Mapping[str, str]) -> Resolution:
    runner = args[0]
    prefix: str | None = None
    name: str | None = None
    i = 2
    while i < len(args):
        arg = args[i]
        if arg in {"-p", "--prefix"} and i + 1 < len(args):
            prefix, i = args[i + 1], i + 2
        elif arg.startswith("--prefix="):
            prefix, i = arg.split("=", 1)[1], i + 1
        elif arg in {"-n", "--name"} and i + 1 < len(args):
            name, i = args[i + 1], i + 2
        elif arg.startswith("--name="):
            name, i = arg.split("=", 1)[1], i + 1
        elif arg.startswith("-"):
            i += 1
        else:
            break
    if prefix is None and name is not None:
        prefix = _conda_env_prefix(runner, name, env)
    if prefix is None:
        return Resolution(
            None, None, f"`{runner} run` without -n/-p: cannot tell which environment it uses."
        )
    return _existing(_python_in_prefix(prefix), f"{_basename(runner)} run")


def _conda_env_prefix(runner: str, name: str, env: Mapping[str, str]) -> str | None:
    exe = runner if os.path.isabs(runner) else shutil.which(runner, path=env.get("PATH"))
    roots = []
    if env.get("CONDA_ROOT"):
        roots.append(env["CONDA_ROOT"])
    if env.get("MAMBA_ROOT_PREFIX"):
        roots.append(env["MAMBA_ROOT_PREFIX"])
    if exe:
        # <root>/bin/conda or <root>/condabin/conda
        roots.append(str(Path(exe).resolve().parent.parent))
    for root in roots:
        if name == "base":
            return root
        candidate = os.path.join(root, "envs", name)
        if os.path.isdir(candidate):
            return candidate
    for envs_dir in env.get("CONDA_ENVS_PATH", "").split(os.pathsep):
        if envs_dir and os.path.isdir(os.path.join(envs_dir, name)):
            return os.path.join(envs_dir, name)
    return None


_ACTIVATE = re.compile(r"(?:source|\.)\s+(\S+?)/bin/activate\b")
_CONDA_ACTIVATE = re.compile(r"conda\s+activate\s+(\S+)")


def _resolve_shell_wrapper(
    args: list[str], env: Mapping[str, str], server_python: str
) -> Resolution:
    """Best effort for ``bash -c "source X/bin/activate && exec python ..."``."""
    script = ""
    if "-c" in args and args.index("-c") + 1 < len(args):
        script = args[args.index("-c") + 1]
    elif len(args) > 1 and os.path.isfile(args[1]):
        try:
            script = Path(args[1]).read_text(encoding="utf-8", errors="replace")[:20_000]
        except OSError:
            script = ""
    if not script:
        return Resolution(
            None, None, "The kernel starts through a shell; start it to see its Python."
        )
    match = _ACTIVATE.search(script)
    if match:
        return _existing(_python_in_prefix(match.group(1)), "shell wrapper (activate)")
    match = _CONDA_ACTIVATE.search(script)
    if match and os.path.isabs(match.group(1)):
        return _existing(_python_in_prefix(match.group(1)), "shell wrapper (conda activate)")
    for line in script.replace("&&", "\n").replace(";", "\n").splitlines():
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        if words and words[0] == "exec":
            words = words[1:]
        if words and "python" in _basename(words[0]):
            resolved = _resolve_command(words[0], env, server_python, "shell wrapper")
            if resolved.interpreter:
                return resolved
    return Resolution(None, None, "The kernel starts through a shell; start it to see its Python.")


def _basename(path: str) -> str:
    name = os.path.basename(path)
    return name[:-4] if _WINDOWS and name.lower().endswith(".exe") else name


# -- running kernels --------------------------------------------------------------------------

KERNEL_EXPRESSION_EXECUTABLE = "__import__('sys').executable"


def shell_client(kernel_manager: Any) -> Any:
    """A started client of a running kernel with its shell channel only (one socket).

    ``evaluate_in_kernel`` makes one per call unless it is given one to reuse: making
    one (a Session clone, a socket, its registration on the event loop) and closing
    it cost the server's event loop a few milliseconds, which a caller asking a kernel
    on every request saves by keeping it (one query at a time; ``stop_channels`` when
    the kernel is gone)."""
    # the kernel manager's own zmq context, as jupyter-server's websocket channels use
    # it: a context per call starts an I/O thread and ends it with a blocking term()
    # on the server's event loop
    context = getattr(kernel_manager, "context", None)
    client = kernel_manager.client(**({"context": context} if context is not None else {}))
    # the shell channel only (the default): each other one is a socket, hb a thread
    client.start_channels(iopub=False, stdin=False, hb=False, control=False)
    return client


async def evaluate_in_kernel(
    kernel_manager: Any,
    expressions: Mapping[str, str],
    *,
    timeout: float = 5.0,
    client: Any = None,
) -> dict[str, Any]:
    """Evaluate ``expressions`` in a running kernel without touching its history.

    Uses ``user_expressions`` of a silent execute request, so nothing is printed,
    the execution count does not move and nothing enters the history. Values come
    back as their ``repr`` and are read with ``ast.literal_eval``. Raises
    ``TimeoutError`` when the kernel does not answer (busy with a long cell) and
    ``RuntimeError`` when it answers with an error. ``client``: a ``shell_client`` of
    this kernel to use (and keep open) instead of a new one; replies to other requests
    on it (one that timed out) are skipped.
    """
    own = client is None
    if own:
        client = shell_client(kernel_manager)
    try:
        msg_id = client.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions=dict(expressions),
            allow_stdin=False,
        )
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the kernel did not answer in time")
            try:
                reply = client.get_shell_msg(timeout=remaining)
                if inspect.isawaitable(reply):
                    reply = await asyncio.wait_for(reply, remaining)
            # jupyter_client's channels raise queue.Empty on their own timeout, which
            # races ours; Python < 3.11 has its own asyncio.TimeoutError type
            except (queue.Empty, asyncio.TimeoutError) as exc:
                raise TimeoutError("the kernel did not answer in time") from exc
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(content.get("evalue") or "the kernel reported an error")
        values: dict[str, Any] = {}
        for key, result in (content.get("user_expressions") or {}).items():
            if result.get("status") != "ok":
                raise RuntimeError(f"{key}: {result.get('ename')}: {result.get('evalue')}")
            text = result.get("data", {}).get("text/plain", "")
            try:
                values[key] = ast.literal_eval(text)
            except (ValueError, SyntaxError) as exc:
                raise RuntimeError(f"{key}: unreadable answer {text[:80]!r}") from exc
        return values
    finally:
        if own:
            client.stop_channels()
