"""Where a change lives: an environment another user owns is never changed.

A real venv, handed to another uid with ``chown`` (the tests run as root, who could
write to it anyway: exactly the case the check is for), behind a real server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)

OTHER_UID = 54321


def _chown_tree(root: Path, uid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.lchown(os.path.join(dirpath, name), uid, uid)
    os.lchown(root, uid, uid)


@pytest.fixture
def shared_kernel(write_kernelspec: Any, venv_factory: VenvFactory) -> Path:  # noqa: F811
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("giving a venv to another user needs root (chown)")
    python = venv_factory("shared-by-another-user", tool="uv")
    _chown_tree(python.parent.parent, OTHER_UID)
    write_kernelspec("shared", [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    return python


async def post(jp_fetch: Any, *parts: str, body: dict[str, Any]) -> Any:
    response = await jp_fetch(
        "envhelper",
        *parts,
        method="POST",
        body=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    return json.loads(response.body)


async def test_an_environment_another_user_owns_is_a_blocker_and_never_changed(
    jp_fetch: Any, shared_kernel: Path
) -> None:
    plan = await post(jp_fetch, "plan", body={"kernel": "shared", "requirements": ["alpha==1.0"]})
    placement = [f for f in plan["findings"] if f["check"] == "placement"]
    assert len(placement) == 1, plan["findings"]
    assert placement[0]["severity"] == "blocker"
    assert "belongs to another user" in placement[0]["message"]
    assert placement[0]["details"]["owner_uid"] == OTHER_UID
    assert placement[0]["details"]["uid"] == 0
    with pytest.raises(HTTPClientError) as info:
        await post(jp_fetch, "jobs", body={"kernel": "shared", "requirements": ["alpha==1.0"]})
    assert info.value.code == 409
    refused = json.loads(info.value.response.body)
    # refused before anything runs: the plan's blocker (the job runner refuses it too)
    assert refused["reason"] in ("blocker", "other-owner"), refused
    assert "belongs to another user" in refused["message"]
    env = json.loads(
        (await jp_fetch("envhelper", "environment", params={"kernel": "shared"})).body
    )["environment"]
    assert "alpha" not in {d["name"] for d in env["distributions"]}


async def test_our_own_environment_has_no_placement_finding(
    jp_fetch: Any,
    write_kernelspec: Any,
    venv_factory: VenvFactory,  # noqa: F811
) -> None:
    python = venv_factory("ours", tool="uv")
    write_kernelspec("ours", [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    plan = await post(jp_fetch, "plan", body={"kernel": "ours", "requirements": ["alpha==1.0"]})
    assert [f for f in plan["findings"] if f["check"] == "placement"] == []
