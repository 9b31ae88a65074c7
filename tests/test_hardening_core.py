"""Faults below the server: in-flight sharing, stalls, deadlines, unusable index URLs,
honest words, and installs cut short by a full disk.

Real parts only: the loopback index (with its fault modes), real venvs, real uv, and
a real small tmpfs for the full disk (skipped, saying why, where ``mount`` is not
allowed). Waits are bounded and far below the old 120 s limits.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_envhelper.core import CoreConfig
from jupyter_envhelper.core.assess import assess
from jupyter_envhelper.core.indexes import IndexPool
from jupyter_envhelper.core.slots import DEFAULT_EXECUTOR_THREADS, PlanSlots
from jupyter_envhelper.environment import Environment
from jupyter_envhelper.errors import BadRequest, EnvHelperError, IndexTimeout, NotFound
from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.jobs import JobConfig, JobRunner
from jupyter_envhelper.jobs.models import Refused
from jupyter_envhelper.jobs.verify import record_problems
from jupyter_envhelper.probe import Prober
from jupyter_envhelper.resolver import plan_install
from jupyter_envhelper.validation import parse_requirement
from tests.conftest_envs import VenvFactory, uv_command, uv_venv, venv_factory  # noqa: F401
from tests.indexserver import DistSpec, Fault, IndexServer, IndexServerFactory
from tests.indexserver.fixtures import SAMPLE_DISTS
from tests.test_jobs import plan_for

MANY = DEFAULT_EXECUTOR_THREADS + 2
BIG = DistSpec("bigpkg", "1.0", padding=3_000_000, summary="3 MB that do not compress")


@pytest.fixture
def index(index_server: IndexServerFactory) -> IndexServer:
    return index_server([*SAMPLE_DISTS, BIG])


def requests_for(index: IndexServer, path: str) -> int:
    return [p for _, p, _ in index.log].count(path)


# -- in-flight sharing wakes every waiter, whatever the answer -------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [(Fault("hang", seconds=0.5), NotFound), (Fault("status", status=500), EnvHelperError)],
    ids=["404", "500"],
)
async def test_every_waiter_of_a_shared_request_wakes_on_an_error(
    index: IndexServer, fault: Fault, error: type[Exception]
) -> None:
    # Given a project the index lacks (answered late) or an index answering 500
    index.set_fault(fault, "nosuchproject")
    client = IndexClient(IndexConfig(index_url=index.index_url), retries=0)
    try:
        # When many callers ask at once
        results = await asyncio.wait_for(
            asyncio.gather(
                *(client.get_project("nosuchproject") for _ in range(20)), return_exceptions=True
            ),
            20,
        )
    finally:
        await client.aclose()
    # Then every one of them gets the error, from one request
    assert all(isinstance(r, error) for r in results), results
    assert requests_for(index, "/simple/nosuchproject/") == 1


async def test_more_plans_than_worker_threads_do_not_stall(
    index: IndexServer, tmp_path: Path
) -> None:
    # Given a client with its disk cache (reading it used to need a default-executor
    # thread, while every such thread held a resolver waiting for a page)
    env = await Prober(tmp_path / "probe").probe(sys.executable)
    client = IndexClient(IndexConfig(index_url=index.index_url), cache_dir=tmp_path / "http")
    try:
        # When more plans than the executor has threads run at once, with no slots
        async def one() -> str:
            try:
                await plan_install(["alpah"], env, client, timeout=60)
            except EnvHelperError as exc:
                return type(exc).__name__
            return "planned"

        outcomes = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(MANY))), 30)
    finally:
        await client.aclose()
    # Then all of them answer, long before their 60 s timeout, with the real reason
    assert outcomes == ["ResolutionConflict"] * MANY


async def test_the_cores_plans_take_slots_below_the_executor_size(tmp_path: Path) -> None:
    slots = PlanSlots()
    assert 1 <= slots.size <= DEFAULT_EXECUTOR_THREADS - 2 or DEFAULT_EXECUTOR_THREADS <= 2
    running = 0
    most = 0

    async def work() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1

    await asyncio.gather(*(slots.run(work()) for _ in range(slots.size * 3)))
    assert most == slots.size
    # a caller that stops waiting does not free its slot before its work has ended
    first = asyncio.ensure_future(slots.run(work()))
    await asyncio.sleep(0.01)
    assert running == 1
    first.cancel()
    await asyncio.gather(*(slots.run(work()) for _ in range(slots.size)))
    assert most == slots.size


# -- deadlines -----------------------------------------------------------------------------


async def test_a_drip_fed_page_times_out_at_the_request_limit(index: IndexServer) -> None:
    index.set_fault(Fault("drip", seconds=1.0, chunk=1), "alpha")
    pool = IndexPool(CoreConfig(index_timeout=2.0, cache_dir=""))
    client = pool.client(None, index_url=index.index_url)
    try:
        with pytest.raises(IndexTimeout) as raised:
            await asyncio.wait_for(client.get_project("alpha"), 20)
    finally:
        await pool.close()
    assert "(2 s)" in raised.value.message


async def test_assess_passes_the_plan_limit_to_the_resolver(
    index: IndexServer, tmp_path: Path
) -> None:
    # a hang longer than the limit given: the resolver's wait ends at that limit
    index.set_fault(Fault("hang", seconds=20), "alpha")
    env = await Prober(tmp_path / "probe").probe(sys.executable)
    client = IndexClient(IndexConfig(index_url=index.index_url), total_timeout=None)
    try:
        with pytest.raises(IndexTimeout):
            await asyncio.wait_for(assess(["alpha"], env, client, timeout=1.0), 15)
    finally:
        await client.aclose()


def test_plan_timeout_is_a_setting() -> None:
    assert CoreConfig().plan_timeout == 120.0
    assert CoreConfig.from_settings({"plan_timeout": 7}).plan_timeout == 7.0
    with pytest.raises(BadRequest, match="plan_timeout"):
        CoreConfig.from_settings({"plan_timeout": 0})


# -- unusable index URLs are errors naming them ---------------------------------------------


@pytest.mark.parametrize("url", ["file:///etc", "/etc", "ftp://mirror.example/simple/", "https://"])
def test_an_unusable_configured_index_url_is_an_error(url: str) -> None:
    with pytest.raises(BadRequest) as raised:
        CoreConfig.from_settings({"index_url": url})
    assert url in raised.value.message and "c.EnvHelperApp.index_url" in raised.value.message
    with pytest.raises(BadRequest):
        CoreConfig.from_settings({"extra_index_urls": ["https://ok.example/simple/", url]})


def test_a_file_index_tree_on_disk_is_usable(tmp_path: Path) -> None:
    (tmp_path / "simple" / "alpha").mkdir(parents=True)
    (tmp_path / "simple" / "alpha" / "alpha-1.0-py3-none-any.whl").write_bytes(b"")
    url = (tmp_path / "simple").as_uri() + "/"
    assert CoreConfig.from_settings({"index_url": url}).index_url == url
    with pytest.raises(BadRequest, match="no folder"):
        CoreConfig.from_settings({"index_url": (tmp_path / "missing").as_uri()})


def test_an_unusable_index_url_given_with_a_request_is_an_error() -> None:
    pool = IndexPool(CoreConfig())
    with pytest.raises(BadRequest) as raised:
        pool.client(None, index_url="file:///etc")
    assert "file:///etc" in raised.value.message and "--index-url" in raised.value.message


def test_the_command_line_names_the_unusable_index(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env["JUPYTER_PATH"] = str(tmp_path / "jupyter")
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_envhelper", "plan", "alpha", "--index-url", "file:///etc"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode != 0
    assert "file:///etc" in result.stderr and "pypi.org" not in result.stdout


# -- words that are true ---------------------------------------------------------------------


def test_an_option_as_a_requirement_names_where_indexes_are_set() -> None:
    with pytest.raises(BadRequest) as raised:
        parse_requirement("--index-url=https://evil.example/simple/")
    message = raised.value.message
    assert "server's configuration" not in message
    assert "c.EnvHelperApp.index_url" in message and "--index-url" in message


def test_a_pip_less_venv_says_the_bundled_uv_installs_into_it(uv_venv: Path) -> None:  # noqa: F811
    from jupyter_envhelper.installers import find_uv

    env = Prober().probe_sync(str(uv_venv), {**os.environ, "PATH": "/usr/bin:/bin"})
    if env.data["installers"].get("pip") or env.data["installers"].get("uv"):
        pytest.skip("this venv has an installer of its own")
    words = {w["code"]: w["message"] for w in env.warnings()}
    if find_uv() is None:
        assert "nothing can be installed" in words["no-installer"]
    else:
        assert "nothing can be installed" not in words["no-installer"]
        assert "uv it comes with" in words["no-installer"]


# -- an install cut short is "damaged" ---------------------------------------------------------


def test_record_problems_name_missing_and_short_files(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "demo").mkdir(parents=True)
    (site / "demo" / "__init__.py").write_text("x = 1\n")
    (site / "demo" / "big.bin").write_bytes(b"12")
    info = site / "demo-1.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text(
        "demo/__init__.py,sha256=x,6\n"
        "demo/big.bin,sha256=y,1000\n"
        "demo/gone.py,sha256=z,10\n"
        "demo/__pycache__/gone.cpython-311.pyc,,\n"
        "demo-1.0.dist-info/RECORD,,\n"
    )
    env = Environment.synthetic("3.11", "manylinux_2_28_x86_64")
    env.data["paths"] = {"purelib": str(site), "platlib": str(site)}
    (problem,) = record_problems(env, ["demo"])
    assert problem["kind"] == "incomplete-files"
    assert problem["missing"] == ["demo/gone.py"]
    assert problem["wrong_size"] == ["demo/big.bin"]
    assert record_problems(env, ["other"]) == []  # only what the job touched
    (site / "demo" / "gone.py").write_text("0123456789")
    (site / "demo" / "big.bin").write_bytes(b"0" * 1000)
    assert record_problems(env, ["demo"]) == []


@pytest.fixture
def disk_size() -> str:
    return "1m"


@pytest.fixture
def small_disk(tmp_path: Path, disk_size: str) -> Iterator[Path]:
    """A small tmpfs (1 MB unless ``disk_size`` says), unmounted afterwards; skipped
    where mounting is not allowed."""
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("needs Linux and mount(8) for a small tmpfs")
    where = tmp_path / f"disk-{uuid.uuid4().hex[:8]}"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={disk_size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'not permitted'}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def venv_on_small_disk(small_disk: Path) -> Path:
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not available to make a venv")
    subprocess.run(
        [*uv, "venv", "-q", "--python", sys.executable, str(small_disk / "venv")],
        check=True,
        timeout=120,
    )
    return small_disk / "venv" / "bin" / "python"


def runner_for(tmp_path: Path, *, min_free: int) -> JobRunner:
    base_env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    config = JobConfig(
        history_path=tmp_path / "history.sqlite", base_env=base_env, min_free_bytes=min_free
    )
    return JobRunner(config, prober=Prober(tmp_path / "probe"))


@pytest.mark.slow
async def test_a_big_install_is_refused_before_it_starts(
    venv_on_small_disk: Path, index: IndexServer, tmp_path: Path
) -> None:
    runner = runner_for(tmp_path, min_free=0)
    env = await asyncio.to_thread(runner.prober.probe_sync, str(venv_on_small_disk))
    # the index says 3 MB; unpacked x3 that is far more than the 1 MB disk has
    with pytest.raises(Refused) as refused:
        await runner.submit(plan_for(env, index, ["bigpkg==1.0"]), env)
    assert refused.value.reason == "no-space"
    assert "Not enough disk space" in refused.value.message
    assert runner.history() == []  # nothing ran, nothing recorded
    await runner.close()


@pytest.mark.slow
async def test_an_install_cut_short_by_a_full_disk_is_damaged_and_undone(
    venv_on_small_disk: Path, index: IndexServer, tmp_path: Path
) -> None:
    runner = runner_for(tmp_path, min_free=0)
    env = await asyncio.to_thread(runner.prober.probe_sync, str(venv_on_small_disk))
    # Given a plan whose sizes understate what unpacking takes (as an index can)
    plan = plan_for(env, index, ["bigpkg==1.0"], size=1)
    # When it runs onto the full disk
    job = await runner.submit(plan, env)
    await asyncio.wait_for(job.wait(), 120)
    # Then it failed for want of space, and the check afterwards says damaged: the
    # dist-info is there, the file its RECORD names is not
    assert job.state == "failed"
    outcome = job.outcome
    assert outcome is not None and outcome.failure is not None
    assert outcome.failure.kind == "no-space"
    assert outcome.damaged is True, outcome.problems
    incomplete = [p for p in outcome.problems if p["kind"] == "incomplete-files"]
    assert incomplete and "bigpkg/_padding.bin" in incomplete[0]["missing"]
    assert not incomplete[0]["preexisting"]
    assert "damaged" in outcome.message and "undo" in outcome.message
    # and the restore is offered, and works
    assert outcome.restore is not None and outcome.restore["undo_of"] == job.id
    undo = await runner.undo(job.id)
    await asyncio.wait_for(undo.wait(), 120)
    assert undo.state == "succeeded", undo.outcome
    after = await asyncio.to_thread(
        functools.partial(runner.prober.probe_sync, str(venv_on_small_disk), refresh=True)
    )
    assert after.installed("bigpkg") is None
    assert record_problems(after, ["bigpkg"]) == []
    await runner.close()


@pytest.mark.slow
@pytest.mark.parametrize("disk_size", ["26m"])
async def test_sizes_an_html_index_does_not_give_are_asked_before_a_job(
    venv_on_small_disk: Path, index_server: IndexServerFactory, tmp_path: Path
) -> None:
    from jupyter_envhelper.core import JobRequest, Target, build_core

    # Given an index of PEP 503 HTML pages (no sizes) and a 3 MB wheel: without its
    # size, the check (size x 3 + 20 MB) would find the 26 MB disk big enough
    html = index_server([BIG], html_only=True)
    core = build_core(
        CoreConfig(
            index_url=html.index_url,
            cache_dir=str(tmp_path / "cache"),
            history_path=str(tmp_path / "history.sqlite"),
        )
    )
    target = Target(python=str(venv_on_small_disk))
    try:
        planned = await core.plan(target, ["bigpkg==1.0"])
        assert planned["plan"]["download_size"] is None  # the page said nothing
        # When the install starts, Then the size is asked of the server and it is
        # refused before anything runs
        with pytest.raises(Refused) as refused:
            await core.start_job(target, JobRequest("install", requirements=("bigpkg==1.0",)))
        assert refused.value.reason == "no-space"
        assert "2.9 MB" in refused.value.message  # 3,000,000 bytes and a little more
        assert any(method == "HEAD" for method, _, _ in html.log)
        assert (await core.history(target))["jobs"] == []
    finally:
        await core.close()
