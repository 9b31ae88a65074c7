"""Plans against the real PyPI: ours (the command line) vs ``uv pip compile`` and pip.

Run: ``python benchmarks/bench_plan_pypi.py [--json] [--no-pip] [--only jupyterlab]
[--repeat 3]``
(from the repository root). Skips itself (exit 0, "skipped") when PyPI is unreachable.

For each request (``jupyterlab``; ``pandas scikit-learn matplotlib``; ``requests``;
``transformers[torch]``), in the same run, against a bare target venv of this Python:

- ours, fresh: ``python -m jupyter_envhelper plan ... --python TARGET --json`` with an
  empty user cache (``XDG_CACHE_HOME``); wall time and peak RSS of that process, and
  of its helper process (which reads the JSON API documents; sampled from /proc);
  ``--repeat`` times, taking turns with uv's fresh runs, and the median judged (every
  sample and each turn's ratio are printed);
- ours, warm: the same command again over the cache the first one left;
- uv, fresh and warm: ``uv pip compile - --python TARGET`` with its own cache dir;
- pip: ``pip install --dry-run --ignore-installed --report -`` (``PIP_CONFIG_FILE``
  =/dev/null, a fresh ``PIP_CACHE_DIR``); not for ``transformers[torch]`` (pip downloads
  gigabytes of wheels for it) nor with ``--no-pip``;
- ours in one process: a second ``plan_install`` of the same request with the same
  client (what the server does for a repeated plan), and a different request over
  the same projects (the first with the versions it chose pinned).

Targets (exit 1 on a miss): ours fresh <= 2x uv fresh, peak RSS <= 150 MB (the
plan's process and its helper's added), in-process
warm plan <= 100 ms and the different request <= 300 ms. Pins are compared with uv's.
Byte-compiled files are allowed (``PYTHONDONTWRITEBYTECODE`` is dropped for our
process, and one untimed ``--help`` run writes them), and the typo index of the
shipped popular-project data is prepared once: a user's install has both; "fresh"
means no index page, metadata or name list cached.
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
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jupyter_envhelper.environment import Environment  # noqa: E402
from jupyter_envhelper.index import IndexConfig  # noqa: E402
from jupyter_envhelper.index.local import LocalIndexClient  # noqa: E402
from jupyter_envhelper.resolver import plan_install  # noqa: E402

REQUESTS = {
    "jupyterlab": ["jupyterlab"],
    "pandas scikit-learn matplotlib": ["pandas", "scikit-learn", "matplotlib"],
    "requests": ["requests"],
    "transformers[torch]": ["transformers[torch]"],
}
NO_PIP = {"transformers[torch]"}
VS_UV = 2.0
PEAK_MB = 150.0
WARM_MS = 100.0
OTHER_MS = 300.0
PYPI = "https://pypi.org/simple/"
NEAR = ("jupyter-envhelper", "search", "popular-near.sqlite")


def reachable() -> bool:
    try:
        response = httpx.get(f"{PYPI}requests/", timeout=10, follow_redirects=True)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


# The peak RSS of a process forked from this one counts this one's pages (Linux folds
# the parent's high-water mark in at exec), so each command is started by this small
# wrapper, itself forked from here, which forks and execs it and reports its rusage.
WRAP = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write("\\nWRAPPED-MAXRSS-KB=%d\\n" % usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


HELPER = b"jupyter_envhelper.index.bulk"


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as handle:
                    children = [int(c) for c in handle.read().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def _helper_peaks(root: int, done: threading.Event, peaks: dict[int, int]) -> None:
    """The peak RSS (VmHWM, KB) of each helper process under ``root`` (our plan's
    JSON-document reader, ``index/bulk.py``), sampled every 5 ms until ``done``:
    the wrapper's rusage counts only the largest of a process and its children."""
    while not done.is_set():
        for pid in _descendants(root):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if HELPER not in handle.read():
                        continue
                with open(f"/proc/{pid}/status") as handle:
                    for line in handle:
                        if line.startswith("VmHWM:"):
                            peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
            except (OSError, ValueError):
                continue
        done.wait(0.005)


def run_measured(argv: list[str], env: dict[str, str], stdin: str | None = None) -> dict[str, Any]:
    """Wall time (the wrapper's start included: a few ms), peak RSS (MB, the
    command's own), the peak RSS of its helper processes (MB, summed; Linux's /proc
    only, else 0) and output."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", WRAP, *argv],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    done = threading.Event()
    helpers: dict[int, int] = {}
    sampler = threading.Thread(target=_helper_peaks, args=(proc.pid, done, helpers), daemon=True)
    sampler.start()
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.wait()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    text, _, peak = err.decode("utf-8", "replace").rpartition("WRAPPED-MAXRSS-KB=")
    if not peak.strip():  # the wrapper itself did not finish: all of stderr is the command's
        text, peak = err.decode("utf-8", "replace"), ""
    return {
        "seconds": round(seconds, 3),
        "peak_mb": round(int(peak.strip() or 0) / 1024, 1),
        "helper_peak_mb": round(sum(helpers.values()) / 1024, 1),
        "rc": proc.returncode,
        "stdout": out.decode("utf-8", "replace"),
        "stderr": text[-2000:],
    }


def ours(requested: list[str], target: str, home: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "jupyter_envhelper", "plan", *requested]
    argv += ["--python", target, "--json"]
    # a crash (a signal, no output at all) still says where it was: faulthandler's
    # stacks on stderr, at no cost to a run that does not crash
    result = run_measured(argv, _env(XDG_CACHE_HOME=home, PYTHONFAULTHANDLER="1"))
    pins: list[str] = []
    if result["rc"] == 0:
        doc = json.loads(result["stdout"])
        plan = doc.get("plan") or {}
        pins = sorted(
            f"{a['canonical_name']}=={a['version']}"
            for a in plan.get("actions", [])
            if a.get("version")
        )
        result["stats"] = plan.get("stats")
    result["pins"] = pins
    return result


def uv_binary() -> str | None:
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def uv(binary: str, requested: list[str], target: str, cache: str) -> dict[str, Any]:
    argv = [binary, "pip", "compile", "-", "--python", target, "--no-header",
            "--no-annotate", "-q", "--cache-dir", cache, "--index-url", PYPI]  # fmt: skip
    result = run_measured(argv, _env(), stdin="\n".join(requested))
    result["pins"] = sorted(
        _canonical_pin(line.strip()) for line in result["stdout"].splitlines() if "==" in line
    )
    return result


def _canonical_pin(pin: str) -> str:
    name, _, version = pin.partition("==")
    return f"{canonicalize_name(name.split('[')[0])}=={version}"


def pip(requested: list[str], cache: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
            "-q", "--report", "-", "--index-url", PYPI, *requested]  # fmt: skip
    return run_measured(argv, _env(PIP_CACHE_DIR=cache))


async def in_process(requested: list[str], home: str) -> dict[str, Any]:
    """Three plans with one client over a warm disk cache: the request (untimed), the
    same again, then the asked projects pinned to what was chosen (another request)."""
    logging.getLogger("jupyter_envhelper").setLevel(logging.ERROR)  # skipped-file notes
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    env = Environment.synthetic(python_version=python, platform="manylinux_2_28_x86_64")
    cache = os.path.join(home, "jupyter-envhelper", "http")
    async with LocalIndexClient(IndexConfig(index_url=PYPI), cache_dir=cache) as client:
        first = await plan_install(requested, env, client)
        started = time.perf_counter()
        await plan_install(requested, env, client)
        warm = time.perf_counter() - started
        # the asked projects pinned to the versions chosen: new requirements, same pages
        chosen = {a.canonical_name: a.version for a in first.actions if a.version}
        other = []
        for text in requested:
            name = canonicalize_name(text.split("[")[0])
            other.append(f"{text}=={chosen[name]}" if name in chosen else text)
        started = time.perf_counter()
        await plan_install(other, env, client)
        different = time.perf_counter() - started
    return {"warm_ms": round(warm * 1000, 1), "different_ms": round(different * 1000, 1)}


def make_target(directory: str) -> str:
    binary = uv_binary()
    path = os.path.join(directory, "target")
    if binary:
        subprocess.run([binary, "venv", "-q", "-p", sys.executable, path], check=True)
    else:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", path], check=True)
    return os.path.join(path, "bin", "python")


def _fresh_home(work: str) -> str:
    home = tempfile.mkdtemp(dir=work, prefix="home-")
    seed = Path(work, "seed", *NEAR)
    if seed.is_file():  # shipped data, prepared once per user: not an index cache
        Path(home, *NEAR).parent.mkdir(parents=True)
        shutil.copy(seed, Path(home, *NEAR))
    return home


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median time (of an odd count; the faster middle one otherwise), with
    the highest peak of them all: a fresh plan is judged by its typical time, and its
    memory by its worst."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["peak_mb"] = max(r["peak_mb"] for r in runs)
    chosen["helper_peak_mb"] = max(r.get("helper_peak_mb", 0.0) for r in runs)
    chosen["samples"] = [r["seconds"] for r in runs]
    return chosen


def bench_one(
    label: str, requested: list[str], target: str, work: str, with_pip: bool, *, repeat: int = 3
) -> dict[str, Any]:
    # fresh caches ``repeat`` times each, ours and uv's taking turns (which goes first
    # alternates): this 2-core machine's speed drifts by a fifth within minutes, and
    # one pair of runs judged on its own said more about the drift than about us
    binary = uv_binary()
    ours_runs: list[dict[str, Any]] = []
    uv_runs: list[dict[str, Any]] = []
    home = uv_cache = ""
    for turn in range(max(1, repeat)):
        home = _fresh_home(work)
        uv_cache = tempfile.mkdtemp(dir=work, prefix="uv-")
        if binary and turn % 2:
            uv_runs.append(uv(binary, requested, target, uv_cache))
        ours_runs.append(ours(requested, target, home))
        if binary and not turn % 2:
            uv_runs.append(uv(binary, requested, target, uv_cache))
    failed = [r for r in ours_runs if r["rc"] != 0]
    fresh = failed[0] if failed else _median_run(ours_runs)
    warm = ours(requested, target, home)
    uv_failed = [r for r in uv_runs if r["rc"] != 0]
    uv_fresh = (uv_failed[0] if uv_failed else _median_run(uv_runs)) if uv_runs else None
    uv_warm = uv(binary, requested, target, uv_cache) if binary else None
    pip_result = None
    if with_pip and label not in NO_PIP:
        pip_result = pip(requested, tempfile.mkdtemp(dir=work, prefix="pip-"))
    inproc = asyncio.run(in_process(requested, home)) if fresh["rc"] == 0 else {}
    row: dict[str, Any] = {
        "request": label,
        "ours_fresh": {
            k: fresh[k]
            for k in ("seconds", "peak_mb", "helper_peak_mb", "rc", "samples")
            if k in fresh
        },
        "ours_warm": {k: warm[k] for k in ("seconds", "peak_mb", "rc")},
        "ours_stats": fresh.get("stats"),
        "uv_fresh": (
            {k: uv_fresh[k] for k in ("seconds", "peak_mb", "rc", "samples") if k in uv_fresh}
            if uv_fresh
            else None
        ),
        "uv_warm": {k: uv_warm[k] for k in ("seconds", "peak_mb", "rc")} if uv_warm else None,
        "pip": {k: pip_result[k] for k in ("seconds", "peak_mb", "rc")} if pip_result else None,
        "in_process": inproc,
        "packages": len(fresh["pins"]),
    }
    if fresh["rc"] != 0:
        row["error"] = (
            fresh["stderr"] or fresh["stdout"][-2000:] or f"{_exit_words(fresh['rc'])}, no output"
        )
    if uv_fresh and uv_fresh["rc"] == 0 and fresh["rc"] == 0:
        row["fresh_vs_uv"] = round(fresh["seconds"] / uv_fresh["seconds"], 2)
        row["fresh_vs_uv_each"] = [
            round(a["seconds"] / b["seconds"], 2) for a, b in zip(ours_runs, uv_runs)
        ]
        row["warm_vs_uv"] = round(warm["seconds"] / uv_warm["seconds"], 2) if uv_warm else None
        only_ours = sorted(set(fresh["pins"]) - set(uv_fresh["pins"]))
        only_uv = sorted(set(uv_fresh["pins"]) - set(fresh["pins"]))
        row["same_pins_as_uv"] = not only_ours and not only_uv
        if only_ours or only_uv:
            row["pin_differences"] = {"ours": only_ours, "uv": only_uv}
    if pip_result and pip_result["rc"] == 0 and fresh["rc"] == 0:
        row["fresh_vs_pip"] = round(fresh["seconds"] / pip_result["seconds"], 2)
    return row


def _exit_words(rc: int) -> str:
    """The wrapper exits with 256 - N for a command killed by signal N (sys.exit(-N))."""
    import signal

    if 128 < rc < 256:
        try:
            return f"killed by {signal.Signals(256 - rc).name} (exit status {rc})"
        except ValueError:
            pass
    return f"exit status {rc}"


def misses(row: dict[str, Any]) -> list[str]:
    out = []
    label = row["request"]
    if row["ours_fresh"]["rc"] != 0:
        return [f"{label}: our plan failed: {row.get('error', '')[-300:]}"]
    ratio = row.get("fresh_vs_uv")
    if ratio is not None and ratio > VS_UV:
        out.append(f"{label}: fresh plan {ratio}x uv > {VS_UV}x")
    # the plan's process and its helper together (both peaks, as if at once)
    peak = row["ours_fresh"]["peak_mb"] + row["ours_fresh"].get("helper_peak_mb", 0.0)
    if peak > PEAK_MB:
        out.append(f"{label}: peak RSS {peak:.1f} MB (with the helper's) > {PEAK_MB} MB")
    inproc = row.get("in_process") or {}
    if inproc.get("warm_ms", 0) > WARM_MS:
        out.append(f"{label}: warm in-process plan {inproc['warm_ms']} ms > {WARM_MS} ms")
    if inproc.get("different_ms", 0) > OTHER_MS:
        out.append(f"{label}: a different request {inproc['different_ms']} ms > {OTHER_MS} ms")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-pip", action="store_true", help="do not run pip")
    parser.add_argument("--only", action="append", choices=sorted(REQUESTS), help="a request")
    parser.add_argument(
        "--repeat", type=int, default=3, help="fresh runs of ours and of uv (median judged)"
    )
    args = parser.parse_args()
    if not reachable():
        print(json.dumps({"skipped": "PyPI is unreachable"}) if args.json else "skipped: no PyPI")
        sys.exit(0)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pypi-") as work:
        target = make_target(work)
        # byte-compile our modules once, untimed (a user's install has them compiled),
        # and prepare the typo index of the shipped data (once per user, like them)
        subprocess.run([sys.executable, "-m", "jupyter_envhelper", "--help"], env=_env(),
                       capture_output=True, check=False)  # fmt: skip
        seed_env = _env(XDG_CACHE_HOME=os.path.join(work, "seed"))
        subprocess.run([sys.executable, "-m", "jupyter_envhelper.search"], env=seed_env,
                       capture_output=True, check=False)  # fmt: skip
        for label in args.only or list(REQUESTS):
            rows.append(
                bench_one(label, REQUESTS[label], target, work, not args.no_pip, repeat=args.repeat)
            )
    missed = [m for row in rows for m in misses(row)]
    report = {"targets": {"fresh_vs_uv": VS_UV, "peak_mb": PEAK_MB, "warm_ms": WARM_MS,
                          "different_ms": OTHER_MS}, "rows": rows, "missed": missed}  # fmt: skip
    if args.json:
        print(json.dumps(report))
    else:
        for row in rows:
            f, w = row["ours_fresh"], row["ours_warm"]
            uf, uw = row["uv_fresh"] or {}, row["uv_warm"] or {}
            print(f"{row['request']}  ({row['packages']} packages)")
            print(f"  ours fresh {f['seconds']:7.2f} s {f['peak_mb']:6.0f} MB   "
                  f"warm {w['seconds']:6.2f} s {w['peak_mb']:6.0f} MB   "
                  f"helper {f.get('helper_peak_mb', 0):.0f} MB")  # fmt: skip
            if uf:
                print(f"  uv   fresh {uf['seconds']:7.2f} s {uf['peak_mb']:6.0f} MB   "
                      f"warm {uw['seconds']:6.2f} s   fresh ratio {row.get('fresh_vs_uv')}x"
                      f"  same pins {row.get('same_pins_as_uv')}")  # fmt: skip
                print(f"  fresh samples: ours {f.get('samples')}  uv {uf.get('samples')}"
                      f"  ratios {row.get('fresh_vs_uv_each')}")  # fmt: skip
            if row["pip"]:
                print(f"  pip        {row['pip']['seconds']:7.2f} s {row['pip']['peak_mb']:6.0f}"
                      f" MB   ours/pip {row.get('fresh_vs_pip')}x")  # fmt: skip
            print(f"  in one process: {row['in_process']}")
            if row.get("error"):
                print(f"  ERROR: {row['error'][-500:]}")
        for line in missed:
            print(f"MISSED: {line}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
