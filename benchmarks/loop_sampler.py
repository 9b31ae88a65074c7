"""Run a Jupyter server and name what holds its event loop up (``bench_load.py --sample``).

Run: ``python benchmarks/loop_sampler.py REPORT.json -- [jupyter_server arguments]``.

A callback on the server's event loop beats every 5 ms; a sampling thread looks every
2 ms at how long ago the last beat was. While the beat is late by more than the
threshold (20 ms) the loop is held up, and the sampler records the stack of the loop's
thread (what runs on the loop) and of every other thread that is not waiting (which
may hold the GIL the loop needs). At exit the stacks are written to ``REPORT.json``,
most frequent first, with each stall's length. Only what happens between two
``SIGUSR2`` is recorded (the benchmark sends them when its measured part starts and
ends: the server's start-up is not what is measured), with the CPU time each thread
used meanwhile. No py-spy needed; the sampler costs the
server little (one ``sys._current_frames`` call per sample).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import json
import os
import runpy
import signal
import sys
import threading
import time
import traceback
from types import FrameType
from typing import Any

BEAT_S = 0.005
SAMPLE_S = 0.002
THRESHOLD_S = 0.020
DEPTH = 14
# frames of these functions mean the thread waits (and does not hold the GIL)
WAITING = {
    "select", "poll", "wait", "_wait_for_tstate_lock", "acquire", "sleep", "get", "recv", "_worker"
}  # fmt: skip

_last_beat = [time.monotonic()]
_stacks: collections.Counter[tuple[str, ...]] = collections.Counter()
_others: collections.Counter[tuple[str, ...]] = collections.Counter()
_stalls: list[float] = []
_busy: collections.Counter[str] = collections.Counter()  # loop thread, inclusive
_busy_samples = [0, 0]  # busy, all
_recording = threading.Event()


def _stack(frame: FrameType | None) -> tuple[str, ...]:
    out = []
    for summary in traceback.extract_stack(frame, limit=DEPTH)[::-1]:
        name = summary.filename
        for cut in ("site-packages/", "/lib/python3", "jupyter_envhelper/"):
            if cut in name:
                name = name.split(cut, 1)[1]
                break
        out.append(f"{name}:{summary.lineno} {summary.name}")
    return tuple(out)


def _profile(frame: FrameType | None) -> None:
    """One sample of the loop's thread: every function on its stack, counted once."""
    _busy_samples[1] += 1
    if frame is None or frame.f_code.co_name in WAITING:
        return
    _busy_samples[0] += 1
    seen = set()
    while frame is not None:
        code = frame.f_code
        name = code.co_filename
        for cut in ("site-packages/", "/lib/python3", "jupyter_envhelper/"):
            if cut in name:
                name = name.split(cut, 1)[1]
                break
        key = f"{name}:{code.co_firstlineno} {code.co_name}"
        if key not in seen:
            seen.add(key)
            _busy[key] += 1
        frame = frame.f_back


def _sampler(main_id: int) -> None:
    stall_start: float | None = None
    while True:
        time.sleep(SAMPLE_S)
        now = time.monotonic()
        lag = now - _last_beat[0]
        if _recording.is_set():
            _profile(sys._current_frames().get(main_id))
        if lag < THRESHOLD_S or not _recording.is_set():
            if stall_start is not None:
                _stalls.append(round((now - stall_start + THRESHOLD_S) * 1000, 1))
                stall_start = None
            continue
        if stall_start is None:
            stall_start = now
        frames = sys._current_frames()
        _stacks[_stack(frames.get(main_id))] += 1
        for ident, frame in frames.items():
            if ident in (main_id, threading.get_ident()) or frame.f_code.co_name in WAITING:
                continue
            _others[_stack(frame)] += 1


def _patch_loop() -> None:
    original = asyncio.BaseEventLoop.run_forever

    def run_forever(self: asyncio.BaseEventLoop) -> Any:
        def beat() -> None:
            _last_beat[0] = time.monotonic()
            self.call_later(BEAT_S, beat)

        self.call_soon(beat)
        return original(self)

    asyncio.BaseEventLoop.run_forever = run_forever  # type: ignore[method-assign]


def _thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds each live thread of this process used so far (Linux: /proc)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out = {}
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat", encoding="ascii") as f:
                fields = f.read().rpartition(")")[2].split()
        except (OSError, TypeError):
            continue
        name = thread.name.rstrip("0123456789_").rstrip("-") or thread.name
        out[thread.native_id or 0] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


_cpu_start: dict[int, tuple[str, float]] = {}
_cpu_used: dict[str, float] = {}


_profiler: list[Any] = []


def _toggle(*_: object) -> None:
    """The first SIGUSR2 starts recording, the second stops it."""
    if not _recording.is_set():
        _cpu_start.update(_thread_cpu())
        _recording.set()
        if os.environ.get("LOOP_SAMPLER_CPROFILE"):  # the loop's thread, deterministic
            import cProfile

            _profiler.append(cProfile.Profile())
            _profiler[0].enable()
        return
    _recording.clear()
    if _profiler:
        _profiler[0].disable()
    used: collections.Counter[str] = collections.Counter()
    for ident, (name, seconds) in _thread_cpu().items():
        used[name] += seconds - _cpu_start.get(ident, (name, 0.0))[1]
    _cpu_used.update({k: round(v, 2) for k, v in used.most_common()})


def _report(path: str) -> None:
    doc = {
        "cpu_s_by_thread": _cpu_used,
        "threshold_ms": THRESHOLD_S * 1000,
        "sample_ms": SAMPLE_S * 1000,
        "stalls_ms": sorted(_stalls, reverse=True),
        # every 2 ms: was the loop's thread running (not waiting in select), and in what
        "loop_busy_samples": _busy_samples[0],
        "loop_all_samples": _busy_samples[1],
        "loop_busy_inclusive": dict(_busy.most_common(80)),
        "loop_thread": [{"samples": n, "stack": list(s)} for s, n in _stacks.most_common(25)],
        "other_threads": [{"samples": n, "stack": list(s)} for s, n in _others.most_common(25)],
    }
    if _profiler:
        import pstats

        _profiler[0].dump_stats(path + ".prof")
        stats = pstats.Stats(_profiler[0])
        rows = []
        for (file, line, func), (_cc, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
            rows.append([round(tottime * 1000, 1), round(cumtime * 1000, 1), calls,
                         f"{file.split('site-packages/')[-1]}:{line} {func}"])  # fmt: skip
        doc["cprofile_by_tottime_ms"] = sorted(rows, reverse=True)[:60]
        doc["cprofile_by_cumtime_ms"] = sorted(rows, key=lambda r: -r[1])[:120]
    with open(path, "w", encoding="utf-8") as out:
        json.dump(doc, out, indent=1)


def main() -> None:
    report, _, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    atexit.register(_report, report)
    signal.signal(signal.SIGUSR2, _toggle)
    _patch_loop()
    threading.Thread(
        target=_sampler, args=(threading.get_ident(),), daemon=True, name="loop-sampler"
    ).start()
    sys.argv = ["jupyter-server", *rest]
    runpy.run_module("jupyter_server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
