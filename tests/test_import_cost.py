"""What the command line and the core import before they are asked anything.

Every ``python -m jupyter_envhelper`` start pays for its imports; the kernel client
(jupyter_client, zmq), the server (jupyter_server, tornado) and the widgets are only
for a server, a remote kernel or a notebook, so importing the CLI or building a core
must not load them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HEAVY = ("jupyter_client", "zmq", "jupyter_server", "tornado", "ipywidgets", "IPython")


def _loaded_after(code: str) -> list[str]:
    probe = (
        "import json, sys\n"
        + code
        + f"\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
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
