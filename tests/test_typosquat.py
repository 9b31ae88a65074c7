"""Typo-squat warnings: lookalikes of popular projects are flagged, popular ones never."""

from __future__ import annotations

import pytest

from jupyter_envhelper.search import (
    PopularTable,
    TyposquatChecker,
    typosquat_warning,
)
from jupyter_envhelper.search.typosquat import describe, shape


@pytest.mark.parametrize(
    ("name", "suggestion", "reason"),
    [
        ("reqeusts", "requests", "swapped-letters"),
        ("nuumpy", "numpy", "repeated-letter"),
        ("python-dteutil", "python-dateutil", "missing-letter"),
        ("colourama", "colorama", "spelling"),
        ("mumpy", "numpy", "keyboard-neighbour"),
        ("nurnpy", "numpy", "lookalike"),
        ("reqests", "requests", "missing-letter"),
        ("requestss", "requests", "repeated-letter"),
        ("dateutil-python", "python-dateutil", "word-order"),
        ("python-requests", "requests", "prefix"),
        ("scikitlearn", "scikit-learn", "separators"),
        ("matplotlb", "matplotlib", "missing-letter"),
        ("djnago", "django", "swapped-letters"),
        ("pandas0", "pandas", "extra-letter"),
        ("b0to3", "boto3", "lookalike"),
        ("cv2", "opencv-python", "import-name"),
    ],
)
def test_lookalikes_of_popular_projects_are_flagged(
    name: str, suggestion: str, reason: str
) -> None:
    warning = typosquat_warning(name)
    assert warning is not None, name
    assert warning.canonical_suggestion == suggestion
    assert warning.reason == reason
    assert warning.suggestion_rank >= 1
    assert f"Did you mean {warning.suggestion}?" in warning.message
    assert warning.to_json()["suggestion"] == warning.suggestion


@pytest.mark.parametrize(
    "name",
    [
        # popular projects themselves, including popular near-neighbours of each other
        "numpy", "requests", "pandas", "pyyaml", "PyYAML", "jinja2", "Jinja2", "scipy",
        "scapy", "colorama", "python-dateutil", "python_dateutil", "boto3", "botocore",
        "six", "attrs", "pydantic", "torch", "tensorflow", "keras",
        # names far from any popular project
        "my-very-own-thing", "zzzz", "ab",
    ],
)  # fmt: skip
def test_popular_or_unrelated_names_are_not_flagged(name: str) -> None:
    assert typosquat_warning(name) is None


def test_installed_names_are_trusted() -> None:
    assert typosquat_warning("reqeusts", installed={"reqeusts": "1.0"}) is None
    assert typosquat_warning("nuumpy", installed=["NuUmpy"]) is None


def test_custom_table_and_short_targets() -> None:
    table = PopularTable.from_rows([["requests"], ["six"], ["attrs"]])
    checker = TyposquatChecker(table)
    warning = typosquat_warning("requestz", checker=checker)
    assert warning is not None and warning.suggestion == "requests"
    # Short names: only the likeliest slips count, not any one-letter change.
    assert typosquat_warning("sax", checker=checker) is None  # 'a' is not next to 'i'
    assert typosquat_warning("isx", checker=checker) is not None  # swapped
    assert typosquat_warning("sixx", checker=checker) is not None  # repeated


def test_describe_and_shape() -> None:
    assert describe("reqeusts", "requests")[0] == "swapped-letters"
    assert describe("colourama", "colorama")[0] == "spelling"
    assert shape("python-dateutil") == shape("dateutil-python")
    assert shape("rnatplotlib") == shape("matplotlib")
    assert shape("nuumpy") == shape("numpy")
