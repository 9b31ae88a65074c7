"""Check ``environment`` and the probe facts it reads (build tools, JupyterHub, conda)."""

# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

from jupyter_envhelper.advice import AdviceContext
from jupyter_envhelper.advice.target_env import check_environment
from jupyter_envhelper.environment import Distribution, Environment
from tests.advice_builders import act, plan, probed_env
from tests.conftest_envs import (  # noqa: F401 - fixtures
    externally_managed_python,
    run_probe,
)

CTX = AdviceContext()
UPGRADE_NUMPY = plan(act("upgrade", "numpy", "2.0.1", installed="1.26.4"))


def test_probe_reports_build_tools_from_path_and_headers(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcc = bin_dir / "gcc"
    gcc.write_text("#!/bin/sh\n")
    gcc.chmod(0o755)
    (bin_dir / "clang").write_text("not executable")
    doc = run_probe(sys.executable, {"PATH": str(bin_dir)})
    tools = Environment.from_probe(doc).build_tools
    assert tools is not None
    assert tools["compilers"] == {"gcc": str(gcc)}
    include = sysconfig.get_paths()["include"]
    assert tools["include_dir"] == include
    header = os.path.join(include, "Python.h")
    assert tools["python_h"] == (header if os.path.isfile(header) else None)
    assert Environment.synthetic().build_tools is None  # unknown, not "missing"


def test_externally_managed_python_is_a_blocker_with_a_way_out(
    externally_managed_python: Path,
) -> None:
    env = Environment.from_probe(run_probe(externally_managed_python))
    [finding] = check_environment(UPGRADE_NUMPY, env, CTX)
    assert (finding.check, finding.severity) == ("environment", "blocker")
    assert "PEP 668" in finding.message
    assert "Use another kernel or a virtual environment" in finding.message
    assert "apt install" in finding.details["error"]
    kernels = AdviceContext(other_kernels=[{"name": "py312", "display_name": "Python 3.12"}])
    [finding] = check_environment(UPGRADE_NUMPY, env, kernels)
    assert finding.action == {
        "kind": "switch-kernel",
        "kernel": "py312",
        "label": "Switch to Python 3.12",
    }


def test_a_venv_takes_installs(tmp_path: Path) -> None:
    env = Environment.from_probe(run_probe(sys.executable, {"HOME": str(tmp_path)}))
    assert check_environment(UPGRADE_NUMPY, env, CTX) == []


def test_not_writable_is_a_blocker() -> None:
    env = probed_env(environment={"site_packages_writable": False})
    [finding] = check_environment(UPGRADE_NUMPY, env, CTX)
    assert finding.severity == "blocker"
    assert "not allowed to write to /srv/venv/lib/python3.11/site-packages" in finding.message


def test_conda_installed_packages_replaced_by_pip() -> None:
    numpy = Distribution("numpy", "1.26.4", installer="conda")
    scipy = Distribution("scipy", "1.13.0", installer=None)  # conda-build left no INSTALLER
    rich = Distribution("rich", "13.0", installer="pip")
    env = probed_env(
        environment={"kind": "conda", "conda_packages": {"numpy": "1.26.4", "scipy": "1.13.0"}},
        dists=[numpy, scipy, rich],
    )
    subject = plan(
        act("upgrade", "numpy", "2.0.1", installed="1.26.4"),
        act("downgrade", "scipy", "1.12.0", installed="1.13.0"),
        act("upgrade", "rich", "13.7", installed="13.0"),
        act("install", "attrs", "24.1"),
    )
    [finding] = check_environment(subject, env, CTX)
    assert finding.severity == "warning"
    assert finding.message.startswith("conda installed numpy 1.26.4 and scipy 1.13.0; pip would")
    assert [p["name"] for p in finding.details["packages"]] == ["numpy", "scipy"]
    # without conda-meta's record, a missing INSTALLER proves nothing
    env.data["environment"]["conda_packages"] = {}
    [finding] = check_environment(subject, env, CTX)
    assert [p["name"] for p in finding.details["packages"]] == ["numpy"]


def test_jupyterhub_install_outside_home_may_not_persist(tmp_path: Path) -> None:
    hub = {"JUPYTERHUB_USER": "ada", "JUPYTERHUB_API_URL": "http://hub:8081/hub/api"}
    doc = run_probe(sys.executable, {**hub, "HOME": str(tmp_path), "JUPYTERHUB_API_TOKEN": "s"})
    assert doc["environment"]["jupyterhub"] == ["JUPYTERHUB_USER", "JUPYTERHUB_API_URL"]
    assert "JUPYTERHUB_API_TOKEN" not in str(doc)
    env = Environment.from_probe(doc)
    [finding] = check_environment(UPGRADE_NUMPY, env, CTX)
    assert finding.severity == "warning"
    assert f"only your home directory ({tmp_path})" in finding.message
    # the same hub, with the environment inside the home directory: nothing to say
    purelib = doc["paths"]["purelib"]
    home = str(Path(purelib).parents[2])
    inside = Environment.from_probe(run_probe(sys.executable, {**hub, "HOME": home}))
    assert check_environment(UPGRADE_NUMPY, inside, CTX) == []
    # and no hub, no warning
    no_hub = {"JUPYTERHUB_USER": "", "JUPYTERHUB_API_URL": "", "JUPYTERHUB_SERVICE_PREFIX": ""}
    plain = Environment.from_probe(run_probe(sys.executable, {**no_hub, "HOME": str(tmp_path)}))
    assert check_environment(UPGRADE_NUMPY, plain, CTX) == []


def test_synthetic_environments_get_no_environment_advice() -> None:
    env = Environment.synthetic()
    env.data["environment"]["site_packages_writable"] = False
    assert check_environment(UPGRADE_NUMPY, env, CTX) == []
