"""Time to plan an install of a 40-package dependency graph: ours (cold, warm) vs pip and uv.

Run: ``python benchmarks/bench_plan.py [--json] [--packages 40] [--latency 0.02]``
(from the repository root). One local index, served in its own process, with a
generated graph (three versions per package, a binary tree of dependencies plus cross
edges) and ``--latency`` seconds added to every request to imitate a remote index.

- ours cold: a fresh ``IndexClient`` and cache directory, ``plan_install`` in-process;
- ours warm: the same client, a second plan;
- ``pip install --dry-run --ignore-installed --report -`` (PIP_CONFIG_FILE=/dev/null,
  a fresh PIP_CACHE_DIR);
- ``uv pip compile`` (a fresh UV_CACHE_DIR).

Targets: warm <= 100 ms; cold <= 1.5x uv and <= 0.3x pip. Exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyter_envhelper.environment import Environment
from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.resolver import plan_install
from tests.indexserver import DistSpec, Fault, IndexServer

WARM_MS = 100.0
COLD_VS_UV = 1.5
COLD_VS_PIP = 0.3


def graph(count: int) -> list[DistSpec]:
    """``bench-pkg-<i>`` depends on its two children (binary tree) and one cross edge."""
    dists: list[DistSpec] = []
    for i in range(count):
        deps = [f"bench-pkg-{c}>=1.0" for c in (2 * i + 1, 2 * i + 2) if c < count]
        if i + 7 < count and i % 3 == 0:
            deps.append(f"bench-pkg-{i + 7}<3")
        for version in ("1.0", "1.1", "2.0"):
            dists.append(
                DistSpec(f"bench-pkg-{i}", version, requires_dist=tuple(deps), padding=20_000)
            )
    return dists


def serve(count: int, latency: float, port_queue: Any, stop: Any) -> None:
    """Run the index in its own process, so its threads do not share our GIL."""
    with IndexServer([*graph(count), DistSpec("warmup", "1.0")]) as server:
        if latency:
            server.set_fault(Fault("hang", seconds=latency, files=True))
        port_queue.put(server.index_url)
        stop.wait()


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


async def ours(index_url: str, requested: list[str], env: Environment) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        config = IndexConfig(index_url=index_url)
        async with IndexClient(config, cache_dir=cache, use_netrc=False) as client:
            cold_plan = await plan_install(requested, env, client)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            warm_plan = await plan_install(requested, env, client)
            warm = time.perf_counter() - started
    assert cold_plan.pins == warm_plan.pins
    return {
        "cold_s": round(cold, 4),
        "warm_s": round(warm, 4),
        "packages": len(cold_plan.pins),
        "pins": cold_plan.pins,
        "stats": cold_plan.stats,
    }


def pip(index_url: str, requested: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as cache:
        argv = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                "-q", "--report", "-", "--index-url", index_url, *requested]  # fmt: skip
        started = time.perf_counter()
        result = subprocess.run(
            argv, check=False, capture_output=True, text=True, env=_clean_env(PIP_CACHE_DIR=cache)
        )
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"pip failed: {result.stderr}")
    report = json.loads(result.stdout)
    pins = sorted(f"{i['metadata']['name']}=={i['metadata']['version']}" for i in report["install"])
    return {"seconds": round(seconds, 4), "pins": pins}


def uv_binary() -> str | None:
    try:
        import uv  # type: ignore[import-not-found]

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def uv(binary: str, index_url: str, requested: list[str], python: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as cache:
        argv = [binary, "pip", "compile", "-", "--index-url", index_url, "--python-version",
                python, "--no-header", "--no-annotate", "-q"]  # fmt: skip
        started = time.perf_counter()
        result = subprocess.run(
            argv,
            check=False,
            input="\n".join(requested),
            capture_output=True,
            text=True,
            env=_clean_env(UV_CACHE_DIR=cache),
        )
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"uv failed: {result.stderr}")
    pins = sorted(line.strip() for line in result.stdout.splitlines() if "==" in line)
    return {"seconds": round(seconds, 4), "pins": pins}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--packages", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    args = parser.parse_args()
    requested = ["bench-pkg-0"]
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    env = Environment.synthetic(python_version=python, platform="manylinux_2_28_x86_64")
    queue: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=serve, args=(args.packages, args.latency, queue, stop))
    process.start()
    try:
        index_url = queue.get(timeout=120)
        asyncio.run(ours(index_url, ["warmup"], env))  # imports and thread pool, not timed
        mine = asyncio.run(ours(index_url, requested, env))
        pip_result = pip(index_url, requested)
        binary = uv_binary()
        uv_result = uv(binary, index_url, requested, python) if binary else None
    finally:
        stop.set()
        process.join(10)
    cold, warm = mine["cold_s"], mine["warm_s"]
    report: dict[str, Any] = {
        "packages": args.packages,
        "latency": args.latency,
        "ours": {k: v for k, v in mine.items() if k != "pins"},
        "pip": {"seconds": pip_result["seconds"], "packages": len(pip_result["pins"])},
        "uv": {"seconds": uv_result["seconds"], "packages": len(uv_result["pins"])}
        if uv_result
        else None,
        "cold_vs_pip": round(cold / pip_result["seconds"], 3),
        "cold_vs_uv": round(cold / uv_result["seconds"], 3) if uv_result else None,
        "warm_ms": round(warm * 1000, 1),
        "same_pins": {
            "pip": sorted(mine["pins"]) == pip_result["pins"],
            "uv": sorted(mine["pins"]) == uv_result["pins"] if uv_result else None,
        },
    }
    missed = []
    if report["warm_ms"] > WARM_MS:
        missed.append(f"warm plan {report['warm_ms']} ms > {WARM_MS} ms")
    if report["cold_vs_pip"] > COLD_VS_PIP:
        missed.append(f"cold is {report['cold_vs_pip']}x pip > {COLD_VS_PIP}x")
    if report["cold_vs_uv"] is not None and report["cold_vs_uv"] > COLD_VS_UV:
        missed.append(f"cold is {report['cold_vs_uv']}x uv > {COLD_VS_UV}x")
    report["missed"] = missed
    if args.json:
        print(json.dumps(report))
    else:
        print(f"plan {args.packages} packages (server latency {args.latency} s/request)")
        print(f"  ours cold  {cold:7.3f} s  ({mine['packages']} pins, stats {mine['stats']})")
        print(f"  ours warm  {warm * 1000:7.1f} ms (target <= {WARM_MS:.0f} ms)")
        ratio_pip, ratio_uv = report["cold_vs_pip"], report["cold_vs_uv"]
        print(f"  pip        {pip_result['seconds']:7.3f} s  -> cold/pip = {ratio_pip}")
        if uv_result:
            print(f"  uv         {uv_result['seconds']:7.3f} s  -> cold/uv  = {ratio_uv}")
        print(f"  same pins: {report['same_pins']}")
        for line in missed:
            print(f"  MISSED: {line}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
