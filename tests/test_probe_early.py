"""The probe a command line starts before its imports (probe/early.py): taken by the
Prober instead of a second run, skipped when the disk cache holds a fresh answer,
and never the reason an answer differs (a failed early run is probed again)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_envhelper.errors import ProbeError
from jupyter_envhelper.probe import Prober, early


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The user cache the early start looks in (``XDG_CACHE_HOME``), empty; no run
    left behind for another test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    early._started.clear()
    yield tmp_path / "xdg" / "jupyter-envhelper"
    early._started.clear()


def _runs(prober: Prober) -> list[list[str]]:
    """Record the probe runs the prober itself makes (the early one is not among them)."""
    made: list[list[str]] = []
    execute = prober._execute

    def recording(argv: list[str], env: object) -> object:
        made.append(argv)
        return execute(argv, env)  # type: ignore[arg-type]

    prober._execute = recording  # type: ignore[assignment,method-assign]
    return made


def test_the_prober_takes_the_early_run(cache: Path) -> None:
    python = sys.executable
    assert early.start_for_command(["plan", "requests", "--python", python, "--json"])
    prober = Prober(cache_dir=cache)
    runs = _runs(prober)
    env = prober.probe_sync(python, dict(os.environ))
    assert env.executable and env.python_version.startswith(f"{sys.version_info[0]}.")
    assert runs == []  # the early run's answer, not a second run
    assert not early._started
    # the answer is kept on disk as always: a second command line starts nothing
    assert not early.start_for_command(["plan", "requests", "--python", python])
    again = Prober(cache_dir=cache)
    assert again.probe_sync(python, dict(os.environ)).data == env.data


def test_commands_and_targets_that_do_not_start_one(cache: Path) -> None:
    python = sys.executable
    assert not early.start_for_command(["plan", "x", "--kernel", "python3"])
    assert not early.start_for_command(["plan", "x", "--target-python-version", "3.9"])
    assert not early.start_for_command(["plan", "x", "--target-platform=win_amd64"])
    assert not early.start_for_command(["search", "x", "--python", python])
    assert not early.start_for_command(["plan", "--help"])
    assert not early.start_for_command([])
    assert not early.start_for_command(["plan", "x", "--python", str(cache / "nothing")])
    assert not early._started


def test_another_environment_is_probed_anew(cache: Path) -> None:
    python = sys.executable
    assert early.start(python, {"ONLY_FOR_EARLY": "1"})
    prober = Prober(cache_dir=cache)
    runs = _runs(prober)
    prober.probe_sync(python, {"SOMETHING_ELSE": "1"})
    assert len(runs) == 1  # not the early run: it was made with another environment


def test_a_failed_early_run_is_probed_again_and_reported_as_always(
    cache: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "bin" / "python"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\necho 'broken interpreter' >&2\nexit 3\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    assert early.start_for_command(["plan", "x", f"--python={broken}"])
    prober = Prober(cache_dir=cache)
    runs = _runs(prober)
    with pytest.raises(ProbeError) as caught:
        prober.probe_sync(str(broken), dict(os.environ))
    assert "exited with code 3" in caught.value.message
    assert "broken interpreter" in (caught.value.detail or "")
    assert len(runs) == 1  # the prober's own run, whose failure it tells
