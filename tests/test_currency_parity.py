"""Outdated, why and the graph: one document on every surface (REST, ``--json``, the
magic's data layer), on ``test_parity``'s set-up with the currency projects."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from jupyter_envhelper.magic.loop import KernelSession
from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)
from tests.currency_dists import CURRENCY_DISTS
from tests.currency_fixtures import make_env
from tests.indexserver.server import IndexServer
from tests.test_parity import (  # noqa: F401 (fixtures)
    KERNEL,
    allow_urls,
    cli,
    config_file,
    jp_server_config,
    magic,
    normal,
    rest,
    session,
    settings,
)


@pytest.fixture
def parity_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(CURRENCY_DISTS)
    return server


@pytest.fixture
def kernel_python(
    write_kernelspec: Any,
    venv_factory: VenvFactory,  # noqa: F811
    parity_index: IndexServer,
    tmp_path: Path,
    request: Any,
) -> Path:
    unique = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    python = make_env(venv_factory, f"currency-parity-{unique}", parity_index, tmp_path)
    write_kernelspec(KERNEL, [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    return python


async def test_outdated_and_why_are_one_document_on_every_surface(
    jp_fetch: Any,
    capsys: pytest.CaptureFixture[str],
    session: KernelSession,  # noqa: F811
) -> None:
    target = session.target
    _, by_rest = await rest(jp_fetch, "outdated", kernel=KERNEL)
    code, by_cli = await cli(capsys, "outdated", "--kernel", KERNEL, "--json")
    by_magic = await magic(lambda: session.run(lambda core: core.outdated(target)))
    assert code == 0 and {r["name"]: r for r in by_rest["packages"]}["numx"]["fit"] == "1.5"
    assert normal(by_cli) == normal(by_rest) and normal(by_magic) == normal(by_rest)
    _, why_rest = await rest(jp_fetch, "why", "base", kernel=KERNEL)
    code, why_cli = await cli(capsys, "why", "base", "--kernel", KERNEL, "--json")
    why_magic = await magic(lambda: session.run(lambda core: core.why(target, "base")))
    assert code == 0 and len(why_rest["chains"]) == 2
    assert normal(why_cli) == normal(why_rest) and normal(why_magic) == normal(why_rest)
    _, missing = await rest(jp_fetch, "why", "nothere", kernel=KERNEL)
    code, missing_cli = await cli(capsys, "why", "nothere", "--kernel", KERNEL, "--json")
    assert code == 1 and missing_cli == missing and "not installed" in missing["message"]
