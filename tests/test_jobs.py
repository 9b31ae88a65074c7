"""Jobs against real venvs and the local test index: install, remove, undo, busy,
cancel, deadline, failures, refusals. Plans are built here from plan.py records."""

# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs
from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from jupyter_envhelper.environment import Environment
from jupyter_envhelper.index.config import installer_settings
from jupyter_envhelper.jobs import (
    EnvironmentBusy,
    EnvironmentChanged,
    EnvironmentLock,
    Job,
    JobConfig,
    JobRunner,
    Refused,
)
from jupyter_envhelper.jobs.verify import verify_environment
from jupyter_envhelper.plan import Action, ActionKind, FileChoice, Plan, TargetSummary
from jupyter_envhelper.probe import Prober
from tests.conftest_envs import (  # noqa: F401 - fixtures
    VenvFactory,
    externally_managed_python,
    uv_command,
    venv_factory,
    venv_with_pip,
)
from tests.indexserver import DistSpec, Fault, IndexServer, IndexServerFactory
from tests.indexserver.fixtures import SAMPLE_DISTS

pytestmark = pytest.mark.slow

BIG = DistSpec("bigpkg", "1.0", padding=3_000_000, summary="Big, for slow downloads")


def plan_for(
    env: Environment,
    server: IndexServer,
    pins: Sequence[str] = (),
    removes: Sequence[str] = (),
    *,
    size: int | None = None,
) -> Plan:
    """A Plan installing ``pins`` (files from ``server``) and removing ``removes``."""
    actions: list[Action] = []
    for pin in pins:
        name, _, version = pin.partition("==")
        key = canonicalize_name(name)
        built = next((b for b in server.projects.get(key, []) if b.spec.version == version), None)
        file = None
        if built is not None:
            file = FileChoice(
                filename=built.filename,
                url=server.file_url(built.filename),
                index_url=server.index_url,
                kind="sdist" if built.spec.kind == "sdist" else "wheel",
                size=size if size is not None else len(built.data),
                sha256=built.sha256,
            )
        installed = env.installed(name)
        kind: ActionKind
        if installed is None:
            kind = "install"
        elif Version(version) > Version(installed.version):
            kind = "upgrade"
        else:
            kind = "downgrade"
        old = installed.version if installed else None
        actions.append(
            Action(kind, name, key, version, installed_version=old, requested=True, file=file)
        )
    for name in removes:
        installed = env.installed(name)
        assert installed is not None, name
        actions.append(
            Action("remove", name, canonicalize_name(name), None, installed.version, True)
        )
    target = TargetSummary(env.python_version, env.implementation, env.platform_tags()[0])
    return Plan(
        requirements=list(pins) + list(removes),
        target=target,
        actions=actions,
        index_urls=[server.index_url],
    )


@pytest.fixture
def runner(tmp_path: Path) -> JobRunner:
    base_env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    config = JobConfig(history_path=tmp_path / "data" / "history.sqlite", base_env=base_env)
    return JobRunner(config, prober=Prober(tmp_path / "cache"))


@pytest.fixture
def fresh_venv(venv_factory: VenvFactory, request: pytest.FixtureRequest) -> Path:
    """A new pip-less ``uv venv`` for this test."""
    name = "job-" + "".join(c if c.isalnum() else "-" for c in request.node.name)
    return venv_factory(name, tool="uv")


@pytest.fixture
def index(index_server: IndexServerFactory) -> IndexServer:
    return index_server([*SAMPLE_DISTS, BIG])


async def probe(runner: JobRunner, python: Path) -> Environment:
    return await asyncio.to_thread(runner.prober.probe_sync, str(python))


def versions(env: Environment) -> dict[str, str]:
    return {k: d.version for k, d in env.distributions.items()}


async def run_job(runner: JobRunner, plan: Plan, env: Environment, **kw: object) -> Job:
    job = await runner.submit(plan, env, **kw)  # type: ignore[arg-type]
    return await asyncio.wait_for(job.wait(), 120)


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def lock_is_free(path: Path) -> bool:
    if not path.exists():
        return True
    with open(path, "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return True


async def test_install_downgrade_remove_undo_uninstall_without_pip(
    runner: JobRunner, fresh_venv: Path, index: IndexServer
) -> None:
    env0 = await probe(runner, fresh_venv)
    assert env0.installed("pip") is None  # uv's venv: the uv backend works without pip
    job1 = await run_job(
        runner, plan_for(env0, index, ["alpha==2.0", "beta==1.5", "delta==1.0"]), env0,
        request={"requirements": ["alpha"]},
    )  # fmt: skip
    assert job1.state == "succeeded", job1.to_json()["outcome"]
    assert job1.backend == "uv"
    env1 = await probe(runner, fresh_venv)
    assert {"alpha": "2.0", "beta": "1.5", "delta": "1.0"}.items() <= versions(env1).items()
    phases = [e.phase for e in job1.event_list]
    assert phases[0] == "resolving" and phases[-1] == "done"
    assert {"downloading", "installing", "verifying"} <= set(phases)
    sized = [e for e in job1.event_list if e.bytes_total]
    assert sized and sized[-1].bytes_done == sized[-1].bytes_total
    outcome = job1.outcome
    assert outcome is not None and not outcome.damaged and not outcome.differences
    assert {c.name for c in outcome.changes} == {"alpha", "beta", "delta"}

    # Downgrade one, remove another.
    job2 = await run_job(runner, plan_for(env1, index, ["alpha==1.0"], ["beta"]), env1)
    assert job2.state == "succeeded", job2.to_json()["outcome"]
    env2 = await probe(runner, fresh_venv)
    assert versions(env2)["alpha"] == "1.0" and "beta" not in versions(env2)
    kinds = {c.name: c.kind for c in job2.outcome.changes}  # type: ignore[union-attr]
    assert kinds == {"alpha": "downgraded", "beta": "removed"}

    # Undo job 2: back to exactly the set after job 1.
    seen: list[tuple[str, str]] = []

    async def checker(name: str, version: str) -> bool:
        seen.append((name, version))
        return True

    undo = await runner.undo(job2.id, checker=checker)
    await asyncio.wait_for(undo.wait(), 120)
    assert undo.state == "succeeded", undo.to_json()["outcome"]
    assert undo.kind == "undo" and undo.undo_of == job2.id
    assert sorted(seen) == [("alpha", "2.0"), ("beta", "1.5")]
    assert versions(await probe(runner, fresh_venv)) == versions(env1)

    # Uninstall.
    env3 = await probe(runner, fresh_venv)
    job4 = await run_job(runner, plan_for(env3, index, [], ["delta"]), env3, kind="uninstall")
    assert job4.state == "succeeded"
    assert "delta" not in versions(await probe(runner, fresh_venv))

    records = runner.history(str(fresh_venv.parent.parent))
    assert [r["id"] for r in records] == [job4.id, undo.id, job2.id, job1.id]
    assert records[2]["before"]["beta"]["version"] == "1.5"
    assert records[2]["before"]["beta"]["index_url"] == index.index_url
    assert records[1]["undo_of"] == job2.id and records[1]["kind"] == "undo"
    assert all(r["state"] == "succeeded" and r["after"] is not None for r in records)


async def test_undo_names_versions_gone_from_the_index(
    runner: JobRunner, fresh_venv: Path, index: IndexServer
) -> None:
    env0 = await probe(runner, fresh_venv)
    await run_job(runner, plan_for(env0, index, ["alpha==1.0"]), env0)
    env1 = await probe(runner, fresh_venv)
    job = await run_job(runner, plan_for(env1, index, ["alpha==2.0"]), env1)

    async def gone(name: str, version: str) -> bool:
        return False

    with pytest.raises(Refused, match=r"alpha 1\.0 is no longer on the index"):
        await runner.undo(job.id, checker=gone)


async def test_pip_backend(
    tmp_path: Path, venv_factory: VenvFactory, index: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a pip planted in the directory the server runs in (the notebooks) is never run
    planted = tmp_path / "notebooks" / "pip"
    planted.mkdir(parents=True)
    marker = tmp_path / "planted-pip-ran"
    (planted / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (planted / "__main__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(planted.parent)
    python = venv_factory("job-pip-backend", tool="venv")
    config = JobConfig(history_path=tmp_path / "h.sqlite", installer="pip")
    runner = JobRunner(config, prober=Prober(tmp_path / "cache"))
    env = await probe(runner, python)
    job = await run_job(runner, plan_for(env, index, ["alpha==1.0", "delta==1.0"]), env)
    assert job.state == "succeeded", job.to_json()["outcome"]
    assert job.backend == "pip"
    record = runner.store.get(job.id)
    assert record is not None
    assert "Successfully installed" in record["log_tail"]
    # find-links reach pip only as the target's own configuration names them (the
    # plan was made with the same), never through a stray PIP_FIND_LINKS of the server's
    links = [ln for ln in record["log_tail"].splitlines() if ln.startswith("Looking in links")]
    configured = installer_settings(env.data["index"]).find_links
    assert links == ([f"Looking in links: {', '.join(configured)}"] if configured else [])
    assert record["after"]["alpha"]["version"] == "1.0"
    assert not marker.exists()
    # where its time went, in the order it happened: the history's end came last,
    # after the installer and the check of what it left
    marks = ["submitted", "started", "installer", "installer_done", "inspected", "recorded"]
    assert sorted(job.timings, key=job.timings.__getitem__) == marks


async def test_one_job_per_environment_two_environments_in_parallel(
    runner: JobRunner, venv_factory: VenvFactory, index: IndexServer
) -> None:
    a = venv_factory("job-busy-a", tool="uv")
    b = venv_factory("job-busy-b", tool="uv")
    index.set_fault(Fault("drip", chunk=100_000, seconds=0.15, files=True), project="bigpkg")
    env_a, env_b = await probe(runner, a), await probe(runner, b)
    first = await runner.submit(plan_for(env_a, index, ["bigpkg==1.0"]), env_a)
    with pytest.raises(EnvironmentBusy) as busy:
        await runner.submit(plan_for(env_a, index, ["alpha==1.0"]), env_a)
    assert busy.value.job_id == first.id and busy.value.status == 409
    assert f"job {first.id}" in busy.value.message
    # Another process' view of the same lock: busy too.
    other = EnvironmentLock(runner.config.locks, env_a.prefix or "")
    with pytest.raises(EnvironmentBusy):
        other.acquire()
    second = await runner.submit(plan_for(env_b, index, ["alpha==1.0"]), env_b)
    await asyncio.wait_for(second.wait(), 60)
    assert second.state == "succeeded"
    assert not first.finished  # b finished while a was still downloading
    await asyncio.wait_for(first.wait(), 120)
    assert first.state == "succeeded", first.to_json()["outcome"]
    other.acquire()  # free again after the job
    other.release()


async def test_cancel_mid_download_stops_the_tree(
    runner: JobRunner, fresh_venv: Path, index: IndexServer
) -> None:
    env0 = await probe(runner, fresh_venv)
    await run_job(runner, plan_for(env0, index, ["alpha==1.0"]), env0)
    env1 = await probe(runner, fresh_venv)
    index.set_fault(Fault("drip", chunk=16_384, seconds=0.05, files=True), project="bigpkg")
    job = await runner.submit(plan_for(env1, index, ["bigpkg==1.0"], ["alpha"]), env1)
    started = time.monotonic()
    while index.file_stats(BIG.filename).bytes < 50_000:
        assert time.monotonic() - started < 60, "the download never started"
        await asyncio.sleep(0.05)
    runner.cancel(job.id)
    await asyncio.wait_for(job.wait(), 30)
    assert job.state == "cancelled"
    outcome = job.outcome
    assert outcome is not None and outcome.failure is not None
    assert outcome.failure.kind == "cancelled"
    # What had already changed: the removal ran before the download.
    assert [(c.name, c.kind) for c in outcome.changes] == [("alpha", "removed")]
    assert "Already changed: alpha removed" in outcome.message
    assert outcome.restore is not None and outcome.restore["undo_of"] == job.id
    assert job.pids and all(group_gone(p) for p in job.pids)
    assert lock_is_free(fresh_venv.parent.parent / ".lock")
    record = runner.store.get(job.id)
    assert record is not None and record["state"] == "cancelled"
    # The environment can be used again at once.
    env2 = await probe(runner, fresh_venv)
    again = await run_job(runner, plan_for(env2, index, ["alpha==1.0"]), env2)
    assert again.state == "succeeded"


async def test_deadline_cancels_the_same_way(
    tmp_path: Path, fresh_venv: Path, index: IndexServer
) -> None:
    config = JobConfig(history_path=tmp_path / "h.sqlite", deadline=1.5,
                       base_env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "uvc")})  # fmt: skip
    runner = JobRunner(config, prober=Prober(tmp_path / "cache"))
    index.set_fault(Fault("drip", chunk=16_384, seconds=0.05, files=True), project="bigpkg")
    env = await probe(runner, fresh_venv)
    started = time.monotonic()
    job = await run_job(runner, plan_for(env, index, ["bigpkg==1.0"]), env)
    assert time.monotonic() - started < 15
    assert job.state == "failed"
    assert job.outcome is not None and job.outcome.failure is not None
    assert job.outcome.failure.kind == "timeout"
    assert "Nothing was changed" in job.outcome.message
    assert all(group_gone(p) for p in job.pids)
    assert lock_is_free(fresh_venv.parent.parent / ".lock")


async def test_broken_wheel_is_classified_and_history_consistent(
    runner: JobRunner, fresh_venv: Path, index: IndexServer
) -> None:
    env = await probe(runner, fresh_venv)
    job = await run_job(runner, plan_for(env, index, ["brokenwheel==1.0"]), env)
    assert job.state == "failed"
    failure = job.outcome.failure  # type: ignore[union-attr]
    assert failure is not None and failure.kind == "unsupported-wheel"
    assert "wheel" in failure.message and failure.way_out
    record = runner.store.get(job.id)
    assert record is not None
    assert record["state"] == "failed" and record["ended"] is not None
    assert record["outcome"]["failure"]["kind"] == "unsupported-wheel"
    assert record["before"] == record["after"]
    assert "Unsupported wheel" in record["log_tail"]
    # The environment lock was released.
    again = await run_job(runner, plan_for(env, index, ["alpha==1.0"]), env)
    assert again.state == "succeeded"


async def test_version_not_on_index_is_not_found(
    runner: JobRunner, fresh_venv: Path, index: IndexServer
) -> None:
    env = await probe(runner, fresh_venv)
    job = await run_job(runner, plan_for(env, index, ["alpha==9.9"]), env)
    assert job.state == "failed"
    assert job.outcome.failure.kind == "not-found"  # type: ignore[union-attr]


async def test_externally_managed_is_refused(
    runner: JobRunner, externally_managed_python: Path, index: IndexServer
) -> None:
    env = await probe(runner, externally_managed_python)
    with pytest.raises(Refused) as refused:
        await runner.submit(plan_for(env, index, ["alpha==1.0"]), env)
    assert refused.value.reason == "externally-managed"
    assert "virtual environment" in refused.value.message
    assert runner.history() == []


async def test_not_enough_disk_space_is_refused(
    runner: JobRunner, fresh_venv: Path, index: IndexServer
) -> None:
    env = await probe(runner, fresh_venv)
    plan = plan_for(env, index, ["alpha==1.0"], size=10**15)
    with pytest.raises(Refused) as refused:
        await runner.submit(plan, env)
    assert refused.value.reason == "no-space"
    assert "disk space" in refused.value.message


async def test_changed_environment_is_refused(
    runner: JobRunner, fresh_venv: Path, index: IndexServer
) -> None:
    env = await probe(runner, fresh_venv)
    plan = plan_for(env, index, ["delta==1.0"])
    uv = uv_command()
    assert uv is not None
    subprocess.run(
        [*uv, "pip", "install", "-q", "--python", str(fresh_venv), "--no-deps",
         "--index-url", index.index_url, "alpha==1.0"],
        check=True, timeout=120,
    )  # fmt: skip
    with pytest.raises(EnvironmentChanged, match="alpha"):
        await runner.submit(plan, env)


async def test_credentials_reach_the_installer_but_not_the_logs(
    tmp_path: Path, fresh_venv: Path, index_server: IndexServerFactory
) -> None:
    server = index_server([DistSpec("alpha", "1.0")], auth=("alice", "s3cret-pw"))
    config = JobConfig(
        history_path=tmp_path / "h.sqlite",
        index_urls=(server.index_url_with_auth,),
        base_env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "uvc")},
    )
    runner = JobRunner(config, prober=Prober(tmp_path / "cache"))
    env = await probe(runner, fresh_venv)
    job = await run_job(runner, plan_for(env, server, ["alpha==1.0"]), env)
    assert job.state == "succeeded", job.to_json()["outcome"]
    lines = [e.line or "" for e in job.event_list]
    # the index URL travels in the installer's environment (argv is public): the log
    # shows it redacted, before the command
    assert any("_INDEX_URL=http://***@127.0.0.1" in line for line in lines)
    record = runner.store.get(job.id)
    assert record is not None
    assert "s3cret-pw" not in str(record) and "s3cret-pw" not in str(job.to_json(with_events=True))


async def test_late_subscriber_gets_every_event(
    runner: JobRunner, fresh_venv: Path, index: IndexServer
) -> None:
    env = await probe(runner, fresh_venv)
    job = await runner.submit(plan_for(env, index, ["alpha==1.0"]), env)
    live = [e.seq async for e in job.events()]
    late = [e.seq async for e in job.events(since=2)]
    assert live == list(range(len(job.event_list)))
    assert late == live[2:]


async def test_verify_reports_a_damaged_environment(
    runner: JobRunner, fresh_venv: Path, index: IndexServer
) -> None:
    env = await probe(runner, fresh_venv)
    await run_job(runner, plan_for(env, index, ["alpha==2.0"]), env)  # beta missing
    env = await probe(runner, fresh_venv)
    site = Path(str(env.data["paths"]["purelib"]))
    (site / "alpha-9.dist-info").mkdir()
    (site / "alpha-9.dist-info" / "METADATA").write_text("Name: alpha\nVersion: 9\n")
    runner.prober.invalidate(str(fresh_venv))
    problems = verify_environment(await probe(runner, fresh_venv))
    kinds = {p["kind"] for p in problems}
    assert {"missing-record", "duplicate-metadata", "missing-requirement"} <= kinds
