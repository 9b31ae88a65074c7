"""Time to a usable new kernel: ``new-kernel`` (plan, then the create job) vs by hand.

Run: ``python benchmarks/bench_new_kernel.py [--json] [--repeat 3] [--target 1.2]``
(from the repository root; needs the ``uv`` package, a CPython 3.12 besides, and the
ipykernel wheels for 3.12 that the tests cache, ``tests/indexserver/realwheels.py``).

Both sides make a kernel for ``newonly`` (a generated package) plus ipykernel and its
real dependencies, from the same loopback index served in its own process, with one
warm uv cache:

- envhelper: one ``Core`` (as a server holds it), ``environments.plan`` (what the
  user is shown: the newest fitting Python, the plan, the findings) then
  ``environments.start`` and the job to its end (uv venv, uv pip install of the
  plan, the probe and verification afterwards, kernelspec written);
- by hand: ``uv venv --python <3.12>``, ``uv pip install newonly ipykernel``,
  ``<venv>/bin/python -m ipykernel install --user --name ...``.

One untimed warm-up run of each first. Exit status 1 when the median of ours is more
than ``--target`` times the median by hand.
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

from jupyter_envhelper.core import CoreConfig, build_core
from jupyter_envhelper.core.creating import NewEnvironmentRequest
from jupyter_envhelper.installers import find_uv
from tests.indexserver.realwheels import add_wheels, wheelhouse
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import DistSpec
from tests.test_new_environment import PY312, PYENV_ROOT


def serve(folder: str, queue: Any, stop: Any) -> None:
    """The index, in its own process (its threads do not share our GIL)."""
    dists = [DistSpec("newonly", "1.0", requires_python=">=3.12", module="newonly")]
    with IndexServer(dists) as server:
        add_wheels(server, Path(folder).glob("*.whl"))
        queue.put(server.index_url)
        stop.wait()


async def ours(core: Any, name: str) -> float:
    request = NewEnvironmentRequest(name, ("newonly",), python_version="3.12")
    started = time.perf_counter()
    plan = await core.environments.plan(request)
    if not plan["ready"]:
        raise SystemExit(f"the plan is blocked: {plan['verdict']} {plan['findings']}")
    doc = await core.environments.start(request.as_planned(plan))
    job = await core.wait_job(int(doc["job"]["id"]))
    elapsed = time.perf_counter() - started
    if job["job"]["state"] != "succeeded":
        raise SystemExit(f"new-kernel failed: {job['job']['outcome']}")
    return elapsed


def by_hand(uv: str, python: str, index_url: str, folder: Path, name: str, env: Any) -> float:  # noqa: PLR0917
    started = time.perf_counter()
    subprocess.run([uv, "venv", "-q", "--python", python, str(folder)], check=True, env=env)
    venv_python = str(folder / "bin" / "python")
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", venv_python, "--index-url", index_url,
         "newonly", "ipykernel"],
        check=True,
        env=env,
    )  # fmt: skip
    subprocess.run(
        [venv_python, "-m", "ipykernel", "install", "--user", "--name", name],
        check=True,
        env=env,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", type=float, default=1.2)
    args = parser.parse_args()
    uv = find_uv()
    if uv is None:
        raise SystemExit("install the 'uv' package to run this benchmark")
    if PY312 is None:
        raise SystemExit("needs a CPython 3.12 (pyenv's or python3.12 on PATH)")
    wheels = wheelhouse(PY312, "cp312")
    if wheels is None:
        raise SystemExit("the ipykernel wheels for 3.12 are not cached and PyPI is unreachable")
    queue: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(str(wheels), queue, stop))
    server.start()
    times: dict[str, list[float]] = {"envhelper": [], "by_hand": []}
    try:
        index_url = queue.get(timeout=120)
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            os.environ["UV_CACHE_DIR"] = str(tmp / "uv-cache")
            os.environ["JUPYTER_DATA_DIR"] = str(tmp / "data")
            os.environ["PYTHONPATH"] = ""
            if PYENV_ROOT:
                os.environ.setdefault("PYENV_ROOT", PYENV_ROOT)
            env = dict(os.environ)
            config = CoreConfig(
                index_url=index_url,
                environments_dir=str(tmp / "envs"),
                history_path=str(tmp / "history.sqlite"),
                cache_dir=str(tmp / "cache"),
            )

            async def run_ours() -> list[float]:
                core = build_core(config)
                try:
                    await ours(core, "warm-ours")  # imports, caches: untimed
                    return [await ours(core, f"ours-{i}") for i in range(args.repeat)]
                finally:
                    await core.close()

            by_hand(uv, PY312, index_url, tmp / "warm-hand", "warm-hand", env)  # untimed
            times["envhelper"] = asyncio.run(run_ours())
            for i in range(args.repeat):
                folder = tmp / f"hand-{i}"
                times["by_hand"].append(by_hand(uv, PY312, index_url, folder, f"hand-{i}", env))
    finally:
        stop.set()
        server.join(10)
    median = {k: statistics.median(v) for k, v in times.items()}
    ratio = median["envhelper"] / median["by_hand"]
    ok = ratio <= args.target
    report = {
        "repeat": args.repeat,
        "seconds": {k: round(v, 3) for k, v in median.items()},
        "runs": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "ratio": round(ratio, 3),
        "target": args.target,
        "ok": ok,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"a usable new kernel (newonly + ipykernel, median of {args.repeat})")
        for key in ("envhelper", "by_hand"):
            print(f"  {key:<10} {median[key]:7.3f} s")
        print(f"  envhelper / by hand = {ratio:.2f}x (target <= {args.target}x): "
              f"{'ok' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
