"""Installer configuration without installing: words, overrides, redaction, file:// indexes.

Fast: one probe of the test runner's own interpreter (with an environment of the
test's making) and local folders; the machine's pip configuration is kept out.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_envhelper import process
from jupyter_envhelper.core.assess import installer_config_findings
from jupyter_envhelper.core.documents import environment_document
from jupyter_envhelper.environment import Environment
from jupyter_envhelper.index import resolve_index_config
from jupyter_envhelper.index.config import describe_settings, installer_settings
from jupyter_envhelper.index.local import LocalIndexClient
from jupyter_envhelper.plan import ResolutionConflict
from jupyter_envhelper.resolver import plan_install
from jupyter_envhelper.text import render_environment
from tests.conftest_envs import PROBE
from tests.indexserver.wheels import DistSpec, build_dist

SECRET = "tok-77-secret"


def clean(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    (tmp / "xdg").mkdir(exist_ok=True)
    env.update(HOME=str(tmp), XDG_CONFIG_HOME=str(tmp / "cfg"), XDG_CONFIG_DIRS=str(tmp / "xdg"))
    env.update(extra)
    return env


def probe(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    result = process.run([sys.executable, str(PROBE)], env=env, timeout=60, cwd=str(cwd))
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_global_level_in_words_and_in_inspect(tmp_path: Path) -> None:
    """The machine's case: a global pip.conf (XDG_CONFIG_DIRS) with a constraint file,
    plus PIP_FIND_LINKS: said in words by `inspect` and `%envhelp`."""
    glob = tmp_path / "xdg" / "pip" / "pip.conf"
    glob.parent.mkdir(parents=True)
    caps = tmp_path / "caps.txt"
    caps.write_text("# caps\ntorch<=2.14.1\ntorchvision<=0.29.1\n", encoding="utf-8")
    glob.write_text(f"[global]\nconstraint = {caps}\n", encoding="utf-8")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    doc = probe(clean(tmp_path, PIP_FIND_LINKS=str(wheels)), tmp_path)
    settings = installer_settings(doc["index"])
    words = describe_settings(settings)
    assert words == (
        f"Packages come from PyPI and a local wheel folder ({wheels}); capped by a "
        "constraints file (torch<=2.14.1, torchvision<=0.29.1) set in the global pip "
        f"configuration ({glob})."
    )
    document = environment_document(Environment.from_probe(doc))
    shown = render_environment({"state": "ok", "environment": document})
    assert "Sources" in shown and "torch<=2.14.1" in " ".join(shown.split())


def test_server_override_is_said(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(
        f"[global]\nindex-url = https://u:{SECRET}@corp.example/simple\n", encoding="utf-8"
    )
    doc = probe(clean(tmp_path, PIP_CONFIG_FILE=str(conf)), tmp_path)
    config = resolve_index_config(doc["index"], index_url="https://mirror.example/simple/")
    assert config.index_url == "https://mirror.example/simple/"
    assert len(config.overrides) == 1 and "corp.example" in config.overrides[0]
    client = LocalIndexClient(config, use_netrc=False)
    findings = installer_config_findings(client)
    messages = [f.message for f in findings]
    assert any(
        m.startswith("This server overrides the kernel's pip configuration: index-url")
        for m in messages
    )
    assert SECRET not in " ".join(messages) and SECRET not in repr(config.installer)
    # without the server setting: no override, the kernel's index is used
    plain = resolve_index_config(doc["index"])
    assert plain.overrides == () and plain.index_url.startswith("https://u:")
    assert not installer_config_findings(LocalIndexClient(plain, use_netrc=False))


def test_uv_config_text_never_reaches_the_document(tmp_path: Path) -> None:
    (tmp_path / "uv.toml").write_text(
        f'index-url = "https://u:{SECRET}@corp.example/simple"\n', encoding="utf-8"
    )
    doc = probe(clean(tmp_path), tmp_path)
    assert doc["index"]["uv"]["config_files"][0]["kind"] == "project"
    settings = installer_settings(doc["index"], "uv")
    assert settings.index_url == f"https://u:{SECRET}@corp.example/simple"
    assert settings.level("index-url") == f"the project uv configuration ({tmp_path / 'uv.toml'})"
    assert settings.to_json()["index_url"] == "https://***@corp.example/simple"
    shown = json.dumps(Environment.from_probe(doc).to_json())
    assert SECRET not in shown


def _tree(root: Path, with_html: bool) -> None:
    for spec in (DistSpec("gamma", "1.0"), DistSpec("gamma", "2.0"), DistSpec("delta", "1.0")):
        built = build_dist(spec)
        folder = root / spec.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / built.filename).write_bytes(built.data)
    if with_html:  # pip reads index.html of a file:// project folder; here it hides 2.0
        (root / "gamma" / "index.html").write_text(
            '<html><body><a href="gamma-1.0-py3-none-any.whl">gamma-1.0-py3-none-any.whl</a>'
            "</body></html>",
            encoding="utf-8",
        )


@pytest.mark.parametrize("with_html", [False, True])
def test_file_index_is_read_from_disk(tmp_path: Path, with_html: bool) -> None:
    _tree(tmp_path / "simple", with_html)
    probed = probe(clean(tmp_path, PIP_CONFIG_FILE=os.devnull), tmp_path)
    probed["index"]["pip"]["index_url"] = (tmp_path / "simple").as_uri()
    env = Environment.from_probe(probed)

    async def run(requested: list[str]) -> dict[str, str]:
        config = resolve_index_config(probed["index"])
        async with LocalIndexClient(config, use_netrc=False) as client:
            plan = await plan_install(requested, env, client)
            assert client.stats.requests == 0  # nothing over the network
        pins = {a.canonical_name: str(a.version) for a in plan.changes}
        # the size comes from the disk, index.html or not: "download size unknown" is
        # what a beginner read for every file:// index before
        on_disk = sum(
            (tmp_path / "simple" / name / f"{name}-{version}-py3-none-any.whl").stat().st_size
            for name, version in pins.items()
        )
        assert plan.download_size == on_disk
        return pins

    assert asyncio.run(run(["gamma"])) == {"gamma": "1.0" if with_html else "2.0"}
    assert asyncio.run(run(["delta"])) == {"delta": "1.0"}
    with pytest.raises(ResolutionConflict):
        asyncio.run(run(["nothere"]))


def test_unreadable_constraint_lines_are_warnings(tmp_path: Path) -> None:
    caps = tmp_path / "caps.txt"
    caps.write_text("not a requirement ===\nfoo @ https://x/foo.whl\n--pre\n", encoding="utf-8")
    probed = probe(clean(tmp_path, PIP_CONSTRAINT=str(caps), PIP_CONFIG_FILE=os.devnull), tmp_path)
    assert probed["index"]["pip"]["levels"]["constraint"] == "env-var"
    said = resolve_index_config(probed["index"]).warnings
    assert any("'--pre'" in w and "line 3" in w for w in said)
    folder = tmp_path / "w"
    folder.mkdir()
    built = build_dist(DistSpec("foo", "1.0"))
    (folder / built.filename).write_bytes(built.data)
    probed["index"]["pip"]["find_links"] = [str(folder)]
    probed["index"]["pip"]["no_index"] = True
    env = Environment.from_probe(probed)

    async def run() -> list[str]:
        config = resolve_index_config(probed["index"])
        async with LocalIndexClient(config, use_netrc=False) as client:
            plan = await plan_install(["foo"], env, client)
            assert client.stats.requests == 0  # no-index: the folder alone
        assert [a.version for a in plan.changes] == ["1.0"]
        return plan.warnings

    warnings = asyncio.run(run())
    assert any("cannot be read" in w for w in warnings)
    assert any("foo @ URL" in w for w in warnings)


def test_editing_the_pip_configuration_makes_a_new_probe(tmp_path: Path) -> None:
    """The probe cache watches the configuration files it read (and their constraint
    files): a cached answer never hides an edit of pip.conf or of a constraints file."""
    from jupyter_envhelper.probe import Prober

    conf = tmp_path / "pip.conf"
    caps = tmp_path / "caps.txt"
    caps.write_text("torch<=2.14.1\n", encoding="utf-8")
    conf.write_text(f"[global]\nconstraint = {caps}\n", encoding="utf-8")
    env = clean(tmp_path, PIP_CONFIG_FILE=str(conf))
    prober = Prober(tmp_path / "cache")

    def caps_now() -> list[str]:
        found = prober.probe_sync(sys.executable, env=env)
        return [c.requirement for c in installer_settings(found.data["index"]).constraints]

    assert caps_now() == ["torch<=2.14.1"]
    caps.write_text("torch<=2.13\n", encoding="utf-8")
    os.utime(caps, ns=(1, 1))  # a different stamp even within the clock's resolution
    assert caps_now() == ["torch<=2.13"]
    user = tmp_path / "cfg" / "pip" / "pip.conf"  # not read: PIP_CONFIG_FILE exists
    conf.write_text("[global]\nindex-url = https://x.example/simple\n", encoding="utf-8")
    os.utime(conf, ns=(2, 2))
    assert caps_now() == [] and not user.exists()


def test_pre_and_binary_settings_reach_the_resolver(tmp_path: Path) -> None:
    """PIP_PRE lets a pre-release in; only-binary for one project skips its newer
    sdist (read from disk otherwise); a project named in only-binary beats no-binary
    :all:. ``pip install --dry-run`` agrees each time."""
    folder = tmp_path / "w"
    folder.mkdir()
    for spec in (
        DistSpec("gamma", "1.0"),
        DistSpec("gamma", "2.0b1"),
        DistSpec("delta", "1.0"),
        DistSpec("delta", "1.1", kind="sdist"),
    ):
        built = build_dist(spec)
        (folder / built.filename).write_bytes(built.data)

    def pins(**variables: str) -> dict[str, str]:
        base = dict(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(folder))
        doc = probe(clean(tmp_path, **base, **variables), tmp_path)
        env = Environment.from_probe(doc)

        async def run() -> dict[str, str]:
            async with LocalIndexClient(resolve_index_config(doc["index"])) as client:
                plan = await plan_install(["gamma", "delta"], env, client)
            return {a.canonical_name: str(a.version) for a in plan.changes}

        ours = asyncio.run(run())
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
             "--report", "-", "gamma", "delta"],
            env=clean(tmp_path, **base, **variables), capture_output=True, text=True,
            timeout=300, check=True,
        )  # fmt: skip
        report = json.loads(pip.stdout)["install"]
        assert ours == {i["metadata"]["name"]: i["metadata"]["version"] for i in report}
        return ours

    assert pins() == {"gamma": "1.0", "delta": "1.1"}  # no pre-release; the newest sdist
    assert pins(PIP_PRE="true") == {"gamma": "2.0b1", "delta": "1.1"}
    assert pins(PIP_ONLY_BINARY="delta") == {"gamma": "1.0", "delta": "1.0"}
    assert pins(PIP_NO_BINARY=":all:", PIP_ONLY_BINARY="Delta,gamma") == {
        "gamma": "1.0",
        "delta": "1.0",
    }


def test_uv_settings_precedence() -> None:
    """UV_* over the project file over the user's; [pip] over the top level; UV_INDEX and
    [[index]] entries are asked before extra-index-url, the default index last."""
    from jupyter_envhelper.index.config import uv_settings

    project = (
        'index-url = "https://top.example/simple"\nindex-strategy = "unsafe-best-match"\n'
        '[[index]]\nname = "corp"\nurl = "https://corp.example/simple"\n'
        '[[index]]\nurl = "https://default.example/simple"\ndefault = true\n'
        '[pip]\nindex-url = "https://pip.example/simple"\nextra-index-url = ["https://e.example/s"]\n'
    )
    user = 'index-url = "https://user.example/simple"\nprerelease = "allow"\n'
    files = [
        {"kind": "project", "path": "/p/uv.toml", "text": project},
        {"kind": "user", "path": "/u/uv.toml", "text": user},
    ]
    settings = uv_settings({"config_files": files})
    assert settings.index_url == "https://pip.example/simple"
    assert settings.extra_index_urls == ("https://corp.example/simple", "https://e.example/s")
    assert settings.strategy == "merge" and settings.prereleases is True
    assert settings.level("index-url") == "the project uv configuration (/p/uv.toml)"
    env = uv_settings(
        {"config_files": files, "default_index": "https://env.example/simple",
         "indexes": ["first=https://first.example/simple"]}
    )  # fmt: skip
    assert env.index_url == "https://env.example/simple"
    assert env.extra_index_urls[0] == "https://first.example/simple"
    assert env.level("index-url") == "the environment variable UV_DEFAULT_INDEX"
    broken = uv_settings({"config_files": [{"kind": "user", "path": "/u/uv.toml", "text": "a ="}]})
    assert any("not valid TOML" in p for p in broken.problems)
