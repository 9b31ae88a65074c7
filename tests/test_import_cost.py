"""What the command line and the core import before they are asked anything.

Every ``python -m jupyter_envhelper`` start pays for its imports; the kernel client
(jupyter_client, zmq), the server (jupyter_server, tornado) and the widgets are only
for a server, a remote kernel or a notebook, so importing the CLI or building a core
must not load them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest_envs import uv_venv, venv_factory  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parent.parent

HEAVY = ("jupyter_client", "zmq", "jupyter_server", "tornado", "ipywidgets", "IPython")


def _loaded_after(code: str, watched: tuple[str, ...] = HEAVY) -> list[str]:
    probe = (
        "import json, sys\n"
        + code
        + f"\nprint(json.dumps(sorted(m for m in {watched!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_cli_and_core_import_no_kernel_or_server_machinery() -> None:
    assert _loaded_after("import jupyter_envhelper.cli, jupyter_envhelper.core") == []


def test_the_http_client_is_imported_when_an_index_is_first_asked() -> None:
    # httpx and its transports are a tenth of a start-up; a plan imports them on a
    # thread while it probes its target (core/indexes.py: prewarm)
    http = ("httpx", "httpcore", "jupyter_envhelper.index.threaded")
    assert _loaded_after("import jupyter_envhelper.cli, jupyter_envhelper.core", http) == []
    made = "from jupyter_envhelper.index import IndexClient\nIndexClient()._fetcher.client"
    assert _loaded_after(made, http) == ["httpx", "jupyter_envhelper.index.threaded"]


def test_the_job_machinery_is_imported_when_a_job_is_first_asked_for() -> None:
    # a command that only plans never loads the runner, the history or the
    # installers; the first job (or history) the core is asked for does
    jobs = ("jupyter_envhelper.jobs.history", "jupyter_envhelper.jobs.runner")
    code = (
        "import jupyter_envhelper.cli\n"
        "from jupyter_envhelper.core import CoreConfig, build_core\n"
        "core = build_core(CoreConfig(), one_shot=True)"
    )
    assert _loaded_after(code, jobs) == []
    assert _loaded_after(code + "\ncore.jobs.runner", jobs) == list(jobs)


def test_remote_package_imports_jupyter_client_only_when_a_kernel_is_used() -> None:
    # The remote prober and job runner are part of every core; their kernel client is not.
    code = "import jupyter_envhelper.remote, jupyter_envhelper.remote.jobs"
    assert _loaded_after(code) == []


def test_building_a_core_with_a_given_spec_manager_imports_no_kernel_client(
    tmp_path: Path,
) -> None:
    code = (
        "from jupyter_envhelper.core import CoreConfig, build_core\n"
        "class Specs:\n"
        "    def get_all_specs(self): return {}\n"
        f"config = CoreConfig(cache_dir={str(tmp_path)!r}, "
        f"history_path={str(tmp_path / 'history.sqlite')!r})\n"
        "core = build_core(config, kernel_spec_manager=Specs())\n"
        "assert core.locator.prober is not None\n"
    )
    assert _loaded_after(code) == []


def _locate_code(python: Path, tmp_path: Path) -> str:
    """Build the command line's core (no spec manager given) and locate ``--python``."""
    return (
        "import asyncio\n"
        "from jupyter_envhelper.core import CoreConfig, Target, build_core\n"
        f"config = CoreConfig(cache_dir={str(tmp_path / 'cache')!r}, "
        f"history_path={str(tmp_path / 'history.sqlite')!r})\n"
        "core = build_core(config)\n"
        f"located = asyncio.run(core.locator.locate(Target(python={str(python)!r})))\n"
        "assert located.state == 'ok', located.reason\n"
        "print(json.dumps(located.kernel))\n"
    )


def _kernelspec(root: Path, name: str, argv0: str) -> None:
    spec = root / "kernels" / name
    spec.mkdir(parents=True)
    argv = [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": f"Kernel {name}", "language": "python"})
    )


def _run(code: str, env: dict[str, str]) -> list[str]:
    probe = (
        "import json, sys\n"
        + code
        + f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True, text=True, timeout=120, cwd=REPO, check=True, env=env,
    )  # fmt: skip
    return done.stdout.strip().splitlines()


def _isolated(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOME=str(tmp_path / "home"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_PATH=str(tmp_path / "path"),
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    return env


def test_planning_for_an_interpreter_no_kernel_runs_imports_no_kernel_client(
    tmp_path: Path,
    uv_venv: Path,  # noqa: F811 (the fixture)
) -> None:
    # a kernelspec of another interpreter is read, and nothing of jupyter_client or
    # IPython is needed to tell that it is not this one
    _kernelspec(tmp_path / "path", "other", str(tmp_path / "elsewhere" / "bin" / "python"))
    python = uv_venv
    kernel, loaded = _run(_locate_code(python, tmp_path), _isolated(tmp_path))
    assert json.loads(kernel) is None
    assert json.loads(loaded) == []


def test_an_interpreter_a_kernelspec_starts_is_still_that_kernel(
    tmp_path: Path,
    uv_venv: Path,  # noqa: F811 (the fixture)
) -> None:
    python = uv_venv
    _kernelspec(tmp_path / "path", "mine", str(python))
    kernel, _loaded = _run(_locate_code(python, tmp_path), _isolated(tmp_path))
    found = json.loads(kernel)
    assert found["name"] == "mine" and found["display_name"] == "Kernel mine"
