"""``%envhelp outdated`` / ``why`` / ``update`` in a real ipykernel (``test_magic``'s
kernel, on the currency projects' index)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest_envs import venv_factory  # noqa: F401 (fixture)
from tests.currency_dists import CURRENCY_DISTS
from tests.indexserver import IndexServer
from tests.test_magic import Kernel, assert_no_traceback, kernel  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def index() -> Iterator[IndexServer]:
    # overrides test_magic's index for its `kernel` fixture
    server = IndexServer(CURRENCY_DISTS).start()
    yield server
    server.stop()


def test_outdated_why_update_in_a_notebook(kernel: Kernel) -> None:  # noqa: F811
    url = f"--index-url {kernel.index_url}"
    installed = kernel.run(f"%envhelp install numx==1.0 pands tools==1.0 -y --no-widgets {url}")
    assert "succeeded" in installed.text, installed.text
    outdated = kernel.run(f"%envhelp outdated {url}")
    assert "would break pands 1.0 (needs numx<2)" in outdated.text, outdated.text
    assert "1.5 is the newest that fits" in outdated.text
    why = kernel.run(f"%envhelp why pands {url}")
    assert "pands 1.0: you asked for it" in why.text, why.text
    refused = kernel.run(f"%envhelp update {url}")
    assert "--all" in refused.text
    updated = kernel.run(f"%envhelp update --all-that-fit -y {url}")
    assert "numx 1.0 → 1.5" in updated.text and "succeeded" in updated.text, updated.text
    versions = kernel.run(
        "import importlib.metadata as m; print(m.version('numx'), m.version('tools'))"
    )
    assert "1.5 1.1" in versions.text, versions.text
    history = kernel.run(f"%envhelp history {url}")
    assert "numx==1.5" in history.text, history.text
    for out in (outdated, why, updated):
        assert_no_traceback(out)
