"""``python -m jupyter_envhelper`` as a person (or a script) runs it."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest_envs import uv_venv, venv_factory  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "jupyter_envhelper", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
        check=False,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), "JUPYTER_PATH": str(tmp_path / "jupyter")}


def test_inspect_this_python_in_words(cli_env: dict[str, str]) -> None:
    result = run_cli("inspect", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert (
        f"CPython {platform.python_version()}" in result.stdout
        or f"cpython {platform.python_version()}" in result.stdout.lower()
    )
    assert "distributions" in result.stdout
    assert "GPU" in result.stdout


def test_inspect_json_is_the_api_document(cli_env: dict[str, str]) -> None:
    result = run_cli("inspect", "--python", sys.executable, "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["schema"] == 1
    assert payload["state"] == "ok"
    assert payload["environment"]["python_version"] == platform.python_version()
    assert any(d["name"].lower() == "packaging" for d in payload["environment"]["distributions"])


def test_inspect_packages_lists_them(cli_env: dict[str, str]) -> None:
    result = run_cli("inspect", "--packages", env=cli_env)
    assert result.returncode == 0
    assert "packaging" in result.stdout


def test_inspect_a_kernelspec(cli_env: dict[str, str], tmp_path: Path) -> None:
    spec_dir = tmp_path / "jupyter" / "kernels" / "mine"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "My Kernel",
                "language": "python",
            }
        )
    )
    result = run_cli("inspect", "--kernel", "mine", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "My Kernel [mine]" in result.stdout


def test_unknown_kernel_is_a_clear_error(cli_env: dict[str, str]) -> None:
    result = run_cli("inspect", "--kernel", "no-such-kernel", env=cli_env)
    assert result.returncode == 1
    assert "no-such-kernel" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_interpreter_is_a_state_not_a_crash(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_cli("inspect", "--python", str(tmp_path / "nope" / "python"), env=cli_env)
    assert result.returncode == 1
    assert "probe-failed" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_no_command_prints_usage() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "inspect" in result.stdout


def test_plan_for_a_synthetic_target(cli_env: dict[str, str], index_server: Any) -> None:
    from tests.test_plan_api import PLAN_DISTS

    server = index_server(PLAN_DISTS)
    common = ["--index-url", server.index_url, "--target-platform", "macosx_14_0_arm64"]
    new = run_cli("plan", "needs312", "--target-python-version", "3.12", *common, env=cli_env)
    assert new.returncode == 0, new.stderr
    assert "install    needs312 2.0" in new.stdout
    assert "synthetic target" in new.stdout
    old = run_cli(
        "plan", "needs312", "--target-python-version", "3.9", "--json", *common, env=cli_env
    )
    payload = json.loads(old.stdout)
    assert [a["version"] for a in payload["plan"]["actions"]] == ["1.0"]


def test_plan_with_a_blocker_exits_1_and_explains(
    cli_env: dict[str, str], index_server: Any
) -> None:
    from tests.test_plan_api import PLAN_DISTS

    server = index_server(PLAN_DISTS)
    result = run_cli(
        "plan",
        "needs312==2.0",
        "--target-python-version",
        "3.10",
        "--index-url",
        server.index_url,
        env=cli_env,
    )
    assert result.returncode == 1
    assert "needs Python >=3.12" in result.stdout
    assert "needs312 1.0" in result.stdout


def test_install_history_and_undo_from_the_command_line(
    cli_env: dict[str, str],
    index_server: Any,
    uv_venv: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from tests.test_jobs_api import DISTS

    server = index_server(DISTS)
    env = {**cli_env, "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    target = ["--python", str(uv_venv), "--index-url", server.index_url]
    # a blocker stops before anything runs
    blocked = run_cli("install", "needs312==2.0", "--yes", *target, env=env)
    assert blocked.returncode == 1 and "Nothing was installed" in blocked.stderr
    # without a terminal and without --yes, nothing is done
    unasked = run_cli("install", "plain", *target, env=env)
    assert unasked.returncode == 2 and "--yes" in unasked.stderr
    done = run_cli("install", "plain", "--yes", *target, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "succeeded" in done.stdout and "plain" in done.stdout
    history = run_cli("history", *target, env=env)
    assert "install" in history.stdout and "plain" in history.stdout
    undone = run_cli("undo", "--yes", *target, env=env)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    after = json.loads(run_cli("inspect", "--python", str(uv_venv), "--json", env=env).stdout)
    assert "plain" not in {d["name"] for d in after["environment"]["distributions"]}
