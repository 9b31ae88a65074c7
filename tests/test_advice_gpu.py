"""Check ``gpu``: CUDA builds against drivers the real probe detects (fake libcuda, nvidia-smi)."""

# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import sys

import pytest

from jupyter_envhelper.advice import AdviceContext
from jupyter_envhelper.advice.cuda import build_need, check_gpu, minimum_driver
from jupyter_envhelper.environment import Environment
from jupyter_envhelper.plan import Plan
from tests.advice_builders import act, plan, probed_env
from tests.conftest_envs import FakeGPU, fake_gpu, no_gpu_env, run_probe  # noqa: F401

GB = 1_000_000_000
LINUX = Environment.synthetic("3.11", "manylinux_2_28_x86_64")
CPU_TORCH = {
    "requirement": "torch==2.4.0+cpu",
    "index_url": "https://download.pytorch.org/whl/cpu",
    "size": 190_000_000,
}
CU118_TORCH = {
    "requirement": "torch==2.4.0+cu118",
    "index_url": "https://download.pytorch.org/whl/cu118",
    "size": 2_600_000_000,
}
CTX = AdviceContext(cpu_alternatives={"torch": CPU_TORCH}, cuda_alternatives={"torch": CU118_TORCH})

TORCH_DEPS = (
    "filelock",
    "nvidia-cuda-runtime-cu12==12.4.127; platform_system == 'Linux' and platform_machine == 'x86_64'",  # noqa: E501
    "nvidia-cudnn-cu12==9.1.0.70; platform_system == 'Linux' and platform_machine == 'x86_64'",
    "triton==3.0.0; platform_system == 'Linux'",
)


def torch_from_pypi() -> Plan:
    """torch 2.4.0 from PyPI on Linux: CUDA 12.4, known from its pinned runtime wheel."""
    return plan(
        act("install", "torch", "2.4.0", requested=True, deps=TORCH_DEPS, size=800_000_000),
        act("install", "nvidia-cuda-runtime-cu12", "12.4.127", size=900_000),
        act("install", "nvidia-cudnn-cu12", "9.1.0.70", size=660_000_000),
        act("install", "filelock", "3.15.4"),
    )


def gpu_env(
    fake: FakeGPU, driver: int, smi_driver: str, devices: str = "NVIDIA A100:8.0", **extra: str
) -> Environment:
    name, cc = devices.split(";", 1)[0].split(":")
    env = fake.env(driver_version=driver, devices=devices, smi_output=f"{name}, {cc}, {smi_driver}")
    env.update(extra)
    return Environment.from_probe(run_probe(sys.executable, env))


# ---------------------------------------------------------------- what a build needs


@pytest.mark.parametrize(
    ("name", "version", "deps", "expected"),
    [
        ("torch", "2.3.1+cu121", (), ("cuda", "12.1", "local-version")),
        ("torch", "2.1.0+cu118", (), ("cuda", "11.8", "local-version")),
        ("torchvision", "0.19.0+cu124", (), ("cuda", "12.4", "local-version")),
        ("torch", "2.4.0+cpu", (), ("cpu", None, "local-version")),
        ("jaxlib", "0.4.20+cuda12.cudnn89", (), ("cuda", "12.x", "local-version")),
        ("cupy-cuda12x", "13.3.0", (), ("cuda", "12.x", "package-name")),
        ("cupy-cuda117", "10.6.0", (), ("cuda", "11.7", "package-name")),
        ("jax-cuda12-plugin", "0.4.31", (), ("cuda", "12.x", "package-name")),
        ("nvidia-cuda-runtime-cu12", "12.4.127", (), ("cuda", "12.4", "package-name")),
        ("nvidia-cudnn-cu12", "9.1.0.70", (), ("cuda", "12.x", "package-name")),
        ("nvidia-cublas-cu11", "11.11.3.6", (), ("cuda", "11.x", "package-name")),
        ("tensorflow-cpu", "2.17.0", (), ("cpu", None, "package-name")),
        ("torch", "2.4.0", TORCH_DEPS, ("cuda", "12.4", "dependency")),
        ("tensorflow", "2.17.0", ("nvidia-cublas-cu12==12.3.4.1; extra == 'and-cuda'",), None),
    ],
)  # fmt: skip
def test_build_need(
    name: str, version: str, deps: tuple[str, ...], expected: tuple[str, str | None, str] | None
) -> None:
    need = build_need(act("install", name, version, deps=deps), LINUX)
    if expected is None:
        assert need is None
        return
    assert need is not None
    assert (need.kind, need.cuda_text if need.cuda else None, need.source) == expected


def test_dependencies_for_other_platforms_do_not_count() -> None:
    mac = Environment.synthetic("3.11", "macosx_14_0_arm64")
    assert build_need(act("install", "torch", "2.4.0", deps=TORCH_DEPS), mac) is None


def test_minimum_driver_comes_from_the_table() -> None:
    assert minimum_driver((12, 4)) == "550.54.14"
    assert minimum_driver((12, None)) == "525.60.13"
    assert minimum_driver((11, 8)) == "520.61.05"


# ---------------------------------------------------------------- against real detection


def test_newer_major_than_the_driver_is_a_blocker(fake_gpu: FakeGPU) -> None:
    env = gpu_env(fake_gpu, 11040, "470.82.01")
    [finding] = check_gpu(torch_from_pypi(), env, CTX)
    assert (finding.check, finding.severity) == ("gpu", "blocker")
    assert finding.message.startswith(
        "torch 2.4.0 and 2 NVIDIA libraries need CUDA 12.4, but the NVIDIA driver here "
        "(470.82) supports CUDA 11.4 at most"
    )
    # the way out: the full-support driver, the minor-compatibility floor, and a real build
    assert (
        "Update the NVIDIA driver to 550.54.14 or newer (full support); any 525.60.13 or "
        "newer runs CUDA 12.x builds (minor version compatibility)." in finding.message
    )
    assert (
        "The build that comes closest here is the CUDA 11.8 build torch==2.4.0+cu118 from "
        "https://download.pytorch.org/whl/cu118/." in finding.message
    )
    assert finding.action == {
        "kind": "use-requirement",
        "requirement": "torch==2.4.0+cu118",
        "index_url": "https://download.pytorch.org/whl/cu118/",
        "torch_backend": "cu118",
        "label": "Plan torch==2.4.0+cu118 instead",
    }
    assert finding.details["driver"]["cuda"] == "11.4"
    assert finding.details["recommended"]["level"] == "warn"  # 11.8 on 11.4: minor compat


def test_newer_minor_is_a_warning_about_minor_version_compatibility(fake_gpu: FakeGPU) -> None:
    env = gpu_env(fake_gpu, 12020, "535.104.05")
    [finding] = check_gpu(torch_from_pypi(), env, CTX)
    assert finding.severity == "warning"
    assert (
        "built for CUDA 12.4 and the NVIDIA driver here (535.104) supports CUDA 12.2"
        in finding.message
    )
    assert "any driver that supports CUDA 12.0 or newer" in finding.message
    assert "minor version compatibility" in finding.message
    assert "A driver 550.54.14 or newer removes the doubt." in finding.message


def test_minor_compatibility_needs_its_minimum_driver(fake_gpu: FakeGPU) -> None:
    env = gpu_env(fake_gpu, 11000, "450.51.05")
    cu118 = plan(act("install", "torch", "2.1.0+cu118", requested=True))
    [finding] = check_gpu(cu118, env, CTX)
    assert finding.severity == "blocker"
    env = gpu_env(fake_gpu, 11000, "450.80.02")
    [finding] = check_gpu(cu118, env, CTX)
    assert finding.severity == "warning"


@pytest.mark.parametrize(("driver", "smi"), [(12020, "535.104.05"), (12040, "550.54.14")])
def test_a_build_the_driver_runs_is_info(fake_gpu: FakeGPU, driver: int, smi: str) -> None:
    env = gpu_env(fake_gpu, driver, smi)
    [finding] = check_gpu(plan(act("install", "torch", "2.3.1+cu121", requested=True)), env, CTX)
    assert finding.severity == "info"
    assert "can use the GPU" in finding.message


def test_cuda13_on_a_pre_turing_gpu_is_a_blocker(fake_gpu: FakeGPU) -> None:
    env = gpu_env(fake_gpu, 13000, "580.65.06", devices="Tesla P100-PCIE-16GB:6.0")
    subject = plan(act("install", "torch", "2.9.0+cu130", requested=True))
    [finding] = check_gpu(subject, env, CTX)
    assert finding.severity == "blocker"
    assert "Tesla P100-PCIE-16GB (sm_60) can't run it" in finding.message
    turing = gpu_env(fake_gpu, 13000, "580.65.06", devices="Tesla T4:7.5")
    assert [f.severity for f in check_gpu(subject, turing, CTX)] == ["info"]


def test_no_gpu_and_a_cuda_build_offers_the_cpu_build(no_gpu_env: dict[str, str]) -> None:
    env = Environment.from_probe(run_probe(sys.executable, no_gpu_env))
    [finding] = check_gpu(torch_from_pypi(), env, CTX)
    assert finding.severity == "warning"
    assert (
        "(1.5 GB) are the CUDA 12.4 build: a multi-GB download for a GPU you don't have"
        in finding.message
    )
    assert "no NVIDIA GPU or driver was found" in finding.message
    assert finding.action == {
        "kind": "use-requirement",
        "requirement": "torch==2.4.0+cpu",
        "index_url": "https://download.pytorch.org/whl/cpu",
        "label": "Use the CPU build of torch (190 MB)",
    }
    # not looked up on any index: the CPU build is still named, a plan against its index
    [unconfirmed] = check_gpu(torch_from_pypi(), env, AdviceContext())
    assert unconfirmed.action == {
        "kind": "use-requirement",
        "requirement": "torch==2.4.0+cpu",
        "index_url": "https://download.pytorch.org/whl/cpu/",
        "torch_backend": "cpu",
        "label": "Plan torch==2.4.0+cpu instead",
    }


def test_no_gpu_and_a_cpu_build_is_silent(no_gpu_env: dict[str, str]) -> None:
    env = Environment.from_probe(run_probe(sys.executable, no_gpu_env))
    assert check_gpu(plan(act("install", "torch", "2.4.0+cpu")), env, CTX) == []
    assert check_gpu(plan(act("install", "numpy", "2.0.1")), env, CTX) == []


def test_cpu_build_on_a_gpu_machine_is_info(fake_gpu: FakeGPU) -> None:
    env = gpu_env(fake_gpu, 12020, "535.104.05")
    [finding] = check_gpu(plan(act("install", "torch", "2.4.0+cpu", requested=True)), env, CTX)
    assert finding.severity == "info"
    assert "CPU-only build: this machine has NVIDIA A100 (CUDA 12.2)" in finding.message
    # the newest build of 2.4.0 this driver runs natively: cu121 (cu124 needs 12.4)
    assert "the CUDA 12.1 build torch==2.4.0+cu121" in finding.message
    assert finding.action is not None and finding.action["requirement"] == "torch==2.4.0+cu121"


def test_overrides_are_honoured(fake_gpu: FakeGPU) -> None:
    no_cuda = gpu_env(fake_gpu, 12020, "535.104.05", CONDA_OVERRIDE_CUDA="")
    [finding] = check_gpu(torch_from_pypi(), no_cuda, CTX)
    assert "CONDA_OVERRIDE_CUDA is empty" in finding.message
    old = gpu_env(fake_gpu, 12040, "550.54.14", UV_CUDA_DRIVER_VERSION="470.82.01")
    [finding] = check_gpu(torch_from_pypi(), old, CTX)
    assert finding.severity == "blocker"
    assert "UV_CUDA_DRIVER_VERSION says the driver runs CUDA 11.4" in finding.message


def test_cupy_and_jax_builds(fake_gpu: FakeGPU) -> None:
    env = gpu_env(fake_gpu, 11080, "520.61.05")
    subject = plan(
        act("install", "cupy-cuda12x", "13.3.0", requested=True),
        act("install", "jax-cuda12-plugin", "0.4.31"),
    )
    [finding] = check_gpu(subject, env, CTX)
    assert finding.severity == "blocker"
    assert finding.message.startswith(
        "cupy-cuda12x 13.3.0 and jax-cuda12-plugin 0.4.31 need CUDA 12.x"
    )
    assert "Update the NVIDIA driver to 525.60.13 or newer" in finding.message
    assert check_gpu(plan(act("install", "cupy-cuda11x", "13.3.0")), env, CTX)[0].severity == "info"


def test_synthetic_environments_say_nothing_about_gpus() -> None:
    assert check_gpu(torch_from_pypi(), LINUX, CTX) == []
    declared = probed_env(accelerators={"overrides": {"UV_CUDA_DRIVER_VERSION": "470.82.01"}})
    assert check_gpu(torch_from_pypi(), declared, CTX)[0].severity == "blocker"
