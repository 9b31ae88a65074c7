"""Benchmark: our probe against `pip list` and `uv pip list` on a >=150-distribution venv.

    python benchmarks/bench_probe.py [--json] [--runs N] [--cache DIR]

Builds (once, then reuses) a venv under benchmarks/.cache with uv, then measures in the
same run: a cold probe (probe caches cleared, median of N), a cached probe (in-process
Prober, median), `pip list --format=json` and `uv pip list`. Exits 1 when a target is
missed: cold probe <= 0.3 x pip list, cached probe <= 10 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_envhelper import process
from jupyter_envhelper.probe import Prober

PACKAGES = [
    "jupyterlab", "sphinx", "flask", "pytest", "boto3", "rich", "httpx", "sqlalchemy",
    "black", "requests-toolbelt", "mkdocs-material", "fastapi", "pylint", "tox", "alembic",
]  # fmt: skip
MIN_DISTRIBUTIONS = 150
COLD_RATIO_TARGET = 0.3
CACHED_TARGET_MS = 10.0


def find_uv() -> str:
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if not found:
            sys.exit("uv is needed to build the benchmark venv (pip install uv)")
        return found


def build_venv(cache: Path, uv: str) -> Path:
    venv = cache / "venv-150"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = venv / ".complete-compiled"
    if stamp.exists() and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([uv, "venv", "-q", "--seed", str(venv)], check=True, timeout=300)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), *PACKAGES], check=True, timeout=600
    )
    # Byte-compile everything, as pip does on install: otherwise `pip list` would pay for
    # compiling pip itself on every run (uv does not compile by default) and look slower.
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(
        [str(python), "-m", "compileall", "-q", "-j0", purelib],
        check=False,
        timeout=600,
        stdout=subprocess.DEVNULL,
    )
    stamp.write_text("ok")
    return python


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs + 1):  # one warm-up
        start = time.perf_counter()
        result = process.run(argv, env=env, timeout=300)
        times.append((time.perf_counter() - start) * 1000)
        if result.returncode != 0:
            sys.exit(f"{argv} failed:\n{result.stderr_tail()}")
    return times[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cache", default=str(Path(__file__).resolve().parent / ".cache"))
    args = parser.parse_args()

    cache = Path(args.cache)
    uv = find_uv()
    python = build_venv(cache, uv)

    env = dict(os.environ)
    env.pop("PIP_FIND_LINKS", None)
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    prober = Prober(cache / "probe-cache")
    first = prober.probe_sync(str(python), refresh=True)  # warm-up, writes the bytecode
    count = len(first.distributions)
    if count < MIN_DISTRIBUTIONS:
        sys.exit(f"the benchmark venv has {count} distributions, needs {MIN_DISTRIBUTIONS}")

    cold = []
    for _ in range(args.runs):
        prober.invalidate()  # memory and disk caches of probe results
        start = time.perf_counter()
        prober.probe_sync(str(python))
        cold.append((time.perf_counter() - start) * 1000)
    cached = []
    for _ in range(max(50, args.runs)):
        start = time.perf_counter()
        prober.probe_sync(str(python))
        cached.append((time.perf_counter() - start) * 1000)
    disk = []  # a new Prober each time: what a fresh CLI process gets from the disk cache
    for _ in range(max(20, args.runs)):
        start = time.perf_counter()
        type(prober)(prober.cache_dir).probe_sync(str(python))
        disk.append((time.perf_counter() - start) * 1000)
    pip_list = timed([str(python), "-m", "pip", "list", "--format=json"], env, args.runs)
    uv_list = timed([uv, "pip", "list", "--python", str(python)], env, args.runs)
    startup = timed([str(python), "-c", "pass"], env, args.runs)

    results = {
        "distributions": count,
        "runs": args.runs,
        "cold_probe_ms": statistics.median(cold),
        "cached_probe_ms": statistics.median(cached),
        "disk_cached_probe_ms": statistics.median(disk),
        "pip_list_ms": statistics.median(pip_list),
        "uv_pip_list_ms": statistics.median(uv_list),
        "python_startup_ms": statistics.median(startup),
    }
    results["cold_vs_pip_list"] = results["cold_probe_ms"] / results["pip_list_ms"]
    results["cold_vs_uv_pip_list"] = results["cold_probe_ms"] / results["uv_pip_list_ms"]
    results["targets"] = {
        "cold_vs_pip_list_max": COLD_RATIO_TARGET,
        "cached_probe_ms_max": CACHED_TARGET_MS,
    }
    ok = (
        results["cold_vs_pip_list"] <= COLD_RATIO_TARGET
        and results["cached_probe_ms"] <= CACHED_TARGET_MS
    )
    results["ok"] = ok

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"venv: {python.parent.parent} ({count} distributions), median of {args.runs} runs")
        print(f"{'measure':<28}{'ms':>10}")
        for key, label in (
            ("cold_probe_ms", "probe, cold"),
            ("cached_probe_ms", "probe, cached"),
            ("disk_cached_probe_ms", "probe, disk cache (new Prober)"),
            ("pip_list_ms", "pip list --format=json"),
            ("uv_pip_list_ms", "uv pip list"),
            ("python_startup_ms", "python -c pass"),
        ):
            print(f"{label:<32}{results[key]:>10.3f}")
        print(
            f"cold probe / pip list = {results['cold_vs_pip_list']:.2f} "
            f"(target <= {COLD_RATIO_TARGET}); cold probe / uv pip list = "
            f"{results['cold_vs_uv_pip_list']:.2f}; cached <= {CACHED_TARGET_MS} ms: "
            f"{'yes' if results['cached_probe_ms'] <= CACHED_TARGET_MS else 'NO'}"
        )
        print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
