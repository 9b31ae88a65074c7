"""The REST API through a real Jupyter server, as the panel calls it."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError


async def get_json(jp_fetch: Any, *parts: str, **params: str) -> dict[str, Any]:
    response = await jp_fetch(*parts, params=params)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    payload: dict[str, Any] = json.loads(response.body)
    assert payload["schema"] == 1
    return payload


async def expect_error(jp_fetch: Any, *parts: str, status: int, **kwargs: Any) -> dict[str, Any]:
    """Assert an HTTP error's status and that its JSON body has a message and no traceback."""
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, **kwargs)
    assert info.value.code == status
    assert info.value.response is not None
    body: dict[str, Any] = json.loads(info.value.response.body or b"{}")
    assert "traceback" not in body
    return body


# -- kernels ----------------------------------------------------------------------------------


async def test_kernels_lists_the_native_kernel_with_its_python(jp_fetch: Any) -> None:
    # Given the server's own ipykernel kernelspec
    # When the panel asks for the kernels
    payload = await get_json(jp_fetch, "envhelper", "kernels")
    # Then python3 is there, resolved to the server's interpreter and probed
    kernels = {k["name"]: k for k in payload["kernels"]}
    native = kernels["python3"]
    assert native["state"] == "ok", native
    assert Path(native["interpreter"]).resolve() == Path(sys.executable).resolve()
    assert native["summary"]["python_version"] == platform.python_version()
    assert native["summary"]["package_count"] > 10


async def test_kernels_reports_non_python_and_missing_interpreters_as_states(
    jp_fetch: Any, write_kernelspec: Any, tmp_path: Path
) -> None:
    write_kernelspec("ir", ["R", "--slave", "-e", "IRkernel::main()", "{connection_file}"], "R")
    gone = tmp_path / "deleted-env" / "bin" / "python"
    write_kernelspec("gone", [str(gone), "-m", "ipykernel_launcher", "-f", "{connection_file}"])

    payload = await get_json(jp_fetch, "envhelper", "kernels")

    kernels = {k["name"]: k for k in payload["kernels"]}
    assert kernels["ir"]["state"] == "not-python"
    assert "R kernel" in kernels["ir"]["reason"]
    assert kernels["gone"]["state"] == "no-interpreter"
    assert str(gone) in kernels["gone"]["reason"]
    assert kernels["gone"]["summary"] is None


async def test_a_probe_that_fails_is_a_state_with_the_stderr_tail(
    jp_fetch: Any, write_kernelspec: Any, make_script: Any
) -> None:
    broken = make_script(
        "python-broken", "#!/bin/sh\necho 'cannot start: libpython missing' >&2\nexit 3\n"
    )
    write_kernelspec("broken", [str(broken), "-m", "ipykernel_launcher", "-f", "{connection_file}"])

    payload = await get_json(jp_fetch, "envhelper", "environment", kernel="broken")

    assert payload["state"] == "probe-failed"
    assert payload["environment"] is None
    assert "libpython missing" in payload["detail"]
    assert payload["reason"]


# -- environment ------------------------------------------------------------------------------


async def test_environment_of_a_kernelspec(jp_fetch: Any) -> None:
    payload = await get_json(jp_fetch, "envhelper", "environment", kernel="python3")

    assert payload["state"] == "ok"
    assert payload["kernel"]["name"] == "python3"
    assert payload["kernel"]["confirmed_by_kernel"] is False
    env = payload["environment"]
    assert env["python_version"] == platform.python_version()
    names = {d["name"].lower().replace("_", "-") for d in env["distributions"]}
    assert {"jupyter-server", "ipykernel", "packaging"} <= names


async def test_unknown_kernel_is_404_with_a_message(jp_fetch: Any) -> None:
    body = await expect_error(
        jp_fetch, "envhelper", "environment", status=404, params={"kernel": "no-such-kernel"}
    )
    assert "no-such-kernel" in body["message"]


async def test_unknown_running_kernel_is_404(jp_fetch: Any) -> None:
    body = await expect_error(
        jp_fetch, "envhelper", "environment", status=404, params={"kernel_id": "0000-dead"}
    )
    assert "0000-dead" in body["message"]


@pytest.mark.parametrize("params", [{}, {"kernel": "python3", "kernel_id": "abc"}])
async def test_environment_needs_exactly_one_target(jp_fetch: Any, params: dict[str, str]) -> None:
    body = await expect_error(jp_fetch, "envhelper", "environment", status=400, params=params)
    assert "kernel" in body["message"]


async def test_running_kernel_confirms_its_interpreter(jp_fetch: Any) -> None:
    # Given a running python3 kernel
    started = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
    kernel_id = json.loads(started.body)["id"]
    try:
        # When the environment is asked for by kernel id
        payload = await get_json(jp_fetch, "envhelper", "environment", kernel_id=kernel_id)
        # Then the kernel itself confirmed sys.executable
        kernel = payload["kernel"]
        assert kernel["kernel_id"] == kernel_id
        assert kernel["confirmed_by_kernel"] is True
        assert kernel["interpreter_source"] == "running kernel"
        assert Path(kernel["interpreter"]).resolve() == Path(sys.executable).resolve()
        assert kernel["mismatch"] is None
        assert payload["state"] == "ok"
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_running_kernel_wins_over_a_misleading_kernelspec(
    jp_fetch: Any, write_kernelspec: Any, make_script: Any, tmp_path: Path
) -> None:
    # Given a wrapper that activates one environment but starts another Python
    decoy = tmp_path / "decoy-env"
    (decoy / "bin").mkdir(parents=True)
    make_script("decoy-env/bin/python", "#!/bin/sh\nexit 1\n")
    make_script("decoy-env/bin/activate", f"VIRTUAL_ENV={decoy}\nexport VIRTUAL_ENV\n")
    wrapper = make_script(
        "start-kernel.sh",
        f'#!/bin/sh\n. {decoy}/bin/activate\nexec {sys.executable} -m ipykernel_launcher -f "$1"\n',
    )
    write_kernelspec("wrapped", ["/bin/sh", str(wrapper), "{connection_file}"])
    started = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "wrapped"}))
    kernel_id = json.loads(started.body)["id"]
    try:
        payload = await get_json(jp_fetch, "envhelper", "environment", kernel_id=kernel_id)
        kernel = payload["kernel"]
        # Then the spec's guess and the kernel's answer are both shown, and the kernel wins
        assert kernel["spec_interpreter"] == str(decoy / "bin" / "python")
        assert Path(kernel["interpreter"]).resolve() == Path(sys.executable).resolve()
        assert kernel["mismatch"] and "running kernel wins" in kernel["mismatch"]
        assert payload["state"] == "ok"
    finally:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


# -- security ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [("envhelper", "kernels"), ("envhelper", "environment")])
async def test_requests_without_a_token_are_refused(jp_fetch: Any, path: tuple[str, str]) -> None:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*path, headers={"Authorization": ""}, params={"kernel": "python3"})
    assert info.value.code == 403


async def test_requests_with_a_wrong_token_are_refused(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("envhelper", "kernels", headers={"Authorization": "token not-the-token"})
    assert info.value.code == 403
