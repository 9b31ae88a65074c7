"""The server's event loop is not where a plan's CPU work runs.

Not timed: the thread each piece runs in is recorded (a wrapper around the real
function, which still does the work) and compared with the event loop's thread. A
plan's advice checks, its document, an environment's document and a new index client
(which loads a CA bundle into an SSL context) run in worker threads; a running
kernel's interpreter is asked once per kernel process, not on every request, and
asked again after a restart.

Real parts: the real core over the loopback index with this interpreter as the target,
and a real Jupyter server with a real ipykernel.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_envhelper.core import (
    CoreConfig,
    Target,
    assess,
    build_core,
    indexes,
    targets,
    usecases,
)
from tests.indexserver import IndexServer


def recording(record: list[int], function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        record.append(threading.get_ident())
        return function(*args, **kwargs)

    return wrapper


async def test_a_plans_cpu_work_runs_off_the_event_loop(
    sample_index: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[int] = []
    documents: list[int] = []
    clients: list[int] = []
    environments: list[int] = []
    monkeypatch.setattr(assess, "run_checks", recording(checks, assess.run_checks))
    monkeypatch.setattr(
        assess.PlanAnswer, "to_json", recording(documents, assess.PlanAnswer.to_json)
    )
    monkeypatch.setattr(
        indexes.IndexPool, "_client_for", recording(clients, indexes.IndexPool._client_for)
    )
    monkeypatch.setattr(
        usecases, "environment_document", recording(environments, usecases.environment_document)
    )
    core = build_core(
        CoreConfig(
            index_url=sample_index.index_url,
            cache_dir=str(tmp_path / "cache"),
            history_path=str(tmp_path / "history.sqlite"),
        )
    )
    loop_thread = threading.get_ident()
    try:
        # When a plan is made for the server's own interpreter
        doc = await core.plan(Target(python=sys.executable), ["alpha"])
        env = await core.environment(Target(python=sys.executable))
    finally:
        await core.close()
    # Then it is a real plan with its advice ...
    assert doc["plan"] is not None, doc
    assert [a["name"] for a in doc["plan"]["actions"] if a["kind"] == "install"], doc
    assert any(f["check"] == "vulnerable" for f in doc["findings"]), doc["findings"]
    assert env["environment"]["distributions"], env
    # ... and the checks, the documents and the index client were made off the loop
    assert checks and documents and clients and environments
    assert loop_thread not in checks + documents + clients + environments


async def test_a_running_kernel_is_asked_for_its_interpreter_once_per_process(
    jp_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real = targets.evaluate_in_kernel

    async def counting(km: Any, expressions: Any, **kwargs: Any) -> Any:
        asked.extend(expressions)
        return await real(km, expressions, **kwargs)

    monkeypatch.setattr(targets, "evaluate_in_kernel", counting)
    started = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
    kernel_id = json.loads(started.body)["id"]

    async def environment() -> dict[str, Any]:
        response = await jp_fetch(
            "envhelper", "environment", params={"kernel_id": kernel_id}, method="GET"
        )
        kernel: dict[str, Any] = json.loads(response.body)["kernel"]
        return kernel

    try:
        # When the environment of one running kernel is asked for three times
        for _ in range(3):
            kernel = await environment()
            # Then every answer is confirmed by the kernel itself ...
            assert kernel["confirmed_by_kernel"] is True
            assert kernel["interpreter_source"] == "running kernel"
            assert Path(kernel["interpreter"]).resolve() == Path(sys.executable).resolve()
        # ... which was asked once
        assert asked.count("executable") == 1
        # When the kernel restarts (a new process), Then it is asked again
        await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="{}")
        kernel = await environment()
        assert kernel["confirmed_by_kernel"] is True
        assert asked.count("executable") == 2
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")
