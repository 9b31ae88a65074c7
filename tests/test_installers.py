"""Installer backends: argv lists (never a shell), ``--`` placement, credentials, progress."""

from __future__ import annotations

import os

import pytest

from jupyter_envhelper.environment import Environment
from jupyter_envhelper.errors import BadRequest
from jupyter_envhelper.installers import (
    BackendOptions,
    CondaBackend,
    CredentialStore,
    PipBackend,
    UvBackend,
    choose_backend,
    find_uv,
)
from jupyter_envhelper.installers.base import check_pin

SECRET = "s3cr3t-token"
AUTH_URL = f"https://alice:{SECRET}@pkgs.example.com/simple/"
CLEAN_URL = "https://pkgs.example.com/simple/"


def fake_env(kind: str = "venv", *, pip: bool = True) -> Environment:
    env = Environment.synthetic("3.11", "manylinux_2_28_x86_64")
    env.data["interpreter"]["executable"] = "/envs/demo/bin/python"
    env.data["paths"] = {"prefix": "/envs/demo"}
    env.data["environment"] = {"kind": kind}
    env.data["installers"] = {
        "pip": {"version": "24.0"} if pip else None,
        "uv": None,
        "conda": [{"name": "conda", "path": "/opt/conda/bin/conda"}] if kind == "conda" else [],
    }
    return env


def options(**kw: object) -> BackendOptions:
    return BackendOptions(credentials=CredentialStore((AUTH_URL,)), base_env={}, **kw)  # type: ignore[arg-type]


def test_uv_argv_installs_exact_pins_after_double_dash() -> None:
    backend = UvBackend(fake_env(), "/opt/uv/bin/uv", options())
    step = backend.install_step(
        ["alpha==1.0", "beta==1.5"], [CLEAN_URL, "https://x.example/simple/"]
    )
    assert step.argv == [
        "/opt/uv/bin/uv", "pip", "install", "--python", "/envs/demo/bin/python", "--no-config",
        "--no-deps",
        "--index-url", AUTH_URL, "--extra-index-url", "https://x.example/simple/",
        "--", "alpha==1.0", "beta==1.5",
    ]  # fmt: skip
    assert "--break-system-packages" not in step.argv
    # The credentials reach the process, never what is shown.
    assert SECRET not in " ".join(step.display_argv)
    assert SECRET not in repr(step)
    assert "https://***@pkgs.example.com/simple/" in step.display_argv


def test_pip_argv_and_environment() -> None:
    base = {"PIP_FIND_LINKS": "/opt/wheels", "PIP_INDEX_URL": "http://evil/", "PIP_CERT": "/ca"}
    backend = PipBackend(fake_env(), BackendOptions(base_env=base))
    step = backend.install_step(["alpha==1.0"], [CLEAN_URL])
    assert step.argv == [
        "/envs/demo/bin/python", "-m", "pip", "install", "--no-deps", "--no-input",
        "--disable-pip-version-check", "--progress-bar", "off",
        "--index-url", CLEAN_URL, "--", "alpha==1.0",
    ]  # fmt: skip
    # Blank, not absent: a blank value overrides find-links from pip's config files.
    assert step.env["PIP_FIND_LINKS"] == " " and step.env["PIP_EXTRA_INDEX_URL"] == " "
    assert "PIP_INDEX_URL" not in step.env
    assert step.env["PIP_CERT"] == "/ca"  # the user's trust settings stay
    assert step.env["PIP_USER"] == "0"
    remove = backend.uninstall_step(["alpha", "beta"])
    assert remove.argv[3:] == ["uninstall", "-y", "--no-input", "--disable-pip-version-check",
                               "--", "alpha", "beta"]  # fmt: skip


def test_break_system_packages_only_from_configuration() -> None:
    for cls in (PipBackend,):
        assert (
            "--break-system-packages"
            not in cls(fake_env(), options()).install_step(["a==1"], []).argv
        )
        assert (
            "--break-system-packages"
            in cls(fake_env(), options(break_system_packages=True)).install_step(["a==1"], []).argv
        )
    uv = UvBackend(fake_env(), "/u/uv", options(break_system_packages=True))
    assert "--break-system-packages" in uv.uninstall_step(["a"]).argv


@pytest.mark.parametrize(
    "bad", ["--index-url=http://evil", "-r", "alpha>=1", "alpha==1.0 ; rm -rf /", "alpha", "a==1 b"]
)
def test_only_exact_pins_reach_an_argv(bad: str) -> None:
    with pytest.raises(BadRequest):
        check_pin(bad)
    with pytest.raises(BadRequest):
        UvBackend(fake_env(), "/u/uv").install_step([bad], [])


def test_uninstall_refuses_options_as_names() -> None:
    with pytest.raises(BadRequest):
        PipBackend(fake_env()).uninstall_step(["-r"])
    step = UvBackend(fake_env(), "/u/uv").uninstall_step(["alpha"])
    assert step.argv[-2:] == ["--", "alpha"]


def test_conda_argv() -> None:
    env = fake_env("conda")
    backend = choose_backend(env, "conda", options=options())
    assert isinstance(backend, CondaBackend)
    step = backend.install_step(["numpy==1.26.4"], [])
    assert step.argv == [
        "/opt/conda/bin/conda", "install", "--prefix", "/envs/demo", "--yes", "--no-deps",
        "--", "numpy==1.26.4",
    ]  # fmt: skip
    channel = backend.install_step(["numpy==1.26.4"], ["https://conda.example/main"])
    assert channel.argv[6:10] == [
        "--override-channels",
        "--channel",
        "https://conda.example/main",
        "--",
    ]
    assert backend.uninstall_step(["numpy"]).argv[-3:] == ["--no-deps", "--", "numpy"]
    with pytest.raises(BadRequest):
        choose_backend(fake_env("venv"), "conda")


def test_choose_backend_finds_uv_by_absolute_path_only(tmp_path: object) -> None:
    found = find_uv()
    assert found is not None and os.path.isabs(found)  # the uv package of the test runner
    assert isinstance(choose_backend(fake_env(), "auto"), UvBackend)
    assert isinstance(choose_backend(fake_env(), "pip"), PipBackend)
    assert find_uv("uv") is None  # a bare name is never looked up on PATH
    with pytest.raises(BadRequest):
        choose_backend(fake_env(pip=False), "pip")


def test_progress_lines() -> None:
    uv = UvBackend(fake_env(), "/u/uv")
    assert uv.parse_line("stderr", "Resolved 3 packages in 13ms").phase == "downloading"  # type: ignore[union-attr]
    prepared = uv.parse_line("stderr", "Prepared 3 packages in 337ms")
    assert prepared is not None and prepared.all_downloaded and prepared.phase == "installing"
    added = uv.parse_line("stderr", " + alpha==1.0")
    assert added is not None and added.package == "alpha"
    pip = PipBackend(fake_env())
    got = pip.parse_line("stdout", "Downloading http://h/files/delta-1.0-py3-none-any.whl (401 kB)")
    assert got is not None and got.file_done == "delta"
    meta = pip.parse_line(
        "stdout", "Downloading http://h/files/a-1.0-py3-none-any.whl.metadata (1 kB)"
    )
    assert meta is None or meta.file_done is None
    assert pip.parse_line("stdout", "Installing collected packages: a").phase == "installing"  # type: ignore[union-attr]
