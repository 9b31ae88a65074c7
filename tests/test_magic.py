"""``%envhelp`` in a real ipykernel that runs from a throwaway venv.

The venv gets the test runner's site-packages (and this checkout) through a ``.pth``
file, so ipykernel imports without a download; installs from the local test index
land in the venv's own site-packages, which is what the tests check.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest_envs import venv_factory  # noqa: F401 (fixture)
from tests.indexserver import DistSpec, IndexServer

pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

REPO = Path(__file__).resolve().parent.parent
KERNEL = "envhelp-test"
DISTS = [
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain", summary="Plain and simple"),
    DistSpec("dep", "1.0", module="dep"),
    DistSpec("needs312", "2.0", requires_python=">=3.12", summary="new Python only"),
    DistSpec("opencv-python", "4.9.0", module="cv2", summary="Computer vision"),
    DistSpec("widgetpkg", "1.0", module="widgetpkg"),
]


@dataclass
class Outputs:
    text: str = ""
    comm_opens: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""


@dataclass
class Kernel:
    client: Any
    index_url: str
    python: Path
    data_dir: Path | None = None

    def last_outcome(self) -> str:
        """The latest job's recorded outcome (what a failed one said), for a message."""
        import sqlite3

        if self.data_dir is None:
            return ""
        with contextlib.closing(
            sqlite3.connect(self.data_dir / "envhelper" / "history.sqlite")
        ) as db:
            row = db.execute(
                "SELECT outcome, log_tail FROM jobs ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return repr(row)

    def run(self, code: str, *, allow_stdin: bool = False, timeout: float = 240) -> Outputs:
        out = Outputs()

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.text += content["text"]
            elif kind == "error":
                out.text += "\n".join(content["traceback"]) + "\n"
            elif kind in {"display_data", "execute_result"}:
                out.text += content["data"].get("text/plain", "") + "\n"
            elif kind == "comm_open":
                out.comm_opens.append(content)

        reply = self.client.execute_interactive(
            code, allow_stdin=allow_stdin, output_hook=hook, timeout=timeout
        )
        out.status = reply["content"]["status"]
        return out


@pytest.fixture(scope="module")
def index() -> Iterator[IndexServer]:
    server = IndexServer(DISTS).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kernel(
    venv_factory: Any,  # noqa: F811
    index: IndexServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Kernel]:
    from jupyter_client.manager import start_new_kernel

    python = venv_factory("magic-kernel")
    venv = python.parent.parent
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    runner_site = sysconfig.get_path("purelib")
    (site / "_envhelper_test_runner.pth").write_text(f"{runner_site}\n{REPO}\n", "utf-8")
    root = tmp_path_factory.mktemp("magic")
    spec_dir = root / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Envhelp test", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), "utf-8")
    env = {
        **os.environ,
        "JUPYTER_PATH": str(root / "jupyter"),
        "JUPYTER_DATA_DIR": str(root / "data"),
        "XDG_CACHE_HOME": str(root / "cache"),
        "PYTHONNOUSERSITE": "1",
        "PIP_CONFIG_FILE": os.devnull,
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", env["JUPYTER_PATH"])
        km, kc = start_new_kernel(kernel_name=KERNEL, env=env, startup_timeout=120)
    try:
        k = Kernel(kc, index.index_url, python, root / "data")
        loaded = k.run("%load_ext jupyter_envhelper")
        assert loaded.status == "ok", loaded.text
        yield k
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def assert_no_traceback(out: Outputs) -> None:
    assert "Traceback" not in out.text, out.text


def test_environment_at_a_glance(kernel: Kernel) -> None:
    out = kernel.run("%envhelp --no-widgets")
    assert out.status == "ok", out.text
    version = f"CPython {sys.version_info[0]}.{sys.version_info[1]}."
    assert version in out.text
    assert str(kernel.python.parent.parent) in out.text  # the venv, not the runner's Python
    assert "GPU" in out.text and "distributions" in out.text


def test_search_show_plan_and_which(kernel: Kernel) -> None:
    url = f"--index-url {kernel.index_url}"
    found = kernel.run(f"%envhelp search plain --no-widgets {url}")
    assert "plain" in found.text and "Plain and simple" in found.text, found.text
    shown = kernel.run(f"%envhelp show plain --no-widgets {url}")
    assert "plain — Plain and simple" in shown.text and "1.0" in shown.text, shown.text
    planned = kernel.run(f"%envhelp plan plain --no-widgets {url}")
    assert "install    plain 1.0" in planned.text and "install    dep 1.0" in planned.text
    blocked = kernel.run(f"%envhelp plan needs312==2.0 --no-widgets {url}")
    assert "needs Python >=3.12" in blocked.text, blocked.text
    assert "Verdict       blocker" in blocked.text
    which = kernel.run(f"%envhelp which plain {url}")
    assert f"[{KERNEL}]" in which.text and "Can take it" in which.text, which.text
    for out in (found, shown, planned, blocked, which):
        assert_no_traceback(out)


def test_install_import_history_undo(kernel: Kernel) -> None:
    url = f"--index-url {kernel.index_url}"
    # no stdin (as under nbconvert) and no -y: refused, with the way out
    unasked = kernel.run(f"%envhelp install plain --no-widgets {url}")
    assert "add -y" in unasked.text, unasked.text
    assert_no_traceback(unasked)
    done = kernel.run(f"%envhelp install plain -y --no-widgets {url}")
    assert "succeeded" in done.text and "installed  plain" in done.text, done.text
    imported = kernel.run("import plain, dep; print('imported', plain.__file__)")
    assert imported.status == "ok", imported.text
    site = kernel.python.parent.parent
    assert "imported " + str(site) in imported.text
    history = kernel.run(f"%envhelp history {url}")
    assert "install" in history.text and "plain" in history.text and "succeeded" in history.text
    undone = kernel.run(f"%envhelp undo -y --no-widgets {url}")
    assert "succeeded" in undone.text and "removed    plain" in undone.text, undone.text
    assert "removed    dep" in undone.text, undone.text
    assert "Restart the kernel" in undone.text and "plain" in undone.text
    gone = kernel.run(
        "import importlib.metadata as m\n"
        "print('has plain:', any(d.metadata['Name'] == 'plain' for d in m.distributions()))"
    )
    assert "has plain: False" in gone.text, gone.text


def test_bad_input_is_a_short_error(kernel: Kernel) -> None:
    wrong = kernel.run("%envhelp frobnicate")
    assert "Unknown subcommand 'frobnicate'" in wrong.text and "usage:" in wrong.text
    bad = kernel.run("%envhelp plan 'foo>>1' --no-widgets")
    assert "is not a valid requirement" in bad.text, bad.text
    missing = kernel.run("%envhelp uninstall never-installed-here -y --no-widgets")
    assert "never-installed-here is not installed" in missing.text, missing.text
    for out in (wrong, bad, missing):
        assert_no_traceback(out)


def test_plan_as_widgets(kernel: Kernel) -> None:
    out = kernel.run(f"%envhelp plan plain --index-url {kernel.index_url}", allow_stdin=True)
    assert out.status == "ok", out.text
    opens = [c for c in out.comm_opens if c.get("target_name") == "jupyter.widget"]
    states = [c["data"]["state"] for c in opens]
    models = {s["_model_name"] for s in states}
    assert {"VBoxModel", "ButtonModel", "FloatProgressModel", "HTMLModel"} <= models, models
    buttons = [s for s in states if s["_model_name"] == "ButtonModel"]
    # the button says what it does: plain and its dependency
    assert [b["description"].split(",")[0] for b in buttons] == ["Install 2 packages"]
    assert buttons[0]["disabled"] is False
    html = " ".join(str(s.get("value")) for s in states if s["_model_name"] == "HTMLModel")
    assert "plain" in html and "Safe to go ahead." in html


def test_rescue_names_the_package(kernel: Kernel) -> None:
    switched = kernel.run(f"%envhelp rescue on --index-url {kernel.index_url}")
    assert "rescue is on" in switched.text
    failed = kernel.run("import cv2")
    assert failed.status == "error"
    assert "ModuleNotFoundError" in failed.text, failed.text
    assert "comes from the package opencv-python" in failed.text, failed.text
    assert "can be installed" in failed.text
    assert "%envhelp install opencv-python" in failed.text
    kernel.run("%envhelp rescue off")
    plain = kernel.run("import cv2")
    assert "ModuleNotFoundError" in plain.text and "opencv-python" not in plain.text


def test_install_with_widgets_runs_in_the_background(kernel: Kernel) -> None:
    url = f"--index-url {kernel.index_url}"
    started = kernel.run(f"%envhelp install widgetpkg -y {url}", allow_stdin=True)
    assert started.status == "ok", started.text
    models = {c["data"]["state"]["_model_name"] for c in started.comm_opens}
    assert "FloatProgressModel" in models
    # The job runs on the magic's loop thread while the kernel takes the next cell.
    waited = kernel.run(
        "import importlib, time\n"
        "for _ in range(600):\n"
        "    importlib.invalidate_caches()\n"
        "    if importlib.util.find_spec('widgetpkg') is not None: break\n"
        "    time.sleep(0.1)\n"
        "print('found widgetpkg:', importlib.util.find_spec('widgetpkg') is not None)"
    )
    assert "found widgetpkg: True" in waited.text, waited.text
    for _ in range(120):  # the widget's job records its end in the shared history
        history = kernel.run(f"%envhelp history {url}")
        latest = history.text.splitlines()[0].split()[3:6]
        if latest[1] != "running":
            break
        time.sleep(0.5)
    assert latest == ["install", "succeeded", "widgetpkg"], history.text + kernel.last_outcome()
    undone = kernel.run(f"%envhelp undo -y --no-widgets {url}")
    assert "removed    widgetpkg" in undone.text, undone.text


def test_export_writes_this_kernel_down(kernel: Kernel, tmp_path: Path) -> None:
    refused = kernel.run("%envhelp export pylock --only-requested")
    assert "A lock file lists every package" in refused.text, refused.text
    assert_no_traceback(refused)
    target = tmp_path / "requirements.txt"
    out = kernel.run(f"%envhelp export --only-requested --index-url {kernel.index_url} -o {target}")
    assert f"Wrote {target}" in out.text, out.text
    assert f"# The environment of {kernel.python}" in target.read_text(encoding="utf-8")
