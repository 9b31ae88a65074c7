"""A Jupyter server's memory and warm plans after a fixed sequence, against real PyPI.

Run: ``python benchmarks/bench_server_pypi.py [--json]`` (from the repository root).
Skips itself (exit 0) when PyPI is unreachable.

A real ``jupyter server`` with the extension, a kernelspec on a bare venv of this
Python, an empty user cache (the shipped data's typo index prepared, as after a first
use), then through REST, in this order:

1. for ``jupyterlab``, ``pandas scikit-learn matplotlib``, ``requests`` and
   ``transformers[torch]``: a plan (cold), the same plan again (warm), and the asked
   projects pinned to the chosen versions (a different request over the same pages);
2. a search, repeated until it answers from the full project list (the persistent
   name index being built), then a few more searches.

Reported: the server's RSS before the first request (bare) and after all of this,
the warm and different plans' times, the searches' times. Targets (exit 1 on a miss):
RSS growth <= 150 MB; warm plan <= 100 ms; different request <= 300 ms (as the
browser sees them, REST included).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_plan_pypi import NEAR, REQUESTS, make_target, reachable  # noqa: E402

GROWTH_MB = 150.0
WARM_MS = 100.0
OTHER_MS = 300.0
SEARCHES = ["numpy", "reqeusts", "dataframe", "jupyterlab-git", "cv2"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(work: str, target: str, token: str, port: int) -> subprocess.Popen[bytes]:
    data = Path(work, "data")
    spec = data / "kernels" / "target"
    spec.mkdir(parents=True)
    argv = [target, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "target",
                                                  "language": "python"}))  # fmt: skip
    home = Path(work, "home")
    seed = Path(work, "seed", *NEAR)
    if seed.is_file():
        Path(home, *NEAR).parent.mkdir(parents=True)
        shutil.copy(seed, Path(home, *NEAR))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "JUPYTER"))}
    env.update(
        JUPYTER_DATA_DIR=str(data),
        JUPYTER_CONFIG_DIR=str(Path(work, "config")),
        JUPYTER_RUNTIME_DIR=str(Path(work, "runtime")),
        XDG_CACHE_HOME=str(home),
        PIP_CONFIG_FILE=os.devnull,
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    argv = [sys.executable, "-m", "jupyter_server", f"--port={port}", "--no-browser",
            f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
            "--ServerApp.jpserver_extensions={'jupyter_envhelper': True}",
            f"--ServerApp.root_dir={work}"]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_up(client: httpx.Client, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if client.get("/api/status").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not start")


@contextlib.contextmanager
def running_server(prefix: str) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """A started server over an empty cache (the typo index prepared) and a client
    with its token, once the extension's start-up warm-up is done; stopped after."""
    token, port = secrets.token_hex(16), free_port()
    with tempfile.TemporaryDirectory(prefix=prefix) as work:
        target = make_target(work)
        seed_env = {**os.environ, "XDG_CACHE_HOME": os.path.join(work, "seed")}
        subprocess.run([sys.executable, "-m", "jupyter_envhelper.search"], env=seed_env,
                       check=False, capture_output=True)  # fmt: skip
        server = start_server(work, target, token, port)
        headers = {"Authorization": f"token {token}"}
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers,
                              timeout=300) as client:  # fmt: skip
                wait_up(client)
                time.sleep(3)  # the extension's warm-up at start, as a user's first click
                yield server, client
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()


def plan(client: httpx.Client, requirements: list[str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.post(
        "/envhelper/plan", json={"kernel": "target", "requirements": requirements}
    )
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"plan {requirements}: HTTP {response.status_code} {response.text[:300]}")
    doc: dict[str, Any] = response.json()
    return seconds, doc


def pinned(requested: list[str], doc: dict[str, Any]) -> list[str]:
    from packaging.utils import canonicalize_name

    chosen = {a["canonical_name"]: a["version"] for a in (doc.get("plan") or {})["actions"]}
    out = []
    for text in requested:
        name = canonicalize_name(text.split("[")[0])
        out.append(f"{text}=={chosen[name]}" if name in chosen else text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not reachable():
        print(json.dumps({"skipped": "PyPI is unreachable"}) if args.json else "skipped: no PyPI")
        sys.exit(0)
    with running_server("bench-server-") as (server, client):
        bare = rss_mb(server.pid)
        rows: list[dict[str, Any]] = []
        for label, requested in REQUESTS.items():
            cold, doc = plan(client, requested)
            warm, again = plan(client, requested)
            other, _ = plan(client, pinned(requested, doc))
            # a repeated plan is the kept one (resolver/memo.py): stats say so
            reused = bool(((again.get("plan") or {}).get("stats") or {}).get("reused"))
            rows.append({"request": label, "cold_s": round(cold, 2),
                         "warm_ms": round(warm * 1000, 1), "warm_reused": reused,
                         "different_ms": round(other * 1000, 1)})  # fmt: skip
        after_plans = rss_mb(server.pid)
        started = time.perf_counter()
        first_ms, complete = None, False
        while time.perf_counter() - started < 300 and not complete:
            t = time.perf_counter()
            found = client.get("/envhelper/search", params={"q": "numpy"}).json()
            first_ms = first_ms or round((time.perf_counter() - t) * 1000, 1)
            complete = bool(found.get("complete"))
            if not complete:
                time.sleep(1)
        built_s = round(time.perf_counter() - started, 1)
        search_ms = []
        for query in SEARCHES:
            t = time.perf_counter()
            client.get("/envhelper/search", params={"q": query})
            search_ms.append(round((time.perf_counter() - t) * 1000, 1))
        after = rss_mb(server.pid)
    report: dict[str, Any] = {
        "bare_rss_mb": bare,
        "after_plans_rss_mb": after_plans,
        "after_rss_mb": after,
        "growth_mb": round(after - bare, 1),
        "plans": rows,
        "first_search_ms": first_ms,
        "name_index_ready_s": built_s,
        "search_ms": search_ms,
    }
    missed = []
    if report["growth_mb"] > GROWTH_MB:
        missed.append(f"RSS grew {report['growth_mb']} MB > {GROWTH_MB} MB")
    for row in rows:
        if row["warm_ms"] > WARM_MS:
            missed.append(f"{row['request']}: warm plan {row['warm_ms']} ms > {WARM_MS} ms")
        if row["different_ms"] > OTHER_MS:
            missed.append(f"{row['request']}: different {row['different_ms']} ms > {OTHER_MS}")
    if not complete:
        missed.append("the search never answered from the full project list")
    report["missed"] = missed
    if args.json:
        print(json.dumps(report))
    else:
        print(f"server RSS: bare {bare} MB, after plans {after_plans} MB, after search "
              f"{after} MB (+{report['growth_mb']} MB, target <= {GROWTH_MB})")  # fmt: skip
        for row in rows:
            print(f"  {row['request']:<32} cold {row['cold_s']:6.2f} s  warm "
                  f"{row['warm_ms']:7.1f} ms{' (reused)' if row['warm_reused'] else ''}"
                  f"  different {row['different_ms']:7.1f} ms")  # fmt: skip
        print(f"  search: first answer {first_ms} ms, full list after {built_s} s, "
              f"then {search_ms} ms")  # fmt: skip
        for line in missed:
            print(f"MISSED: {line}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
