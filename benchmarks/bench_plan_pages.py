"""Plans over pages shaped like PyPI's, offline: ours (cold, warm) vs ``uv pip compile``.

Run: ``python benchmarks/bench_plan_pages.py [--json] [--projects 24] [--versions 150]``
(from the repository root). ``bench_plan.py``'s index has three versions and one file
per project, which hides what big pages cost; here every project has ``--versions``
releases (finals, some pre-releases and post releases), each with CPython wheels for
the Pythons of its time on three platforms, a pure wheel now and then and an sdist
(~15 files a version), ``Requires-Python`` rising over the releases as real projects'
do, and a yanked file here and there. The projects form a dependency tree with
cross edges. One local index (tests/indexserver), in its own process, ``--latency``
seconds added to every request.

- ours cold: a fresh client and cache directory, ``plan_install`` in-process;
- ours warm: the same client, the same request again;
- ours other: the same client, the top project pinned one release back;
- ``uv pip compile`` with a fresh cache.

Targets (exit 1 on a miss): cold <= 2x uv, warm <= 100 ms, other <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_plan import uv, uv_binary

from jupyter_envhelper.environment import Environment
from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.resolver import plan_install
from tests.indexserver import DistSpec, Fault, IndexServer

VS_UV = 2.0
WARM_MS = 100.0
OTHER_MS = 300.0
PYTHONS = ["38", "39", "310", "311", "312", "313"]
PLATFORMS = ["manylinux_2_17_x86_64", "manylinux_2_28_aarch64", "macosx_11_0_arm64"]


def versions(count: int) -> list[tuple[str, int]]:
    """(version, era) oldest first; the era picks the Pythons and Requires-Python."""
    out: list[tuple[str, int]] = []
    for i in range(count):
        major, minor = divmod(i, 25)
        out.append((f"{major + 1}.{minor}", major))
        if minor % 10 == 5:
            out.append((f"{major + 1}.{minor}.post1", major))
        if minor == 24:
            out.append((f"{major + 2}.0rc1", major))
    return out[:count]


def project(index: int, count: int, dependencies: list[str]) -> list[DistSpec]:
    name = f"page-pkg-{index}"
    specs: list[DistSpec] = []
    for position, (version, era) in enumerate(versions(count)):
        rp = [">=3.6", ">=3.7", ">=3.8", ">=3.9", ">=3.10", ">=3.11"][min(era, 5)]
        pythons = PYTHONS[max(0, era - 2) : era + 3] or PYTHONS[-2:]
        common = {"requires_dist": tuple(dependencies), "requires_python": rp}
        yanked = position % 37 == 36
        for py in pythons:
            for platform in PLATFORMS:
                tags = f"cp{py}-cp{py}-{platform}"
                specs.append(DistSpec(name, version, tags=tags, yanked=yanked, **common))  # type: ignore[arg-type]
        if position % 5 == 0:
            specs.append(DistSpec(name, version, **common))  # type: ignore[arg-type]
        specs.append(DistSpec(name, version, kind="sdist", **common))  # type: ignore[arg-type]
    return specs


def graph(projects: int, count: int) -> list[DistSpec]:
    dists: list[DistSpec] = []
    for i in range(projects):
        deps = [f"page-pkg-{c}>=1.0" for c in (2 * i + 1, 2 * i + 2) if c < projects]
        if i + 5 < projects and i % 4 == 0:
            deps.append(f"page-pkg-{i + 5}")
        dists += project(i, count, deps)
    return dists


def serve(projects: int, count: int, latency: float, port_queue: Any, stop: Any) -> None:
    with IndexServer([*graph(projects, count), DistSpec("warmup", "1.0")]) as server:
        if latency:
            server.set_fault(Fault("hang", seconds=latency, files=True))
        port_queue.put(server.index_url)
        stop.wait()


async def ours(index_url: str, top: str, env: Environment) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as cache:
        config = IndexConfig(index_url=index_url)
        async with IndexClient(config, cache_dir=cache, use_netrc=False) as client:
            started = time.perf_counter()
            cold_plan = await plan_install([top], env, client)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            warm_plan = await plan_install([top], env, client)
            warm = time.perf_counter() - started
            chosen = next(a.version for a in cold_plan.actions if a.canonical_name == top)
            page = await client.get_project(top)
            older = next((str(v) for v in page.all_versions() if str(v) != chosen), chosen)
            started = time.perf_counter()
            await plan_install([f"{top}=={older}"], env, client)
            other = time.perf_counter() - started
            files = sum(p.file_count for p in [await client.get_project(n) for n in (top,)])
    assert cold_plan.pins == warm_plan.pins
    return {
        "cold_s": round(cold, 3),
        "warm_ms": round(warm * 1000, 1),
        "other_ms": round(other * 1000, 1),
        "packages": len(cold_plan.pins),
        "files_on_top_page": files,
        "pins": cold_plan.pins,
        "stats": cold_plan.stats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--projects", type=int, default=24)
    parser.add_argument("--versions", type=int, default=150)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    args = parser.parse_args()
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    env = Environment.synthetic(python_version=python, platform="manylinux_2_28_x86_64")
    queue: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    process = multiprocessing.Process(
        target=serve, args=(args.projects, args.versions, args.latency, queue, stop)
    )
    process.start()
    try:
        index_url = queue.get(timeout=600)
        asyncio.run(ours(index_url, "warmup", env))  # imports and threads, not timed
        mine = asyncio.run(ours(index_url, "page-pkg-0", env))
        binary = uv_binary()
        uv_result = uv(binary, index_url, ["page-pkg-0"], python) if binary else None
    finally:
        stop.set()
        process.join(10)
    report: dict[str, Any] = {
        "projects": args.projects,
        "versions": args.versions,
        "latency": args.latency,
        "ours": {k: v for k, v in mine.items() if k != "pins"},
        "uv": {"seconds": uv_result["seconds"]} if uv_result else None,
        "cold_vs_uv": round(mine["cold_s"] / uv_result["seconds"], 2) if uv_result else None,
        "same_pins_as_uv": sorted(mine["pins"]) == uv_result["pins"] if uv_result else None,
    }
    missed = []
    if report["cold_vs_uv"] is not None and report["cold_vs_uv"] > VS_UV:
        missed.append(f"cold is {report['cold_vs_uv']}x uv > {VS_UV}x")
    if mine["warm_ms"] > WARM_MS:
        missed.append(f"warm plan {mine['warm_ms']} ms > {WARM_MS} ms")
    if mine["other_ms"] > OTHER_MS:
        missed.append(f"another request {mine['other_ms']} ms > {OTHER_MS} ms")
    report["missed"] = missed
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{args.projects} projects x {args.versions} versions "
              f"({mine['files_on_top_page']} files on the top page), "
              f"latency {args.latency} s/request")  # fmt: skip
        print(f"  ours cold  {mine['cold_s']:7.3f} s  ({mine['packages']} pins, {mine['stats']})")
        print(f"  ours warm  {mine['warm_ms']:7.1f} ms   another request {mine['other_ms']} ms")
        if uv_result:
            print(f"  uv         {uv_result['seconds']:7.3f} s  -> cold/uv = "
                  f"{report['cold_vs_uv']}  same pins {report['same_pins_as_uv']}")  # fmt: skip
        for line in missed:
            print(f"  MISSED: {line}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
