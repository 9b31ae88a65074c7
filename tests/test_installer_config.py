"""The target's own installer configuration, end to end: probe -> plan -> install.

Real venvs with a site ``pip.conf`` (and ``PIP_*`` variables, and a global level
through ``XDG_CONFIG_DIRS``), a loopback index plus a second one behind a password,
a find-links folder and nested constraint files. The oracle is the installer itself:
``pip install --dry-run --report`` in that environment must pin what the plan pins,
and after the install ``uv pip freeze`` must list what the plan installed. The
machine's own pip configuration (/etc/xdg/pip, ``PIP_FIND_LINKS``) is kept out: every
process here gets an environment without ``PIP_*``/``UV_*`` and with its own HOME,
XDG_CONFIG_HOME and XDG_CONFIG_DIRS.
"""
# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from jupyter_envhelper import process
from jupyter_envhelper.environment import Environment
from jupyter_envhelper.index import resolve_index_config
from jupyter_envhelper.index.config import environment_installer
from jupyter_envhelper.index.local import LocalIndexClient
from jupyter_envhelper.installers import BackendOptions, PipBackend, UvBackend
from jupyter_envhelper.plan import Plan, ResolutionConflict
from jupyter_envhelper.resolver import plan_install
from tests.conftest_envs import PROBE, uv_command, venv_factory  # noqa: F401
from tests.indexserver import IndexServer
from tests.indexserver.server import Fault
from tests.indexserver.wheels import DistSpec, build_dist

PASSWORD = "pw-Zq81-secret"

MAIN_DISTS = [
    DistSpec("alpha", "1.0"),
    DistSpec("alpha", "2.0", requires_dist=("beta>=1",)),
    DistSpec("alpha", "3.0", requires_dist=("beta>=2",)),
    DistSpec("beta", "1.0"),
    DistSpec("beta", "2.0"),
    DistSpec("capped", "1.0"),
    DistSpec("capped", "1.5"),
    DistSpec("capped", "2.0"),
    DistSpec("srconly", "1.0"),
    DistSpec("srconly", "2.0", kind="sdist"),
    DistSpec("needs-capped", "1.0", requires_dist=("capped>=2",)),
]
PRIVATE_DISTS = [DistSpec("private", "1.0", requires_dist=("capped",))]
FOLDER_DISTS = [DistSpec("localonly", "1.0"), DistSpec("beta", "3.0")]

REQUESTS = [
    ["alpha"],  # capped by a nested constraint (alpha<3): 2.0, and beta from the folder
    ["capped"],  # capped by the top constraint file: 1.5, not 2.0
    ["localonly"],  # only in the find-links folder
    ["private"],  # only on the password-protected extra index (PIP_EXTRA_INDEX_URL)
    ["beta"],  # the folder's 3.0 beats the index's 2.0 (find-links add to every page)
    ["srconly"],  # only-binary: the 1.0 wheel, not the 2.0 sdist
    ["alpha", "capped", "localonly", "private", "srconly"],
]


@dataclass
class Setup:
    python: Path
    env: dict[str, str]  # the environment every process here runs with
    main: IndexServer
    private: IndexServer
    folder: Path
    constraints: Path


def clean_environ(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    (home / "xdg-dirs").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CONFIG_DIRS=str(home / "xdg-dirs"),  # pip's global level, without /etc/xdg
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_CACHE_DIR=str(home / "uv-cache"),
        PIP_CACHE_DIR=str(home / "pip-cache"),
    )
    env.update(extra)
    return env


def probe(python: Path, env: dict[str, str], cwd: Path | None = None) -> dict[str, Any]:
    result = process.run([str(python), str(PROBE)], env=env, timeout=60, cwd=str(cwd or "/"))
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def write_folder(folder: Path, dists: list[DistSpec]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for spec in dists:
        built = build_dist(spec)
        (folder / built.filename).write_bytes(built.data)


def our_plan(doc: dict[str, Any], requested: list[str]) -> Plan:
    env = Environment.from_probe(doc)

    async def run() -> Plan:
        config = resolve_index_config(doc["index"], installer=environment_installer(doc))
        async with LocalIndexClient(config, use_netrc=False) as client:
            return await plan_install(requested, env, client)

    return asyncio.run(run())


def pins_of(plan: Plan) -> dict[str, str]:
    return {a.canonical_name: str(a.version) for a in plan.changes}


def pip_dry_run(python: Path, env: dict[str, str], requested: list[str]) -> dict[str, str]:
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
         "--report", "-", *requested],
        capture_output=True, text=True, env=env, timeout=300, cwd="/",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return {
        canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"]
        for i in report["install"]
    }


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[IndexServer, IndexServer]]:
    with (
        IndexServer(MAIN_DISTS) as main,
        IndexServer(PRIVATE_DISTS, auth=("alice", PASSWORD)) as private,
    ):
        yield main, private


@pytest.fixture(scope="module")
def pip_setup(
    venv_factory: Any, servers: tuple[IndexServer, IndexServer], tmp_path_factory: Any
) -> Setup:
    """A venv whose own pip.conf sets the index, find-links, a constraint file (with a
    nested ``-c``) and only-binary; the extra index (with its password) comes from
    ``PIP_EXTRA_INDEX_URL``."""
    return _pip_setup("site", venv_factory, servers, tmp_path_factory)


@pytest.fixture(scope="module")
def pip_env_setup(
    venv_factory: Any, servers: tuple[IndexServer, IndexServer], tmp_path_factory: Any
) -> Setup:
    """The same settings, every one from a ``PIP_*`` variable, no file at all."""
    return _pip_setup("variables", venv_factory, servers, tmp_path_factory)


def _pip_setup(
    how: str, venv_factory: Any, servers: tuple[IndexServer, IndexServer], tmp_path_factory: Any
) -> Setup:
    main, private = servers
    root = tmp_path_factory.mktemp("pipconf")
    python = venv_factory(f"pipconf-{how}", tool="venv")
    prefix = python.parent.parent
    folder = root / "wheels"
    write_folder(folder, FOLDER_DISTS)
    constraints = root / "policy" / "constraints.txt"
    constraints.parent.mkdir()
    constraints.write_text(
        "# the site's caps\ncapped<=1.5  # not 2.0\n-c nested/more.txt\n", encoding="utf-8"
    )
    (constraints.parent / "nested").mkdir()
    (constraints.parent / "nested" / "more.txt").write_text("alpha<3\n", encoding="utf-8")
    env = clean_environ(root / "home", PIP_EXTRA_INDEX_URL=private.index_url_with_auth)
    if how == "site":
        (prefix / "pip.conf").write_text(
            f"[global]\nindex-url = {main.index_url}\nfind-links = {folder}\n"
            f"constraint = {constraints}\n[install]\nonly-binary = :all:\n",
            encoding="utf-8",
        )
    else:
        env.update(
            PIP_INDEX_URL=main.index_url,
            PIP_FIND_LINKS=str(folder),
            PIP_CONSTRAINT=str(constraints),
            PIP_ONLY_BINARY=":all:",
        )
    return Setup(python, env, main, private, folder, constraints)


# ----------------------------------------------------------------------------- the probe


def test_probe_reads_pip_levels_in_pips_order(venv_factory: Any, tmp_path: Path) -> None:
    """global < user < site < PIP_CONFIG_FILE < PIP_*; [install] beats [global] across
    files; an empty value in a later level erases; pip itself agrees (``pip config``)."""
    python = venv_factory("levels", tool="venv")
    prefix = python.parent.parent
    home = tmp_path / "home"
    env = clean_environ(home)
    glob = Path(env["XDG_CONFIG_DIRS"]) / "pip" / "pip.conf"
    glob.parent.mkdir(parents=True)
    glob.write_text(
        "[global]\nindex-url = https://global.example/simple\n"
        "constraint = missing-constraints.txt\ntrusted-host = global.example\n"
        "[install]\nno-binary = Foo_Bar\n",
        encoding="utf-8",
    )
    user = home / ".config" / "pip" / "pip.conf"
    user.parent.mkdir(parents=True)
    user.write_text("[global]\nextra-index-url = https://user.example/simple\n", encoding="utf-8")
    (prefix / "pip.conf").write_text(
        "[global]\nindex-url = https://site.example/simple\ntrusted-host =\n",
        encoding="utf-8",
    )
    doc = probe(python, env, cwd=tmp_path)
    pip = doc["index"]["pip"]
    assert pip["index_url"] == "https://site.example/simple"
    assert pip["levels"]["index-url"] == "site"
    assert pip["extra_index_urls"] == ["https://user.example/simple"]
    assert pip["levels"]["extra-index-url"] == "user"
    assert pip["trusted_hosts"] == []  # the site file's empty value erased the global one
    assert pip["no_binary"] == ["Foo_Bar"] and pip["levels"]["no-binary"] == "global"
    # relative constraint paths are the working directory's, as for pip; missing: listed
    missing = str(tmp_path / "missing-constraints.txt")
    assert pip["constraints"]["files"] == [{"path": missing, "ok": False, "error": "no such file"}]
    listed = subprocess.run(
        [str(python), "-m", "pip", "config", "list"], capture_output=True, text=True,
        env=env, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "global.index-url='https://site.example/simple'" in listed
    assert "global.extra-index-url='https://user.example/simple'" in listed

    # [install] in the global file beats [global] in the site file (pip's section order)
    glob.write_text("[install]\nindex-url = https://install.example/simple\n", encoding="utf-8")
    assert probe(python, env)["index"]["pip"]["index_url"] == "https://install.example/simple"

    # PIP_CONFIG_FILE: loaded after site and skips the user files; PIP_* beat every file
    own = tmp_path / "own.conf"
    own.write_text("[global]\nextra-index-url = https://env.example/simple\n", encoding="utf-8")
    pip = probe(python, {**env, "PIP_CONFIG_FILE": str(own), "PIP_PRE": "yes"})["index"]["pip"]
    assert pip["extra_index_urls"] == ["https://env.example/simple"]
    assert pip["levels"]["extra-index-url"] == "env" and pip["pre"] is True
    assert not any(f["kind"] == "user" for f in pip["config_files"])
    pip = probe(python, {**env, "PIP_INDEX_URL": "https://var.example/s"})["index"]["pip"]
    assert pip["index_url"] == "https://var.example/s"
    assert pip["sources"]["index-url"] == "env:PIP_INDEX_URL"
    # os.devnull: no file at all, as pip does
    pip = probe(python, {**env, "PIP_CONFIG_FILE": os.devnull})["index"]["pip"]
    assert pip["index_url"] is None and pip["config_files"] == []


def test_probe_reads_constraint_files_like_pip(pip_setup: Setup) -> None:
    pip = probe(pip_setup.python, pip_setup.env)["index"]["pip"]
    entries = pip["constraints"]["entries"]
    nested = str(pip_setup.constraints.parent / "nested" / "more.txt")
    assert {"requirement": "capped<=1.5", "file": str(pip_setup.constraints), "line": 2} in entries
    assert {"requirement": "alpha<3", "file": nested, "line": 1} in entries
    assert pip["levels"]["constraint"] == "site"
    assert pip["find_links"] == [str(pip_setup.folder)]
    assert pip["only_binary"] == [":all:"]
    assert pip["levels"]["extra-index-url"] == "env-var"


# ------------------------------------------------------------------- plans equal pip's


@pytest.mark.parametrize("how", ["site", "variables"])
@pytest.mark.parametrize("requested", REQUESTS, ids=[" ".join(r) for r in REQUESTS])
def test_plan_pins_equal_pip_dry_run(
    how: str, requested: list[str], request: pytest.FixtureRequest
) -> None:
    setup: Setup = request.getfixturevalue("pip_setup" if how == "site" else "pip_env_setup")
    doc = probe(setup.python, setup.env)
    mine = pins_of(our_plan(doc, requested))
    assert mine == pip_dry_run(setup.python, setup.env, requested)


def test_the_configuration_changes_the_plan(pip_setup: Setup) -> None:
    """The differential test above could pass with the configuration ignored only if
    these did too: without the site file the same requests plan otherwise."""
    doc = probe(pip_setup.python, pip_setup.env)
    configured = pins_of(our_plan(doc, ["capped", "alpha", "srconly"]))
    assert configured == {"capped": "1.5", "alpha": "2.0", "beta": "3.0", "srconly": "1.0"}
    doc["index"]["pip"]["constraints"] = {"entries": [], "files": []}
    doc["index"]["pip"]["only_binary"] = []
    doc["index"]["pip"]["find_links"] = []
    free = pins_of(our_plan(doc, ["capped", "alpha", "srconly"]))
    assert free == {"capped": "2.0", "alpha": "3.0", "beta": "2.0", "srconly": "2.0"}


def test_conflict_names_the_constraint_file_and_line(pip_setup: Setup) -> None:
    doc = probe(pip_setup.python, pip_setup.env)
    with pytest.raises(ResolutionConflict) as caught:
        our_plan(doc, ["capped>=2"])
    conflict = caught.value.conflict
    where = f"{pip_setup.constraints}, line 2"
    assert where in conflict.message and "capped<=1.5" in conflict.message
    assert "environment's own pip configuration" in conflict.message
    assert any(
        w.message.startswith(f"Lift the cap capped<=1.5 in {where}") for w in conflict.ways_out
    )
    # through a dependency too: needs-capped 1.0 needs capped>=2
    with pytest.raises(ResolutionConflict) as caught:
        our_plan(doc, ["needs-capped"])
    assert where in caught.value.conflict.message
    # and pip agrees that there is no answer
    result = subprocess.run(
        [str(pip_setup.python), "-m", "pip", "install", "--dry-run", "-q", "capped>=2"],
        capture_output=True, text=True, env=pip_setup.env, timeout=300, cwd="/",
    )  # fmt: skip
    assert result.returncode != 0


def test_missing_constraint_file_is_a_warning_not_a_crash(pip_setup: Setup, tmp_path: Path) -> None:
    own = tmp_path / "pip.conf"
    own.write_text(f"[global]\nconstraint = {tmp_path / 'gone.txt'}\n", encoding="utf-8")
    doc = probe(pip_setup.python, {**pip_setup.env, "PIP_CONFIG_FILE": str(own)})
    plan = our_plan(doc, ["capped"])
    assert pins_of(plan) == {"capped": "2.0"}  # the site file's constraint is overridden
    config = resolve_index_config(doc["index"])
    assert any("gone.txt" in w and "not used" in w for w in config.warnings)


# ------------------------------------------------------------------------- the install


def _cmdlines_of_tree(pid: int) -> list[bytes]:
    """argv of ``pid`` and of all its descendants, as any local user can read them."""
    found: list[bytes] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            found.append(Path(f"/proc/{current}/cmdline").read_bytes())
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return found


def _run_watching_argv(argv: list[str], env: dict[str, str]) -> tuple[int, list[bytes], str]:
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/"
    )
    seen: list[bytes] = []
    while proc.poll() is None:
        seen += _cmdlines_of_tree(proc.pid)
        time.sleep(0.02)
    out = proc.stdout.read().decode() if proc.stdout else ""
    return proc.wait(), seen, out


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
@pytest.mark.parametrize("backend", ["uv", "pip"])
def test_install_matches_the_plan_and_keeps_the_password_off_argv(
    backend: str,
    venv_factory: Any,
    servers: tuple[IndexServer, IndexServer],
    pip_setup: Setup,
) -> None:
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not available")
    _main, private = servers
    python = venv_factory(f"install-{backend}", tool="venv")
    prefix = python.parent.parent
    (prefix / "pip.conf").write_text(
        (pip_setup.python.parent.parent / "pip.conf").read_text(), encoding="utf-8"
    )
    doc = probe(python, pip_setup.env)
    plan = our_plan(doc, ["alpha", "capped", "localonly", "private", "srconly"])
    assert pins_of(plan) == {
        "alpha": "2.0", "beta": "3.0", "capped": "1.5", "localonly": "1.0",
        "private": "1.0", "srconly": "1.0",
    }  # fmt: skip
    env = Environment.from_probe(doc)
    options = BackendOptions(base_env=pip_setup.env)
    chosen = UvBackend(env, uv[0], options) if backend == "uv" else PipBackend(env, options)
    step = chosen.install_step(plan.pins, plan.index_urls)
    assert PASSWORD not in " ".join(step.argv)
    assert "--find-links" in step.argv and "--constraint" in step.argv
    private.set_fault(Fault("hang", seconds=1.0, files=True), "private")  # time to look
    try:
        code, seen, out = _run_watching_argv(step.argv, step.env)
    finally:
        private.faults.clear()
    assert code == 0, out
    assert seen, "the installer's argv was never seen"
    assert not any(PASSWORD.encode() in c for c in seen)
    assert private.log, "the private index was never asked"
    freeze = subprocess.run(
        [*uv, "pip", "freeze", "--python", str(python)], capture_output=True, text=True,
        env=pip_setup.env, timeout=60, check=True,
    ).stdout  # fmt: skip
    frozen = {
        canonicalize_name(n): v
        for n, _, v in (line.partition("==") for line in freeze.split())
        if n not in ("pip", "setuptools")
    }
    assert frozen == pins_of(plan)


# -------------------------------------------------------- a uv-made, pip-less environment


def uv_dry_run(
    uv: list[str], python: Path, env: dict[str, str], cwd: Path, requested: list[str]
) -> dict[str, str]:
    result = subprocess.run(
        [*uv, "pip", "install", "--dry-run", "--python", str(python), *requested],
        capture_output=True, text=True, env=env, timeout=300, cwd=str(cwd),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    pins = {}
    for line in (result.stdout + result.stderr).splitlines():
        name, sep, version = line.strip().removeprefix("+ ").partition("==")
        if sep and line.strip().startswith("+"):
            pins[canonicalize_name(name)] = version
    return pins


@pytest.fixture(scope="module")
def uv_setup(
    venv_factory: Any, servers: tuple[IndexServer, IndexServer], tmp_path_factory: Any
) -> tuple[Setup, Path]:
    """A ``uv venv`` (no pip) used from a project folder whose ``uv.toml`` sets the
    index, find-links, a constraint and no-build; ``UV_EXTRA_INDEX_URL`` adds the
    private index (password in the URL) and ``UV_CONSTRAINT`` a constraints file."""
    main, private = servers
    root = tmp_path_factory.mktemp("uvconf")
    python = venv_factory("uv-config", tool="uv")
    folder = root / "wheels"
    write_folder(folder, FOLDER_DISTS)
    project = root / "project"
    project.mkdir()
    (project / "uv.toml").write_text(
        f'index-url = "{main.index_url}"\nconstraint-dependencies = ["capped<=1.5"]\n'
        f'[pip]\nfind-links = ["{folder}"]\nno-build = true\n',
        encoding="utf-8",
    )
    constraints = root / "uv-constraints.txt"
    constraints.write_text("alpha<3\n", encoding="utf-8")
    env = clean_environ(
        root / "home",
        UV_EXTRA_INDEX_URL=private.index_url_with_auth,
        UV_CONSTRAINT=str(constraints),
    )
    return Setup(python, env, main, private, folder, constraints), project


def test_uv_environment_plans_like_uv_and_installs_the_plan(
    uv_setup: tuple[Setup, Path],
) -> None:
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not available")
    setup, project = uv_setup
    doc = probe(setup.python, setup.env, cwd=project)
    assert environment_installer(doc) == "uv"
    section = doc["index"]["uv"]
    assert [f["kind"] for f in section["config_files"]] == ["project"]
    requested = ["alpha", "capped", "localonly", "private", "srconly"]
    plan = our_plan(doc, requested)
    mine = pins_of(plan)
    assert mine == uv_dry_run(uv, setup.python, setup.env, project, requested)
    assert mine == {
        "alpha": "2.0", "beta": "3.0", "capped": "1.5", "localonly": "1.0",
        "private": "1.0", "srconly": "1.0",
    }  # fmt: skip
    words = Environment.from_probe(doc).installer_config()["summary"]
    assert "a local wheel folder" in words and "capped<=1.5" in words
    assert "wheels only" in words and PASSWORD not in words

    env = Environment.from_probe(doc)
    step = UvBackend(env, uv[0], BackendOptions(base_env=setup.env)).install_step(
        plan.pins, plan.index_urls
    )
    assert PASSWORD not in " ".join(step.argv) and PASSWORD not in " ".join(step.display_argv)
    code, seen, out = _run_watching_argv(step.argv, step.env)  # from "/": no uv.toml there
    assert code == 0, out
    assert not any(PASSWORD.encode() in c for c in seen)
    freeze = subprocess.run(
        [*uv, "pip", "freeze", "--python", str(setup.python)], capture_output=True,
        text=True, env=setup.env, timeout=60, check=True, cwd="/",
    ).stdout  # fmt: skip
    frozen = {canonicalize_name(n): v for n, _, v in (x.partition("==") for x in freeze.split())}
    assert frozen == mine
