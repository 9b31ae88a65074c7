"""Time to fetch core metadata for 50 projects from a local index: parallel vs sequential.

Run: ``python benchmarks/bench_index.py [--json] [--projects 50] [--latency 0.02]``
(from the repository root). Each mode starts with a cold cache and a fresh client.
Half the projects advertise ``.metadata`` files; the other half are read by ranges.
``--latency`` adds a per-request delay on the server to imitate a remote index.
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

from jupyter_envhelper.index import IndexClient, IndexConfig
from tests.indexserver import DistSpec, Fault, IndexServer


async def fetch_all(index_url: str, names: list[str], parallel: bool) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as cache:
        config = IndexConfig(index_url=index_url)
        async with IndexClient(config, cache_dir=cache, use_netrc=False) as client:

            async def one(name: str) -> None:
                page = await client.get_project(name)
                await client.get_metadata(page.files[0])

            if parallel:
                await asyncio.gather(*(one(n) for n in names))
            else:
                for name in names:
                    await one(name)
            return client.stats.to_json()


def serve(names: list[str], latency: float, port_queue: Any, stop: Any) -> None:
    """Run the index in its own process, so its threads do not share our GIL."""
    dists = [DistSpec(n, "1.0", requires_dist=("alpha>=1",), padding=20_000) for n in names]
    with IndexServer(dists, no_metadata=names[::2]) as server:
        if latency:
            server.set_fault(Fault("hang", seconds=latency, files=True))
        port_queue.put(server.index_url)
        stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    args = parser.parse_args()
    names = [f"bench-pkg-{i}" for i in range(args.projects)]
    queue: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=serve, args=(names, args.latency, queue, stop))
    process.start()
    try:
        index_url = queue.get(timeout=60)
        asyncio.run(fetch_all(index_url, names[:2], parallel=False))  # warm-up: imports
        results = {}
        for mode, parallel in (("sequential", False), ("parallel", True)):
            started = time.perf_counter()
            stats = asyncio.run(fetch_all(index_url, names, parallel))
            results[mode] = {"seconds": round(time.perf_counter() - started, 3), "stats": stats}
    finally:
        stop.set()
        process.join(10)
    ratio = results["sequential"]["seconds"] / max(results["parallel"]["seconds"], 1e-9)
    report = {
        "projects": args.projects,
        "latency": args.latency,
        **results,
        "speedup": round(ratio, 2),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"metadata for {args.projects} projects (server latency {args.latency} s/request)")
        for mode in ("sequential", "parallel"):
            r = results[mode]
            print(
                f"  {mode:<10} {r['seconds']:7.3f} s  requests={r['stats']['requests']}"
                f"  bytes={r['stats']['bytes_downloaded']}"
            )
        print(f"  parallel is {ratio:.1f}x faster")


if __name__ == "__main__":
    main()
