"""Installing one pinned set into fresh venvs: our JobRunner vs bare uv vs bare pip.

Run: ``python benchmarks/bench_install.py [--json] [--packages 15] [--repeat 3]``
(from the repository root; needs the ``uv`` package). The packages are generated
onto a local index served in its own process. Both uv runs share one warm uv cache;
pip runs with ``PIP_CONFIG_FILE=/dev/null`` and no ``PIP_FIND_LINKS``. Venv creation
and the plan-time probe are not timed; the JobRunner time covers submit (lock,
fingerprint check, disk check, history) + uv + the probe afterwards + verification.
Exit status 1 when the JobRunner takes more than ``--target`` times bare uv (median).
Also reported, not judged: where our job's time went (before the installer, the
installer, reading and verifying, the history's end), the per-iteration ratio, our
installer step alone against bare uv, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyter_envhelper.installers import find_uv
from jupyter_envhelper.jobs import JobConfig, JobRunner
from jupyter_envhelper.plan import Action, FileChoice, Plan, TargetSummary
from jupyter_envhelper.probe import Prober
from tests.indexserver import DistSpec, IndexServer


def serve(names: list[str], queue: Any, stop: Any) -> None:
    """The index, in its own process (its threads do not share our GIL)."""
    dists = [DistSpec(n, "1.0", padding=100_000, module=n.replace("-", "_")) for n in names]
    with IndexServer(dists) as server:
        sizes = {f.spec.name: len(f.data) for f in server.files.values()}
        queue.put((server.index_url, sizes))
        stop.wait()


def make_venv(uv: str, path: Path, *, with_pip: bool = False) -> str:
    if with_pip:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    else:
        subprocess.run([uv, "venv", "-q", str(path)], check=True)
    return str(path / "bin" / "python")


def plan_of(names: list[str], sizes: dict[str, int], index_url: str) -> Plan:
    actions = [
        Action(
            "install", n, n, "1.0", requested=True,
            file=FileChoice(f"{n.replace('-', '_')}-1.0-py3-none-any.whl", "", index_url,
                            "wheel", size=sizes[n]),
        )
        for n in names
    ]  # fmt: skip
    target = TargetSummary("3", "cpython", "any")
    return Plan(requirements=names, target=target, actions=actions, index_urls=[index_url])


async def run_ours(
    runner: JobRunner, python: str, plan: Plan, phases: dict[str, list[float]] | None = None
) -> float:
    env = await asyncio.to_thread(runner.prober.probe_sync, python)  # plan time: not timed
    started = time.perf_counter()
    job = await runner.submit(plan, env)
    await job.wait()
    elapsed = time.perf_counter() - started
    if job.state != "succeeded":
        raise SystemExit(f"JobRunner failed: {job.to_json()['outcome']}")
    if phases is not None:  # reporting only: where the job's time went
        t = job.timings
        spans = {
            "before_installer": t["installer"] - started,
            "installer": t["installer_done"] - t["installer"],
            "read_and_verify": t["inspected"] - t["installer_done"],
            "history_end": t["recorded"] - t["inspected"],
            "until_wait_returns": started + elapsed - t["recorded"],
        }
        for key, value in spans.items():
            phases.setdefault(key, []).append(value)
    return elapsed


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, env=env, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--packages", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--target", type=float, default=1.15)
    args = parser.parse_args()
    uv = find_uv()
    if uv is None:
        raise SystemExit("install the 'uv' package to run this benchmark")
    names = [f"bench-inst-{i}" for i in range(args.packages)]
    pins = [f"{n}==1.0" for n in names]
    queue: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(names, queue, stop))
    server.start()
    times: dict[str, list[float]] = {"envhelper": [], "uv": [], "pip": []}
    phases: dict[str, list[float]] = {}
    load_before = os.getloadavg()[0]
    try:
        index_url, sizes = queue.get(timeout=120)
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            cache = str(tmp / "uv-cache")
            uv_env = {**os.environ, "UV_CACHE_DIR": cache}
            pip_env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
            pip_env["PIP_CONFIG_FILE"] = os.devnull
            uv_argv = [uv, "pip", "install", "-q", "--no-deps", "--index-url", index_url]
            warm = make_venv(uv, tmp / "warm")
            timed([*uv_argv, "--python", warm, "--", *pins], uv_env)  # warm the uv cache
            config = JobConfig(
                history_path=tmp / "history.sqlite", installer="uv", uv_path=uv, base_env=uv_env
            )
            runner = JobRunner(config, prober=Prober(tmp / "probe-cache"))
            plan = plan_of(names, sizes, index_url)
            asyncio.run(run_ours(runner, make_venv(uv, tmp / "warm2"), plan))  # imports, .pyc
            for i in range(args.repeat):
                python = make_venv(uv, tmp / f"uv-{i}")
                times["uv"].append(timed([*uv_argv, "--python", python, "--", *pins], uv_env))
                python = make_venv(uv, tmp / f"ours-{i}")
                times["envhelper"].append(asyncio.run(run_ours(runner, python, plan, phases)))
                python = make_venv(uv, tmp / f"pip-{i}", with_pip=True)
                pip_argv = [python, "-m", "pip", "install", "-q", "--no-deps",
                            "--disable-pip-version-check", "--index-url", index_url,
                            "--", *pins]  # fmt: skip
                times["pip"].append(timed(pip_argv, pip_env))
    finally:
        stop.set()
        server.join(10)
    median = {k: statistics.median(v) for k, v in times.items()}
    ratio_uv = median["envhelper"] / median["uv"]
    ratio_pip = median["envhelper"] / median["pip"]
    ok = ratio_uv <= args.target
    # reporting only (the verdict above is the ratio of the medians): the ratio within
    # each iteration (uv and ours run back to back), and our job's installer step alone
    # against bare uv (same uv, same warm cache; ours adds --no-config and prints its
    # lines where bare uv has -q), which says how much of the difference is noise
    paired = statistics.median(o / u for o, u in zip(times["envhelper"], times["uv"]))
    phase_ms = {k: round(statistics.median(v) * 1000, 2) for k, v in phases.items()}
    installer_vs_uv = statistics.median(phases["installer"]) / median["uv"]
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    report = {
        "packages": args.packages,
        "repeat": args.repeat,
        "seconds": {k: round(v, 4) for k, v in median.items()},
        "runs": {k: [round(x, 4) for x in v] for k, v in times.items()},
        "ratio_vs_uv": round(ratio_uv, 3),
        "ratio_vs_pip": round(ratio_pip, 3),
        "target_vs_uv": args.target,
        "ok": ok,
        "paired_ratio_vs_uv": round(paired, 3),
        "phases_ms": phase_ms,
        "installer_vs_uv": round(installer_vs_uv, 3),
        "load_average": load,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"install {args.packages} pinned packages into a fresh venv (median of {args.repeat})"
        )
        for key in ("envhelper", "uv", "pip"):
            print(f"  {key:<10} {median[key]:7.3f} s")
        print(f"  envhelper / uv  = {ratio_uv:.2f}x (target <= {args.target}x): "
              f"{'ok' if ok else 'MISSED'}")  # fmt: skip
        print(f"  envhelper / pip = {ratio_pip:.2f}x")
        print(f"  per-iteration envhelper / uv (median) = {paired:.2f}x; "
              f"our installer step alone / uv = {installer_vs_uv:.2f}x")  # fmt: skip
        print("  our job, median ms: " + ", ".join(f"{k} {v}" for k, v in phase_ms.items()))
        print(f"  load average before/after: {load[0]} / {load[1]} (1 min)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
