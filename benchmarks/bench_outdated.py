"""Benchmark: `outdated` on a ~150-distribution venv against `pip list --outdated` and
`uv pip list --outdated`, on real PyPI, in the same run.

    python benchmarks/bench_outdated.py [--json] [--cache DIR]

Builds (once, then reuses) a venv under benchmarks/.cache with uv (jupyterlab, pandas,
scikit-learn, matplotlib and friends, real PyPI), then measures:

- ours cold: a fresh core whose HTTP cache is empty (the probe's cache is warm: the
  probe has its own benchmark), ``Core.outdated`` end to end;
- ours warm: the same core asked again, as the server answers a second request;
- ``pip list --outdated --format json`` (pip's cache off) and ``uv pip list --outdated``
  (uv's cache off, then on), with PIP_CONFIG_FILE=/dev/null and no UV_/PIP_ settings.

Also compares the answers: packages pip or uv call outdated that we do not, and the
other way round (ours may hold one back because it would break another package).
Exits 1 when a target is missed: cold <= 2 s, warm <= 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_envhelper.core import CoreConfig, Target, build_core

PACKAGES = [
    "jupyterlab", "pandas", "scikit-learn", "matplotlib", "seaborn", "requests", "sympy",
    "httpx", "rich", "sphinx", "pytest", "flask", "sqlalchemy", "black", "boto3", "tox",
    "mkdocs-material", "alembic",
]  # fmt: skip
# a few older pins, so there is something to find whatever day this runs
OLD = ["numpy<2", "requests==2.31.0", "rich==13.0.0", "packaging==23.2"]
MIN_DISTRIBUTIONS = 150
COLD_TARGET_S = 2.0
WARM_TARGET_S = 0.2
PYPI = "https://pypi.org/simple/"


def find_uv() -> str:
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if not found:
            sys.exit("uv is needed to build the benchmark venv (pip install uv)")
        return found


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    return {**env, "PIP_CONFIG_FILE": os.devnull, **(extra or {})}


def build_venv(cache: Path, uv: str) -> Path:
    venv = cache / "venv-outdated"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = venv / ".complete-2"
    if stamp.exists() and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    env = clean_env()
    subprocess.run([uv, "venv", "-q", "--seed", str(venv)], check=True, timeout=300, env=env)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), "--index-url", PYPI,
         *PACKAGES, *OLD],
        check=True, timeout=900, env=env,
    )  # fmt: skip
    stamp.write_text("ok")
    return python


def run_tool(argv: list[str], env: dict[str, str]) -> tuple[float, list[dict[str, Any]]]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        print(f"warning: {argv[0]} failed: {done.stderr[-500:]}", file=sys.stderr)
        return elapsed, []
    text = done.stdout.strip() or "[]"
    try:
        return elapsed, list(json.loads(text))
    except ValueError:
        return elapsed, []


async def ours(python: Path, work: Path) -> dict[str, Any]:
    config = CoreConfig(
        cache_dir=str(work / "cache"),
        history_path=str(work / "history.sqlite"),
        index_url=PYPI,
        extra_index_urls=(),
    )
    target = Target(python=str(python))
    warmup = build_core(config)  # the probe's disk cache only
    try:
        env_doc = await warmup.environment(target)
    finally:
        await warmup.close()
    shutil.rmtree(work / "cache" / "http", ignore_errors=True)
    core = build_core(config)
    try:
        start = time.perf_counter()
        cold = await core.outdated(target)
        cold_s = time.perf_counter() - start
        warm_times = []
        for _ in range(5):
            start = time.perf_counter()
            warm = await core.outdated(target)
            warm_times.append(time.perf_counter() - start)
        stats = core.indexes.client(None, index_url=PYPI).stats.to_json()
    finally:
        await core.close()
    return {
        "distributions": env_doc["environment"]["package_count"],
        "cold_s": cold_s,
        "warm_s": sorted(warm_times)[len(warm_times) // 2],
        "doc": warm,
        "cold_doc": cold,
        "stats": stats,
    }


def main() -> int:
    # the index client's notes on malformed files are for server operators
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cache", type=Path, default=Path(__file__).parent / ".cache")
    args = parser.parse_args()
    # The same configuration for all three: no pip/uv settings from this shell (here a
    # PIP_FIND_LINKS folder and a constraint file), which the probe would otherwise read.
    for key in [k for k in os.environ if k.startswith(("PIP_", "UV_"))]:
        del os.environ[key]
    os.environ["PIP_CONFIG_FILE"] = os.devnull
    uv = find_uv()
    python = build_venv(args.cache, uv)
    with tempfile.TemporaryDirectory() as tmp:
        mine = asyncio.run(ours(python, Path(tmp)))
        pip_s, pip_rows = run_tool(
            [sys.executable, "-m", "pip", "--python", str(python), "list", "--outdated",
             "--format", "json", "--no-cache-dir", "--index-url", PYPI,
             "--disable-pip-version-check"],
            clean_env(),
        )  # fmt: skip
        uv_argv = [uv, "pip", "list", "--outdated", "--format", "json", "--python",
                   str(python), "--index-url", PYPI]  # fmt: skip
        uv_cold_s, uv_rows = run_tool([*uv_argv, "--no-cache"], clean_env())
        uv_cache = {"UV_CACHE_DIR": str(Path(tmp) / "uv-cache")}
        run_tool(uv_argv, clean_env(uv_cache))
        uv_warm_s, _ = run_tool(uv_argv, clean_env(uv_cache))
    doc = mine["doc"]
    flagged = {
        r["canonical_name"] for r in doc["packages"] if r["status"] in ("update", "held-back")
    }
    updates = {r["canonical_name"] for r in doc["packages"] if r["status"] == "update"}
    from packaging.utils import canonicalize_name

    pip_names = {canonicalize_name(r["name"]) for r in pip_rows}
    uv_names = {canonicalize_name(r["name"]) for r in uv_rows}
    result = {
        "distributions": mine["distributions"],
        "pages": doc["pages"],
        "ours_cold_s": round(mine["cold_s"], 3),
        "ours_warm_s": round(mine["warm_s"], 4),
        "pip_list_outdated_s": round(pip_s, 3),
        "uv_list_outdated_cold_s": round(uv_cold_s, 3),
        "uv_list_outdated_warm_s": round(uv_warm_s, 3),
        "cold_vs_pip": round(mine["cold_s"] / pip_s, 3) if pip_s else None,
        "cold_vs_uv_cold": round(mine["cold_s"] / uv_cold_s, 3) if uv_cold_s else None,
        "outdated": sorted(updates),
        "held_back": sorted(flagged - updates),
        "pip_outdated": sorted(pip_names),
        "uv_outdated": sorted(uv_names),
        "only_pip": sorted(pip_names - flagged),
        "only_uv": sorted(uv_names - flagged),
        "only_ours": sorted(flagged - (pip_names | uv_names)),
        "network": mine["stats"],
        "targets": {"cold_s": COLD_TARGET_S, "warm_s": WARM_TARGET_S},
    }
    ok = mine["cold_s"] <= COLD_TARGET_S and mine["warm_s"] <= WARM_TARGET_S
    ok = ok and mine["distributions"] >= MIN_DISTRIBUTIONS
    result["ok"] = ok
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"venv: {result['distributions']} distributions, {result['pages']} pages read")
        print(f"ours cold   {result['ours_cold_s']:.3f} s (target <= {COLD_TARGET_S} s)")
        print(f"ours warm   {result['ours_warm_s'] * 1000:.1f} ms (target <= 200 ms)")
        print(f"pip list --outdated      {pip_s:.3f} s   (ours cold: {result['cold_vs_pip']}x)")
        print(f"uv pip list --outdated   {uv_cold_s:.3f} s cold, {uv_warm_s:.3f} s cached")
        print(f"outdated: ours {len(updates)} (+{len(flagged - updates)} held back), "
              f"pip {len(pip_names)}, uv {len(uv_names)}")  # fmt: skip
        for key in ("only_pip", "only_uv", "only_ours", "held_back"):
            if result[key]:
                print(f"  {key}: {', '.join(result[key])}")
        print("OK" if ok else "MISSED a target")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
