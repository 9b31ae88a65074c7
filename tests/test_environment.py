"""Environment: built from real probes, tags from the target's facts, words for people."""

# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.tags import Tag

from jupyter_envhelper.environment import Environment, redact_url
from tests.conftest_envs import (  # noqa: F401 - fixtures
    FakeGPU,
    externally_managed_python,
    fake_gpu,
    no_gpu_env,
    run_probe,
    uv_venv,
    venv_factory,
    venv_with_pip,
)

PACKAGING_DIR = str(Path(__import__("packaging").__file__).resolve().parents[1])


def own_sys_tags(python: Path) -> list[str]:
    code = "from packaging.tags import sys_tags; print('\\n'.join(map(str, sys_tags())))"
    out = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": PACKAGING_DIR},
    )  # fmt: skip
    return out.stdout.split()


def test_synthetic_linux_tags() -> None:
    env = Environment.synthetic(python_version="3.9", platform="manylinux_2_28_x86_64")
    found = set(env.supported_tags())
    assert Tag("cp39", "cp39", "manylinux_2_17_x86_64") in found
    assert Tag("cp39", "abi3", "manylinux2014_x86_64") in found
    assert Tag("cp39", "cp39", "manylinux_2_28_x86_64") in found
    assert Tag("cp39", "cp39", "manylinux1_x86_64") in found
    assert Tag("py3", "none", "any") in found
    assert Tag("cp311", "cp311", "manylinux_2_17_x86_64") not in found
    assert Tag("cp311", "abi3", "manylinux_2_17_x86_64") not in found
    assert Tag("cp39", "cp39", "manylinux_2_31_x86_64") not in found
    assert Tag("cp39", "cp39", "musllinux_1_2_x86_64") not in found
    assert env.supported_tags()[0] == Tag("cp39", "cp39", "linux_x86_64")
    assert env.supported_tags()[1] == Tag("cp39", "cp39", "manylinux_2_28_x86_64")


def test_synthetic_other_platforms() -> None:
    mac = Environment.synthetic(python_version="3.9", platform="macosx_14_0_arm64")
    tags = set(mac.supported_tags())
    assert Tag("cp39", "cp39", "macosx_11_0_arm64") in tags
    assert Tag("cp39", "cp39", "macosx_14_0_universal2") in tags
    assert Tag("cp39", "cp39", "macosx_10_9_x86_64") not in tags
    assert Marker('sys_platform == "darwin" and platform_machine == "arm64"').evaluate(mac.markers)

    win = Environment.synthetic(python_version="3.12", platform="win_amd64")
    assert win.supported_tags()[0] == Tag("cp312", "cp312", "win_amd64")
    assert Marker('sys_platform == "win32"').evaluate(win.markers)

    musl = Environment.synthetic(python_version="3.11", platform="musllinux_1_2_aarch64")
    tags = set(musl.supported_tags())
    assert Tag("cp311", "cp311", "musllinux_1_1_aarch64") in tags
    assert Tag("cp311", "cp311", "manylinux_2_17_aarch64") not in tags
    with pytest.raises(ValueError, match="unknown platform"):
        Environment.synthetic(platform="solaris_sparc")


def test_probed_tags_equal_the_interpreters_own(venv_with_pip: Path) -> None:
    env = Environment.from_probe(run_probe(venv_with_pip))
    ours = [str(t) for t in env.supported_tags()]
    theirs = own_sys_tags(venv_with_pip)
    assert ours[0] == theirs[0]
    assert ours == theirs


def test_free_threaded_and_debug_abis() -> None:
    env = Environment.synthetic(python_version="3.13", platform="manylinux_2_28_x86_64")
    env.data["interpreter"]["free_threaded"] = True
    tags = env.supported_tags()
    assert tags[1] == Tag("cp313", "cp313t", "manylinux_2_28_x86_64")
    assert not any(t.abi == "abi3" for t in tags)
    env.data["interpreter"]["debug"] = True
    assert env.supported_tags()[0].abi == "cp313td"


def test_environment_facts(venv_with_pip: Path) -> None:
    doc = run_probe(venv_with_pip)
    env = Environment.from_probe(doc)
    assert env.executable == str(venv_with_pip)
    assert env.kind == "venv"
    assert env.implementation == "cpython"
    assert env.python_version == doc["interpreter"]["version"]
    assert env.python_version_tuple[:2] == tuple(doc["interpreter"]["version_info"][:2])
    assert env.installed("PIP") is not None
    assert env.installed("Pip").name.lower() == "pip"  # type: ignore[union-attr]
    assert env.installed("not-installed-anywhere") is None
    assert Marker('python_version >= "3"').evaluate(env.markers)
    summary = env.summary()
    assert summary["package_count"] == len(env.distributions) > 0
    assert set(summary) == {"python_version", "implementation", "kind", "prefix", "executable",
                            "package_count", "gpu", "warnings"}  # fmt: skip


def test_warnings_in_plain_words(externally_managed_python: Path, uv_venv: Path) -> None:
    # PATH without the test runner's venv, whose bin/ may hold a uv
    env = Environment.from_probe(run_probe(externally_managed_python, {"PATH": "/usr/bin:/bin"}))
    codes = {w["code"]: w["message"] for w in env.warnings()}
    assert "externally-managed" in codes
    assert "no-installer" in codes  # the copied interpreter has neither pip nor uv
    bare = Environment.from_probe(run_probe(uv_venv, {"PATH": "/usr/bin:/bin"}))
    if bare.data["installers"]["uv"] is None:
        assert any(w["code"] == "no-installer" for w in bare.warnings())


def test_gpu_summary_from_fake_gpu(venv_with_pip: Path, fake_gpu: FakeGPU) -> None:
    env = fake_gpu.env(devices="NVIDIA A100-SXM4-80GB:8.0", driver_version=12020,
                       smi_output="NVIDIA A100-SXM4-80GB, 8.0, 535.104.05")  # fmt: skip
    line = Environment.from_probe(run_probe(venv_with_pip, env)).gpu_summary()
    assert line == "NVIDIA driver 535.104, CUDA ≤ 12.2, 1× A100-SXM4-80GB (sm_80)"


def test_gpu_summary_without_gpu(venv_with_pip: Path, no_gpu_env: dict[str, str]) -> None:
    line = Environment.from_probe(run_probe(venv_with_pip, no_gpu_env)).gpu_summary()
    assert line.startswith("No NVIDIA GPU found")


def test_to_json_is_stable_and_redacted(venv_with_pip: Path, tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://me:hunter2@corp.example/simple\n")
    env = {"PIP_CONFIG_FILE": str(conf), "PIP_INDEX_URL": "", "PIP_EXTRA_INDEX_URL": "",
           "UV_INDEX": "corp=https://t:k@corp.example/simple"}  # fmt: skip
    doc = Environment.from_probe(run_probe(venv_with_pip, env)).to_json()
    text = json.dumps(doc)
    assert "hunter2" not in text
    assert "t:k@" not in text
    assert doc["index"]["pip"]["index_url"] == "https://***@corp.example/simple"
    assert doc["index"]["uv"]["indexes"] == ["corp=https://***@corp.example/simple"]
    assert {"schema", "executable", "python_version", "implementation", "kind", "prefix",
            "interpreter", "markers", "platform", "paths", "environment", "installers",
            "index", "distributions", "accelerators", "warnings"} <= set(doc)  # fmt: skip
    names = [d["canonical_name"] for d in doc["distributions"]]
    assert names == sorted(names)
    assert {"cuda", "cuda_source", "summary"} <= set(doc["accelerators"])


def test_redact_url() -> None:
    assert redact_url("https://u:p@h.example/simple") == "https://***@h.example/simple"
    assert redact_url("https://token@h.example/") == "https://***@h.example/"
    assert redact_url("https://h.example/simple") == "https://h.example/simple"
    assert redact_url("/local/wheels") == "/local/wheels"


def test_unknown_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="schema"):
        Environment.from_probe({"schema": 99})
