"""Projects for the currency tests (outdated, why, updates), on the loopback index.

An environment made from them (``make_env``) has, installed:

- ``numx 1.0``; the index has 1.5, 2.0, 2.1 (yanked) and 3.0a1 (a pre-release);
  ``pands 1.0`` needs ``numx<2``: the newest numx breaks pands, 1.5 is the newest that fits;
- ``tools 1.0`` with 1.1 on the index and nothing depending on it: an update that fits;
- ``needsnew 1.0``: 2.0 needs Python >= 3.99 (a release this kernel cannot use);
- ``winonly 1.0``: 2.0 has a Windows wheel only;
- a diamond ``top -> left, right -> base`` (base has 1.1 on the index);
- ``hasdep`` (needs ``lonely``) on the index: installed and removed by the orphan test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest_envs import VenvFactory, uv_command
from tests.currency_dists import CURRENCY_DISTS
from tests.indexserver.server import IndexServer

INSTALLED = ["numx==1.0", "pands", "tools==1.0", "needsnew==1.0", "winonly==1.0", "top"]
HELD = "base==1.0\n"  # a constraint, so base stays a dependency (no REQUESTED file)


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "UV_CACHE_DIR": str(tmp / "uv-cache")}


def uv(args: list[str], env: dict[str, str]) -> None:
    command = uv_command()
    if command is None:
        pytest.skip("uv is not installed")
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr


def make_env(factory: VenvFactory, name: str, index: IndexServer, tmp: Path) -> Path:
    """A uv venv with ``INSTALLED`` from ``index`` (``base`` held at 1.0)."""
    python = factory(name, tool="uv")
    env = clean_env(tmp)
    constraints = tmp / "currency-constraints.txt"
    constraints.write_text(HELD, encoding="utf-8")
    uv(["pip", "install", "--python", str(python), "--index-url", index.index_url,
        "-c", str(constraints), *INSTALLED], env)  # fmt: skip
    return python


__all__ = ["CURRENCY_DISTS", "INSTALLED", "make_env"]
