"""GPU truth beyond the matrix: devices counted, overrides checked, CUDA 13 metadata,
ROCm and MPS, and the facts table itself (every row with its source)."""

# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet

from jupyter_envhelper import gpu, gpu_facts
from jupyter_envhelper.advice import AdviceContext
from jupyter_envhelper.advice.context import torch_index_url
from jupyter_envhelper.advice.cuda import arch_fit, build_need, check_gpu, recommend
from jupyter_envhelper.environment import Environment
from tests.advice_builders import act, plan, probed_env
from tests.conftest_envs import FAKEGPU_DIR, FakeGPU, fake_gpu, run_probe, venv_factory  # noqa: F401

LINUX = Environment.synthetic("3.11", "manylinux_2_28_x86_64")
CU128 = plan(act("install", "torch", "2.9.1+cu128", requested=True, size=2_000_000_000))
CPU = plan(act("install", "torch", "2.9.1+cpu", requested=True, size=200_000_000))


def probed(env: dict[str, str]) -> Environment:
    return Environment.from_probe(run_probe(sys.executable, env))


# ---------------------------------------------------------------- devices


def test_a_driver_without_a_device_is_no_gpu(fake_gpu: FakeGPU) -> None:
    """A container started without the GPU: libcuda loads, cuInit says no device."""
    env = probed(fake_gpu.env(driver_version=12080, devices="", smi_output=""))
    acc = env.accelerators
    assert acc["libcuda"]["init_result"] == 100
    assert acc["device_count"] == 0
    assert gpu.device_count(acc) == 0
    nvidia = next(n for n in acc["not_detected"] if n["kind"] == "nvidia")
    assert "no GPU device is visible" in nvidia["reason"]
    assert "no GPU device visible" in env.gpu_summary()

    [finding] = check_gpu(CU128, env, AdviceContext())
    assert finding.severity == "warning"
    assert "a GPU you don't have" in finding.message
    assert "is loaded but no GPU device is visible (cuInit answered CUDA_ERROR_NO_DEVICE)" in (
        finding.message
    )
    assert finding.details["recommended"]["backend"] == "cpu"
    assert finding.action is not None and finding.action["torch_backend"] == "cpu"
    # and a CPU build there is not told "this machine has an NVIDIA GPU"
    assert check_gpu(CPU, env, AdviceContext()) == []


def test_devices_are_counted_and_named(fake_gpu: FakeGPU) -> None:
    env = probed(
        fake_gpu.env(
            driver_version=12080,
            devices="NVIDIA H100 80GB HBM3:9.0;NVIDIA H100 80GB HBM3:9.0",
            smi_output="NVIDIA H100 80GB HBM3, 9.0, 570.86.10",
        )
    )
    assert env.accelerators["device_count"] == 2
    [finding] = check_gpu(CU128, env, AdviceContext())
    assert finding.severity == "info"
    assert finding.message == (
        "torch 2.9.1+cu128 is built for CUDA 12.8, and the NVIDIA driver here (570.86) "
        "supports CUDA 12.8 at most, with 2× H100 80GB HBM3 (sm_90): it can use the GPU."
    )


def test_nothing_found_is_said(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = probed({"PATH": f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin", "LD_LIBRARY_PATH": ""})
    kinds = {n["kind"]: n["reason"] for n in env.accelerators["not_detected"]}
    assert kinds["nvidia"] == "no NVIDIA driver (libcuda.so.1) and no nvidia-smi were found"
    assert env.gpu_summary().startswith(  # then "(CUDA toolkit X installed)" if there is one
        "No NVIDIA GPU found: no NVIDIA driver (libcuda.so.1) and no nvidia-smi were found"
    )
    assert "no AMD GPU driver" in kinds["rocm"]
    assert kinds["mps"] == "not macOS"


# ---------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("override", "severity"),
    [("450.51.06", "blocker"), ("450.80.02", "warning"), ("470.57.02", "warning")],
)
def test_uv_driver_override_goes_through_the_floor(override: str, severity: str) -> None:
    """UV_CUDA_DRIVER_VERSION stands for the driver: 450.51 is below 11.x's minor
    version compatibility floor (450.80.02), so cu118 can't run there."""
    env = probed_env(accelerators={"overrides": {"UV_CUDA_DRIVER_VERSION": override}})
    cu118 = plan(act("install", "torch", "2.7.1+cu118", requested=True))
    findings = [f for f in check_gpu(cu118, env, AdviceContext()) if f.severity != "info"]
    assert [f.severity for f in findings] == [severity]
    if severity == "blocker":
        assert "older than 450.80.02" in findings[0].message


# ---------------------------------------------------------------- CUDA 13 metadata


@pytest.mark.parametrize(
    ("name", "version", "deps", "cuda"),
    [
        ("nvidia-cuda-runtime", "13.0.96", (), "13.0"),
        ("nvidia-cuda-nvrtc", "13.2.51", (), "13.2"),
        ("cuda-toolkit", "13.2.2", (), "13.2"),
        ("torch", "2.15.0", ("cuda-toolkit[cublas,cudart]==13.2.2",), "13.2"),
        ("torch", "2.9.1", ("nvidia-cuda-runtime==13.0.96; platform_system == 'Linux'",), "13.0"),
        ("nvidia-cudnn-cu13", "9.13.0.50", (), "13.x"),
    ],
)
def test_cuda13_wheels_without_the_suffix(
    name: str, version: str, deps: tuple[str, ...], cuda: str
) -> None:
    need = build_need(act("install", name, version, deps=deps), LINUX)
    assert need is not None and need.cuda_text == cuda


def test_driver_floors_of_cuda_13() -> None:
    assert gpu.cuda_for_driver("595.45.04") == "13.2"
    assert gpu.cuda_for_driver("590.44.01") == "13.1"
    env = probed_env(accelerators={"driver_version": "580.65.06", "cuda_driver_version": "13.0"})
    toolkit = plan(act("install", "torch", "2.15.0", requested=True,
                        deps=("cuda-toolkit==13.2.2",)))  # fmt: skip
    [finding] = [f for f in check_gpu(toolkit, env, AdviceContext()) if f.severity != "info"]
    assert finding.severity == "warning"  # 13.2 on a 13.0 driver: minor compatibility
    assert "A driver 595.45.04 or newer removes the doubt." in finding.message
    old = probed_env(accelerators={"driver_version": "575.51.03", "cuda_driver_version": "12.9"})
    [blocker] = [f for f in check_gpu(toolkit, old, AdviceContext()) if f.severity == "blocker"]
    assert (
        "Update the NVIDIA driver to 595.45.04 or newer (full support); any 580 or newer "
        "runs CUDA 13.x builds (minor version compatibility)." in blocker.message
    )


# ---------------------------------------------------------------- PTX


def test_ptx_runs_newer_gpus_through_jit() -> None:
    [cu124] = [b for b in gpu_facts.TORCH_BUILDS if b.backend == "cu124"]
    assert arch_fit("9.0", cu124) == "sass"
    assert arch_fit("8.9", cu124) == "sass"  # 8.6 SASS runs on 8.9
    assert arch_fit("12.0", cu124) == "ptx"  # 9.0+PTX, JIT-compiled
    assert arch_fit("3.5", cu124) == "none"
    env = probed_env(
        accelerators={
            "driver_version": "570.86.10",
            "cuda_driver_version": "12.8",
            "devices": [{"name": "NVIDIA GeForce RTX 5090", "compute_capability": "12.0"}],
        }
    )
    subject = plan(act("install", "torch", "2.5.1+cu124", requested=True))
    [finding] = check_gpu(subject, env, AdviceContext())
    assert finding.severity == "warning"
    assert "runs through PTX compiled at start-up (JIT)" in finding.message
    # the way out for 2.5.1 is itself (no build of 2.5.1 runs natively): no button...
    assert finding.details["recommended"]["requirement"] == "torch==2.5.1+cu124"
    assert finding.action is None
    assert "The build that" not in finding.message
    # ...and a newer release has a native build
    assert recommend("2.9.1", _driver(env), env).backend == "cu128"  # type: ignore[union-attr]


def _driver(env: Environment):  # type: ignore[no-untyped-def]
    from jupyter_envhelper.advice.cuda import driver_facts

    return driver_facts(env)


# ---------------------------------------------------------------- ROCm and MPS


@pytest.fixture
def rocm_bin(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "rocm-bin"
    bin_dir.mkdir()
    shutil.copy2(FAKEGPU_DIR / "rocm_agent_enumerator", bin_dir / "rocm_agent_enumerator")
    (bin_dir / "rocm_agent_enumerator").chmod(0o755)
    return bin_dir


def rocm_env(rocm_bin: Path, agents: str) -> Environment:
    path = f"{rocm_bin}{os.pathsep}/usr/bin{os.pathsep}/bin"
    return probed({"PATH": path, "LD_LIBRARY_PATH": "", "FAKE_ROCM_AGENTS": agents})


def test_rocm_gpus_are_detected_and_judged(rocm_bin: Path) -> None:
    env = rocm_env(rocm_bin, "gfx90a;gfx90a")
    rocm = env.accelerators["rocm"]
    assert rocm["agents"] == ["gfx90a", "gfx90a"]
    assert rocm["source"] == "rocm_agent_enumerator"
    assert "AMD GPU (ROCm): 2× gfx90a" in env.gpu_summary()
    subject = plan(act("install", "torch", "2.9.1+rocm6.4", requested=True))
    assert [f.severity for f in check_gpu(subject, env, AdviceContext())] == []

    navi10 = rocm_env(rocm_bin, "gfx1010")
    [finding] = check_gpu(subject, navi10, AdviceContext())
    assert finding.severity == "blocker"
    assert "gfx1010 can't run it" in finding.message


def test_a_rocm_build_without_an_amd_gpu(rocm_bin: Path) -> None:
    env = rocm_env(rocm_bin, "")
    subject = plan(act("install", "torch", "2.9.1+rocm6.4", requested=True))
    [finding] = check_gpu(subject, env, AdviceContext())
    assert finding.severity == "warning"
    assert "built for AMD GPUs (ROCm)" in finding.message
    assert finding.details["recommended"]["backend"] == "cpu"


def test_macos_arm64_uses_mps_never_cuda() -> None:
    mac = probed_env(
        platform="macosx_14_0_arm64",
        accelerators={"mps": {"available": True, "source": "platform (macOS arm64)"}},
    )
    [finding] = check_gpu(plan(act("install", "torch", "2.9.1", requested=True)), mac, None)  # type: ignore[arg-type]
    assert finding.severity == "info"
    assert "MPS" in finding.message and "no CUDA builds" in finding.message
    assert "Apple GPU (Metal/MPS; no CUDA on macOS)" in mac.gpu_summary()


# ---------------------------------------------------------------- the facts


def test_every_fact_row_names_its_source() -> None:
    text = (Path(gpu_facts.__file__)).read_text(encoding="utf-8")
    table = text[text.index("\nCUDA_DRIVER_TABLE:") : text.index("\nMINOR_COMPAT_FLOOR")]
    rows = [line for line in table.splitlines() if re.match(r'\s+\("\d+\.\d+", "', line)]
    assert len(rows) == len(gpu_facts.CUDA_DRIVER_TABLE)
    assert all("#" in line for line in rows), "a driver row without its source comment"
    for build in gpu_facts.TORCH_BUILDS:
        assert build.source, build
        assert list(build.sass) == sorted(build.sass, key=lambda a: tuple(map(int, a.split("."))))
        assert set(build.ptx) <= set(build.sass)
    for build in gpu_facts.TORCH_ROCM_BUILDS:
        assert build.source and build.gfx


def test_one_row_per_release_and_backend() -> None:
    for release in ("2.4.0", "2.5.1", "2.6.0", "2.7.1", "2.8.0", "2.9.1", "2.10.0", "2.11.0",
                    "2.12.1", "2.13.0", "2.14.0", "2.15.0"):  # fmt: skip
        backends = [
            b.backend for b in gpu_facts.TORCH_BUILDS if SpecifierSet(b.torch).contains(release)
        ]
        assert len(backends) == len(set(backends)), (release, backends)
        assert backends, release


def test_facts_the_issue_names() -> None:
    """The rows the issue checks: 2.8+ cu128/cu129 dropped sm_50/sm_60 (only cu126 keeps
    them), cu130 starts at sm_75, only cu128+ has Blackwell (sm_100/sm_120)."""

    def row(release: str, backend: str) -> gpu_facts.TorchBuild:
        return next(
            b
            for b in gpu_facts.TORCH_BUILDS
            if b.backend == backend and SpecifierSet(b.torch).contains(release)
        )

    for release in ("2.8.0", "2.9.1", "2.10.0"):
        assert "6.0" in row(release, "cu126").sass and "5.0" in row(release, "cu126").sass
        assert "6.0" not in row(release, "cu128").sass
        assert "12.0" in row(release, "cu128").sass and "10.0" in row(release, "cu128").sass
        assert "12.0" not in row(release, "cu126").sass
    assert row("2.9.1", "cu130").sass[0] == "7.5"
    assert "12.0" not in row("2.7.1", "cu118").sass
    assert gpu_facts.MINOR_COMPAT_FLOOR == {13: "580", 12: "525.60.13", 11: "450.80.02"}


@pytest.mark.parametrize(
    ("backend", "url"),
    [
        ("cu126", "https://download.pytorch.org/whl/cu126/"),
        ("cpu", "https://download.pytorch.org/whl/cpu/"),
        ("rocm6.4", "https://download.pytorch.org/whl/rocm6.4/"),
        ("cu999", None),
        ("../cu126", None),
        ("https://evil.example/", None),
    ],
)
def test_only_allow_listed_backends_become_urls(backend: str, url: str | None) -> None:
    assert torch_index_url(gpu_facts.TORCH_INDEX_TEMPLATE, backend) == url


def test_a_release_newer_than_the_facts_gets_no_guess() -> None:
    env = probed_env(
        accelerators={
            "driver_version": "570.86.10",
            "cuda_driver_version": "12.8",
            "devices": [{"name": "NVIDIA GeForce GTX 1080", "compute_capability": "6.1"}],
        }
    )
    future = plan(act("install", "torch", "2.16.0+cu128", requested=True))
    findings = check_gpu(future, env, AdviceContext())
    assert [f.severity for f in findings] == ["info"]  # the driver runs 12.8: no arch guess
    assert "recommended" not in findings[0].details


def test_kfd_topology_names_gfx_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The amdgpu driver's topology: gfx_target_version 90010 is gfx90a; CPU nodes say 0."""
    from jupyter_envhelper.probe import script

    for node, value in (("0", 0), ("1", 90010), ("2", 110000), ("10", 90402)):
        (tmp_path / node).mkdir()
        (tmp_path / node / "properties").write_text(
            f"cpu_cores_count 0\ngfx_target_version {value}\nsimd_count 8\n", encoding="utf-8"
        )
    monkeypatch.setattr(script, "_KFD_NODES", str(tmp_path))
    assert script._kfd_agents() == ["gfx90a", "gfx1100", "gfx942"]


def test_an_installed_cuda13_torch_is_read_from_its_pins(venv_factory: Any) -> None:
    from tests.test_probe import site_packages, write_dist

    python = venv_factory("torch215", tool="venv")
    write_dist(
        site_packages(python),
        "torch",
        "2.15.0",
        headers="Requires-Dist: cuda-toolkit[cublas,cudart]==13.2.2; platform_system == 'Linux'",
    )
    torch = run_probe(python, {"LD_LIBRARY_PATH": ""})["accelerators"]["torch"]
    assert (torch["cuda"], torch["source"]) == ("13.2", "requirements")
