"""Every conflict explained, every build predicted: the cases of resolver_conflict_cases on
a real loopback index, a source-build forecast with its advice, invalid metadata planned
and installed the way uv reads it, unreadable index pages, build progress in words, and
an honest give-up for a search space that really is too big."""
# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_envhelper.advice import AdviceContext
from jupyter_envhelper.advice.platform_support import check_platform
from jupyter_envhelper.environment import Environment
from jupyter_envhelper.errors import IndexUnavailable
from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.installers import PipBackend, UvBackend
from jupyter_envhelper.jobs import Job, JobConfig, JobRunner
from jupyter_envhelper.plan import Conflict, Plan, ResolutionConflict
from jupyter_envhelper.probe import Prober
from jupyter_envhelper.resolver import plan_install
from jupyter_envhelper.resolver.resolve import MAX_ROUNDS
from tests.conftest_envs import (  # noqa: F401 - fixtures
    VenvFactory,
    run_probe,
    uv_command,
    venv_factory,
    venv_with_pip,
)
from tests.indexserver import DistSpec, Fault, IndexServer, IndexServerFactory
from tests.resolver_conflict_cases import CASES, CONFLICT_DISTS, HUGE_DISTS
from tests.test_resolver_differential import ours, pip_says, uv_says

LINUX = "manylinux_2_28_x86_64"
ROUND_LIMIT_WORDS = "rounds of trying versions"


@pytest.fixture(scope="module")
def conflict_index() -> Iterator[IndexServer]:
    with IndexServer(CONFLICT_DISTS) as server:
        yield server


def target(python: str = "3.11") -> Environment:
    return Environment.synthetic(python_version=python, platform=LINUX)


def plan(index: IndexServer, requested: list[str], env: Environment, **options: Any) -> Plan:
    async def run() -> Plan:
        config = IndexConfig(index_url=index.index_url)
        async with IndexClient(config, use_netrc=False) as client:
            return await plan_install(requested, env, client, **options)

    return asyncio.run(run())


def conflict_of(index: IndexServer, requested: list[str], env: Environment) -> Conflict:
    with pytest.raises(ResolutionConflict) as caught:
        plan(index, requested, env)
    return caught.value.conflict


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(conflict_index: IndexServer, case: dict[str, Any]) -> None:
    env = target(case.get("python", "3.11"))
    expected = case.get("conflicted")
    if expected is None:
        result = plan(conflict_index, case["requested"], env)
        assert {a.canonical_name: a.version for a in result.changes} == case["resolved"]
        for name, kind in case.get("files", {}).items():
            action = result.action_for(name)
            assert action is not None and action.file is not None
            assert action.file.kind == kind, action.file
        for words in case.get("warnings", []):
            assert any(words in w for w in result.warnings), result.warnings
        return
    started = time.perf_counter()
    conflict = conflict_of(conflict_index, case["requested"], env)
    elapsed = time.perf_counter() - started
    message = conflict.message
    assert ROUND_LIMIT_WORDS not in message, message
    assert elapsed < 10, elapsed
    assert sorted(c.kind for c in conflict.causes) == sorted(expected["kinds"]), conflict.causes
    for words in expected.get("words", []):
        assert words in message, message
    for words in expected.get("not_words", []):
        assert words not in message, message
    offered = [(w.action or {}).get("requirement") for w in conflict.ways_out]
    for requirement in expected.get("ways_out", []):
        assert requirement in offered, conflict.ways_out
    if "other_python" in expected:
        pythons = [(w.action or {}).get("python") for w in conflict.ways_out]
        assert pythons and pythons[0] == expected["other_python"], conflict.ways_out


def test_ways_out_really_resolve(conflict_index: IndexServer) -> None:
    # A way out is a promise: taking it (in place of the user's requirement on that
    # project) must plan without a conflict.
    for case in CASES:
        if "conflicted" not in case or "python" in case:
            continue
        conflict = conflict_of(conflict_index, case["requested"], target())
        for way in conflict.ways_out:
            requirement = (way.action or {}).get("requirement")
            if requirement is None:
                continue
            name = requirement.split("=", 1)[0].split("[", 1)[0]
            rest = [r for r in case["requested"] if not r.startswith(name)]
            taken = plan(conflict_index, [*rest, requirement], target())
            assert taken.actions, (case["id"], requirement)


def test_python_patch_words_and_action(conflict_index: IndexServer) -> None:
    conflict = conflict_of(conflict_index, ["patchy"], target("3.13.0"))
    [way] = [w for w in conflict.ways_out if w.kind == "other-python"]
    assert way.message == (
        "patchy 1.0 needs Python >=3.13.2: a kernel with Python 3.13.2 or newer would take it."
    )
    assert way.action == {
        "kind": "other-python",
        "python": "3.13.2",
        "label": "Use Python 3.13.2 or newer",
    }
    assert conflict.causes[0].detail == ("patchy 1.0 needs Python >=3.13.2; the target has 3.13.0.")


@pytest.mark.parametrize("requested", [["ws"], ["ws==1.2.3"]])
def test_wheel_over_sdist_agrees_with_pip_and_uv(
    conflict_index: IndexServer, venv_with_pip: Path, requested: list[str], tmp_path: Path
) -> None:
    # 1.2.3 as an sdist only, 1.2.3+foo as a cp311 manylinux wheel: on the test runner's
    # own Python, the plan takes what pip and uv take.
    probed = Environment.from_probe(run_probe(venv_with_pip))
    mine = ours(conflict_index, requested, probed)
    assert mine == pip_says(venv_with_pip, conflict_index, requested)
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not available")
    major, minor, _ = probed.python_version_tuple
    assert mine == uv_says(uv, conflict_index, requested, f"{major}.{minor}", tmp_path / "uv")
    if (major, minor) == (3, 11) and probed.platform_tags()[0].endswith("x86_64"):
        assert mine == {"ws": "1.2.3+foo"}


# -- source builds ----------------------------------------------------------------------


def test_old_release_build_is_predicted_to_fail(conflict_index: IndexServer) -> None:
    # numpy<1.20 on Python 3.11: 1.19.5 has wheels for 3.6-3.9 only.
    result = plan(conflict_index, ["numlike<1.20"], target("3.11"))
    action = result.action_for("numlike")
    assert action is not None and action.file is not None and action.file.kind == "sdist"
    build = action.file.build
    assert build is not None and build.likely_fails
    assert build.wheel_pythons == ("3.6", "3.7", "3.8", "3.9")
    # the series of the oldest newer release with a 3.11 wheel, its newest patch
    assert build.nearest_wheel == "1.23.5" and build.nearest_fits
    assert action.file.to_json()["build"]["likely_fails"] is True

    py39 = {"name": "py39", "display_name": "Python 3.9 (data)", "python_version": "3.9.18"}
    [finding] = check_platform(result, target("3.11"), AdviceContext(other_kernels=[py39]))
    assert finding.check == "platform" and finding.severity == "warning"
    assert "very likely to fail" in finding.message
    assert "wheels stop at Python 3.9" in finding.message
    assert "none for 3.11.0" in finding.message
    assert "numlike==1.23.5, the nearest release with a wheel" in finding.message
    assert "a build can work" not in finding.message
    assert finding.action == {
        "kind": "use-requirement",
        "requirement": "numlike==1.23.5",
        "label": "Use numlike 1.23.5",
    }
    kinds = [a["kind"] for a in finding.details["actions"]]
    assert kinds == ["use-requirement", "switch-kernel", "other-python"]
    assert finding.details["actions"][1]["kernel"] == "py39"

    # Without another kernel: a kernel with 3.9 is still named, and a new environment.
    [plain] = check_platform(result, target("3.11"), AdviceContext())
    assert "a kernel with Python 3.9" in plain.message
    assert "a new environment with Python 3.9" in plain.message


def test_nearest_wheel_that_does_not_fit_is_not_offered(conflict_index: IndexServer) -> None:
    # pandalike needs numlike<1.20: 1.23.5 has a wheel but the rest of the request refuses it.
    result = plan(conflict_index, ["pandalike"], target("3.11"))
    action = result.action_for("numlike")
    assert action is not None and action.file is not None
    build = action.file.build
    assert build is not None and build.likely_fails
    assert build.nearest_wheel == "1.23.5" and not build.nearest_fits
    [finding] = check_platform(result, target("3.11"), AdviceContext())
    assert "does not fit the rest of the request" in finding.message
    assert finding.action is not None and finding.action["kind"] == "other-python"


def test_the_forecast_does_not_depend_on_which_request_answered_first(
    conflict_index: IndexServer,
) -> None:
    # The client already holds numlike's page (another plan, or a prefetch that won the
    # race): the forecast must still see its wheels. (It once read only pages the
    # resolver had waited for itself, so under load the forecast came out empty.)
    async def run() -> Plan:
        config = IndexConfig(index_url=conflict_index.index_url)
        async with IndexClient(config, use_netrc=False) as client:
            await client.get_project("numlike")
            return await plan_install(["pandalike"], target("3.11"), client)

    action = asyncio.run(run()).action_for("numlike")
    assert action is not None and action.file is not None and action.file.build is not None
    assert action.file.build.likely_fails and action.file.build.wheel_pythons


def test_on_a_python_it_has_wheels_for_no_build_at_all(conflict_index: IndexServer) -> None:
    result = plan(conflict_index, ["numlike<1.20"], target("3.9"))
    action = result.action_for("numlike")
    assert action is not None and action.file is not None
    assert action.file.kind == "wheel" and action.file.build is None


def test_pure_source_release_is_not_predicted_to_fail(conflict_index: IndexServer) -> None:
    result = plan(conflict_index, ["puresrc"], target("3.11"))
    action = result.action_for("puresrc")
    assert action is not None and action.file is not None
    assert action.file.build is not None and not action.file.build.likely_fails
    [finding] = check_platform(result, target("3.11"), AdviceContext())
    assert "very likely to fail" not in finding.message
    assert "will be built from source" in finding.message


def test_exact_sdist_pin_never_says_there_is_no_wheel(conflict_index: IndexServer) -> None:
    result = plan(conflict_index, ["ws===1.2.3"], target("3.11"))
    action = result.action_for("ws")
    assert action is not None and action.file is not None and action.file.kind == "sdist"
    assert action.file.build is not None
    assert action.file.build.same_release_wheel == "1.2.3+foo"
    [finding] = check_platform(result, target("3.11"), AdviceContext())
    assert "there is no wheel" not in finding.message
    assert "ws 1.2.3+foo is the same release as a wheel that fits" in finding.message
    assert finding.action is not None and finding.action["requirement"] == "ws==1.2.3+foo"


def test_build_progress_is_said_in_words(
    tmp_path: Path, venv_factory: VenvFactory, index_server: IndexServerFactory
) -> None:
    # A real job building a real sdist with uv: the progress says "building ... from source".
    if uv_command() is None:
        pytest.skip("uv is not available")
    server = index_server([DistSpec("puresrc", "0.5", kind="sdist")])
    python = venv_factory("explained-build", tool="uv")
    base_env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    config = JobConfig(history_path=tmp_path / "h.sqlite", base_env=base_env)
    runner = JobRunner(config, prober=Prober(tmp_path / "cache"))

    async def run() -> Job:
        env = await asyncio.to_thread(runner.prober.probe_sync, str(python))
        async with IndexClient(IndexConfig(index_url=server.index_url), use_netrc=False) as c:
            made = await plan_install(["puresrc"], env, c)
        job = await runner.submit(made, env)
        return await asyncio.wait_for(job.wait(), 120)

    job = asyncio.run(run())
    assert job.state == "succeeded", job.to_json()["outcome"]
    messages = [e.message for e in job.event_list if e.message]
    assert "building puresrc from source (this can take minutes)" in messages, messages
    building = next(e for e in job.event_list if e.message and e.message.startswith("building"))
    assert building.bytes_done == building.bytes_total  # not "0 B of ..." while it builds
    assert building.phase == "building"  # the panel says "Building from source"


def test_installers_read_build_lines() -> None:
    env = target()
    uv = UvBackend(env, "/usr/bin/uv")
    got = uv.parse_line("stderr", "   Building numpy==1.19.5")
    assert got is not None and got.building == "numpy" and got.file_done is None
    built = uv.parse_line("stderr", "      Built numpy==1.19.5")
    assert built is not None and built.building is None and built.file_done == "numpy"
    pip = PipBackend(env)
    line = "  Building wheel for NumPy (pyproject.toml): started"
    started = pip.parse_line("stdout", line)
    assert started is not None and started.building == "numpy"
    finished = pip.parse_line("stdout", line.replace("started", "finished with status 'done'"))
    assert finished is None or finished.building is None


# -- invalid metadata, really installed -------------------------------------------------


def test_invalid_metadata_plan_installs_what_uv_reads(
    conflict_index: IndexServer, venv_factory: VenvFactory, tmp_path: Path
) -> None:
    # Before: sixlike was dropped from the plan, the --no-deps install left it out and
    # `uv pip check` reported it missing. Now the plan has it, and the check is clean.
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not available")
    result = plan(conflict_index, ["badmeta"], target())
    badmeta = result.action_for("badmeta")
    assert badmeta is not None and badmeta.dependencies == ("sixlike>=1",)
    python = venv_factory("explained-badmeta", tool="uv")
    env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv")}
    subprocess.run(
        [*uv, "pip", "install", "-q", "--python", str(python), "--no-deps", "--index-url",
         conflict_index.index_url, "--", *result.pins],
        check=True, env=env, timeout=300,
    )  # fmt: skip
    check = subprocess.run(
        [*uv, "pip", "check", "--python", str(python)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    probed = Environment.from_probe(run_probe(python))
    assert probed.installed("sixlike") is not None


# -- unreadable index pages -------------------------------------------------------------


def test_page_with_only_unreadable_entries_is_said(index_server: IndexServerFactory) -> None:
    server = index_server([DistSpec("alpha", "1.0")], html_only=True)
    server.set_fault(Fault("broken-page"), project="alpha")
    conflict = conflict_of(server, ["alpha"], target())
    assert "The index sent a page for alpha that could not be read" in conflict.message
    assert "the index has none" not in conflict.message.lower()


def test_garbage_page_is_index_unavailable(index_server: IndexServerFactory) -> None:
    server = index_server([DistSpec("alpha", "1.0")], html_only=True)
    server.set_fault(Fault("garbage-page"), project="alpha")
    with pytest.raises(IndexUnavailable, match="could not be read") as caught:
        plan(server, ["alpha"], target())
    assert "alpha" in caught.value.message


def test_empty_page_says_no_files(index_server: IndexServerFactory) -> None:
    server = index_server([DistSpec("alpha", "1.0")], html_only=True)
    server.set_fault(Fault("empty-page"), project="alpha")
    conflict = conflict_of(server, ["alpha"], target())
    assert "The index lists no files at all for alpha." in conflict.message
    assert " ;" not in conflict.message


# -- the round limit, for a search space that really is huge -----------------------------


def test_huge_search_space_gives_up_honestly(index_server: IndexServerFactory) -> None:
    server = index_server(HUGE_DISTS)
    started = time.perf_counter()
    conflict = conflict_of(server, ["wide"], target())
    elapsed = time.perf_counter() - started
    assert elapsed < 60, elapsed  # about 1.5 s here; bounded by the round limit
    message = conflict.message
    assert message.startswith(f"No answer after {MAX_ROUNDS} rounds of trying versions")
    assert "gave up before finding a set of versions that fits or proving that none does" in (
        message
    )
    assert "Most rejected versions were of leaf" in message, message
    assert "cannot be installed" not in message  # nothing was proven
    assert conflict.causes == [] and conflict.ways_out == []
    # ... and it is the search, not the request, that was too big: pinned, it plans.
    pinned = plan(server, ["wide==1"], target())
    assert {a.canonical_name: a.version for a in pinned.changes} == {
        "wide": "1",
        "mid": "1",
        "leaf": "1",
        "base": "1",
    }


# -- the pieces, directly ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("six (>=1.*)", "six>=1"),
        ("six>=1.0.*", "six>=1.0"),
        ("six (>=1.*,)", "six>=1"),
        ('six (>=1.*) ; python_version < "3.12"', 'six>=1; python_version < "3.12"'),
        ("six>=1.*,<3.*", "six<3,>=1"),
        ("six (>=1.*", None),  # unbalanced: no unambiguous reading
        ("six ===", None),
    ],
)
def test_lenient_requirement_reads_like_uv(written: str, read: str | None) -> None:
    from jupyter_envhelper.index.metadata import lenient_requirement

    got = lenient_requirement(written)
    assert (str(got) if got is not None else None) == read


@pytest.mark.parametrize(
    ("spec", "python", "expected"),
    [
        (">=3.13.2", "3.13.0", "3.13.2"),
        (">=3.12", "3.11.7", "3.12"),
        (">=3.14.1", "3.13.4", "3.14.1"),
        ("<3.11", "3.12.0", None),
        ("==3.12.*", "3.11.2", "3.12"),
        ("!=3.12.*,>=3.12", "3.11.2", "3.13"),
    ],
)
def test_newer_python_keeps_the_patch(spec: str, python: str, expected: str | None) -> None:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from jupyter_envhelper.resolver.explain import newer_python

    assert newer_python(SpecifierSet(spec), Version(python)) == expected


def test_garbage_html_body_is_not_an_empty_project() -> None:
    from jupyter_envhelper.index.pages import parse_project_html

    with pytest.raises(IndexUnavailable, match="could not be read"):
        parse_project_html(b"\x1f\x8b\x08 garbage", "https://i/simple/x/", "https://i/simple/", "x")
    empty = b"<html><body><h1>Links for x</h1></body></html>"
    page = parse_project_html(empty, "https://i/simple/x/", "https://i/simple/", "x")
    assert page.files == [] and page.warnings == []
