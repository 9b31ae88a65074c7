"""What the server works out once and gives again while nothing changed, and that a
change is never answered from what was kept (issue 17, "Load": the event loop must
not stall under many kernels).

Real parts: a real Jupyter server (pytest-jupyter) over the loopback index, a real
venv as a kernel's environment (changed on disk as an installer would), real
kernelspec files read by jupyter_client's own manager, and the real probe.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from jupyter_envhelper import kept
from jupyter_envhelper.core import CoreConfig, Target, build_core, usecases
from jupyter_envhelper.core.kernelspecs import KeptKernelSpecs
from jupyter_envhelper.environment import Distribution, Environment
from jupyter_envhelper.resolver.memo import environment_key, tag_ranks
from jupyter_envhelper.server import handlers
from tests.indexserver import IndexServer

# -- kept.py: values kept with an unchanged Environment ------------------------------------


def test_a_kept_value_lives_while_the_environment_is_unchanged_and_goes_with_it() -> None:
    env = Environment.synthetic("3.12")
    value = object()
    kept.remember(env, "x", value)
    assert kept.remembered(env, "x") is value
    assert kept.remembered(env, "y") is None
    # a value of the probe's facts set again (another object) is a change
    env.data["platform"] = dict(env.data["platform"])
    assert kept.remembered(env, "x") is None
    kept.remember(env, "x", value)
    # ... and so is a distribution added, or one replaced by an equal one
    env.distributions["a"] = Distribution(name="a", version="1")
    assert kept.remembered(env, "x") is None
    kept.remember(env, "x", value)
    env.distributions["a"] = Distribution(name="a", version="1")
    assert kept.remembered(env, "x") is None
    # another environment of the same facts has nothing kept
    assert kept.remembered(Environment.synthetic("3.12"), "x") is None
    # the entry goes with its environment
    kept.remember(env, "x", value)
    slot = (id(env), "x")
    assert slot in kept._KEPT
    del env
    gc.collect()
    assert slot not in kept._KEPT


def test_a_plans_key_and_tags_are_worked_out_once_per_environment() -> None:
    env = Environment.synthetic("3.12")
    key, ranks = environment_key(env), tag_ranks(env)
    assert environment_key(env) is key and tag_ranks(env) is ranks
    assert ranks and min(ranks.values()) == 0
    env.distributions["b"] = Distribution(name="b", version="2")
    assert environment_key(env) != key  # a changed environment, another key


# -- the JSON text of a document given again ---------------------------------------------------


def test_kept_json_is_the_same_text_as_json_dumps_encoded_once() -> None:
    big = {"distributions": [{"name": f"p{i}", "version": "1.0", "é": None} for i in range(50)]}
    payload = {"schema": 1, "kernel": {"name": "k"}, "environment": big, "state": "ok"}
    text = handlers.encode_json(payload, ("environment", "absent"))
    assert text == json.dumps(payload)
    assert json.loads(text) == payload
    # the same object again: the text kept, not encoded again
    assert handlers.kept_json(big) is handlers.kept_json(big)
    # an equal but other object is encoded for itself (identity, never equality)
    other = json.loads(json.dumps(big))
    assert handlers.kept_json(other) == handlers.kept_json(big)
    # a field that is not an object or list, or no kept field: plain json.dumps
    assert handlers.encode_json({"environment": None}, ("environment",)) == '{"environment": null}'
    # bounded: the oldest go first
    for i in range(handlers.MAX_KEPT_JSON + 5):
        handlers.kept_json({"n": i})
    assert len(handlers._KEPT_JSON) == handlers.MAX_KEPT_JSON


# -- kernelspecs read once ------------------------------------------------------------------


def write_spec(root: Path, name: str, display_name: str) -> Path:
    folder = root / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": display_name, "language": "python"}  # fmt: skip
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder


def test_a_kept_kernelspec_is_read_again_when_its_file_changes(tmp_path: Path) -> None:
    folder = write_spec(tmp_path, "mine", "Mine")
    manager = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    specs = KeptKernelSpecs(manager)
    first = specs.get_kernel_spec("mine")
    assert first.display_name == "Mine"
    assert specs.get_kernel_spec("mine") is first  # kept
    assert "mine" in specs.get_all_specs()  # everything else is the manager's
    # When kernel.json is rewritten (another size), Then it is read again at once
    write_spec(tmp_path, "mine", "Mine, renamed")
    assert specs.get_kernel_spec("mine").display_name == "Mine, renamed"
    # When it is removed, Then the manager says there is no such kernel
    (folder / "kernel.json").unlink()
    folder.rmdir()
    with pytest.raises(NoSuchKernel):
        specs.get_kernel_spec("mine")
    # And a kept one is read again once its time is up
    write_spec(tmp_path, "mine", "Mine")
    short = KeptKernelSpecs(manager, ttl=0.0)
    assert short.get_kernel_spec("mine") is not short.get_kernel_spec("mine")


# -- through the real server --------------------------------------------------------------------


@pytest.fixture
def small_venv(tmp_path: Path) -> Path:
    target = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    return target


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages"))
    assert found, list(venv.rglob("site-packages"))
    return found[0]


def add_distribution(venv: Path, name: str, version: str) -> None:
    """A distribution as an installer leaves it (its .dist-info with METADATA)."""
    info = site_packages(venv) / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "INSTALLER").write_text("test\n", encoding="utf-8")


async def test_an_unchanged_environment_is_answered_again_and_a_change_is_seen(
    jp_fetch: Any, write_kernelspec: Any, small_venv: Path
) -> None:
    python = str(small_venv / "bin" / "python")
    write_kernelspec("reuse", [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"])

    async def environment() -> tuple[bytes, dict[str, Any]]:
        response = await jp_fetch("envhelper", "environment", params={"kernel": "reuse"})
        assert response.code == 200
        return response.body, json.loads(response.body)

    # When the same kernel's environment is asked for twice
    body, doc = await environment()
    again, _ = await environment()
    # Then it is the probe's answer, and the same answer
    assert doc["environment"]["prefix"] == str(small_venv)
    assert again == body
    names = {d["canonical_name"] for d in doc["environment"]["distributions"]}
    assert "tiny-thing" not in names
    # When an installer changes the environment, Then the next answer shows it
    add_distribution(small_venv, "tiny_thing", "1.2")
    _, changed = await environment()
    found = {d["canonical_name"]: d["version"] for d in changed["environment"]["distributions"]}
    assert found.get("tiny-thing") == "1.2", found
    assert changed["environment"]["package_count"] == doc["environment"]["package_count"] + 1
    # When the kernelspec is edited, Then the next answer says so
    write_kernelspec(
        "reuse",
        [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="Reuse, renamed",
    )
    _, renamed = await environment()
    assert renamed["kernel"]["display_name"] == "Reuse, renamed"


async def test_a_plan_reads_the_environment_once_off_the_event_loop(
    sample_index: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What every plan used to work out from the environment on the loop (its key, its
    wheel tags, every installed distribution's Requires-Dist) is worked out in a worker
    thread, once per environment, started by the environment's answer."""
    threads: list[int] = []
    real = usecases._read_for_plans

    def recording(env: Environment) -> None:
        threads.append(threading.get_ident())
        real(env)

    monkeypatch.setattr(usecases, "_read_for_plans", recording)
    core = build_core(
        CoreConfig(
            index_url=sample_index.index_url,
            cache_dir=str(tmp_path / "cache"),
            history_path=str(tmp_path / "history.sqlite"),
        )
    )
    target = Target(python=sys.executable)
    try:
        shown = await core.environment(target, prepare_plans=True)
        first = await core.plan(target, ["alpha"])
        second = await core.plan(target, ["alpha"])
        located = await core.locator.locate(target)
        env = located.require()
    finally:
        await core.close()
    assert shown["environment"]["distributions"]
    assert first["plan"] is not None and second["plan"] is not None
    assert [a["name"] for a in first["plan"]["actions"]] == [
        a["name"] for a in second["plan"]["actions"]
    ]
    # worked out once, not on the loop's thread, and kept with the environment
    assert len(threads) == 1 and threads[0] != threading.get_ident()
    reading = kept.remembered(env, "read_for_plans")
    assert reading is not None and reading[1].done()
    assert isinstance(environment_key(env), str)


async def test_the_extension_starts_its_worker_threads_when_the_server_starts(
    jp_serverapp: Any,
) -> None:
    app = jp_serverapp.extension_manager.extension_apps["jupyter_envhelper"]
    (envhelper,) = list(app)
    loop = asyncio.get_running_loop()
    await envhelper._start_jupyter_server_extension(jp_serverapp)
    await asyncio.sleep(0.2)
    executor = getattr(loop, "_default_executor", None)
    assert executor is not None
    assert len(executor._threads) == executor._max_workers
