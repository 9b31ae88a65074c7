"""The probe script in real interpreters, and the Prober that runs and caches it."""

# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import asyncio
import glob
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_envhelper.errors import ProbeError
from jupyter_envhelper.probe import Prober
from tests.conftest_envs import (  # noqa: F401 - fixtures
    PROBE,
    FakeGPU,
    externally_managed_python,
    fake_gpu,
    no_gpu_env,
    run_probe,
    uv_command,
    uv_venv,
    venv_factory,
    venv_with_pip,
)

PACKAGING_DIR = str(Path(__import__("packaging").__file__).resolve().parents[1])


def pyenv(version: str) -> str | None:
    found = sorted(glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python{version}"))
    return found[-1] if found else None


def site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return Path(out.stdout.strip())


def write_dist(site: Path, name: str, version: str, *, headers: str = "", **files: str) -> Path:
    d = site / f"{name.replace('-', '_')}-{version}.dist-info"
    d.mkdir(parents=True)
    (d / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + (headers + "\n" if headers else "")
        + "\n"
        "This is the long description.\nRequires-Dist: not-a-header\n",
        encoding="utf-8",
    )
    for fname, text in files.items():
        (d / fname.replace("_json", ".json").replace("_txt", ".txt")).write_text(text)
    return d


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.12", "3.13"])
def test_probe_runs_on_old_and_new_pythons(version: str) -> None:
    python = pyenv(version)
    if python is None:
        pytest.skip(f"no Python {version} under /root/.pyenv/versions")
    doc = run_probe(python)
    assert doc["schema"] == 1
    assert doc["interpreter"]["version"].startswith(version + ".")
    assert doc["markers"]["python_version"] == version
    assert doc["environment"]["kind"] == "system"
    assert doc["elapsed_ms"] > 0


def test_markers_match_packaging(venv_with_pip: Path) -> None:
    doc = run_probe(venv_with_pip)
    code = (
        "import json; from packaging.markers import default_environment as d; "
        "print(json.dumps(d()))"
    )
    out = subprocess.run(
        [str(venv_with_pip), "-c", code],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": PACKAGING_DIR},
    )  # fmt: skip
    assert doc["markers"] == json.loads(out.stdout)


def test_venv_with_pip(venv_with_pip: Path) -> None:
    doc = run_probe(venv_with_pip)
    assert doc["environment"]["kind"] == "venv"
    assert doc["interpreter"]["executable"] == str(venv_with_pip)
    assert doc["installers"]["pip"]["version"]
    assert doc["environment"]["site_packages_writable"] is True
    assert doc["environment"]["externally_managed"] is None
    names = {d["name"].lower() for d in doc["distributions"]}
    assert "pip" in names
    assert doc["paths"]["purelib"] in doc["paths"]["distribution_dirs"]


def test_distributions_match_importlib_metadata(venv_factory, tmp_path: Path) -> None:
    python = venv_factory("meta", tool="venv")
    site = site_packages(python)
    write_dist(
        site, "Foo-Bar", "1.2.3",
        headers="Summary: A folded\n  summary line\nRequires-Dist: requests>=2\n"
        'Requires-Dist: rich; extra == "fancy"\nRequires-Python: >=3.8\nProvides-Extra: fancy',
        INSTALLER="uv\n",
        RECORD="foo_bar/__init__.py,,\nfoo_bar/x.py,,\nfoo_helper.py,,\n_foo.cpython-311.so,,\n"
        "foo_bar-1.2.3.dist-info/METADATA,,\n../../../bin/foo,,\n",
    )  # fmt: skip
    write_dist(
        site, "editable-thing", "0.1",
        direct_url_json=json.dumps({"url": "file:///src/thing", "dir_info": {"editable": True}}),
        top_level_txt="thing\n",
    )  # fmt: skip
    egg = site / "Legacy_Pkg-2.0-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: Legacy-Pkg\nVersion: 2.0\n\n")
    (egg / "requires.txt").write_text(
        "six\n\n[socks]\nPySocks!=1.5.7\n\n[:python_version < '3.9']\nbackports.x\n"
    )
    # a second copy earlier on sys.path shadows the site-packages one
    early = tmp_path / "early"
    write_dist(early, "foo-bar", "9.9")
    env = {"PYTHONPATH": str(early)}

    doc = run_probe(python, env)
    by_name = {d["name"]: d for d in doc["distributions"]}
    foo = by_name["foo-bar"]
    assert foo["version"] == "9.9"  # first on sys.path wins
    assert any(w["code"] == "shadowed" and "1.2.3" in w["message"] for w in doc["warnings"])
    assert foo["shadows"] == [{"version": "1.2.3", "location": str(site)}]

    # the shadowed one, read alone
    doc2 = run_probe(python)
    foo = {d["name"]: d for d in doc2["distributions"]}["Foo-Bar"]
    assert foo["summary"] == "A folded summary line"
    assert foo["requires"] == ["requests>=2", 'rich; extra == "fancy"']
    assert foo["requires_python"] == ">=3.8"
    assert foo["provides_extra"] == ["fancy"]
    assert foo["installer"] == "uv"
    assert foo["top_level"] == ["foo_bar", "foo_helper", "_foo"]
    assert foo["editable"] is False
    thing = {d["name"]: d for d in doc2["distributions"]}["editable-thing"]
    assert thing["editable"] is True
    assert thing["direct_url"]["url"] == "file:///src/thing"
    assert thing["top_level"] == ["thing"]
    legacy = {d["name"]: d for d in doc2["distributions"]}["Legacy-Pkg"]
    assert legacy["requires"] == [
        "six",
        'PySocks!=1.5.7; extra == "socks"',
        "backports.x; (python_version < '3.9')",
    ]

    code = (
        "import json, importlib.metadata as m\nseen = {}\n"
        "for d in m.distributions():\n"
        "    seen.setdefault(d.metadata['Name'].lower().replace('_','-'), d.version)\n"
        "print(json.dumps(seen))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    expected = json.loads(out.stdout)
    ours = {d["name"].lower().replace("_", "-"): d["version"] for d in doc2["distributions"]}
    assert ours == expected


def test_uv_venv_has_no_pip(uv_venv: Path) -> None:
    uv = uv_command()
    assert uv is not None
    doc = run_probe(uv_venv, {"PATH": f"{Path(uv[0]).parent}{os.pathsep}/usr/bin:/bin"})
    assert doc["environment"]["kind"] == "uv"
    assert doc["installers"]["pip"] is None
    assert doc["installers"]["uv"]["path"] == str(Path(uv[0]).parent / "uv")
    doc = run_probe(uv_venv, {"PATH": "/usr/bin:/bin"})
    if not os.path.exists("/usr/bin/uv"):
        assert doc["installers"]["uv"] is None


def test_externally_managed(externally_managed_python: Path) -> None:
    doc = run_probe(externally_managed_python)
    env = doc["environment"]
    assert env["kind"] == "system"
    assert env["in_venv"] is False
    assert env["externally_managed"]["marker"].endswith("EXTERNALLY-MANAGED")
    assert "apt install\npython3-xyz" in env["externally_managed"]["error"]
    assert any(w["code"] == "externally-managed" for w in doc["warnings"])


def test_pip_and_uv_index_configuration(venv_with_pip: Path, tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(
        "[global]\nindex-url = https://user:secret@mirror.example/simple\n"
        "extra-index-url =\n    https://a.example/simple\n    https://b.example/simple\n"
        "[install]\nfind-links = /wheels\n"
    )
    clear = {k: "" for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")}
    env = {**clear, "PIP_CONFIG_FILE": str(conf), "UV_INDEX": "corp=https://t:k@corp.example/simple",
           "UV_EXTRA_INDEX_URL": "https://x.example/simple https://y.example/simple"}  # fmt: skip
    doc = run_probe(venv_with_pip, env)
    pip = doc["index"]["pip"]
    assert pip["index_url"] == "https://user:secret@mirror.example/simple"
    assert pip["extra_index_urls"] == ["https://a.example/simple", "https://b.example/simple"]
    assert pip["find_links"] == ["/wheels"]
    assert pip["sources"]["index-url"] == str(conf)
    assert {"kind": "env", "path": str(conf), "exists": True} in pip["config_files"]
    assert not any(f["kind"] == "user" for f in pip["config_files"])
    assert doc["index"]["uv"]["indexes"] == ["corp=https://t:k@corp.example/simple"]
    assert len(doc["index"]["uv"]["extra_index_urls"]) == 2

    env["PIP_INDEX_URL"] = "https://env.example/simple"
    pip = run_probe(venv_with_pip, env)["index"]["pip"]
    assert pip["index_url"] == "https://env.example/simple"
    assert pip["sources"]["index-url"] == "env:PIP_INDEX_URL"

    pip = run_probe(venv_with_pip, {**clear, "PIP_CONFIG_FILE": os.devnull})["index"]["pip"]
    assert pip["config_files"] == []
    assert pip["index_url"] is None


# ------------------------------------------------------------------ accelerators


def test_no_gpu_costs_nothing(venv_with_pip: Path, no_gpu_env: dict[str, str]) -> None:
    acc = run_probe(venv_with_pip, no_gpu_env)["accelerators"]
    assert acc["libcuda"] is None  # not even attempted
    assert acc["nvidia_smi"] is None
    assert acc["devices"] == []
    assert acc["driver_version"] is None


def test_fake_gpu_through_libcuda(venv_with_pip: Path, fake_gpu: FakeGPU) -> None:
    env = fake_gpu.env(
        devices="NVIDIA A100-SXM4-80GB:8.0;NVIDIA T4:7.5",
        driver_version=12020,
        smi_output="NVIDIA A100-SXM4-80GB, 8.0, 535.104.05;NVIDIA T4, 7.5, 535.104.05",
    )
    acc = run_probe(venv_with_pip, env)["accelerators"]
    assert acc["libcuda"]["loaded"] is True
    assert acc["libcuda"]["init_result"] == 0
    assert acc["cuda_driver_version"] == "12.2"
    assert acc["devices"] == [
        {"index": 0, "name": "NVIDIA A100-SXM4-80GB", "compute_capability": "8.0",
         "source": "libcuda"},
        {"index": 1, "name": "NVIDIA T4", "compute_capability": "7.5", "source": "libcuda"},
    ]  # fmt: skip
    # no /proc/driver/nvidia here: nvidia-smi supplies the driver version only
    assert acc["driver_version"] == "535.104.05"
    assert acc["driver_source"] == "nvidia-smi"
    assert acc["nvidia_smi"]["ok"] is True


def test_fake_gpu_cuinit_fails_then_nvidia_smi(venv_with_pip: Path, fake_gpu: FakeGPU) -> None:
    env = fake_gpu.env(mode="fail", smi_output="NVIDIA L4, 8.9, 550.54.15")
    doc = run_probe(venv_with_pip, env)
    acc = doc["accelerators"]
    assert acc["libcuda"]["init_result"] == 100
    assert "100" in acc["libcuda"]["error"]
    assert acc["cuda_driver_version"] == "12.2"  # cuDriverGetVersion answers before cuInit
    assert acc["devices"] == [
        {"index": 0, "name": "NVIDIA L4", "compute_capability": "8.9", "source": "nvidia-smi"}
    ]
    assert acc["driver_version"] == "550.54.15"
    assert acc["driver_source"] == "nvidia-smi"
    assert any(w["code"] == "cuda-check-failed" for w in doc["warnings"])


@pytest.mark.parametrize("mode", ["hang", "crash"])
def test_fake_gpu_cuinit_hangs_or_crashes(
    venv_with_pip: Path, fake_gpu: FakeGPU, mode: str
) -> None:
    env = fake_gpu.env(mode=mode, smi_fail=True, cuda_timeout=1.5)
    start = time.monotonic()
    acc = run_probe(venv_with_pip, env)["accelerators"]
    assert time.monotonic() - start < 20
    assert acc["devices"] == []
    assert acc["libcuda"]["timed_out"] is (mode == "hang")
    assert acc["libcuda"]["error"]
    assert acc["nvidia_smi"]["ok"] is False
    assert "couldn't communicate" in acc["nvidia_smi"]["error"]


def test_nvidia_smi_only(venv_with_pip: Path, fake_gpu: FakeGPU) -> None:
    env = fake_gpu.env(libcuda=False, smi_output="NVIDIA GeForce RTX 4090, 8.9, 535.104.05")
    env["LD_LIBRARY_PATH"] = ""
    acc = run_probe(venv_with_pip, env)["accelerators"]
    assert acc["libcuda"] is None
    assert acc["driver_version"] == "535.104.05"
    assert acc["devices"][0]["name"] == "NVIDIA GeForce RTX 4090"


def test_cuda_wheels_torch_and_overrides(venv_factory, no_gpu_env: dict[str, str]) -> None:
    python = venv_factory("torchy", tool="venv")
    site = site_packages(python)
    write_dist(site, "torch", "2.3.0+cu121", headers="Requires-Dist: filelock")
    write_dist(site, "nvidia-cublas-cu12", "12.1.3.1")
    env = {**no_gpu_env, "CONDA_OVERRIDE_CUDA": "", "UV_CUDA_DRIVER_VERSION": "535.104.05"}
    acc = run_probe(python, env)["accelerators"]
    assert acc["torch"] == {"version": "2.3.0+cu121", "cuda": "12.1", "cpu_only": False,
                            "source": "local-version"}  # fmt: skip
    assert acc["cuda_wheels"] == [{"name": "nvidia-cublas-cu12", "version": "12.1.3.1"}]
    assert acc["overrides"] == {
        "CONDA_OVERRIDE_CUDA": "",
        "UV_CUDA_DRIVER_VERSION": "535.104.05",
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }

    python = venv_factory("torchy2", tool="venv")
    site = site_packages(python)
    write_dist(site, "torch", "2.4.0", headers="Requires-Dist: nvidia-cudnn-cu12==9.1")
    (site / "torch").mkdir()
    (site / "torch" / "version.py").write_text(
        "__version__ = '2.4.0'\ncuda: Optional[str] = '12.4'\n"
    )
    assert run_probe(python, no_gpu_env)["accelerators"]["torch"]["cuda"] == "12.4"
    (site / "torch" / "version.py").unlink()
    torch = run_probe(python, no_gpu_env)["accelerators"]["torch"]
    assert (torch["cuda"], torch["source"]) == ("12", "requirements")


def test_toolkit_is_reported_separately(venv_with_pip: Path, tmp_path: Path) -> None:
    root = tmp_path / "cuda-11.8"
    (root / "bin").mkdir(parents=True)
    (root / "version.json").write_text(
        json.dumps({"cuda": {"name": "CUDA SDK", "version": "11.8.0"}})
    )
    acc = run_probe(venv_with_pip, {"CUDA_HOME": str(root)})["accelerators"]
    assert acc["toolkit"]["version"] == "11.8"
    assert acc["toolkit"]["source"] == "version.json"
    assert acc["devices"] == [] or acc["driver_version"]  # the toolkit is not a GPU


def test_nvcc_version_output(venv_with_pip: Path, tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    nvcc = bindir / "nvcc"
    nvcc.write_text("#!/bin/sh\necho 'Cuda compilation tools, release 12.4, V12.4.131'\n")
    nvcc.chmod(0o755)
    env = {"PATH": f"{bindir}{os.pathsep}/usr/bin:/bin"}
    toolkit = run_probe(venv_with_pip, env)["accelerators"]["toolkit"]
    assert toolkit["version"] == "12.4"
    assert toolkit["nvcc"] == str(nvcc)


# ------------------------------------------------------------------ Prober


def test_prober_caches_until_site_packages_change(venv_factory, tmp_path: Path) -> None:
    python = str(venv_factory("cached", tool="venv"))
    prober = Prober(tmp_path / "cache")
    env1 = prober.probe_sync(python)
    start = time.perf_counter()
    env2 = prober.probe_sync(python)
    assert time.perf_counter() - start < 0.01
    assert env2 is env1
    # a fresh Prober reads the disk cache
    env3 = Prober(tmp_path / "cache").probe_sync(python)
    assert env3.installed("pip") is not None
    assert env3.data == env1.data
    # installing something invalidates
    write_dist(site_packages(Path(python)), "newcomer", "1.0")
    env4 = prober.probe_sync(python)
    assert env4.installed("newcomer") is not None
    assert env1.installed("newcomer") is None
    # the bytecode cache was written (by a child, once the probe has answered: wait
    # for it) and is used
    for _ in range(100):
        if list((tmp_path / "cache" / "bytecode").glob("probe-*.pyc")):
            break
        time.sleep(0.1)
    assert list((tmp_path / "cache" / "bytecode").glob("probe-*.pyc"))
    assert prober.probe_sync(python, refresh=True).installed("newcomer") is not None


def test_two_forgetting_the_same_probe_at_once_is_no_error(
    venv_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job's check and another request may forget one interpreter's probe at the
    same moment (a magic's job failed with a KeyError so): here the other one comes
    in between, as a thread would."""
    python = str(venv_factory("forgotten", tool="venv"))
    prober = Prober(tmp_path / "cache")
    prober.probe_sync(python)
    prober.probe_sync(python, env={"EXTRA": "1"})  # two entries of one interpreter
    assert len(prober._memory) == 2
    disk_path = prober._disk_path
    calls: list[str] = []

    def meanwhile(key: str) -> Path:
        calls.append(key)
        if len(calls) == 1:
            prober.invalidate(python)  # the other thread, between listing and deleting
        return disk_path(key)

    monkeypatch.setattr(prober, "_disk_path", meanwhile)
    prober.invalidate(python)
    assert prober._memory == {}
    assert len(calls) >= 3


def test_prober_errors_are_actionable(tmp_path: Path) -> None:
    prober = Prober(tmp_path / "cache", timeout=2)
    with pytest.raises(ProbeError, match="does not exist"):
        prober.probe_sync(str(tmp_path / "nope" / "python"))

    crash = tmp_path / "crash"
    crash.write_text("#!/bin/sh\necho 'Traceback: boom' >&2\nexit 3\n")
    crash.chmod(0o755)
    with pytest.raises(ProbeError, match="exited with code 3") as info:
        prober.probe_sync(str(crash))
    assert info.value.detail == "Traceback: boom"

    garbage = tmp_path / "garbage"
    garbage.write_text("#!/bin/sh\necho 'hello'\n")
    garbage.chmod(0o755)
    with pytest.raises(ProbeError, match="did not print the expected report"):
        prober.probe_sync(str(garbage))

    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    start = time.monotonic()
    with pytest.raises(ProbeError, match="longer than 2 s"):
        prober.probe_sync(str(slow))
    assert time.monotonic() - start < 10


def test_concurrent_probes_share_one_run(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{counter}"\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    prober = Prober(tmp_path / "cache")

    async def main() -> list[object]:
        return list(await asyncio.gather(*(prober.probe(str(wrapper)) for _ in range(5))))

    envs = asyncio.run(main())
    assert all(e is envs[0] for e in envs)
    assert counter.read_text().count("run") == 1


def test_probe_imports_stay_light(venv_with_pip: Path, no_gpu_env: dict[str, str]) -> None:
    # Slow or fragile imports must not happen in the target (none of them is needed here).
    result = subprocess.run(
        [str(venv_with_pip), "-X", "importtime", str(PROBE)],
        capture_output=True, text=True, check=True, env={**os.environ, **no_gpu_env},
    )  # fmt: skip
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    banned = {"importlib.metadata", "pkg_resources", "typing", "json", "configparser",
              "subprocess", "platform", "email"}  # fmt: skip
    assert not imported & banned
    assert json.loads(result.stdout)["schema"] == 1
