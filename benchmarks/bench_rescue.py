"""The rescue banner's answer after "No module named X", from a real server on real PyPI.

Run: ``python benchmarks/bench_rescue.py [--json]`` (from the repository root).
Skips itself (exit 0) when PyPI is unreachable.

A real ``jupyter server`` with the extension and a kernelspec on a bare venv of this
Python, with an empty user cache (only the shipped data's typo index prepared, as
after a first use; the same start as ``bench_server_pypi.py``). Then, through REST,
what the banner asks (``GET /envhelper/rescue?module=...``) for modules whose
distribution has another name (``sklearn``, ``cv2``, ``yaml``, ``PIL``, ``bs4``):

- ``fresh``: the first question this new server gets (``sklearn``): no page, metadata
  or name list cached, network time included;
- ``first``: the first question about each other module in the same server;
- ``warm``: each question asked again.

Each answer must name the right distribution (``scikit-learn`` for ``sklearn``...)
with a verdict. Targets (exit 1 on a miss): fresh <= 3 s, warm <= 1 s (issue 18).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_plan_pypi import reachable  # noqa: E402
from bench_server_pypi import running_server  # noqa: E402

FRESH_S = 3.0
WARM_S = 1.0
MODULES = {
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "bs4": "beautifulsoup4",
}


def ask(client: httpx.Client, module: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.get("/envhelper/rescue", params={"module": module, "kernel": "target"})
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"rescue {module}: HTTP {response.status_code} {response.text[:300]}")
    doc: dict[str, Any] = response.json()
    return seconds, doc


def named(doc: dict[str, Any]) -> str | None:
    hit = doc.get("distribution") or {}
    name = hit.get("canonical_name") or hit.get("name")
    return str(name).lower() if name else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not reachable():
        print(json.dumps({"skipped": "PyPI is unreachable"}) if args.json else "skipped: no PyPI")
        sys.exit(0)
    rows: list[dict[str, Any]] = []
    with running_server("bench-rescue-") as (_server, client):
        for position, (module, expected) in enumerate(MODULES.items()):
            first, doc = ask(client, module)
            warm, again = ask(client, module)
            rows.append(
                {
                    "module": module,
                    "kind": "fresh" if position == 0 else "first",
                    "first_s": round(first, 2),
                    "warm_s": round(warm, 3),
                    "distribution": named(doc),
                    "expected": expected,
                    "verdict": doc.get("verdict"),
                    "same_answer": named(again) == named(doc)
                    and again.get("verdict") == doc.get("verdict"),
                    "message": doc.get("message"),
                }
            )
    missed = []
    for row in rows:
        limit = FRESH_S if row["kind"] == "fresh" else None
        if limit is not None and row["first_s"] > limit:
            missed.append(f"{row['module']}: fresh server answer {row['first_s']} s > {limit} s")
        if row["warm_s"] > WARM_S:
            missed.append(f"{row['module']}: warm answer {row['warm_s']} s > {WARM_S} s")
        if row["distribution"] != row["expected"]:
            missed.append(f"{row['module']}: named {row['distribution']}, not {row['expected']}")
        if not row["verdict"]:
            missed.append(f"{row['module']}: no verdict ({row['message']})")
        if not row["same_answer"]:
            missed.append(f"{row['module']}: the warm answer differs from the first")
    report = {"rows": rows, "missed": missed}
    if args.json:
        print(json.dumps(report))
    else:
        for row in rows:
            print(
                f"{row['module']:<8} {row['kind']:<6} first {row['first_s']:6.2f} s   "
                f"warm {row['warm_s'] * 1000:7.1f} ms   -> {row['distribution']} "
                f"({row['verdict']}): {row['message']}"
            )
        for line in missed:
            print(f"MISSED: {line}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
