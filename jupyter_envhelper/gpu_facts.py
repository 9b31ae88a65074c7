"""GPU facts, one table each, every row with the document it comes from.

The next CUDA release or PyTorch release is a one-line change here; nothing else in
the package spells a driver version, an architecture list or a backend name.

- ``CUDA_DRIVER_TABLE``: NVIDIA's "CUDA Toolkit and Corresponding Driver Versions"
  (Linux x86_64, the minimum driver of each toolkit's GA release).
- ``MINOR_COMPAT_FLOOR``: NVIDIA's "CUDA Toolkit 11.x, 12.x and 13.x Driver Version
  Ranges" (minor version compatibility): the oldest driver that runs *any* build of
  that CUDA major version, with the caveats the advice states.
- ``TORCH_BUILDS``: which compute capabilities each official PyTorch wheel carries
  kernels for (``TORCH_CUDA_ARCH_LIST`` of PyTorch's release build scripts), per
  torch release range and backend (the local version label, ``+cu128``; the index is
  ``https://download.pytorch.org/whl/<backend>``). Linux x86_64 only: aarch64 and
  Windows wheels carry other lists, and no verdict is given there.
- ``TORCH_ROCM_BUILDS``: the AMD GPU targets (``gfx…``) of the ``+rocm`` wheels.
- ``TORCH_BACKENDS``: the backend names this package will ever turn into an index URL
  (the allow-list; the same names uv's ``--torch-backend`` takes).

Rows read on 2026-12-01 unless a row says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------- NVIDIA drivers

#: (CUDA version, minimum Linux x86_64 driver), newest first.
#: Source of every row: NVIDIA CUDA Toolkit release notes, table "CUDA Toolkit and
#: Corresponding Driver Versions" (docs.nvidia.com/cuda/cuda-toolkit-release-notes),
#: the "GA" line of each toolkit.
CUDA_DRIVER_TABLE: tuple[tuple[str, str], ...] = (
    ("13.2", "595.45.04"),  # CUDA 13.2 GA (release notes table; also issue #12)
    ("13.1", "590.44.01"),  # CUDA 13.1 GA
    ("13.0", "580.65.06"),  # CUDA 13.0 GA
    ("12.9", "575.51.03"),  # CUDA 12.9 GA
    ("12.8", "570.26"),  # CUDA 12.8 GA
    ("12.6", "560.28.03"),  # CUDA 12.6 GA
    ("12.5", "555.42.02"),  # CUDA 12.5 GA
    ("12.4", "550.54.14"),  # CUDA 12.4 GA
    ("12.3", "545.23.06"),  # CUDA 12.3 GA
    ("12.2", "535.54.03"),  # CUDA 12.2 GA
    ("12.1", "530.30.02"),  # CUDA 12.1 GA
    ("12.0", "525.60.13"),  # CUDA 12.0 GA
    ("11.8", "520.61.05"),  # CUDA 11.8 GA
    ("11.7", "515.43.04"),  # CUDA 11.7 GA
    ("11.6", "510.39.01"),  # CUDA 11.6 GA
    ("11.5", "495.29.05"),  # CUDA 11.5 GA
    ("11.4", "470.42.01"),  # CUDA 11.4 GA
    ("11.3", "465.19.01"),  # CUDA 11.3 GA
    ("11.2", "460.27.03"),  # CUDA 11.2 GA
    ("11.1", "455.23"),  # CUDA 11.1 GA
    ("11.0", "450.36.06"),  # CUDA 11.0 GA
    ("10.2", "440.33"),  # CUDA 10.2
    ("10.1", "418.39"),  # CUDA 10.1
    ("10.0", "410.48"),  # CUDA 10.0
)

#: CUDA major version -> the oldest Linux driver of NVIDIA's minor version
#: compatibility range for it. Source: NVIDIA CUDA Toolkit release notes, table
#: "CUDA Toolkit 11.x, 12.x, and 13.x Driver Version Ranges" ("Minimum Required Driver
#: Version for CUDA Minor Version Compatibility"): 13.x >= 580, 12.x >= 525.60.13,
#: 11.x >= 450.80.02 (Linux).
MINOR_COMPAT_FLOOR: dict[int, str] = {
    13: "580",  # "CUDA 13.x: >= 580"
    12: "525.60.13",  # "CUDA 12.x: >= 525.60.13"
    11: "450.80.02",  # "CUDA 11.x: >= 450.80.02"
}


# ---------------------------------------------------------------- PyTorch wheels


@dataclass(frozen=True)
class TorchBuild:
    """One official wheel family: torch releases ``torch`` (a specifier on the public
    version) published for ``backend``, with SASS for ``sass`` and PTX for ``ptx``."""

    torch: str
    backend: str
    sass: tuple[str, ...]
    ptx: tuple[str, ...]
    source: str

    @property
    def cuda(self) -> tuple[int, int] | None:
        if not self.backend.startswith("cu"):
            return None
        digits = self.backend[2:]
        return int(digits[:-1]), int(digits[-1])


def _build(torch: str, backend: str, arch_list: str, source: str) -> TorchBuild:
    """``"7.5;8.0;12.0+PTX"`` as TORCH_CUDA_ARCH_LIST writes it."""
    sass: list[str] = []
    ptx: list[str] = []
    for item in arch_list.split(";"):
        arch, _, suffix = item.partition("+")
        sass.append(arch)
        if suffix.upper() == "PTX":
            ptx.append(arch)
    return TorchBuild(torch, backend, tuple(sass), tuple(ptx), source)


_BUILDER_21 = "pytorch/builder manywheel/build_cuda.sh @2432b6c5 (2.0/2.1 era, 11.7/11.8)"
_CUDA_SH_24 = "PyTorch .ci/manywheel/build_cuda.sh of the 2.4/2.5 releases (cases 12.4, 12.1, 11.8)"
_VIA = "; transcribed in a third-party test fixture, not read from the tag"
_CUDA_SH_26 = "PyTorch v2.6.0 .ci/manywheel/build_cuda.sh (cases 12.6, 11.8)" + _VIA
_CUDA_SH_27 = "PyTorch v2.7.x .ci/manywheel/build_cuda.sh (cases 12.8, 12.6)" + _VIA
_CUDA_SH_27_118 = "v2.7.x kept cu118 (last release with it); list assumed unchanged from 2.6"
_CUDA_SH_28 = "pytorch/pytorch @00c7a380 .ci/manywheel/build_cuda.sh (2.8: 12.6/12.8/12.9)"
_CUDA_SH_29 = "pytorch/pytorch @799d09f2 .ci/manywheel/build_cuda.sh (2.9/2.10: 12.6-13.0)"
_CUDA_SH_211 = "PyTorch v2.11.0 .ci/manywheel/build_cuda.sh (sm_70 dropped from 12.8+)" + _VIA
_CUDA_SH_212 = (
    "PyTorch v2.12.x .ci/manywheel/build_cuda.sh (cu132 added; release: no PTX); "
    "transcribed in a third-party wheel-index dataset dated 2026-09-22"
)
_ENV_SETUP = (
    "pytorch/pytorch @00505f29 .ci/manywheel/build_env_setup.py TORCH_CUDA_ARCH_LIST_TABLE "
    "(12.6, 13.0, 13.2; 2.15 assumed to follow it); +PTX (12.0) is for nightlies, "
    "releases from 2.13 omit it (per the dataset above)"
)

#: Official Linux x86_64 CUDA wheels. One row per (torch range, backend); a backend
#: absent for a release means PyTorch published no such wheel (as far as read).
TORCH_BUILDS: tuple[TorchBuild, ...] = (
    _build(">=2.0,<2.1", "cu118", "3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0", _BUILDER_21),
    _build(">=2.4,<2.6", "cu118", "3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_24),
    _build(">=2.4,<2.6", "cu121", "5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_24),
    _build(">=2.4,<2.6", "cu124", "5.0;6.0;7.0;7.5;8.0;8.6;9.0+PTX", _CUDA_SH_24),
    _build(">=2.6,<2.7", "cu118", "3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_26),
    _build(">=2.7,<2.8", "cu118", "3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_27_118),
    _build(">=2.6,<2.7", "cu126", "5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_26),
    _build(">=2.7,<2.8", "cu126", "5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_27),
    _build(">=2.7,<2.8", "cu128", "7.5;8.0;8.6;9.0;10.0;12.0+PTX", _CUDA_SH_27),
    _build(">=2.8,<2.9", "cu126", "5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_28),
    _build(">=2.8,<2.9", "cu128", "7.0;7.5;8.0;8.6;9.0;10.0;12.0", _CUDA_SH_28),
    _build(">=2.8,<2.9", "cu129", "7.0;7.5;8.0;8.6;9.0;10.0;12.0+PTX", _CUDA_SH_28),
    _build(">=2.9,<2.11", "cu126", "5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_29),
    _build(">=2.9,<2.11", "cu128", "7.0;7.5;8.0;8.6;9.0;10.0;12.0", _CUDA_SH_29),
    _build(">=2.9,<2.11", "cu129", "7.0;7.5;8.0;8.6;9.0;10.0;12.0+PTX", _CUDA_SH_29),
    _build(">=2.9,<2.11", "cu130", "7.5;8.0;8.6;9.0;10.0;12.0+PTX", _CUDA_SH_29),
    _build(">=2.11,<2.12", "cu126", "5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_211),
    _build(">=2.11,<2.12", "cu128", "7.5;8.0;8.6;9.0;10.0;12.0", _CUDA_SH_211),
    _build(">=2.11,<2.12", "cu129", "7.5;8.0;8.6;9.0;10.0;12.0+PTX", _CUDA_SH_211),
    _build(">=2.11,<2.12", "cu130", "7.5;8.0;8.6;9.0;10.0;12.0", _CUDA_SH_211),
    _build(">=2.12,<2.13", "cu126", "5.0;6.0;7.0;7.5;8.0;8.6;9.0", _CUDA_SH_212),
    _build(">=2.12,<2.14", "cu129", "7.5;8.0;8.6;9.0;10.0;12.0", _CUDA_SH_212),
    _build(">=2.12,<2.13", "cu130", "7.5;8.0;8.6;9.0;10.0;12.0", _CUDA_SH_212),
    _build(">=2.12,<2.13", "cu132", "7.5;8.0;8.6;9.0;10.0;12.0", _CUDA_SH_212),
    _build(">=2.13,<2.16", "cu126", "5.0;6.0;7.0;7.5;8.0;8.6;9.0", _ENV_SETUP),
    _build(">=2.13,<2.16", "cu130", "7.5;8.0;8.6;9.0;10.0;12.0", _ENV_SETUP),
    _build(">=2.13,<2.16", "cu132", "7.5;8.0;8.6;9.0;10.0;12.0", _ENV_SETUP),
)

# A torch release above every row gets no architecture verdict and no recommendation
# until a row covers it: add the row (from that release's build script) here.


@dataclass(frozen=True)
class RocmBuild:
    torch: str
    backend: str
    gfx: tuple[str, ...]
    source: str


_ROCM_SH = (
    "PyTorch v{tag} .ci/docker/manywheel/build.sh PYTORCH_ROCM_ARCH (manylinux2_28-builder:"
    "rocm case), as tabulated by a third-party wheel-index dataset dated 2026-09-22; not "
    "read from the tag directly"
)
_GFX_29 = (
    "gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100", "gfx1101",
    "gfx1102", "gfx1200", "gfx1201",
)  # fmt: skip
_GFX_210 = (*_GFX_29, "gfx950", "gfx1150", "gfx1151")
_GFX_213 = (*_GFX_210, "gfx1103")

#: Official Linux x86_64 ROCm wheels: the AMD GPU targets each carries.
TORCH_ROCM_BUILDS: tuple[RocmBuild, ...] = (
    RocmBuild(">=2.9,<2.10", "rocm6.3", _GFX_29, _ROCM_SH.format(tag="2.9.1")),
    RocmBuild(">=2.9,<2.10", "rocm6.4", _GFX_29, _ROCM_SH.format(tag="2.9.1")),
    RocmBuild(">=2.10,<2.11", "rocm7.0", _GFX_210, _ROCM_SH.format(tag="2.10.0")),
    RocmBuild(">=2.10,<2.13", "rocm7.1", _GFX_210, _ROCM_SH.format(tag="2.10.0-2.12.1")),
    RocmBuild(">=2.11,<2.13", "rocm7.2", _GFX_210, _ROCM_SH.format(tag="2.11.0-2.12.1")),
    RocmBuild(">=2.13,<2.14", "rocm7.1", _GFX_213, _ROCM_SH.format(tag="2.13.0")),
    RocmBuild(">=2.13,<2.15", "rocm7.2", _GFX_213, _ROCM_SH.format(tag="2.13.0-2.14.0")),
)

#: Projects published on PyTorch's backend indexes with matching local labels.
TORCH_FAMILY = frozenset({"torch", "torchvision", "torchaudio"})

#: Where the backends live; ``{backend}`` is replaced by a name from TORCH_BACKENDS.
#: Source: pytorch.org "Get started" install commands (``--index-url
#: https://download.pytorch.org/whl/cu126``); uv's ``--torch-backend`` uses the same.
TORCH_INDEX_TEMPLATE = "https://download.pytorch.org/whl/{backend}/"

#: The backends that may become an index URL (an allow-list: nothing else ever does).
TORCH_BACKENDS: tuple[str, ...] = (
    "cpu",
    *sorted({b.backend for b in TORCH_BUILDS}, key=lambda b: (len(b), b)),
    *sorted({b.backend for b in TORCH_ROCM_BUILDS}),
)

#: Download sizes are read from the index at plan time, never stored here.
