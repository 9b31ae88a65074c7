"""A notebook's needs, read from its cells, judged against a real venv, and installed.

The notebook is a real ``.ipynb`` file; the kernel environment a real venv; installs go
through the command line's plan -> job -> history path from the loopback index.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import DistSpec

REPO = Path(__file__).resolve().parent.parent
CLI = (sys.executable, "-m", "jupyter_envhelper")
DISTS = [
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain"),
    DistSpec("dep", "1.0", module="dep"),
    DistSpec("dep", "2.0", module="dep"),
    DistSpec("PyYAML", "6.0", module="yaml"),
    DistSpec("opencv-python", "4.9.0", module="cv2"),
    DistSpec("tabulate", "0.9", module="tabulate"),
]
CELLS = [
    '# /// script\n# requires-python = ">=3.8"\n# dependencies = ["dep==1.0"]\n# ///\n',
    "import yaml\nimport numpy as np  # not on this index\nfrom plain.sub import thing\n",
    "%matplotlib inline\n!pip install something-else\nimport cv2\nx = !ls\nlen?\n",
    "def later():\n    import tabulate\n    return tabulate\n",
    "try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
    "%%bash\nimport not_python_at_all\n",
    "this is not python (\n",
    "import os, sys, json\nfrom . import relative\n",
]


def notebook(path: Path, cells: list[str]) -> Path:
    doc = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# A title\nimport markdown_only"},
            *(
                {
                    "cell_type": "code",
                    "metadata": {},
                    "source": c,
                    "outputs": [],
                    "execution_count": None,
                }
                for c in cells
            ),
        ],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(REPO)},
        check=False,
        timeout=300,
    )


@pytest.fixture
def needs_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(DISTS)
    return server


@pytest.fixture
def kernel_python(venv_factory: VenvFactory, request: Any) -> Path:  # noqa: F811
    unique = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    return venv_factory(f"needs-{unique}", tool="uv")


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["distribution"].lower(): n for n in doc["needs"]}


def test_the_needs_of_a_notebook(
    tmp_path: Path, kernel_python: Path, needs_index: IndexServer
) -> None:
    path = notebook(tmp_path / "analysis.ipynb", CELLS)
    done = cli("needs", str(path), "--python", str(kernel_python), "--json")
    assert done.returncode == 1, done.stderr  # something is missing
    doc = json.loads(done.stdout)
    needs = by_name(doc)
    # imports map to the distributions that provide them; stdlib and relative ones do not count
    assert set(needs) == {"pyyaml", "numpy", "plain", "opencv-python", "tabulate", "ujson", "dep"}
    assert needs["pyyaml"]["modules"] == ["yaml"] and needs["pyyaml"]["cells"] == [3]
    assert needs["opencv-python"]["modules"] == ["cv2"]  # after magics and shell lines
    assert needs["tabulate"]["cells"] == [5]  # inside a function
    assert needs["ujson"]["optional"] is True and "ujson" not in doc["missing"]
    # the recorded requirement wins over a guess, and says where it came from
    assert needs["dep"] == {**needs["dep"], "source": "recorded", "requirement": "dep==1.0"}
    assert all(n["state"] == "missing" for n in doc["needs"])
    expected = ["dep==1.0", "numpy", "opencv-python", "plain", "pyyaml", "tabulate"]
    assert sorted(doc["missing"]) == expected
    # a cell that is not Python is a note, not a crash; a %%bash cell is not Python code
    assert any("Cell 8 was skipped" in n for n in doc["notes"]), doc["notes"]
    assert "not_python_at_all" not in json.dumps(doc["needs"])
    assert "markdown_only" not in json.dumps(doc["needs"])
    assert doc["recorded"] is True and doc["record_block"].startswith("# /// script")


def test_install_what_is_missing_then_every_import_works(
    tmp_path: Path, kernel_python: Path, needs_index: IndexServer
) -> None:
    cells = [CELLS[0], "import yaml\nfrom plain.sub import thing\n", "import tabulate\n"]
    path = notebook(tmp_path / "small.ipynb", cells)
    url = ("--index-url", needs_index.index_url)
    done = cli("needs", str(path), "--python", str(kernel_python), *url, "--install", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "succeeded" in done.stdout, done.stdout
    # Then the notebook's imports work in that interpreter, at the recorded version
    check = subprocess.run(
        [str(kernel_python), "-c", "import yaml, plain, tabulate, dep; print(dep.__name__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    after = json.loads(cli("needs", str(path), "--python", str(kernel_python), "--json").stdout)
    assert after["missing"] == [] and by_name(after)["dep"]["installed_version"] == "1.0"
    # and it is in the history, so it can be undone
    history = json.loads(cli("history", "--python", str(kernel_python), "--json").stdout)
    assert history["jobs"][0]["kind"] == "install" and history["jobs"][0]["state"] == "succeeded"


def test_another_version_than_recorded_is_said(
    tmp_path: Path, kernel_python: Path, needs_index: IndexServer
) -> None:
    url = ("--index-url", needs_index.index_url)
    done = cli("install", "dep==2.0", "--python", str(kernel_python), *url, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    path = notebook(tmp_path / "pinned.ipynb", [CELLS[0], "import dep\n"])
    doc = json.loads(cli("needs", str(path), "--python", str(kernel_python), "--json").stdout)
    dep = by_name(doc)["dep"]
    assert dep["state"] == "other-version" and dep["installed_version"] == "2.0"
    assert doc["missing"] == ["dep==1.0"]


@pytest.fixture
def jp_server_config(jp_server_config: Config, needs_index: IndexServer) -> Config:
    jp_server_config["EnvHelperApp"]["index_url"] = needs_index.index_url
    return jp_server_config


async def test_needs_through_the_server_is_the_command_lines_document(
    jp_fetch: Any, write_kernelspec: Any, kernel_python: Path, tmp_path: Path
) -> None:
    write_kernelspec("nb", [str(kernel_python), "-m", "ipykernel_launcher", "-f", "{c}"])
    path = notebook(tmp_path / "shared.ipynb", CELLS[:4])
    content = json.loads(path.read_text(encoding="utf-8"))
    response = await jp_fetch(
        "envhelper",
        "needs",
        method="POST",
        body=json.dumps({"kernel": "nb", "notebook": {"cells": content["cells"]}}),
        headers={"Content-Type": "application/json"},
    )
    by_rest = json.loads(response.body)
    by_cli = json.loads(cli("needs", str(path), "--kernel", "nb", "--json").stdout)
    assert by_rest == by_cli
    assert {"pyyaml", "plain"} <= set(by_name(by_rest))
