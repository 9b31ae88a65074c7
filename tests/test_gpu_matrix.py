"""The GPU verdict, cell by cell: NVIDIA driver × GPU × torch build, through real detection.

Each (driver, GPU) pair is probed once with the fake ``libcuda.so.1`` and ``nvidia-smi``
(the probe's real detection code, in a child interpreter); each build is then judged by
the ``gpu`` check. Every cell states the verdict (block / warn / ok: the worst ``gpu``
finding) and the build named as the way out (``details["recommended"]``), written down
by hand from the facts in ``gpu_facts`` (NVIDIA's driver table, PyTorch's
``TORCH_CUDA_ARCH_LIST``), not computed by the code under test.

Builds: ``cpu`` torch 2.9.1+cpu · ``cu118`` 2.7.1+cu118 · ``cu121`` 2.5.1+cu121 ·
``cu126`` / ``cu128`` / ``cu130`` 2.9.1+cuXXX · ``pypi``: torch 2.15.0 from PyPI, which
carries no label and pins ``cuda-toolkit==13.2.2`` (CUDA 13 wheels dropped ``-cu13``).

Way out: a backend (``cu126``) means that backend's build of the *same* torch release;
``cu118@>=2.7,<2.8`` an older release, the newest with a build this machine runs;
``cpu`` the CPU build; ``-`` no finding (nothing to say).
"""

# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from jupyter_envhelper.advice import AdviceContext
from jupyter_envhelper.advice.cuda import check_gpu
from jupyter_envhelper.environment import Environment
from jupyter_envhelper.plan import Plan
from tests.advice_builders import act, plan
from tests.conftest_envs import FakeGPU, fake_gpu, run_probe  # noqa: F401

#: driver -> (cuDriverGetVersion's answer, nvidia-smi's driver_version)
DRIVERS: dict[str, tuple[int, str] | None] = {
    "none": None,
    "450.80": (11000, "450.80.02"),
    "470.57": (11040, "470.57.02"),
    "525.60": (12000, "525.60.13"),
    "535.104": (12020, "535.104.05"),
    "550.54": (12040, "550.54.15"),
    "570.86": (12080, "570.86.10"),
    "580.65": (13000, "580.65.06"),
    "595.45": (13020, "595.45.04"),
}
GPUS: dict[str, tuple[str, str] | None] = {
    "none": None,
    "sm_61": ("NVIDIA GeForce GTX 1080", "6.1"),
    "sm_70": ("Tesla V100-SXM2-16GB", "7.0"),
    "sm_80": ("NVIDIA A100-SXM4-80GB", "8.0"),
    "sm_90": ("NVIDIA H100 80GB HBM3", "9.0"),
    "sm_120": ("NVIDIA GeForce RTX 5090", "12.0"),
}
BUILDS = ("cpu", "cu118", "cu121", "cu126", "cu128", "cu130", "pypi")

GB = 1_000_000_000
LINUX_ONLY = "; platform_system == 'Linux'"


def build_plan(build: str) -> Plan:
    if build == "pypi":
        return plan(
            act(
                "install",
                "torch",
                "2.15.0",
                requested=True,
                size=900_000_000,
                deps=(
                    "filelock",
                    "cuda-toolkit[cublas,cudart,cudnn,nvrtc]==13.2.2" + LINUX_ONLY,
                    "triton==3.7.0" + LINUX_ONLY,
                ),
            ),
            act("install", "cuda-toolkit", "13.2.2", size=10_000),
            act("install", "nvidia-cuda-runtime", "13.2.51", size=3_000_000),
            act("install", "nvidia-cublas", "13.3.0.5", size=600_000_000),
        )
    version = {"cu118": "2.7.1", "cu121": "2.5.1"}.get(build, "2.9.1")
    size = 200_000_000 if build == "cpu" else 2 * GB
    return plan(act("install", "torch", f"{version}+{build}", requested=True, size=size))


# -- the expected cells, by hand ------------------------------------------------------

NO_GPU = "ok:- warn:cpu warn:cpu warn:cpu warn:cpu warn:cpu warn:cpu"
OLD_DRIVER = {  # 450.80 (CUDA 11.0) and 470.57 (CUDA 11.4): only CUDA 11.8 runs, by compat
    "sm_61": "ok:cu118@>=2.7,<2.8 warn:cu118 block:cu118 block:cu118@>=2.7,<2.8 "
    "block:cu118@>=2.7,<2.8 block:cu118@>=2.7,<2.8 block:cu118@>=2.7,<2.8",
    "sm_120": "ok:cpu block:cpu block:cpu block:cpu block:cpu block:cpu block:cpu",
}
OLD_DRIVER["sm_70"] = OLD_DRIVER["sm_80"] = OLD_DRIVER["sm_90"] = OLD_DRIVER["sm_61"]

EXPECTED: dict[str, dict[str, str]] = {
    "none": dict.fromkeys(GPUS, NO_GPU),
    "450.80": {"none": NO_GPU, **OLD_DRIVER},
    "470.57": {"none": NO_GPU, **OLD_DRIVER},
    "525.60": {
        "none": NO_GPU,
        "sm_61": "ok:cu126 ok:cu118 warn:cu118 warn:cu126 block:cu126 block:cu126 block:cu126",
        "sm_70": "ok:cu126 ok:cu118 warn:cu118 warn:cu126 warn:cu126 block:cu126 block:cu126",
        "sm_80": "ok:cu126 ok:cu118 warn:cu118 warn:cu126 warn:cu126 block:cu126 block:cu126",
        "sm_90": "ok:cu126 ok:cu118 warn:cu118 warn:cu126 warn:cu126 block:cu126 block:cu126",
        "sm_120": "ok:cu128 block:cu128 block:cu124 block:cu128 warn:cu128 block:cu128 "
        "block:cu129@>=2.12,<2.14",
    },
    "535.104": {
        "none": NO_GPU,
        "sm_61": "ok:cu126 ok:cu118 ok:cu121 warn:cu126 block:cu126 block:cu126 block:cu126",
        "sm_70": "ok:cu126 ok:cu118 ok:cu121 warn:cu126 warn:cu126 block:cu126 block:cu126",
        "sm_80": "ok:cu126 ok:cu118 ok:cu121 warn:cu126 warn:cu126 block:cu126 block:cu126",
        "sm_90": "ok:cu126 ok:cu118 ok:cu121 warn:cu126 warn:cu126 block:cu126 block:cu126",
        "sm_120": "ok:cu128 block:cu128 block:cu124 block:cu128 warn:cu128 block:cu128 "
        "block:cu129@>=2.12,<2.14",
    },
    "550.54": {
        "none": NO_GPU,
        "sm_61": "ok:cu126 ok:cu118 ok:cu124 warn:cu126 block:cu126 block:cu126 block:cu126",
        "sm_70": "ok:cu126 ok:cu118 ok:cu124 warn:cu126 warn:cu126 block:cu126 block:cu126",
        "sm_80": "ok:cu126 ok:cu118 ok:cu124 warn:cu126 warn:cu126 block:cu126 block:cu126",
        "sm_90": "ok:cu126 ok:cu118 ok:cu124 warn:cu126 warn:cu126 block:cu126 block:cu126",
        "sm_120": "ok:cu128 block:cu128 block:cu124 block:cu128 warn:cu128 block:cu128 "
        "block:cu129@>=2.12,<2.14",
    },
    "570.86": {
        "none": NO_GPU,
        "sm_61": "ok:cu126 ok:cu126 ok:cu124 ok:cu126 block:cu126 block:cu126 block:cu126",
        "sm_70": "ok:cu128 ok:cu126 ok:cu124 ok:cu128 ok:cu128 block:cu128 block:cu126",
        "sm_80": "ok:cu128 ok:cu128 ok:cu124 ok:cu128 ok:cu128 block:cu128 block:cu126",
        "sm_90": "ok:cu128 ok:cu128 ok:cu124 ok:cu128 ok:cu128 block:cu128 block:cu126",
        "sm_120": "ok:cu128 block:cu128 block:cu124 block:cu128 ok:cu128 block:cu128 "
        "block:cu128@>=2.11,<2.12",
    },
    "580.65": {
        "none": NO_GPU,
        "sm_61": "ok:cu126 ok:cu126 ok:cu124 ok:cu126 block:cu126 block:cu126 block:cu126",
        "sm_70": "ok:cu129 ok:cu126 ok:cu124 ok:cu129 ok:cu129 block:cu129 block:cu126",
        "sm_80": "ok:cu130 ok:cu128 ok:cu124 ok:cu130 ok:cu130 ok:cu130 warn:cu130",
        "sm_90": "ok:cu130 ok:cu128 ok:cu124 ok:cu130 ok:cu130 ok:cu130 warn:cu130",
        "sm_120": "ok:cu130 block:cu128 block:cu124 block:cu130 ok:cu130 ok:cu130 warn:cu130",
    },
    "595.45": {
        "none": NO_GPU,
        "sm_61": "ok:cu126 ok:cu126 ok:cu124 ok:cu126 block:cu126 block:cu126 block:cu126",
        "sm_70": "ok:cu129 ok:cu126 ok:cu124 ok:cu129 ok:cu129 block:cu129 block:cu126",
        "sm_80": "ok:cu130 ok:cu128 ok:cu124 ok:cu130 ok:cu130 ok:cu130 ok:cu132",
        "sm_90": "ok:cu130 ok:cu128 ok:cu124 ok:cu130 ok:cu130 ok:cu130 ok:cu132",
        "sm_120": "ok:cu130 block:cu128 block:cu124 block:cu130 ok:cu130 ok:cu130 ok:cu132",
    },
}

CELLS = [
    pytest.param(driver, gpu, build, id=f"{driver}-{gpu}-{build}")
    for driver in DRIVERS
    for gpu in GPUS
    for build in BUILDS
]


def expected(driver: str, gpu: str, build: str) -> tuple[str, str]:
    cell = EXPECTED[driver][gpu].split()[BUILDS.index(build)]
    verdict, _, way = cell.partition(":")
    return verdict, way


# -- the machine, probed once per (driver, GPU) -----------------------------------------

_PROBED: dict[tuple[str, str], Environment] = {}


def machine(fake: FakeGPU, driver: str, gpu: str, empty_bin: str) -> Environment:
    key = (driver, gpu)
    if key not in _PROBED:
        spec = DRIVERS[driver]
        device = GPUS[gpu]
        if spec is None:  # no NVIDIA driver at all: no libcuda, no nvidia-smi
            env = {"PATH": f"{empty_bin}{os.pathsep}/usr/bin{os.pathsep}/bin"}
            env["LD_LIBRARY_PATH"] = ""
        else:
            cuda, smi_driver = spec
            env = fake.env(
                driver_version=cuda,
                devices=f"{device[0]}:{device[1]}" if device else "",
                smi_output=f"{device[0]}, {device[1]}, {smi_driver}" if device else "",
            )
        _PROBED[key] = Environment.from_probe(run_probe(sys.executable, env))
    return _PROBED[key]


@pytest.fixture(scope="module")
def empty_bin(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("no-nvidia-bin"))


def verdict_of(findings: list[Any]) -> str:
    severities = {f.severity for f in findings if f.check == "gpu"}
    if "blocker" in severities:
        return "block"
    if "warning" in severities:
        return "warn"
    return "ok"


def way_of(findings: list[Any]) -> str:
    for finding in findings:
        rec = finding.details.get("recommended")
        if rec is not None:
            return rec["backend"] if rec["same_release"] else f"{rec['backend']}@{rec['torch']}"
    return "-"


@pytest.mark.parametrize(("driver", "gpu", "build"), CELLS)
def test_cell(fake_gpu: FakeGPU, empty_bin: str, driver: str, gpu: str, build: str) -> None:
    env = machine(fake_gpu, driver, gpu, empty_bin)
    findings = check_gpu(build_plan(build), env, AdviceContext())
    want_verdict, want_way = expected(driver, gpu, build)
    got = (verdict_of(findings), way_of(findings))
    assert got == (want_verdict, want_way), [f.message for f in findings]
    ways = {
        str(f.details["recommended"]["requirement"])
        for f in findings
        if f.details.get("recommended")
    }
    assert len(ways) <= 1, ways  # every finding of a plan names the same way out
    if want_verdict != "ok" and want_way != build:
        # the way out is one click: a plan against that backend's index, nothing else
        action = next(f.action for f in findings if f.severity != "info")
        assert action is not None
        assert action["kind"] == "use-requirement"
        backend = want_way.partition("@")[0]
        assert action["torch_backend"] == backend
        assert action["index_url"] == f"https://download.pytorch.org/whl/{backend}/"


def test_the_matrix_is_complete() -> None:
    assert len(CELLS) == 9 * 6 * 7
    for driver, rows in EXPECTED.items():
        assert set(rows) == set(GPUS), driver
        for gpu, row in rows.items():
            assert len(row.split()) == len(BUILDS), (driver, gpu)
