"""Property: whatever text reaches an installer backend, the argv is refused or exact.

For arbitrary unicode pins (and names to remove), ``install_step`` and
``uninstall_step`` of the uv and pip backends either raise ``BadRequest``, or build
the fixed argv: the backend's own options, then ``--``, then exactly the pins given,
each a PEP 508 ``name==version`` with a valid PEP 440 version (the name and version
exactly as given: what the Plan holds is what the installer gets) or
``name @ https://host/...`` (no whitespace, quotes or shell characters). Nothing the
user typed ever lands before ``--``, where it could be read as an option.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from jupyter_envhelper.errors import BadRequest
from jupyter_envhelper.installers import BackendOptions, CredentialStore, PipBackend, UvBackend
from jupyter_envhelper.installers.base import Backend
from tests.test_installers import fake_env

INDEX = "https://pkgs.example.com/simple/"
UV = "/opt/uv/bin/uv"
SHELL_OR_SPACE = set(" \t\r\n\"'\\$&;()*`{}|<>^")


def backends() -> list[Backend]:
    options = BackendOptions(credentials=CredentialStore(()), base_env={})
    return [UvBackend(fake_env(), UV, options), PipBackend(fake_env(), options)]


def fixed_prefix(backend: Backend, purpose: str) -> list[str]:
    """The argv a backend builds before ``--`` for a well-formed request."""
    if purpose == "install":
        return backend.install_step(["alpha==1.0"], [INDEX]).argv[:-1]
    return backend.uninstall_step(["alpha"]).argv[:-1]


def assert_canonical_pin(pin: str) -> None:
    assert pin == pin.strip() and pin.isascii()
    requirement = Requirement(pin)
    assert not requirement.extras and requirement.marker is None
    if requirement.url is not None:
        name, _, url = pin.partition(" @ ")
        assert name == requirement.name and url == requirement.url
        assert url.startswith(("https://", "http://"))
        assert not SHELL_OR_SPACE & set(url)
        return
    name, sep, version = pin.partition("==")
    assert sep and name == requirement.name
    (spec,) = requirement.specifier
    assert spec.operator == "==" and spec.version == version
    Version(version)  # raises for anything that is not PEP 440


# Pieces that make near misses likely: options, markers, URLs, look-alikes.
ATOMS = st.sampled_from(
    [
        "alpha", "Alpha_2", "a.b", "==", "1.0", "2.1.0+cpu", "1!2.0", " @ ", "https://",
        "h.example/x.whl", "--", "-e", "--index-url=", ";", " ", "\n", "$(id)", "`", "[x]",
        "==1.0", "@", "file:///etc", "\u00e9", "\u0430", "\x00", "1.0.post1", "v1", "01.0",
    ]
)  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(ATOMS, max_size=6).map("".join),
    st.tuples(st.text(max_size=10), st.sampled_from(["==", " @ "]), st.text(max_size=20)).map(
        "".join
    ),
)


def check_install(backend: Backend, pins: Sequence[str]) -> None:
    try:
        step = backend.install_step(list(pins), [INDEX])
    except BadRequest:
        return
    prefix = fixed_prefix(backend, "install")
    assert step.argv[: len(prefix)] == prefix
    assert step.argv[len(prefix) :] == list(pins)
    for pin in pins:
        assert_canonical_pin(pin)
    assert step.packages == tuple(
        canonicalize_name(p.split(" @ ")[0].partition("==")[0]) for p in pins
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT, min_size=1, max_size=4))
@example(["alpha==1.0", "beta==2.1.0+cpu"])
@example(["alpha @ https://h.example/alpha-1.0-py3-none-any.whl"])
@example(["alpha==1.0-foo!!"])
@example(["alpha==01.0"])
@example(["--index-url=https://evil.example/simple/"])
@example(["alpha==1.0 ; os_name == 'nt'"])
def test_install_argv_is_refused_or_exactly_the_fixed_shape(pins: list[str]) -> None:
    for backend in backends():
        check_install(backend, pins)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=4))
@example(["alpha", "Zope.Interface"])
@example(["-y"])
def test_uninstall_argv_is_refused_or_exactly_the_fixed_shape(names: list[str]) -> None:
    for backend in backends():
        try:
            step = backend.uninstall_step(list(names))
        except BadRequest:
            continue
        prefix = fixed_prefix(backend, "uninstall")
        assert step.argv[: len(prefix)] == prefix
        assert step.argv[len(prefix) :] == list(names)
        for name in names:
            assert Requirement(name).name == name and name.isascii()
