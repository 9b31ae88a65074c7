"""process.run: argv only, output, line callbacks, timeouts that end whole groups."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jupyter_envhelper import process

PY = sys.executable


def test_run_collects_output_and_exit_code() -> None:
    result = process.run(
        [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
        timeout=30,
    )
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"
    assert not result.timed_out
    assert not result.ok
    assert result.argv[0] == PY
    assert result.elapsed > 0


def test_run_passes_env_cwd_and_input(tmp_path: Path) -> None:
    code = "import os, sys; print(os.environ['ENVHELPER_X'], os.getcwd(), sys.stdin.read())"
    result = process.run(
        [PY, "-c", code],
        env={**os.environ, "ENVHELPER_X": "hello"},
        cwd=tmp_path,
        input=b"from-stdin",
        timeout=30,
    )
    assert result.ok, result.stderr
    assert result.stdout.split() == ["hello", str(tmp_path), "from-stdin"]


def test_on_line_sees_each_line_with_its_stream() -> None:
    seen: list[tuple[str, str]] = []
    code = "import sys\nfor i in range(3):\n    print(i, flush=True)\nprint('bad', file=sys.stderr)"
    process.run([PY, "-c", code], timeout=30, on_line=lambda s, line: seen.append((s, line)))
    assert [line for s, line in seen if s == "stdout"] == ["0", "1", "2"]
    assert ("stderr", "bad") in seen


def test_a_string_is_refused_as_argv() -> None:
    with pytest.raises(TypeError):
        process.run("echo hi", timeout=5)  # type: ignore[arg-type]


def test_missing_program_raises_oserror() -> None:
    with pytest.raises(FileNotFoundError):
        process.run(["/nonexistent/program-envhelper"], timeout=5)


@pytest.mark.skipif(os.name == "nt", reason="process groups are POSIX here")
def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    start = time.monotonic()
    result = process.run([PY, "-c", code], timeout=1.5)
    assert result.timed_out
    assert not result.ok
    assert time.monotonic() - start < 15
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    alive = True
    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            alive = False
            break
        # a killed child stays a zombie until its parent is reaped; init reaps it
        status = Path(f"/proc/{grandchild}/status")
        if status.exists() and "zombie" in status.read_text():
            alive = False
            break
        time.sleep(0.05)
    assert not alive, "the grandchild outlived the timeout"


def test_sigterm_is_tried_before_sigkill(tmp_path: Path) -> None:
    marker = tmp_path / "got-term"
    code = (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(marker)!r}, 'w').close(), "
        "sys.exit(0)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    result = process.run([PY, "-c", code], timeout=1.5)
    assert result.timed_out
    assert marker.exists()


def test_stderr_tail_keeps_the_last_lines() -> None:
    text = "\n".join(f"line {i}" for i in range(100)) + "\n\n"
    tail = process.stderr_tail(text, lines=3)
    assert tail == "line 97\nline 98\nline 99"
    assert len(process.stderr_tail("x" * 10000, chars=50)) == 50


# ---- reading both pipes in one thread (poll on the pipes and a pidfd)


def test_partial_last_line_unicode_and_crlf() -> None:
    lines: list[tuple[str, str]] = []
    code = (
        "import sys\n"
        "print('one'); sys.stdout.flush()\n"
        "print('\\u00e9t\\u00e9', file=sys.stderr)\n"
        "sys.stdout.write('two\\r\\nno newline at the end')\n"
        "sys.exit(3)\n"
    )
    result = process.run(
        [PY, "-c", code], timeout=30, on_line=lambda s, text: lines.append((s, text))
    )
    assert result.returncode == 3 and not result.ok
    assert result.stdout == "one\ntwo\r\nno newline at the end"
    assert result.stderr == "\u00e9t\u00e9\n"
    assert [t for s, t in lines if s == "stdout"] == ["one", "two", "no newline at the end"]
    assert [t for s, t in lines if s == "stderr"] == ["\u00e9t\u00e9"]


def test_large_output_on_both_pipes_is_read_whole() -> None:
    code = "import sys; sys.stdout.write('o' * 300000 + '\\n'); sys.stderr.write('e' * 200000)"
    result = process.run([PY, "-c", code], timeout=30)
    assert result.ok
    assert len(result.stdout) == 300001 and len(result.stderr) == 200000


def test_cancel_stops_the_whole_group() -> None:
    cancel = threading.Event()
    pids: list[int] = []
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True); time.sleep(60)\n"
    )
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    try:
        result = process.run([PY, "-c", code], timeout=60, cancel=cancel, on_start=pids.append)
    finally:
        timer.cancel()
    assert result.cancelled and pids
    grandchild = int(result.stdout.split()[0])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the group's SIGKILL reaches it at once
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the child's own child outlived the cancel")


def test_an_exit_is_seen_at_once() -> None:
    """A short command returns promptly: no polling interval is waited out."""
    times = []
    for _ in range(5):
        started = time.monotonic()
        assert process.run([PY, "-c", "pass"], timeout=30, cancel=threading.Event()).ok
        times.append(time.monotonic() - started)
    bare = []
    for _ in range(5):
        started = time.monotonic()
        subprocess.run([PY, "-c", "pass"], check=True, capture_output=True)
        bare.append(time.monotonic() - started)
    # generous: a poll of CANCEL_POLL_SECONDS per run would show as 50 ms on every run
    assert min(times) < min(bare) + process.CANCEL_POLL_SECONDS


def test_a_child_that_keeps_the_pipes_open_does_not_hold_the_result_forever() -> None:
    code = (
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(30)'])\n"
        "print('parent done')\n"
    )
    started = time.monotonic()
    result = process.run([PY, "-c", code], timeout=60)
    assert result.ok and result.stdout == "parent done\n"
    assert time.monotonic() - started < process.DRAIN_SECONDS + 3
