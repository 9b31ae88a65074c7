"""Benchmark: `outdated` on a ~150-distribution venv against `pip list --outdated` and
`uv pip list --outdated`, on real PyPI, in the same run.

    python benchmarks/bench_outdated.py [--json] [--cache DIR]

Builds (once, then reuses) a venv under benchmarks/.cache with uv (jupyterlab, pandas,
scikit-learn, matplotlib and friends, real PyPI), then measures:

- ours cold: a fresh core whose HTTP cache is empty (the probe's cache is warm: the
  probe has its own benchmark), ``Core.outdated`` end to end;
- ours warm: the same core asked again, as the server answers a second request;
- the command line cold (informational): ``python -m jupyter_envhelper outdated
  --python P --json`` in a new process with an empty HTTP cache (imports included);
- ``pip list --outdated --format json`` (pip's cache off) and ``uv pip list --outdated``
  (uv's cache off, then on), with PIP_CONFIG_FILE=/dev/null and no UV_/PIP_ settings.

Then checks the answers, package by package, against pip's and uv's: the same newest
version, or a difference ours explains by design -- held back (a newer release would
break an installed package: pip and uv do not look), or an update that stops below the
newest for that reason. Anything else is a miss: a package only ours calls outdated
(a false positive), one pip and uv call outdated that ours does not, another newest
version. And it reads every page of the run again both ways (the quick read of the
newer releases and the full parser) and compares them.

Exits 1 on a miss or when a target is missed: cold <= 2 s, warm <= 200 ms.
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
    from jupyter_envhelper.currency.outdated import reads_pages_raw, unmanaged_reason

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
        env = (await core.locator.locate(target)).require()
        client = core.indexes.client(env)  # the one ``outdated`` used
        stats = client.stats.to_json()
        managed = [d for d in env.distributions.values() if unmanaged_reason(d) is None]
        checked = await check_pages(client, managed) if reads_pages_raw(client) else {}
    finally:
        await core.close()
    return {
        "distributions": env_doc["environment"]["package_count"],
        "cold_s": cold_s,
        "warm_s": sorted(warm_times)[len(warm_times) // 2],
        "doc": warm,
        "cold_doc": cold,
        "stats": stats,
        "pages_check": checked,
    }


async def check_pages(client: Any, dists: list[Any]) -> dict[str, Any]:
    """Every page again (from the disk cache the cold run filled), read both ways:
    the newer releases and their files must be the same."""
    from packaging.version import InvalidVersion, Version

    from jupyter_envhelper.currency.releases import NewerReleases, newer_files, read_newer
    from jupyter_envhelper.index.pages import is_json, parse_project_html, parse_project_json

    quick = 0
    differ: list[str] = []
    before = client.stats.requests
    for dist in dists:
        try:
            installed = Version(dist.version)
        except InvalidVersion:
            continue
        page = await client.read_page(client.index_urls[0], dist.name)
        if page is None:
            continue
        args = (page.body, page.content_type, page.url, client.index_urls[0], dist.canonical_name)
        fast = read_newer(*args, installed=installed)
        parse = parse_project_json if is_json(page.content_type) else parse_project_html
        full = parse(page.body, page.url, client.index_urls[0], dist.canonical_name)
        if newer_files(fast, installed) != newer_files(full, installed):
            differ.append(dist.name)
        quick += isinstance(fast, NewerReleases) and fast.fast
    return {
        "pages": len(dists),
        "quick_reads": quick,
        "differ": differ,
        "requests": client.stats.requests - before,  # 0: all from the disk cache
    }


def cli_cold(python: Path, work: Path) -> tuple[float, int]:
    """The command in a new process, HTTP cache empty, probe cache and byte code warm."""
    cache = work / "cli-cache"
    argv = [sys.executable, "-m", "jupyter_envhelper", "outdated", "--python", str(python),
            "--index-url", PYPI, "--json"]  # fmt: skip
    # byte code as an installed package has it (written by the first run, to a folder
    # of this run's, even where this shell says PYTHONDONTWRITEBYTECODE)
    env = clean_env({"XDG_CACHE_HOME": str(cache), "PYTHONPYCACHEPREFIX": str(work / "pyc")})
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(argv, capture_output=True, env=env, timeout=600, check=False)  # the probe
    shutil.rmtree(cache / "jupyter-envhelper" / "http", ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, timeout=600, check=False)
    return time.perf_counter() - start, done.returncode


def compare(
    doc: dict[str, Any], pip_rows: list[dict[str, Any]], uv_rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One finding per package that ours, pip or uv calls outdated: ``agree``, a
    difference ``by-design`` (with the reason), or a ``miss``."""
    from packaging.utils import canonicalize_name

    pip = {canonicalize_name(r["name"]): str(r.get("latest_version")) for r in pip_rows}
    uv = {canonicalize_name(r["name"]): str(r.get("latest_version")) for r in uv_rows}
    rows = {r["canonical_name"]: r for r in doc["packages"]}
    flagged = {k for k, r in rows.items() if r["status"] in ("update", "held-back")}
    findings = []
    for key in sorted(flagged | set(pip) | set(uv)):
        row = rows.get(key)
        theirs = {v for v in (pip.get(key), uv.get(key)) if v is not None}
        tools = "pip and uv" if key in pip and key in uv else "pip" if key in pip else "uv"
        why = "; ".join(b["message"] for b in (row or {}).get("blocked") or [])
        verdict, reason = "miss", ""
        if row is None:
            reason = f"{tools} list it; ours has no row for it"
        elif not theirs:
            reason = f"only ours calls it outdated ({row['status']}): a false positive?"
        elif row["status"] == "unmanaged":
            verdict, reason = "by-design", f"not from an index: {row['reason']}"
        elif row["status"] not in ("update", "held-back"):
            reason = f"{tools} list {'/'.join(sorted(theirs))}; ours: {row['message']}"
        elif theirs != {row["latest_usable"]}:
            reason = (
                f"{tools} say the newest is {'/'.join(sorted(theirs))}, ours {row['latest_usable']}"
            )
        elif row["status"] == "held-back":
            verdict = "by-design"
            reason = f"held back: {row['latest_usable']} {why} ({tools} do not check)"
        elif row["fit"] != row["latest_usable"]:
            verdict = "by-design"
            reason = f"updates to {row['fit']}, not {row['latest_usable']}: it {why}"
        else:
            verdict = "agree"
        if verdict != "miss" and len(theirs) == 1 and (key in pip) != (key in uv):
            reason = (reason + "; " if reason else "") + f"only {tools} of the two lists it"
        findings.append({
            "name": key, "verdict": verdict, "reason": reason,
            "installed": row["installed"] if row else None,
            "ours": {"status": row["status"], "fit": row["fit"],
                     "latest_usable": row["latest_usable"]} if row else None,
            "pip": pip.get(key), "uv": uv.get(key),
        })  # fmt: skip
    return findings


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
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        mine = asyncio.run(ours(python, Path(tmp)))
        cli_s, cli_rc = cli_cold(python, Path(tmp))
        if cli_rc != 0:
            print(f"warning: the command line exited {cli_rc}", file=sys.stderr)
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
    updates = sorted(r["canonical_name"] for r in doc["packages"] if r["status"] == "update")
    held = sorted(r["canonical_name"] for r in doc["packages"] if r["status"] == "held-back")
    findings = compare(doc, pip_rows, uv_rows)
    # newer releases this kernel cannot use: "current", as pip and uv see it too
    not_for_kernel = [
        f"{r['name']} {r['latest']} ({'; '.join(b['message'] for b in r['blocked'])})"
        for r in doc["packages"]
        if r["status"] == "current" and r["latest"]
    ]
    misses = [f for f in findings if f["verdict"] == "miss"]
    checked = mine["pages_check"]
    load_after = os.getloadavg()
    result = {
        "distributions": mine["distributions"],
        "pages": doc["pages"],
        "ours_cold_s": round(mine["cold_s"], 3),
        "ours_warm_s": round(mine["warm_s"], 4),
        "cli_cold_s": round(cli_s, 3),
        "pip_list_outdated_s": round(pip_s, 3),
        "uv_list_outdated_cold_s": round(uv_cold_s, 3),
        "uv_list_outdated_warm_s": round(uv_warm_s, 3),
        "cold_vs_pip": round(mine["cold_s"] / pip_s, 3) if pip_s else None,
        "cold_vs_uv_cold": round(mine["cold_s"] / uv_cold_s, 3) if uv_cold_s else None,
        "outdated": updates,
        "held_back": held,
        "pip_outdated": sorted(f["name"] for f in findings if f["pip"] is not None),
        "uv_outdated": sorted(f["name"] for f in findings if f["uv"] is not None),
        "findings": findings,
        "not_for_this_kernel": not_for_kernel,
        "misses": [f["name"] for f in misses],
        "pages_check": checked,
        "network": mine["stats"],
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "targets": {"cold_s": COLD_TARGET_S, "warm_s": WARM_TARGET_S},
    }
    ok = mine["cold_s"] <= COLD_TARGET_S and mine["warm_s"] <= WARM_TARGET_S
    ok = ok and mine["distributions"] >= MIN_DISTRIBUTIONS and not misses
    ok = ok and not checked.get("differ") and bool(pip_rows) and bool(uv_rows)
    result["ok"] = ok
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        loads = " ".join(f"{x:.2f}" for x in load_before)
        print(f"load average before: {loads}; after: {' '.join(f'{x:.2f}' for x in load_after)}")
        print(f"venv: {result['distributions']} distributions, {result['pages']} pages read, "
              f"{mine['stats']['requests']} requests, "
              f"{mine['stats']['bytes_downloaded'] / 1e6:.1f} MB")  # fmt: skip
        print(f"ours cold   {result['ours_cold_s']:.3f} s (target <= {COLD_TARGET_S} s)")
        print(f"ours warm   {result['ours_warm_s'] * 1000:.1f} ms (target <= 200 ms)")
        print(f"ours CLI    {cli_s:.3f} s cold, a new process (imports included; informational)")
        print(f"pip list --outdated      {pip_s:.3f} s   (ours cold: {result['cold_vs_pip']}x)")
        print(f"uv pip list --outdated   {uv_cold_s:.3f} s cold, {uv_warm_s:.3f} s cached")
        print(f"outdated: ours {len(updates)} updates (+{len(held)} held back), "
              f"pip {len(result['pip_outdated'])}, uv {len(result['uv_outdated'])}")  # fmt: skip
        for f in findings:
            mark = {"agree": "=", "by-design": "~", "miss": "!"}[f["verdict"]]
            versions = f"pip {f['pip'] or '-'}, uv {f['uv'] or '-'}"
            ours_text = f"ours {f['ours']['fit'] or '-'}" if f["ours"] else "ours -"
            line = f" {mark} {f['name']:<18} {f['installed'] or '':>12}  {ours_text}, {versions}"
            print(line + (f"\n     {f['reason']}" if f["reason"] else ""))
        if not_for_kernel:
            print("current, newer releases not for this kernel (pip and uv agree):")
            for line in not_for_kernel:
                print(f"   {line}")
        if checked:
            differ = ", ".join(checked["differ"]) or "none"
            print(f"pages read again both ways: {checked['pages']}, "
                  f"quick {checked['quick_reads']}, differ: {differ}")  # fmt: skip
        if misses:
            print(f"MISSES: {', '.join(f['name'] for f in misses)}")
        print("OK" if ok else "MISSED a target")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
