"""compatibility.py, config.py and redact_url: pure functions, no server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from packaging import tags
from packaging.specifiers import SpecifierSet
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from jupyter_envhelper.index import (
    PYPI_SIMPLE,
    DistributionFile,
    check_compatibility,
    redact_url,
    resolve_index_config,
)


@dataclass
class Target:
    python_version: str
    platforms: list[str] = field(default_factory=lambda: ["manylinux_2_17_x86_64"])

    def supported_tags(self) -> Sequence[tags.Tag]:
        major, minor = (int(p) for p in self.python_version.split(".")[:2])
        linux = []
        for platform in self.platforms:  # expand manylinux_2_17 to every older glibc
            if platform.startswith("manylinux_2_"):
                top, arch = int(platform.split("_")[2]), platform.split("_", 3)[3]
                legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
                for minor_glibc in range(top, 4, -1):
                    linux.append(f"manylinux_2_{minor_glibc}_{arch}")
                    if minor_glibc in legacy:  # packaging.tags adds these aliases too
                        linux.append(f"{legacy[minor_glibc]}_{arch}")
            else:
                linux.append(platform)
        return [
            *tags.cpython_tags((major, minor), platforms=linux),
            *tags.compatible_tags((major, minor), platforms=linux),
        ]


def wheel(filename: str, requires_python: str | None = None) -> DistributionFile:
    name, version, _b, file_tags = parse_wheel_filename(filename)
    return DistributionFile(
        filename=filename,
        url=f"http://x/{filename}",
        index_url="http://x/",
        project=name,
        version=version,
        kind="wheel",
        tags=file_tags,
        requires_python=SpecifierSet(requires_python) if requires_python else None,
        requires_python_text=requires_python,
    )


@pytest.mark.parametrize(
    ("filename", "requires_python", "python", "platforms", "expected"),
    [
        (
            "a-1.0-py3-none-any.whl",
            ">=3.10",
            "3.9",
            None,
            "needs Python >=3.10; this kernel has 3.9",
        ),
        (
            "a-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            None,
            "3.11",
            None,
            "built for CPython 3.12",
        ),
        (
            "a-1.0-cp311-cp311-macosx_11_0_arm64.whl",
            None,
            "3.11",
            None,
            "built for macOS arm64 only",
        ),
        (
            "a-1.0-cp311-cp311-manylinux_2_28_x86_64.whl",
            None,
            "3.11",
            None,
            "needs glibc 2.28 (manylinux_2_28); this system has 2.17",
        ),
        ("a-1.0-cp311-cp311-win_amd64.whl", None, "3.11", None, "built for Windows x86-64 only"),
    ],
)
def test_incompatible_reasons(
    filename: str,
    requires_python: str | None,
    python: str,
    platforms: list[str] | None,
    expected: str,
) -> None:
    target = Target(python, platforms or ["manylinux_2_17_x86_64"])
    answer = check_compatibility(wheel(filename, requires_python), target)
    assert answer.status == "incompatible"
    assert answer.reason == expected


def test_compatible_wheels_are_ranked() -> None:
    target = Target("3.11")
    native = check_compatibility(wheel("a-1.0-cp311-cp311-manylinux2014_x86_64.whl"), target)
    pure = check_compatibility(wheel("a-1.0-py3-none-any.whl"), target)
    assert native.status == pure.status == "compatible"
    assert native.rank is not None and pure.rank is not None and native.rank < pure.rank


def test_sdist_needs_build() -> None:
    sdist = DistributionFile(
        filename="a-1.0.tar.gz",
        url="http://x/a-1.0.tar.gz",
        index_url="http://x/",
        project="a",
        version=Version("1.0"),
        kind="sdist",
    )
    assert check_compatibility(sdist, Target("3.11")).status == "needs-build"


def test_redact_url() -> None:
    assert redact_url("https://user:pw@host/simple/") == "https://***@host/simple/"
    assert (
        redact_url("see https://tok@h/x and http://a:b@c/")
        == "see https://***@h/x and http://***@c/"
    )
    assert redact_url("https://host/simple/") == "https://host/simple/"


def test_config_precedence() -> None:
    assert resolve_index_config(None).index_url == PYPI_SIMPLE
    probe = {
        "pip": {"index_url": "https://mirror.example/simple", "extra_index_urls": ["https://x/s/"]},
        "uv": {"index_url": "https://uv.example/simple/"},
    }
    from_pip = resolve_index_config(probe)
    assert from_pip.index_url == "https://mirror.example/simple/"
    assert from_pip.search_order == ("https://x/s/", "https://mirror.example/simple/")
    assert from_pip.source == "probe:pip"
    assert resolve_index_config(probe, installer="uv").index_url == "https://uv.example/simple/"
    explicit = resolve_index_config(probe, index_url="https://conf.example/simple/")
    assert explicit.index_url == "https://conf.example/simple/" and explicit.source == "config"
    assert resolve_index_config({"pip": {}}).index_url == PYPI_SIMPLE  # missing keys are fine


def test_config_keeps_local_indexes_and_hides_credentials() -> None:
    """file:// indexes and find-links folders are read from disk now (index/local.py);
    find-links pages over HTTP are not, and say so."""
    config = resolve_index_config(
        {
            "pip": {
                "index_url": "https://u:topsecret@corp/simple/",
                "extra_index_urls": ["file:///w"],
                "find_links": ["/opt/wheels", "https://u:topsecret@corp/links/"],
            }
        }
    )
    assert config.extra_index_urls == ("file:///w/",)
    assert config.find_links == ("/opt/wheels",)
    assert any("find-links" in w and "corp/links" in w for w in config.warnings)
    assert "topsecret" not in repr(config) and "topsecret" not in str(config.to_json())
    assert "topsecret" not in repr(config.installer) and "topsecret" not in " ".join(
        config.warnings
    )
    with pytest.raises(ValueError, match="strategy"):
        resolve_index_config(None, strategy="random")  # type: ignore[arg-type]
