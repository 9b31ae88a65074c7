"""The job history: a sqlite file that survives reopening and crashes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from jupyter_envhelper.jobs import History


def add(history: History, prefix: str = "/envs/a") -> int:
    return history.create(
        prefix=prefix,
        interpreter=f"{prefix}/bin/python",
        kind="install",
        request={"requirements": ["alpha"]},
        plan={"actions": [], "index_urls": ["https://pkgs.example/simple/"]},
        before={"alpha": {"name": "alpha", "version": "1.0"}},
        backend="uv",
    )


def test_history_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "data" / "history.sqlite"
    first = History(path)
    job = add(first)
    first.update(
        job,
        state="succeeded",
        ended=2.0,
        after={"alpha": {"name": "alpha", "version": "2.0"}},
        outcome={"message": "Done"},
        log_tail="GET https://bob:hunter2@pkgs.example/simple/alpha/",
    )
    add(first, "/envs/b")
    again = History(path)
    record = again.get(job)
    assert record is not None
    assert record["state"] == "succeeded" and record["backend"] == "uv"
    assert record["after"]["alpha"]["version"] == "2.0"
    assert record["request"] == {"requirements": ["alpha"]}
    assert "hunter2" not in record["log_tail"] and "***@pkgs.example" in record["log_tail"]
    assert [r["id"] for r in again.list("/envs/a")] == [job]
    assert len(again.list()) == 2
    assert again.get(999) is None
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_running_rows_of_a_dead_process_become_interrupted(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    stale = add(history)
    other = add(history, "/envs/b")
    assert history.mark_interrupted("/envs/a") == [stale]
    assert history.get(stale)["state"] == "interrupted"  # type: ignore[index]
    assert history.get(other)["state"] == "running"  # type: ignore[index]


def test_ids_are_unique_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    a, b = History(path), History(path)
    ids = {add(a), add(b), add(a)}
    assert len(ids) == 3


def test_a_jobs_start_is_one_transaction(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    done = add(history)
    history.update(done, state="succeeded", after={"alpha": {"name": "alpha", "version": "2.0"}})
    stale = add(history)  # its process died: still "running"
    other = add(history, "/envs/b")
    seen: list[object] = []

    def before(last_after: object) -> dict[str, object]:
        seen.append(last_after)
        return {"alpha": {"name": "alpha", "version": "2.0", "from": "last job"}}

    job, snapshot = history.begin(
        prefix="/envs/a", before=before, interpreter="/envs/a/bin/python", kind="install",
        request={"requirements": ["beta"]}, plan={"actions": []}, backend="uv",
    )  # fmt: skip
    # the newest job of that environment gave its "after" to the before-snapshot
    assert seen == [None]  # the stale row (newest) has no "after"
    assert snapshot["alpha"] == {"name": "alpha", "version": "2.0", "from": "last job"}
    record = history.get(job)
    assert record is not None and record["state"] == "running"
    assert record["before"] == snapshot and record["request"] == {"requirements": ["beta"]}
    assert history.get(stale)["state"] == "interrupted"  # type: ignore[index]
    assert history.get(other)["state"] == "running"  # type: ignore[index]

    # a start that fails half-way leaves nothing: no row, no interrupted rows
    third = add(history)

    def broken(last_after: object) -> dict[str, object]:
        raise RuntimeError("snapshot failed")

    count = len(history.list())
    try:
        history.begin(
            prefix="/envs/a", before=broken, interpreter="x", kind="install", request={},
            plan={},
        )  # fmt: skip
    except RuntimeError:
        pass
    else:
        raise AssertionError("begin swallowed the error")
    assert len(history.list()) == count
    assert history.get(third)["state"] == "running"  # type: ignore[index]
    # the last job's "after" is what the next start sees
    history.update(third, state="succeeded", after={"alpha": {"name": "alpha", "version": "3.0"}})
    history.begin(
        prefix="/envs/a", before=before, interpreter="x", kind="install", request={}, plan={}
    )
    assert seen[-1] == {"alpha": {"name": "alpha", "version": "3.0"}}
