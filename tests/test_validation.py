"""Requirement strings are checked before anything runs; attacks get a 4xx-shaped error."""

from __future__ import annotations

import pytest

from jupyter_envhelper.errors import BadRequest
from jupyter_envhelper.validation import parse_requirement, parse_requirements


@pytest.mark.parametrize(
    "text",
    [
        "pandas",
        "pandas>=2,<3",
        "scikit-learn[alldeps]==1.5.*",
        'numpy; python_version < "3.12"',
        "torch==2.4.0+cpu",
        "  requests  ",
    ],
)
def test_ordinary_requirements_pass(text: str) -> None:
    assert parse_requirement(text).name


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("--index-url=https://evil.example/simple", "option"),
        ("-r /etc/passwd", "option"),
        ("-e .", "option"),
        ("pandas; rm -rf /", "not a valid requirement"),
        ("$(touch x)", "$"),
        ("`touch x`", "`"),
        ("../../x", "path"),
        ("/etc/passwd", "path"),
        ("pandas\n--index-url=https://evil.example", "control"),
        ("ｐａｎｄａｓ", "non-ASCII"),
        ("foo @ https://evil.example/foo.whl", "URL"),
        ("git+https://evil.example/repo", "URL"),
        ("", "empty"),
        ("x" * 300, "longer"),
        ("pandas>>2", "not a valid requirement"),
    ],
)
def test_dangerous_or_broken_input_is_refused_with_a_reason(text: str, words: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_requirement(text)
    assert words.lower() in info.value.message.lower()


def test_fullwidth_lookalike_suggests_the_ascii_name() -> None:
    with pytest.raises(BadRequest) as info:
        parse_requirement("ｐａｎｄａｓ")
    assert "'pandas'" in info.value.message


def test_urls_pass_only_when_allowed() -> None:
    requirement = parse_requirement(
        "foo @ https://example.org/foo-1.0-py3-none-any.whl", allow_urls=True
    )
    assert requirement.url


def test_lists_are_bounded() -> None:
    with pytest.raises(BadRequest):
        parse_requirements([])
    with pytest.raises(BadRequest):
        parse_requirements(["a"] * 51)
    with pytest.raises(BadRequest):
        parse_requirements(["ok", 42])
    assert [r.name for r in parse_requirements(["a", "b>1"])] == ["a", "b"]
