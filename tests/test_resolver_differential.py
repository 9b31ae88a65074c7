"""Differential test: the versions our plan installs agree with pip and with uv.

Same local index, same Python (a venv of the test runner's interpreter, probed), no
installed packages involved: ``pip install --dry-run --ignore-installed --report -`` and
``uv pip compile``. Where we differ on purpose the case says why.
"""
# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from jupyter_envhelper.environment import Environment
from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.resolver import plan_install
from tests.conftest_envs import run_probe, uv_command, venv_factory, venv_with_pip  # noqa: F401
from tests.indexserver import IndexServer
from tests.resolver_scenarios import RESOLVER_DISTS, RESOLVER_NO_METADATA

# requested, and differences: {"pip": {name: version}, "uv": {...}} where the other tool
# picks otherwise on purpose.
CASES: list[dict[str, Any]] = [
    {"requested": ["alpha"]},
    {"requested": ["alpha>=2"]},  # the yanked 2.1 is skipped by all three
    {"requested": ["alpha==2.1"]},  # ... and taken by all three when pinned
    {"requested": ["beta[fast]"]},  # extras; gamma is an sdist (pip builds it for metadata)
    {"requested": ["plat", "compiled"]},  # markers; a platform wheel
    {"requested": ["mixed"]},  # pre-release excluded
    {"requested": ["mixed>=1.1b1", "preonly"]},  # named in the specifier; only pre-releases
    {"requested": ["pandalike", "top-a"]},
    {
        # Local labels: `==2.1.0` matches 2.1.0, 2.1.0+cpu and 2.1.0+cu121. pip and uv take
        # the highest in PEP 440 order (+cu121, a CUDA build); we prefer the un-labelled
        # release and leave the CUDA choice to the advice layer, which knows the GPU
        # (see resolver/__init__.py).
        "requested": ["torchlike==2.1.0"],
        "differs": {
            "pip": {"torchlike": "2.1.0+cu121", "nvlike": "12.1"},
            "uv": {"torchlike": "2.1.0+cu121", "nvlike": "12.1"},
        },
    },
    {"requested": ["torchlike==2.1.0+cpu"]},
]


@pytest.fixture(scope="module")
def diff_index() -> Iterator[IndexServer]:
    with IndexServer(RESOLVER_DISTS, no_metadata=RESOLVER_NO_METADATA) as server:
        yield server


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def ours(index: IndexServer, requested: list[str], env: Environment) -> dict[str, str]:
    async def run() -> dict[str, str]:
        config = IndexConfig(index_url=index.index_url)
        async with IndexClient(config, use_netrc=False) as client:
            plan = await plan_install(requested, env, client)
        return {a.canonical_name: str(a.version) for a in plan.changes}

    return asyncio.run(run())


def pip_says(python: Path, index: IndexServer, requested: list[str]) -> dict[str, str]:
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
         "--report", "-", "--index-url", index.index_url, *requested],
        capture_output=True, text=True, env=_clean_env(), timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }


def uv_says(
    uv: list[str], index: IndexServer, requested: list[str], python_version: str, cache: Path
) -> dict[str, str]:
    result = subprocess.run(
        [*uv, "pip", "compile", "-", "--index-url", index.index_url, "--python-version",
         python_version, "--no-header", "--no-annotate", "-q"],
        input="\n".join(requested), capture_output=True, text=True,
        env=_clean_env(UV_CACHE_DIR=str(cache)), timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    pins = {}
    for raw in result.stdout.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


@pytest.fixture(scope="module")
def probed(venv_with_pip: Path) -> Environment:
    return Environment.from_probe(run_probe(venv_with_pip))


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c["requested"]) for c in CASES])
def test_agrees_with_pip_and_uv(
    case: dict[str, Any],
    diff_index: IndexServer,
    venv_with_pip: Path,
    probed: Environment,
    tmp_path: Path,
) -> None:
    mine = ours(diff_index, case["requested"], probed)
    differs = case.get("differs", {})
    assert pip_says(venv_with_pip, diff_index, case["requested"]) == differs.get("pip", mine)
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not available")
    major, minor, _ = probed.python_version_tuple
    found = uv_says(uv, diff_index, case["requested"], f"{major}.{minor}", tmp_path / "uv")
    assert found == differs.get("uv", mine)
