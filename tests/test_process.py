"""process.run: argv only, output, line callbacks, timeouts that end whole groups."""

from __future__ import annotations

import os
import sys
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
