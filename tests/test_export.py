"""Export: an environment written down, and installed again elsewhere, identically.

Real venvs, the loopback index, real pip (``--require-hashes``) and real uv (``-r
pylock.toml``): what the export says is what a fresh environment gets.
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
import tomllib

from tests.conftest_envs import VenvFactory, uv_command, venv_factory  # noqa: F401 (fixture)
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import DistSpec

REPO = Path(__file__).resolve().parent.parent
CLI = (sys.executable, "-m", "jupyter_envhelper")
DISTS = [
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain"),
    DistSpec("dep", "1.0", module="dep"),
    DistSpec("dep", "1.0", kind="sdist", module="dep"),
    DistSpec("local", "0.1", module="local"),
]


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "UV_CACHE_DIR": str(tmp / "uv-cache")}


def uv(*args: str, env: dict[str, str]) -> str:
    command = uv_command()
    if command is None:
        pytest.skip("uv is not installed")
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def freeze(python: Path, env: dict[str, str]) -> list[str]:
    out = uv("pip", "freeze", "--python", str(python), env=env)
    return sorted(line for line in out.splitlines() if not line.startswith(("pip=", "setuptools=")))


def export(python: Path, index: IndexServer, env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [*CLI, "export", "--python", str(python), "--index-url", index.index_url, "--json", *args],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(REPO)},
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


@pytest.fixture
def source(
    index_server: Any,
    venv_factory: VenvFactory,  # noqa: F811
    tmp_path: Path,
    request: Any,
) -> tuple[Path, IndexServer, dict[str, str]]:
    """A venv with `plain` (and its dependency `dep`) installed from the loopback index."""
    index: IndexServer = index_server(DISTS)
    env = clean_env(tmp_path)
    unique = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    python = venv_factory(f"export-src-{unique}", tool="uv")
    uv("pip", "install", "--python", str(python), "--index-url", index.index_url, "plain", env=env)
    return python, index, env


def test_requirements_with_hashes_install_the_same_set_with_pip(
    source: tuple[Path, IndexServer, dict[str, str]],
    venv_factory: VenvFactory,  # noqa: F811
    tmp_path: Path,
) -> None:
    python, index, env = source
    doc = export(python, index, env)
    assert doc["schema"] == 1 and doc["format"] == "requirements" and doc["packages"] == 2
    text = doc["content"]
    # every file of the release is offered, so a wheel or the sdist may be taken
    dep_hashes = {b.sha256 for b in index.projects["dep"]}
    assert all(f"--hash=sha256:{h}" in text for h in dep_hashes), text
    assert f"--index-url {index.index_url}" in text
    # When a fresh environment installs it with pip, hashes required
    target = venv_factory(f"export-pip-{tmp_path.name}", tool="venv")
    path = tmp_path / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [str(target), "-m", "pip", "install", "--require-hashes", "--no-deps", "-r", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # Then it has exactly what the source has
    assert freeze(target, env) == freeze(python, env) == ["dep==1.0", "plain==1.0"]


def test_a_tampered_hash_is_refused_by_pip(
    source: tuple[Path, IndexServer, dict[str, str]],
    venv_factory: VenvFactory,  # noqa: F811
    tmp_path: Path,
) -> None:
    python, index, env = source
    text = export(python, index, env)["content"]
    sha = index.projects["plain"][0].sha256
    path = tmp_path / "requirements.txt"
    path.write_text(text.replace(sha, "0" * 64), encoding="utf-8")
    target = venv_factory(f"export-bad-{tmp_path.name}", tool="venv")
    done = subprocess.run(
        [str(target), "-m", "pip", "install", "--require-hashes", "--no-deps", "-r", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode != 0 and "HASH" in done.stderr.upper(), done.stderr


def test_pylock_installs_the_same_set_with_uv(
    source: tuple[Path, IndexServer, dict[str, str]],
    venv_factory: VenvFactory,  # noqa: F811
    tmp_path: Path,
) -> None:
    python, index, env = source
    doc = export(python, index, env, "--format", "pylock")
    lock = tomllib.loads(doc["content"])
    assert lock["lock-version"] == "1.0" and doc["filename"] == "pylock.toml"
    packages = {p["name"]: p for p in lock["packages"]}
    assert set(packages) == {"plain", "dep"}
    assert packages["dep"]["index"] == index.index_url
    assert packages["dep"]["sdist"]["hashes"]["sha256"] and packages["dep"]["wheels"]
    assert 'sys_platform == "linux"' in lock["environments"][0] or sys.platform != "linux"
    assert lock["tool"]["jupyter-envhelper"]["markers"]["python_version"]
    path = tmp_path / "pylock.toml"
    path.write_text(doc["content"], encoding="utf-8")
    target = venv_factory(f"export-uv-{tmp_path.name}", tool="uv")
    uv("pip", "install", "--python", str(target), "-r", str(path), env=env)
    assert freeze(target, env) == freeze(python, env)


def test_only_requested_and_what_an_index_cannot_reproduce(
    source: tuple[Path, IndexServer, dict[str, str]], tmp_path: Path
) -> None:
    python, index, env = source
    # Given a package installed from a local wheel file (a direct URL, not the index)
    built = next(b for b in index.projects["local"] if b.filename.endswith(".whl"))
    wheel = tmp_path / built.filename
    wheel.write_bytes(built.data)
    uv("pip", "install", "--python", str(python), str(wheel), env=env)
    doc = export(python, index, env)
    # Then it is a comment and a note, not a pin that would fetch something else
    assert "# local==0.1: not reproducible from an index, installed from file://" in doc["content"]
    assert any(n.startswith("local 0.1: installed from") for n in doc["notes"])
    assert "\nlocal==0.1 \\" not in doc["content"]
    # and --only-requested keeps what was asked for by name, not its dependency (uv
    # writes REQUESTED for both), as pins without hashes (the dependencies resolve then)
    only = export(python, index, env, "--only-requested")
    assert "\nplain==1.0\n" in only["content"] and "dep==" not in only["content"], only
    assert "--hash" not in only["content"]


def test_environment_yml_is_for_conda_environments_only(
    source: tuple[Path, IndexServer, dict[str, str]],
) -> None:
    python, _, env = source
    done = subprocess.run(
        [*CLI, "export", "--python", str(python), "--format", "environment-yml", "--json"],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(REPO)},
        check=False,
        timeout=300,
    )
    assert done.returncode == 2
    error = json.loads(done.stdout)
    assert error["reason"] == "bad-request" and "not a conda environment" in error["message"]


def test_environment_yml_for_a_conda_environment(
    source: tuple[Path, IndexServer, dict[str, str]],
) -> None:
    python, index, env = source
    # Given an environment with conda's package records (conda-meta) beside pip's
    prefix = python.parent.parent
    meta = prefix / "conda-meta"
    meta.mkdir()
    for name, version, build in (
        ("python", "3.11.7", "hab00c5b_0"),
        ("zlib", "1.3.1", "h4ab18f5_1"),
    ):
        record = {
            "name": name,
            "version": version,
            "build": build,
            "channel": "https://conda.anaconda.org/conda-forge/linux-64",
        }
        (meta / f"{name}-{version}-{build}.json").write_text(json.dumps(record), "utf-8")
    (meta / "history").write_text("", "utf-8")  # not a record: ignored
    doc = export(python, index, env, "--format", "environment-yml")
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(doc["content"])
    # Then conda's packages are pinned with their builds, from their channel, and what
    # pip/uv installed is the pip section
    assert doc["filename"] == "environment.yml" and data["channels"] == ["conda-forge"]
    conda = [d for d in data["dependencies"] if isinstance(d, str)]
    assert conda == ["python=3.11.7=hab00c5b_0", "zlib=1.3.1=h4ab18f5_1"]
    pip = next(d["pip"] for d in data["dependencies"] if isinstance(d, dict))
    assert pip == ["dep==1.0", "plain==1.0"]
