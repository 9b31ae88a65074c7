"""The words a beginner reads: said once, true, and about what the job really did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_envhelper.text import outcome_parts, plain_platform, render_job, restart_words
from tests.conftest_envs import uv_venv, venv_factory  # noqa: F401 (fixtures)
from tests.test_cli import cli_env, run_cli  # noqa: F401 (fixture)

CANCEL = "The job was cancelled and its installer stopped."


def job(state: str, *, changed: list[dict[str, Any]] | None = None, **outcome: Any) -> dict:
    return {
        "id": 7,
        "kind": outcome.pop("kind", "install"),
        "state": state,
        "outcome": {
            "message": outcome.pop("message", ""),
            "failure": outcome.pop("failure", None),
            "changed": changed or [],
            "restart_modules": outcome.pop("restart_modules", []),
        },
    }


def test_a_cancelled_job_that_changed_nothing_says_so_once() -> None:
    cancelled = job(
        "cancelled",
        message=CANCEL + " Nothing was changed.",
        failure={"message": CANCEL, "way_out": "See the changes below; undo the job."},
    )
    text = render_job(cancelled)
    assert "Cancelled: nothing was changed." in text
    assert "undo" not in text.lower()
    assert text.lower().count("nothing") == 1


def test_a_failure_already_in_the_headline_is_not_repeated() -> None:
    failed = job(
        "failed",
        message="uv could not build x. Nothing was changed.",
        failure={"message": "uv could not build x.", "way_out": "Pick a version with a wheel."},
    )
    _headline, reason, way_out = outcome_parts(failed)
    assert reason is None and way_out == "Pick a version with a wheel."
    assert render_job(failed).count("uv could not build x.") == 1


def test_a_removal_does_not_promise_a_new_version() -> None:
    removal = job(
        "succeeded",
        kind="undo",
        message="Done: six removed.",
        changed=[{"name": "six", "kind": "removed", "before": "1.17.0", "after": None}],
        restart_modules=["six"],
    )
    words = restart_words(removal)
    assert words is not None and "removed" in words and "new version" not in words


def test_plan_widget_says_nothing_to_change_and_what_install_does() -> None:
    pytest.importorskip("ipywidgets")
    from jupyter_envhelper.magic.widgets import PlanView

    keep = {
        "plan": {"actions": [{"kind": "keep", "name": "six"}], "download_size": 0},
        "verdict": "ok",
        "findings": [],
    }
    view = PlanView(keep, action="install", on_confirm=lambda _v: None)
    assert view.confirm.description == "Nothing to change"
    assert view.confirm.disabled
    assert "Safe to go ahead" not in view.box.children[2].value
    actions = [{"kind": "install", "name": f"p{i}", "version": "1"} for i in range(27)]
    big = {"plan": {"actions": actions, "download_size": 3_000_000_000}, "verdict": "warning"}
    view = PlanView(big, action="install", on_confirm=lambda _v: None)
    assert view.confirm.description == "Install 27 packages, 3.0 GB"


@pytest.mark.parametrize(
    ("tag", "words"),
    [
        ("manylinux_2_36_x86_64", "Linux, 64-bit Intel/AMD"),
        ("musllinux_1_2_aarch64", "Linux (musl), 64-bit ARM"),
        ("macosx_14_0_arm64", "macOS, 64-bit ARM"),
        ("win_amd64", "Windows, 64-bit Intel/AMD"),
        ("emscripten_3_1_58_wasm32", "emscripten_3_1_58_wasm32"),
    ],
)
def test_platform_tags_are_told_in_words(tag: str, words: str) -> None:
    assert plain_platform(tag) == words


@pytest.mark.slow
def test_cli_plan_names_the_platform_in_words(
    cli_env: dict[str, str],  # noqa: F811
    index_server: Any,
    uv_venv: Path,  # noqa: F811
) -> None:
    from tests.test_jobs_api import DISTS

    server = index_server(DISTS)
    target = ["--python", str(uv_venv), "--index-url", server.index_url]
    shown = run_cli("plan", "plain", *target, env=cli_env)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    target_line = next(line for line in shown.stdout.splitlines() if line.startswith("Target"))
    assert "linux_" not in target_line and "macosx_" not in target_line, target_line
    assert " on Linux, " in target_line or " on macOS" in target_line, target_line


@pytest.mark.slow
def test_cli_prints_done_once(
    cli_env: dict[str, str],  # noqa: F811
    index_server: Any,
    uv_venv: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from tests.test_jobs_api import DISTS

    server = index_server(DISTS)
    env = {**cli_env, "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    target = ["--python", str(uv_venv), "--index-url", server.index_url]
    done = run_cli("install", "plain", "--yes", *target, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    both = done.stdout + done.stderr
    assert both.count("Done:") == 1, both
    run_cli("undo", "--yes", *target, env=env)
