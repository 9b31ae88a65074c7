"""Progress that moves (issue 14, point 10): a job's events name the phase in plain
words and carry real counts -- files fetched of the files the step fetches, bytes of
the plan's file sizes, and when the phase began -- for both installers, on real venvs
and the loopback index."""

# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs
from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_envhelper.core.documents import job_document
from jupyter_envhelper.jobs import JobConfig, JobRunner
from jupyter_envhelper.probe import Prober
from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 - fixtures
from tests.indexserver import IndexServer, IndexServerFactory
from tests.indexserver.fixtures import SAMPLE_DISTS
from tests.test_jobs import BIG, plan_for, probe, run_job

pytestmark = pytest.mark.slow

PINS = ["alpha==2.0", "beta==1.5", "delta==1.0"]


@pytest.fixture
def index(index_server: IndexServerFactory) -> IndexServer:
    return index_server([*SAMPLE_DISTS, BIG])


@pytest.mark.parametrize(("installer", "tool"), [("uv", "uv"), ("pip", "venv")])
async def test_events_carry_phases_and_counts(
    tmp_path: Path, venv_factory: VenvFactory, index: IndexServer, installer: str, tool: str
) -> None:
    base_env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    config = JobConfig(history_path=tmp_path / "h.sqlite", installer=installer, base_env=base_env)
    runner = JobRunner(config, prober=Prober(tmp_path / "cache"))
    python = venv_factory(f"progress-{installer}", tool=tool)
    env = await probe(runner, python)
    plan = plan_for(env, index, PINS)
    job = await run_job(runner, plan, env)
    assert job.state == "succeeded", job.to_json()["outcome"]
    events = job.event_list
    phases = [e.phase for e in events]
    assert phases[0] == "resolving" and phases[-1] == "done"
    # the phases come in order: no going back to downloading once installing began
    order = ["resolving", "downloading", "building", "installing", "verifying", "done"]
    ranks = [order.index(p) for p in phases]
    assert ranks == sorted(ranks), phases

    # the first words say what is happening, not which tool runs
    assert events[0].message == "Getting ready to change 3 packages."
    first_download = next(e for e in events if e.phase == "downloading")
    assert first_download.message == "Downloading 3 files (3 packages)."
    assert "uv" not in (first_download.message or "") and "pip" not in (
        first_download.message or ""
    )
    assert first_download.line is not None and installer in first_download.line  # in the log

    # files: counted from 0 to all 3, never past, never backwards; bytes likewise
    counted = [e for e in events if e.files_total is not None]
    assert counted and all(e.files_total == 3 for e in counted)
    files = [e.files_done for e in counted]
    assert files[0] == 0 and files[-1] == 3 and files == sorted(files)
    total = sum(a.file.size or 0 for a in plan.changes if a.file is not None)
    sized = [e for e in counted if e.bytes_total is not None]
    assert sized and {e.bytes_total for e in sized} == {total}
    assert sized[0].bytes_done == 0 and sized[-1].bytes_done == total
    # an output line between counts keeps the counts (no bar falling back to 0)
    lines = [e for e in counted if e.line and not e.message]
    assert lines and all(e.files_done is not None for e in lines)

    # the installing phase says how many packages go in; verifying says what it checks
    assert any(e.message == "Installing 3 packages into the environment." for e in events)
    assert any(e.phase == "verifying" and "complete" in (e.message or "") for e in events)

    # each event knows when its phase began: the clock moves within a phase, not the start
    for before, after in zip(events, events[1:], strict=False):
        assert before.since is not None and after.since is not None
        if before.phase == after.phase:
            assert after.since == before.since
        else:
            assert after.since >= before.since
            assert after.since >= before.time

    # the job document (what the panel, CLI and magic read) has the counts and the clock
    last_counted = counted[-1].to_json()
    doc = job_document({**job.to_json(), "state": "running"}, last_counted, [], None)
    progress = doc["progress"]
    assert progress["files_done"] == 3 and progress["files_total"] == 3
    assert progress["bytes_done"] == total and progress["since"] == last_counted["since"]


async def test_download_fraction_moves_with_files_when_sizes_are_unknown() -> None:
    doc = {"id": 1, "kind": "install", "state": "running", "phase": "downloading"}
    fractions = [
        job_document(doc, {"files_done": n, "files_total": 4}, [], None)["progress"]["fraction"]
        for n in range(5)
    ]
    assert fractions == sorted(fractions) and fractions[0] < fractions[-1]
    assert len(set(fractions)) == 5
