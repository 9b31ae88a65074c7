"""Direct-URL requirements (PEP 508 ``name @ URL``): planned from that wheel alone, on the
real loopback index; pins of the form ``name @ URL`` in the installers; one real install."""
# ruff: noqa: F811 - fixtures are imported from tests.conftest_envs

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_envhelper.environment import Distribution, Environment
from jupyter_envhelper.errors import BadRequest, IndexUnavailable
from jupyter_envhelper.index import IndexClient, IndexConfig
from jupyter_envhelper.installers import BackendOptions, CondaBackend, PipBackend, UvBackend
from jupyter_envhelper.installers.base import check_pin, pin_name
from jupyter_envhelper.jobs import JobConfig, JobRunner
from jupyter_envhelper.plan import Plan, ResolutionConflict
from jupyter_envhelper.probe import Prober
from jupyter_envhelper.resolver import plan_install
from tests.conftest_envs import VenvFactory, uv_command, venv_factory  # noqa: F401
from tests.indexserver import DistSpec, IndexServer, IndexServerFactory

LINUX = "manylinux_2_17_x86_64"
NATIVE_TAGS = "cp27-cp27mu-manylinux1_x86_64"

URL_DISTS: tuple[DistSpec, ...] = (
    DistSpec("depa", "1.0"),
    DistSpec("depa", "2.0"),
    DistSpec("depb", "1.0"),
    # The URL's project is on the index too, newer: the URL's version must still win.
    DistSpec(
        "urlpkg",
        "1.0",
        requires_dist=("depa>=2", 'depb; extra == "speed"'),
        extras=("speed",),
    ),
    DistSpec("urlpkg", "2.0"),
    DistSpec("needsnew", "1.0", requires_dist=("urlpkg>=2",)),
    # Requires-Python only in the metadata matters for a URL (the page is never read).
    DistSpec("futurepy", "1.0", requires_python=">=3.99"),
    DistSpec("native", "1.0", tags=NATIVE_TAGS),
    # No .metadata sibling: read by HTTP ranges.
    DistSpec("rangeonly", "1.0", padding=400_000, requires_dist=("depb",)),
)


@pytest.fixture(scope="module")
def index() -> Iterator[IndexServer]:
    with IndexServer(URL_DISTS, no_metadata=("rangeonly",)) as server:
        yield server


def wheel_of(server: IndexServer, name: str, version: str = "1.0") -> Any:
    return next(
        b
        for b in server.projects[name]
        if b.spec.version == version and b.filename.endswith(".whl")
    )


def url_of(server: IndexServer, name: str, version: str = "1.0") -> str:
    return server.file_url(wheel_of(server, name, version).filename)


def target(installed: dict[str, Distribution] | None = None) -> Environment:
    env = Environment.synthetic(python_version="3.11", platform=LINUX)
    for dist in (installed or {}).values():
        env.distributions[dist.canonical_name] = dist
    return env


def plan(
    server: IndexServer, requested: list[str], env: Environment | None = None, **options: Any
) -> Plan:
    options.setdefault("allow_direct_urls", True)

    async def run() -> Plan:
        config = IndexConfig(index_url=server.index_url)
        async with IndexClient(config, use_netrc=False) as client:
            return await plan_install(requested, env or target(), client, **options)

    return asyncio.run(run())


def conflict(server: IndexServer, requested: list[str], **options: Any) -> Any:
    with pytest.raises(ResolutionConflict) as caught:
        plan(server, requested, **options)
    return caught.value.conflict


# -- planning ----------------------------------------------------------------------------


def test_url_plans_that_wheel_and_its_dependencies_from_the_index(index: IndexServer) -> None:
    url = url_of(index, "urlpkg")
    index.reset_stats()
    result = plan(index, [f"urlpkg @ {url}"])
    assert {a.canonical_name: a.version for a in result.changes} == {
        "urlpkg": "1.0",  # the URL's version, though the index has 2.0
        "depa": "2.0",
    }
    action = result.action_for("urlpkg")
    assert action is not None and action.requested and action.kind == "install"
    assert action.dependencies == ("depa>=2",)
    file = action.file
    assert file is not None and file.direct_url and file.kind == "wheel"
    assert file.url == url and file.index_url == "" and file.install_url == url
    assert file.filename == "urlpkg-1.0-py3-none-any.whl"
    assert action.pin == f"urlpkg @ {url}"
    depa = result.action_for("depa")
    assert depa is not None and depa.file is not None and not depa.file.direct_url
    assert depa.required_by == ("urlpkg 1.0 (depa>=2)",)
    assert sorted(result.pins) == sorted([f"urlpkg @ {url}", "depa==2.0"])
    assert result.requirements == [f"urlpkg @ {url}"]
    doc = result.to_json()["actions"][0]["file"]
    assert doc["direct_url"] is True and "install_url" not in doc
    # Metadata from the PEP 658 sibling: the wheel itself and urlpkg's page are not read.
    assert index.path_stats(f"/files/{file.filename}.metadata").requests == 1
    assert index.file_stats(file.filename).requests == 0
    assert index.path_stats("/simple/urlpkg/").requests == 0


def test_url_with_extras(index: IndexServer) -> None:
    url = url_of(index, "urlpkg")
    result = plan(index, [f"urlpkg[speed] @ {url}"])
    assert {a.canonical_name: a.version for a in result.changes} == {
        "urlpkg": "1.0",
        "depa": "2.0",
        "depb": "1.0",
    }
    action = result.action_for("urlpkg")
    assert action is not None and action.extras == ("speed",) and action.pin == f"urlpkg @ {url}"


def test_metadata_by_ranges_when_there_is_no_metadata_file(index: IndexServer) -> None:
    built = wheel_of(index, "rangeonly")
    url = index.file_url(built.filename)
    index.reset_stats()
    result = plan(index, [f"rangeonly @ {url}"])
    assert {a.canonical_name for a in result.changes} == {"rangeonly", "depb"}
    action = result.action_for("rangeonly")
    assert action is not None and action.file is not None
    assert action.file.size == len(built.data)  # from the range answers' Content-Range
    assert result.stats["full_downloads"] == 0
    assert index.path_stats(f"/files/{built.filename}.metadata").statuses == [404]
    stats = index.file_stats(built.filename)
    assert stats.requests > 0 and stats.full_downloads == 0
    assert stats.bytes < len(built.data) // 4


def test_sha256_fragment_becomes_the_file_hash_and_reaches_the_pin(index: IndexServer) -> None:
    built = wheel_of(index, "urlpkg")
    url = f"{index.file_url(built.filename)}#sha256={built.sha256}"
    action = plan(index, [f"urlpkg @ {url}"]).action_for("urlpkg")
    assert action is not None and action.file is not None
    assert action.file.sha256 == built.sha256
    assert action.file.url == index.file_url(built.filename)  # shown without the fragment
    assert action.pin == f"urlpkg @ {url}"  # the installer checks it
    with pytest.raises(BadRequest, match="sha256"):
        plan(index, [f"urlpkg @ {index.file_url(built.filename)}#sha256=abc"])


def test_refused_when_direct_urls_are_off(index: IndexServer) -> None:
    with pytest.raises(BadRequest, match="turned off"):
        plan(index, [f"urlpkg @ {url_of(index, 'urlpkg')}"], allow_direct_urls=False)


def test_name_must_be_the_wheels_project(index: IndexServer) -> None:
    with pytest.raises(BadRequest, match="of the project urlpkg, not otherpkg"):
        plan(index, [f"otherpkg @ {url_of(index, 'urlpkg')}"])
    # Spelling differences are fine: names are compared canonically.
    result = plan(index, [f"UrlPkg @ {url_of(index, 'urlpkg')}"])
    action = result.action_for("urlpkg")
    assert action is not None and action.name == "UrlPkg" and action.pin is not None
    assert action.pin.startswith("UrlPkg @ http")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://example.org/pkgs/urlpkg-1.0.tar.gz", "source distribution"),
        ("https://example.org/pkgs/urlpkg-1.0.zip", "source distribution"),
        ("git+https://github.com/example/urlpkg.git@v1.0", "git repository"),
        ("file:///tmp/wheels/urlpkg-1.0-py3-none-any.whl", "local file"),
        ("https://example.org/pkgs/urlpkg-1.0.whl", "not a valid wheel file name"),
        ("https://example.org/pkgs/urlpkg/", "does not end in a wheel"),
    ],
)
def test_only_http_wheel_urls_can_be_planned(index: IndexServer, url: str, why: str) -> None:
    with pytest.raises(BadRequest) as caught:
        plan(index, [f"urlpkg @ {url}"])
    message = caught.value.message
    assert why in message, message
    assert "Only wheel (.whl) URLs over http or https can be planned" in message
    assert "give the wheel's URL or the package name" in message


def test_two_urls_for_one_project_are_refused(index: IndexServer) -> None:
    one, two = url_of(index, "urlpkg"), url_of(index, "urlpkg", "2.0")
    with pytest.raises(BadRequest, match="two URLs"):
        plan(index, [f"urlpkg @ {one}", f"urlpkg @ {two}"])


def test_incompatible_tags_are_a_conflict_in_words(index: IndexServer) -> None:
    url = url_of(index, "native")
    found = conflict(index, [f"native @ {url}"])
    assert [c.kind for c in found.causes] == ["no-compatible-file"]
    message = found.message
    assert "CPython 2.7" in message and NATIVE_TAGS in message  # the wheel's
    assert "CPython 3.11" in message and "cp311-cp311-manylinux_2_17_x86_64" in message
    assert "py3-none-any" in message and "Give the URL of a wheel built for it" in message
    assert found.ways_out == []


def test_requires_python_of_the_metadata_is_honoured(index: IndexServer) -> None:
    found = conflict(index, [f"futurepy @ {url_of(index, 'futurepy')}"])
    assert [c.kind for c in found.causes] == ["requires-python"]
    assert "futurepy 1.0 needs Python >=3.99" in found.message
    assert "3.11" in found.message


def test_a_transitive_requirement_the_url_does_not_satisfy_is_a_conflict(
    index: IndexServer,
) -> None:
    url = url_of(index, "urlpkg")
    found = conflict(index, [f"urlpkg @ {url}", "needsnew"])
    message = found.message
    assert f"You asked for urlpkg @ {url}" in message, message
    assert "needsnew 1.0 needs urlpkg>=2" in message, message
    assert "holds version 1.0" in message and "no other version of urlpkg" in message
    assert {c.required_by for c in found.causes} == {None, "needsnew 1.0"}
    # Never a way out that swaps the user's file for an index version.
    assert all("urlpkg" not in str(w.action) for w in found.ways_out)


def test_a_root_specifier_the_url_does_not_satisfy_is_a_conflict(index: IndexServer) -> None:
    found = conflict(index, [f"urlpkg @ {url_of(index, 'urlpkg')}", "urlpkg>=2"])
    assert "urlpkg>=2" in found.message and "holds version 1.0" in found.message


def test_same_version_installed(index: IndexServer) -> None:
    url = url_of(index, "urlpkg")
    depa = Distribution(name="depa", version="2.0")
    from_index = Distribution(name="urlpkg", version="1.0", requires=("depa>=2",))
    result = plan(index, [f"urlpkg @ {url}"], target({"urlpkg": from_index, "depa": depa}))
    action = result.action_for("urlpkg")
    assert action is not None and action.kind == "install" and action.installed_version == "1.0"
    assert action.pin == f"urlpkg @ {url}"
    assert any("not from" in w and "in its place" in w for w in result.warnings)
    from_url = Distribution(name="urlpkg", version="1.0", direct_url={"url": url})
    result = plan(index, [f"urlpkg @ {url}"], target({"urlpkg": from_url, "depa": depa}))
    action = result.action_for("urlpkg")
    assert action is not None and action.kind == "keep" and action.pin is None


def test_credentials_in_the_url_are_used_and_never_shown(
    index: IndexServer, index_server: IndexServerFactory
) -> None:
    private = index_server([DistSpec("privpkg", "1.0", requires_dist=("depb",))], auth=("u", "pw9"))
    built = wheel_of(private, "privpkg")
    secret_url = f"http://u:pw9@127.0.0.1:{private.port}/files/{built.filename}"
    result = plan(index, [f"privpkg @ {secret_url}"])  # the index itself needs no login
    assert {a.canonical_name for a in result.changes} == {"privpkg", "depb"}
    action = result.action_for("privpkg")
    assert action is not None and action.file is not None
    assert action.pin == f"privpkg @ {secret_url}"  # for the installer only
    assert "pw9" not in json.dumps(result.to_json()) and "pw9" not in repr(result)
    assert action.file.url == private.file_url(built.filename)
    assert result.requirements == [
        f"privpkg @ http://***@127.0.0.1:{private.port}/files/{built.filename}"
    ]
    # Without the credentials the wheel cannot be read: an error about that URL.
    with pytest.raises(IndexUnavailable, match="the wheel could not be read"):
        plan(index, [f"privpkg @ {private.file_url(built.filename)}"])


def test_unreadable_url_is_an_error_about_that_url(index: IndexServer) -> None:
    missing = index.file_url("ghost-1.0-py3-none-any.whl")
    with pytest.raises(IndexUnavailable, match=r"ghost @ .*the wheel could not be read"):
        plan(index, [f"ghost @ {missing}"])


# -- installers --------------------------------------------------------------------------

SECRET_WHEEL = "https://user:secret@pkgs.example.com/w/foo-1.0-py3-none-any.whl#sha256=" + "a" * 64


def fake_env(kind: str = "venv") -> Environment:
    env = Environment.synthetic("3.11", "manylinux_2_28_x86_64")
    env.data["interpreter"]["executable"] = "/envs/demo/bin/python"
    env.data["paths"] = {"prefix": "/envs/demo"}
    env.data["environment"] = {"kind": kind}
    return env


def test_check_pin_accepts_exactly_name_at_http_url() -> None:
    for pin in (
        "foo @ https://host.example/foo-1.0-py3-none-any.whl",
        "foo @ http://127.0.0.1:8080/files/foo-1.0-py3-none-any.whl",
        "torch @ https://x.example/torch-2.1.0%2Bcpu-cp311-cp311-linux_x86_64.whl",
        "foo @ https://h.example/foo-1.0+local-py3-none-any.whl?token=abc",
        SECRET_WHEEL.replace("https://user", "foo @ https://user"),
        "alpha==1.0",
    ):
        assert check_pin(pin) == pin
    for bad in (
        "foo @ https://x y",
        "foo @ file:///x",
        "foo @ git+https://github.com/x/foo",
        "foo @ ftp://host/foo-1.0-py3-none-any.whl",
        "foo @ https://",
        "foo @ https://host/foo.whl;rm -rf ~",
        "foo @ https://host/$(id).whl",
        "foo @ https://host/a.whl&b",
        "foo @ https://host/a.whl'",
        "foo @ https://host/a.whl\n",
        "foo@https://host/a.whl",
        "foo  @ https://host/a.whl",
        "-e @ https://host/a.whl",
        "foo>=1 @ https://host/a.whl",
        "alpha==1.0\n",
    ):
        with pytest.raises(BadRequest):
            check_pin(bad)
    with pytest.raises(BadRequest) as caught:
        check_pin("foo @ https://user:secret@host/x y")
    assert "secret" not in caught.value.message
    assert pin_name("Foo_Bar @ https://h/foo_bar-1.0-py3-none-any.whl") == "foo-bar"


def test_uv_gets_the_url_pin_and_shows_it_redacted() -> None:
    pin = f"foo @ {SECRET_WHEEL}"
    step = UvBackend(fake_env(), "/opt/uv/bin/uv", BackendOptions(base_env={})).install_step(
        ["alpha==1.0", pin], ["https://pkgs.example.com/simple/"]
    )
    assert step.argv[-3:] == ["--", "alpha==1.0", pin]  # un-redacted for the process
    assert "--no-deps" in step.argv
    assert step.packages == ("alpha", "foo")
    shown = step.display_argv
    assert "secret" not in " ".join(shown) and "secret" not in repr(step)
    assert shown[-1] == pin.replace("user:secret@", "***@")


def test_pip_gets_the_url_pin_and_conda_refuses_it() -> None:
    pin = f"foo @ {SECRET_WHEEL}"
    step = PipBackend(fake_env(), BackendOptions(base_env={})).install_step([pin], [])
    assert step.argv[-2:] == ["--", pin] and step.packages == ("foo",)
    assert "secret" not in " ".join(step.display_argv)
    conda = CondaBackend(fake_env("conda"), "/opt/conda/bin/conda", BackendOptions(base_env={}))
    with pytest.raises(BadRequest, match="conda cannot install foo from a URL"):
        conda.install_step(["alpha==1.0", pin], [])
    assert conda.install_step(["alpha==1.0"], []).argv[-2:] == ["--", "alpha==1.0"]


# -- a real install ----------------------------------------------------------------------


@pytest.mark.slow
async def test_real_install_of_a_url_wheel_with_uv(
    tmp_path: Path, venv_factory: VenvFactory, index_server: IndexServerFactory
) -> None:
    if uv_command() is None:
        pytest.skip("uv is not available")
    server = index_server(URL_DISTS, no_metadata=("rangeonly",))
    python = venv_factory("url-wheel-uv", tool="uv")
    config = JobConfig(
        history_path=tmp_path / "h.sqlite",
        base_env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "uvc")},
    )
    runner = JobRunner(config, prober=Prober(tmp_path / "cache"))
    env = await asyncio.to_thread(runner.prober.probe_sync, str(python))
    built = wheel_of(server, "urlpkg")
    url = f"{server.file_url(built.filename)}#sha256={built.sha256}"
    async with IndexClient(IndexConfig(index_url=server.index_url), use_netrc=False) as client:
        result = await plan_install([f"urlpkg @ {url}"], env, client, allow_direct_urls=True)
    assert f"urlpkg @ {url}" in result.pins
    job = await runner.submit(result, env, request={"requirements": ["urlpkg @ ..."]})
    await asyncio.wait_for(job.wait(), 120)
    assert job.state == "succeeded", job.to_json()["outcome"]
    assert job.backend == "uv"
    after = await asyncio.to_thread(runner.prober.probe_sync, str(python), refresh=True)
    installed = after.installed("urlpkg")
    assert installed is not None and installed.version == "1.0"
    assert (installed.direct_url or {}).get("url") == server.file_url(built.filename)
    depa = after.installed("depa")
    assert depa is not None and depa.version == "2.0"
    assert job.outcome is not None and not job.outcome.differences
    # Planned again, the wheel from that URL is what is there: nothing to do.
    async with IndexClient(IndexConfig(index_url=server.index_url), use_netrc=False) as client:
        again = await plan_install([f"urlpkg @ {url}"], after, client, allow_direct_urls=True)
    assert again.changes == []

    # A #sha256= that does not match the file: the installer refuses, nothing changes.
    rangeonly = wheel_of(server, "rangeonly")
    wrong = f"{server.file_url(rangeonly.filename)}#sha256={'0' * 64}"
    async with IndexClient(IndexConfig(index_url=server.index_url), use_netrc=False) as client:
        bad = await plan_install([f"rangeonly @ {wrong}"], after, client, allow_direct_urls=True)
    action = bad.action_for("rangeonly")
    assert action is not None and action.file is not None and action.file.sha256 == "0" * 64
    job = await runner.submit(bad, after, request={"requirements": ["rangeonly @ ..."]})
    await asyncio.wait_for(job.wait(), 120)
    assert job.state == "failed"
    assert "hash mismatch" in json.dumps(job.to_json(with_events=True)).lower()
    final = await asyncio.to_thread(runner.prober.probe_sync, str(python), refresh=True)
    assert final.installed("rangeonly") is None
