"""The driver -> CUDA table, CUDA version text, and the one-line GPU summary."""

from __future__ import annotations

import pytest

from jupyter_envhelper import gpu


@pytest.mark.parametrize(
    ("driver", "cuda"),
    [
        ("535.104.05", "12.2"),
        ("535.54.03", "12.2"),
        ("535.54.02", "12.1"),
        ("525.60.13", "12.0"),
        ("470.82.01", "11.4"),
        ("580.65.06", "13.0"),
        ("999.1", "13.2"),
        ("595.45.04", "13.2"),
        ("595.45.03", "13.1"),
        ("590.44.01", "13.1"),
        ("590.44.00", "13.0"),
        ("570.124.06", "12.8"),
        ("450.80.02", "11.0"),
        ("410.48", "10.0"),
        ("390.12", None),
        ("garbage", None),
    ],
)
def test_cuda_for_driver(driver: str, cuda: str | None) -> None:
    assert gpu.cuda_for_driver(driver) == cuda


def test_table_is_ordered_newest_first() -> None:
    cudas = [gpu.version_tuple(c) for c, _ in gpu.CUDA_DRIVER_TABLE]
    drivers = [gpu.version_tuple(d) for _, d in gpu.CUDA_DRIVER_TABLE]
    assert cudas == sorted(cudas, reverse=True)
    assert drivers == sorted(drivers, reverse=True)


def test_cuda_version_text() -> None:
    assert gpu.format_cuda_version(12020) == "12.2"
    assert gpu.format_cuda_version(11080) == "11.8"
    assert gpu.format_cuda_version(13000) == "13.0"
    assert gpu.parse_cuda_version("12.2.140") == (12, 2)
    assert gpu.parse_cuda_version("cu121") == (12, 1)
    assert gpu.parse_cuda_version("12020") == (12, 2)
    assert gpu.parse_cuda_version("12") == (12, 0)
    assert gpu.parse_cuda_version("") is None


def test_summary_with_a_gpu() -> None:
    acc = {
        "driver_version": "535.104.05",
        "cuda_driver_version": "12.2",
        "devices": [{"name": "NVIDIA A100-SXM4-80GB", "compute_capability": "8.0"}],
    }
    assert gpu.summary_line(acc) == "NVIDIA driver 535.104, CUDA ≤ 12.2, 1× A100-SXM4-80GB (sm_80)"


def test_summary_groups_identical_devices() -> None:
    acc = {
        "driver_version": "550.54.15",
        "devices": [{"name": "NVIDIA H100", "compute_capability": "9.0"}] * 8
        + [{"name": "NVIDIA T4", "compute_capability": "7.5"}],
    }
    line = gpu.summary_line(acc)
    assert "CUDA ≤ 12.4" in line  # from the table, no cuDriverGetVersion answer
    assert "8× H100 (sm_90), 1× T4 (sm_75)" in line


def test_summary_without_gpu() -> None:
    assert gpu.summary_line({}) == "No NVIDIA GPU found"
    assert gpu.summary_line(None) == "No NVIDIA GPU found"
    line = gpu.summary_line({"toolkit": {"version": "13.0"}})
    assert line == "No NVIDIA GPU found (CUDA toolkit 13.0 installed)"


def test_overrides_win() -> None:
    acc = {"driver_version": "535.104.05", "cuda_driver_version": "12.2", "overrides": {}}
    assert gpu.effective_cuda(acc) == ("12.2", "driver")
    acc["overrides"] = {"UV_CUDA_DRIVER_VERSION": "470.82.01"}
    assert gpu.effective_cuda(acc) == ("11.4", "UV_CUDA_DRIVER_VERSION")
    acc["overrides"] = {"CONDA_OVERRIDE_CUDA": "11.8", "UV_CUDA_DRIVER_VERSION": "470.82.01"}
    assert gpu.effective_cuda(acc) == ("11.8", "CONDA_OVERRIDE_CUDA")
    acc["overrides"] = {"CONDA_OVERRIDE_CUDA": ""}
    assert gpu.effective_cuda(acc) == (None, "CONDA_OVERRIDE_CUDA")
    assert gpu.summary_line(acc).startswith("No CUDA")


def test_uv_driver_override_without_a_gpu() -> None:
    acc = {"overrides": {"UV_CUDA_DRIVER_VERSION": "535.104.05"}}
    line = gpu.summary_line(acc)
    assert "CUDA ≤ 12.2" in line
    assert "UV_CUDA_DRIVER_VERSION" in line
