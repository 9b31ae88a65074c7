"""Shared fixtures: a real Jupyter server (pytest-jupyter) with the extension enabled.

The server runs with ``allow_unauthenticated_access = False`` so the auth tests
prove something, and with pytest-jupyter's default base_url (``/a%40b/``) so a
hard-coded route fails.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

pytest_plugins = ("pytest_jupyter.jupyter_server", "tests.indexserver.fixtures")


@pytest.fixture
def jp_server_config(tmp_path: Path, sample_index: Any) -> Config:
    # Every server test talks to the local test index, never to the internet.
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_envhelper": True},
                "allow_unauthenticated_access": False,
            },
            "EnvHelperApp": {
                "cache_dir": str(tmp_path / "envhelper-cache"),
                "index_url": sample_index.index_url,
            },
        }
    )


@pytest.fixture
def write_kernelspec(jp_kernel_dir: Path) -> Callable[..., Path]:
    """Write ``<kernels>/<name>/kernel.json`` where the test server finds it."""

    def write(name: str, argv: list[str], language: str = "python", **extra: Any) -> Path:
        spec_dir = jp_kernel_dir / name
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = {"argv": argv, "display_name": extra.pop("display_name", name), "language": language}
        # pytest-jupyter exports the test runner's sys.path as PYTHONPATH; a kernel on
        # another Python must not inherit it (its stdlib would shadow that Python's own),
        # just as a real kernelspec for another environment would not have it.
        spec["env"] = extra.pop("env", {"PYTHONPATH": ""})
        spec.update(extra)
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        return spec_dir

    return write


@pytest.fixture
def ipykernel_argv() -> list[str]:
    """How a kernelspec starts ipykernel with the test runner's own interpreter."""
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def executable_script(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def make_script(tmp_path: Path) -> Callable[[str, str], Path]:
    def make(name: str, text: str) -> Path:
        return executable_script(tmp_path / name, text)

    return make


@pytest.fixture(autouse=True)
def _no_user_site(monkeypatch: pytest.MonkeyPatch) -> None:
    # Probes of the test interpreter must not depend on the developer's ~/.local.
    monkeypatch.setenv("PYTHONNOUSERSITE", "1")


@pytest.fixture(autouse=True, scope="session")
def _own_user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Locks live in the user cache (shared by every process of a user, whatever its
    # settings): the tests get their own, never the developer's.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
        yield
