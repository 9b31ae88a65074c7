"""The resolver on a real local index: scenarios as data, then real virtual environments."""
# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_envhelper.environment import Distribution, Environment
from jupyter_envhelper.errors import BadRequest, NotFound
from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.plan import Plan, ResolutionConflict
from jupyter_envhelper.resolver import plan_install, plan_uninstall
from tests.conftest_envs import run_probe, uv_command, venv_factory  # noqa: F401
from tests.indexserver import IndexServer
from tests.resolver_scenarios import LINUX, RESOLVER_DISTS, RESOLVER_NO_METADATA, SCENARIOS


@pytest.fixture(scope="module")
def resolver_index() -> Iterator[IndexServer]:
    with IndexServer(RESOLVER_DISTS, no_metadata=RESOLVER_NO_METADATA) as server:
        yield server


def target(python: str = "3.11", platform: str = LINUX, installed: Any = None) -> Environment:
    env = Environment.synthetic(python_version=python, platform=platform)
    for name, (version, requires) in (installed or {}).items():
        dist = Distribution(name=name, version=version, requires=tuple(requires))
        env.distributions[dist.canonical_name] = dist
    return env


def plan(index: IndexServer, requested: list[str], env: Environment, **options: Any) -> Plan:
    async def run() -> Plan:
        config = IndexConfig(index_url=index.index_url)
        async with IndexClient(config, use_netrc=False) as client:
            return await plan_install(requested, env, client, **options)

    return asyncio.run(run())


def changes(result: Plan) -> dict[str, str]:
    return {a.canonical_name: str(a.version) for a in result.changes}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_scenario(resolver_index: IndexServer, scenario: dict[str, Any]) -> None:
    env = target(
        scenario.get("python", "3.11"), scenario.get("platform", LINUX), scenario.get("installed")
    )
    options = scenario.get("options", {})
    expected = scenario.get("conflict")
    if expected is None:
        result = plan(resolver_index, scenario["requested"], env, **options)
        assert changes(result) == scenario["pins"]
        keeps = {a.canonical_name: a.version for a in result.actions if a.kind == "keep"}
        assert keeps == scenario.get("keep", {})
        for name, kind in scenario.get("kinds", {}).items():
            action = result.action_for(name)
            assert action is not None and action.kind == kind
        assert [b.message for b in result.breaks] == scenario.get("breaks", [])
        for action in result.changes:
            assert action.file is not None and action.file.sha256
        assert result.stats["full_downloads"] == 0
        return
    with pytest.raises(ResolutionConflict) as caught:
        plan(resolver_index, scenario["requested"], env, **options)
    conflict = caught.value.conflict
    assert sorted(c.kind for c in conflict.causes) == sorted(expected["kinds"])
    for words in expected.get("words", []):
        assert words.lower() in conflict.message.lower(), conflict.message
    offered = [(w.action or {}).get("requirement") for w in conflict.ways_out]
    for requirement in expected.get("ways_out", []):
        assert requirement in offered, conflict.ways_out
    if "other_python" in expected:
        pythons = [(w.action or {}).get("python") for w in conflict.ways_out]
        assert expected["other_python"] in pythons


def test_plan_details(resolver_index: IndexServer) -> None:
    result = plan(resolver_index, ["alpha", "beta[fast]"], target())
    alpha, beta, gamma = (result.action_for(n) for n in ("alpha", "beta", "gamma"))
    assert alpha is not None and beta is not None and gamma is not None
    assert alpha.requested and alpha.kind == "install" and alpha.dependencies == ("beta>=1.0",)
    assert beta.extras == ("fast",) and "gamma>=0.5" in beta.dependencies
    assert beta.required_by == ("alpha 2.0 (beta>=1.0)",)
    assert gamma.required_by == ("beta[fast] 1.5 (gamma>=0.5)",)
    assert gamma.file is not None and gamma.file.kind == "sdist" and gamma.file.needs_build
    assert alpha.file is not None and alpha.file.url.endswith("alpha-2.0-py3-none-any.whl")
    assert result.stats["rounds"] > 0 and result.resolve_ms is not None
    assert result.target.synthetic and result.target.python_version == "3.11.0"


def test_best_ranked_wheel(resolver_index: IndexServer) -> None:
    result = plan(resolver_index, ["compiled"], target("3.11", MAC_TARGET))
    action = result.action_for("compiled")
    assert action is not None and action.file is not None
    assert action.file.filename == "compiled-1.0-cp311-cp311-macosx_11_0_arm64.whl"


MAC_TARGET = "macosx_14_0_arm64"


def test_no_whole_wheel_downloads(index_server: Any) -> None:
    # delta has no .metadata file and a 300 kB wheel: read by ranges, never downloaded.
    server = index_server(RESOLVER_DISTS, no_metadata=RESOLVER_NO_METADATA)
    result = plan(server, ["beta[fast]"], target("3.10"))
    assert changes(result)["delta"] == "1.0"
    assert result.stats["full_downloads"] == 0
    assert result.stats["bytes_downloaded"] < 100_000
    wheel = next(f for f in server.files if f.startswith("delta-1.0-"))
    stats = server.file_stats(wheel)
    assert stats.requests > 0 and stats.full_downloads == 0
    assert stats.bytes < len(server.files[wheel].data) // 4


def test_warm_plan_reuses_the_client(resolver_index: IndexServer) -> None:
    async def run() -> tuple[Plan, Plan]:
        config = IndexConfig(index_url=resolver_index.index_url)
        async with IndexClient(config, use_netrc=False) as client:
            first = await plan_install(["alpha", "beta[fast]"], target(), client)
            second = await plan_install(["alpha", "beta[fast]"], target(), client)
            return first, second

    first, second = asyncio.run(run())
    assert first.pins == second.pins
    assert first.stats["requests"] > 0 and second.stats["requests"] == 0


def test_bad_requests(resolver_index: IndexServer) -> None:
    with pytest.raises(BadRequest):
        plan(resolver_index, ["alpha; rm -rf $HOME"], target())
    with pytest.raises(BadRequest, match="URL"):
        plan(resolver_index, ["alpha @ https://example.org/alpha-1.0.whl"], target())
    # allowed, but not a wheel's file name (name-version-python-abi-platform.whl)
    with pytest.raises(BadRequest, match="Only wheel"):
        plan(
            resolver_index,
            ["alpha @ https://example.org/alpha-1.0.whl"],
            target(),
            allow_direct_urls=True,
        )


def test_conflict_json_is_data(resolver_index: IndexServer) -> None:
    with pytest.raises(ResolutionConflict) as caught:
        plan(resolver_index, ["alpha>=3"], target())
    doc = caught.value.conflict.to_json()
    assert doc["causes"][0]["requirement"] == "alpha>=3"
    assert doc["causes"][0]["required_by"] is None
    assert doc["causes"][0]["version"] == "3.0"
    assert doc["causes"][0]["requires_python"] == ">=3.12"
    way = next(w for w in doc["ways_out"] if w["kind"] == "other-version")
    assert way["message"] == "alpha 2.0 supports your Python 3.11.0."  # patch kept
    assert way["action"] == {
        "kind": "use-requirement",
        "requirement": "alpha==2.0",
        "label": "Use alpha 2.0",
    }
    assert caught.value.status == 409


def test_uninstall_breaks() -> None:
    env = target(
        installed={
            "numlike": ("1.24.4", []),
            "scilike": ("1.10.1", ["numlike<1.25"]),
            "winthing": ("1.0", ["numlike; sys_platform == 'win32'"]),
        }
    )
    result = plan_uninstall(["NumLike"], env)
    assert [(a.kind, a.name, a.installed_version) for a in result.actions] == [
        ("remove", "numlike", "1.24.4")
    ]
    assert [b.message for b in result.breaks] == [
        "Your scilike 1.10.1 needs numlike<1.25, but the plan removes numlike 1.24.4."
    ]
    assert result.breaks[0].removed
    with pytest.raises(NotFound):
        plan_uninstall(["alpha"], env)
    with pytest.raises(BadRequest):
        plan_uninstall(["numlike>=1"], env)


# -- real virtual environments -----------------------------------------------------------


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def test_real_venv_installed_conflict_becomes_breaks(
    resolver_index: IndexServer, venv_factory: Any
) -> None:
    python = venv_factory("resolver-pip", tool="venv")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--index-url", resolver_index.index_url,
         "numlike==1.24.4", "scilike==1.10.1", "alpha==1.0"],
        check=True, env=_clean_env(), timeout=300,
    )  # fmt: skip
    env = Environment.from_probe(run_probe(python))
    result = plan(resolver_index, ["pandalike", "alpha"], env, kernel="venv")
    assert changes(result) == {"pandalike": "2.2.3", "numlike": "1.26.4"}
    alpha = result.action_for("alpha")
    assert alpha is not None and alpha.kind == "keep" and alpha.version == "1.0"
    assert [b.message for b in result.breaks] == [
        "Your scilike 1.10.1 needs numlike<1.25, but the plan installs numlike 1.26.4."
    ]
    assert result.target.kernel == "venv" and not result.target.synthetic
    removal = plan_uninstall(["numlike"], env)
    assert [b.name for b in removal.breaks] == ["scilike"]


def test_real_uv_venv_keeps_and_upgrades(resolver_index: IndexServer, venv_factory: Any) -> None:
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not available")
    python = venv_factory("resolver-uv", tool="uv")
    subprocess.run(
        [*uv, "pip", "install", "-q", "--python", str(python), "--index-url",
         resolver_index.index_url, "alpha==2.0", "beta==1.5"],
        check=True, env=_clean_env(), timeout=300,
    )  # fmt: skip
    env = Environment.from_probe(run_probe(python))
    kept = plan(resolver_index, ["alpha"], env)
    assert changes(kept) == {}
    assert {a.canonical_name: a.kind for a in kept.actions} == {"alpha": "keep", "beta": "keep"}
    beta = kept.action_for("beta")
    assert beta is not None and beta.required_by == ("alpha 2.0 (beta>=1.0)",)
    upgraded = plan(resolver_index, ["alpha==2.1"], env)
    assert changes(upgraded) == {"alpha": "2.1"}
    assert upgraded.action_for("alpha") is not None


def test_synthetic_target_for_the_cli(resolver_index: IndexServer) -> None:
    # The CLI's --target-python-version 3.9 --target-platform macosx_14_0_arm64.
    env = Environment.synthetic(python_version="3.9", platform=MAC_TARGET)
    result = plan(resolver_index, ["alpha", "compiled"], env)
    assert changes(result) == {"alpha": "2.0", "beta": "1.5", "compiled": "1.0", "delta": "1.0"}
    compiled = result.action_for("compiled")
    assert compiled is not None and compiled.file is not None
    assert compiled.file.filename.endswith("cp39-cp39-macosx_11_0_arm64.whl")
    assert Path(compiled.file.url).name == compiled.file.filename
