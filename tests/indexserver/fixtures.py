"""pytest fixtures for the local index.

Register with ``pytest_plugins = ("tests.indexserver.fixtures",)`` (tests/conftest.py).

- ``index_server``: a factory ``index_server(dists, **options) -> IndexServer``
  (started; every server it made is stopped at teardown).
- ``sample_index``: a started ``IndexServer`` over ``SAMPLE_DISTS`` (fresh per test,
  so faults and counters never leak between tests; the files are built once).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from .server import IndexServer, IndexServerFactory
from .wheels import DistSpec

_PLATFORMS = (
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
)

SAMPLE_DISTS: tuple[DistSpec, ...] = (
    # Several versions with Requires-Python bounds, a pre-release and yanked files.
    DistSpec("alpha", "1.0", requires_python=">=3.7", summary="Alpha, the old one"),
    DistSpec("alpha", "1.0", kind="sdist", requires_python=">=3.7"),
    DistSpec(
        "alpha", "2.0", requires_python=">=3.9", requires_dist=("beta>=1.0",), summary="Alpha"
    ),
    DistSpec("alpha", "2.0", kind="sdist", requires_python=">=3.9", requires_dist=("beta>=1.0",)),
    DistSpec(
        "alpha",
        "2.1",
        requires_python=">=3.9",
        requires_dist=("beta>=1.0",),
        yanked="broken import on Windows",
    ),
    DistSpec("alpha", "3.0", requires_python=">=3.12", requires_dist=("beta>=2",)),
    DistSpec("alpha", "3.1rc1", requires_python=">=3.12", requires_dist=("beta>=2",)),
    # Dependencies with extras and markers.
    DistSpec(
        "beta",
        "1.5",
        summary="Beta with extras",
        extras=("fast", "docs"),
        requires_dist=(
            'gamma>=0.5; extra == "fast"',
            'delta; python_version < "3.11"',
            'gamma[speed]; extra == "fast" and sys_platform == "linux"',
        ),
        license_expression="MIT",
        import_names=("beta",),
    ),
    DistSpec("beta", "2.0", requires_python=">=3.10", yanked=True),
    # Compiled wheels for several Python and platform tags, plus a pure fallback.
    *(
        DistSpec("compiled", "1.0", tags=f"{py}-{py}-{plat}")
        for py in ("cp39", "cp311", "cp312")
        for plat in _PLATFORMS
    ),
    DistSpec("compiled", "1.0", tags="cp312-cp312-manylinux_2_28_aarch64"),
    DistSpec("compiled", "0.9", tags="py3-none-any"),
    # sdist only (the in-tree backend lets pip/uv build it offline).
    DistSpec("gamma", "0.5", kind="sdist", extras=("speed",), summary="Gamma, source only"),
    # No .metadata files: readers must use range requests. One big wheel.
    DistSpec("delta", "1.0", padding=400_000, summary="Delta, big and without .metadata"),
    DistSpec("delta", "1.0", kind="sdist"),
    # Local version labels, torch-shaped.
    DistSpec(
        "torchlike",
        "2.1.0",
        tags="cp311-cp311-manylinux_2_17_x86_64",
        requires_dist=("alpha>=1",),
        module="torchlike",
    ),
    DistSpec(
        "torchlike", "2.1.0+cpu", tags="cp311-cp311-manylinux_2_17_x86_64", module="torchlike"
    ),
    DistSpec(
        "torchlike",
        "2.1.0+cu121",
        tags="cp311-cp311-manylinux_2_17_x86_64",
        module="torchlike",
        requires_dist=("nvidia-fake-cuda==12.1",),
    ),
    # Wheels that fail to install: pip and uv both refuse Wheel-Version 9.0; pip (not uv)
    # refuses a member that escapes the target directory.
    DistSpec("brokenwheel", "1.0", broken="wheel-version"),
    DistSpec("escapingwheel", "1.0", broken="path-escape"),
)

SAMPLE_NO_METADATA = ("delta",)


@pytest.fixture
def index_server() -> Iterator[IndexServerFactory]:
    servers: list[IndexServer] = []

    def make(dists: Iterable[DistSpec], **options: Any) -> IndexServer:
        server = IndexServer(dists, **options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def sample_index(index_server: IndexServerFactory) -> IndexServer:
    return index_server(SAMPLE_DISTS, no_metadata=SAMPLE_NO_METADATA)
