"""POST /envhelper/plan and /envhelper/kernel-suggestions through a real server and index."""

from __future__ import annotations

import glob
import json
import sys
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from tests.conftest_envs import VenvFactory, venv_factory  # noqa: F401 (fixture)
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import DistSpec

PLAN_DISTS = [
    DistSpec("needs312", "2.0", requires_python=">=3.12", summary="new Python only"),
    DistSpec("needs312", "1.0", requires_python=">=3.8", summary="older, broader"),
    DistSpec("plain", "1.0", requires_dist=("dep>=1",), module="plain"),
    DistSpec("dep", "1.0"),
    DistSpec("dep", "2.0"),
    # a newer traitlets than any real one: ipykernel has imported traitlets
    DistSpec("traitlets", "99.0"),
]

PY312 = sorted(glob.glob("/root/.pyenv/versions/3.12*/bin/python3.12"))


@pytest.fixture
def plan_index(index_server: Any) -> IndexServer:
    server: IndexServer = index_server(PLAN_DISTS)
    return server


@pytest.fixture
def jp_server_config(jp_server_config: Config, plan_index: IndexServer) -> Config:
    jp_server_config["EnvHelperApp"]["index_url"] = plan_index.index_url
    return jp_server_config


async def post(jp_fetch: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await jp_fetch(
        "envhelper",
        path,
        method="POST",
        body=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.code == 200
    payload: dict[str, Any] = json.loads(response.body)
    assert payload["schema"] == 1
    return payload


async def post_error(jp_fetch: Any, path: str, body: Any, **kwargs: Any) -> tuple[int, str]:
    raw = body if isinstance(body, str) else json.dumps(body)
    with pytest.raises(HTTPClientError) as info:
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        await jp_fetch("envhelper", path, method="POST", body=raw, headers=headers, **kwargs)
    response = info.value.response
    message = json.loads(response.body)["message"] if response and response.body else ""
    return info.value.code, message


async def test_a_plan_lists_every_action_and_a_fingerprint(jp_fetch: Any) -> None:
    answer = await post(jp_fetch, "plan", {"kernel": "python3", "requirements": ["plain"]})
    assert answer["state"] == "plan"
    assert answer["kernel"]["name"] == "python3"
    actions = {a["name"]: a for a in answer["plan"]["actions"]}
    assert actions["plain"]["kind"] == "install" and actions["plain"]["requested"]
    assert actions["dep"]["version"] == "2.0"
    assert any("plain" in who for who in actions["dep"]["required_by"])
    assert answer["plan"]["download_size"] > 0
    assert answer["verdict"] in {"ok", "warning"}
    assert len(answer["fingerprint"]) == 16


async def test_requires_python_conflict_names_the_version_that_fits(jp_fetch: Any) -> None:
    answer = await post(jp_fetch, "plan", {"kernel": "python3", "requirements": ["needs312==2.0"]})
    if sys.version_info >= (3, 12):
        pytest.skip("the test runner's own Python satisfies >=3.12")
    assert answer["state"] == "conflict"
    assert answer["verdict"] == "blocker"
    assert ">=3.12" in answer["conflict"]["message"]
    actions = [f["action"] for f in answer["findings"] if f["action"]]
    assert {"kind": "use-requirement", "requirement": "needs312==1.0"}.items() <= actions[0].items()


@pytest.mark.skipif(not PY312, reason="needs a CPython 3.12 under /root/.pyenv/versions")
async def test_a_blocked_plan_suggests_the_kernel_that_can_take_it(
    jp_fetch: Any,
    write_kernelspec: Any,
    venv_factory: VenvFactory,  # noqa: F811
) -> None:
    # Given a second kernel on Python 3.12 (a pip-less uv venv)
    python = venv_factory("kernel-312", tool="uv", python=PY312[-1])
    write_kernelspec(
        "py312",
        [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="Python 3.12",
    )
    # When the 3.11 kernel is asked for a package that needs 3.12
    answer = await post(jp_fetch, "plan", {"kernel": "python3", "requirements": ["needs312==2.0"]})
    # Then the 3.12 kernel is suggested, and offered as a way out
    suggestions = {s["name"]: s for s in answer["suggestions"]}
    assert suggestions["py312"]["rank"] == "no-changes"
    assert suggestions["py312"]["python_version"].startswith("3.12")
    ways = [w["action"] for w in answer["conflict"]["ways_out"] if w["kind"] == "other-kernel"]
    assert {"kind": "switch-kernel", "kernel": "py312"}.items() <= ways[0].items()
    # and the suggestions endpoint says the same on its own
    alone = await post(
        jp_fetch, "kernel-suggestions", {"kernel": "python3", "requirements": ["needs312==2.0"]}
    )
    assert alone["suggestions"][0]["name"] == "py312"
    assert all(s["name"] != "python3" for s in alone["suggestions"])


async def test_upgrading_what_the_running_kernel_imported_asks_for_a_restart(
    jp_fetch: Any,
) -> None:
    started = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
    kernel_id = json.loads(started.body)["id"]
    try:
        answer = await post(
            jp_fetch, "plan", {"kernel_id": kernel_id, "requirements": ["traitlets==99.0"]}
        )
        restart = [f for f in answer["findings"] if f["check"] == "restart"]
        assert restart, answer["findings"]
        assert restart[0]["action"]["kind"] == "restart-kernel"
        upgrade = next(a for a in answer["plan"]["actions"] if a["name"] == "traitlets")
        assert upgrade["kind"] == "upgrade"
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("not json", "not JSON"),
        ([1, 2], "JSON object"),
        ({"kernel": "python3"}, "requirements"),
        ({"kernel": "python3", "requirements": ["--index-url=https://evil.example"]}, "option"),
        ({"kernel": "python3", "requirements": ["x; $(touch /tmp/x)"]}, "$"),
        ({"requirements": ["plain"]}, "kernel"),
    ],
)
async def test_bad_plan_requests_are_400_with_a_reason(
    jp_fetch: Any, body: Any, words: str
) -> None:
    code, message = await post_error(jp_fetch, "plan", body)
    assert code == 400
    assert words.lower() in message.lower()


async def test_unknown_kernel_is_404(jp_fetch: Any) -> None:
    code, message = await post_error(
        jp_fetch, "plan", {"kernel": "nope", "requirements": ["plain"]}
    )
    assert code == 404 and "nope" in message


async def test_plan_needs_a_token(jp_fetch: Any) -> None:
    code, _ = await post_error(
        jp_fetch,
        "plan",
        {"kernel": "python3", "requirements": ["plain"]},
        headers={"Authorization": ""},
    )
    assert code == 403
