"""Installer backends: argv lists (never a shell), ``--`` placement, credentials, progress."""

from __future__ import annotations

import os
from pathlib import Path

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
    # the Plan's search order: extra indexes first, the main index last
    step = backend.install_step(["alpha==1.0", "beta==1.5"], ["https://x.example/simple/"])
    assert step.argv == [
        "/opt/uv/bin/uv", "pip", "install", "--python", "/envs/demo/bin/python", "--no-config",
        "--no-deps", "--index-url", "https://x.example/simple/",
        "--", "alpha==1.0", "beta==1.5",
    ]  # fmt: skip
    assert "--break-system-packages" not in step.argv
    plain = UvBackend(fake_env(), "/opt/uv/bin/uv", BackendOptions(base_env={}))
    step = plain.install_step(["alpha==1.0"], ["https://x.example/simple/", CLEAN_URL])
    assert step.argv[7:] == [
        "--extra-index-url", "https://x.example/simple/", "--index-url", CLEAN_URL,
        "--", "alpha==1.0",
    ]  # fmt: skip


def test_index_credentials_never_reach_argv() -> None:
    """``ps`` shows argv to every local user: with credentials, every index URL goes
    through the installer's environment instead (its own user's only)."""
    uv = UvBackend(fake_env(), "/opt/uv/bin/uv", options())
    step = uv.install_step(["alpha==1.0"], [CLEAN_URL, "https://x.example/simple/"])
    assert SECRET not in " ".join(step.argv) and "--index-url" not in step.argv
    assert step.env["UV_INDEX_URL"] == "https://x.example/simple/"
    assert step.env["UV_EXTRA_INDEX_URL"] == AUTH_URL
    assert SECRET not in repr(step)
    pip = PipBackend(fake_env(), options())
    step = pip.install_step(["alpha==1.0"], [CLEAN_URL])
    assert SECRET not in " ".join(step.argv)
    assert step.env["PIP_INDEX_URL"] == AUTH_URL and step.env["PIP_EXTRA_INDEX_URL"] == " "


def test_target_configuration_reaches_the_installer(tmp_path: Path) -> None:
    """find-links, constraint files, only/no-binary of the target's pip.conf are passed
    explicitly; credentials in the target's own extra-index-url are restored (in env)."""
    constraints = tmp_path / "c.txt"
    constraints.write_text("alpha<2\n")
    env = fake_env()
    env.data["index"] = {
        "pip": {
            "extra_index_urls": [AUTH_URL],
            "find_links": ["/srv/wheels"],
            "constraint_paths": [str(constraints)],
            "constraints": {
                "entries": [{"requirement": "alpha<2", "file": str(constraints), "line": 1}],
                "files": [{"path": str(constraints), "ok": True, "error": None}],
            },
            "only_binary": [":all:"],
            "no_binary": ["Beta_Two"],
            "cwd": str(tmp_path),
        }
    }
    for backend in (UvBackend(env, "/u/uv", BackendOptions(base_env={})),
                    PipBackend(env, BackendOptions(base_env={}))):  # fmt: skip
        step = backend.install_step(["alpha==1.0"], [CLEAN_URL, "https://pypi.org/simple/"])
        argv = step.argv
        assert argv[argv.index("--find-links") + 1] == "/srv/wheels"
        assert argv[argv.index("--constraint") + 1] == str(constraints)
        assert argv[argv.index("--only-binary") + 1] == ":all:"
        assert argv[argv.index("--no-binary") + 1] == "beta-two"
        assert SECRET not in " ".join(argv)
        assert AUTH_URL in step.env.values()


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
