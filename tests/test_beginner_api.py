"""GET /envhelper/undo-preview: what an undo would change, shown before it runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.conftest_envs import venv_factory  # noqa: F401 (fixture)
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import DistSpec
from tests.test_jobs_api import (  # noqa: F401 (fixtures)
    DISTS,
    installed,
    jp_server_config,
    post,
    target_kernel,
    wait_for,
)

# a newer release this Python cannot take: the search's newest is not what is installed
FIT = [
    DistSpec("fitpkg", "1.0", module="fitpkg"),
    DistSpec("fitpkg", "2.0", module="fitpkg", requires_python=">=3.99"),
]


@pytest.fixture
def job_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server([*DISTS, *FIT])
    return server


async def test_the_rescue_names_the_version_the_plan_installs(
    jp_fetch: Any,
    target_kernel: Any,  # noqa: F811
) -> None:
    # the premise: the search offers the newest release, which this kernel cannot take
    response = await jp_fetch("envhelper", "search", params={"q": "fitpkg", "kernel": "target"})
    hits = {h["name"]: h for h in json.loads(response.body)["hits"]}
    assert hits["fitpkg"]["version"] == "2.0"
    response = await jp_fetch(
        "envhelper", "rescue", params={"module": "fitpkg", "kernel": "target"}
    )
    answer = json.loads(response.body)
    assert answer["distribution"]["name"] == "fitpkg"
    assert answer["distribution"]["version"] == "1.0"
    assert "fitpkg 1.0" in answer["message"] and "2.0" not in answer["message"]


async def test_undo_preview_lists_what_the_undo_changes_and_changes_nothing(
    jp_fetch: Any,
    target_kernel: Any,  # noqa: F811
) -> None:
    started = await post(
        jp_fetch, "jobs", body={"kernel": "target", "action": "install", "requirements": ["plain"]}
    )
    job = await wait_for(jp_fetch, started["job"]["id"])
    assert job["state"] == "succeeded", job
    response = await jp_fetch(
        "envhelper", "undo-preview", params={"kernel": "target", "job_id": str(job["id"])}
    )
    preview = json.loads(response.body)
    assert preview["job_id"] == job["id"]
    removed = {a["name"] for a in preview["plan"]["actions"] if a["kind"] == "remove"}
    assert "plain" in removed
    # asking changed nothing: plain is still there
    assert "plain" in await installed(jp_fetch)
    # the latest job by default
    response = await jp_fetch("envhelper", "undo-preview", params={"kernel": "target"})
    assert json.loads(response.body)["job_id"] == job["id"]


@pytest.mark.parametrize("job_id", ["x", "-1", "1.5"])
async def test_undo_preview_refuses_a_bad_job_number(jp_fetch: Any, job_id: str) -> None:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("envhelper", "undo-preview", params={"kernel": "python3", "job_id": job_id})
    assert info.value.code == 400


async def test_undo_preview_needs_a_token(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(
            "envhelper", "undo-preview", headers={"Authorization": ""}, params={"kernel": "python3"}
        )
    assert info.value.code == 403
