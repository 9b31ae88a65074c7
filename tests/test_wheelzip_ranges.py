"""METADATA of a wheel read by HTTP ranges, for wheels whose central directory is
bigger than the first tail read: how many requests it takes, and that the bytes are
the member's. The ranges are served from the wheel's bytes as an HTTP server would
(suffix and closed ranges, clipped to the file)."""

from __future__ import annotations

import asyncio
import io
import random
import zipfile

from packaging.version import Version

from jupyter_envhelper.index.models import DistributionFile
from jupyter_envhelper.index.wheelzip import TAIL_BYTES, RangeAnswer, read_metadata_by_ranges

METADATA = b"Metadata-Version: 2.1\nName: many\nVersion: 1.0\nRequires-Dist: alpha\n\nlong text\n"


def _wheel(members: int, record_bytes: int, after_metadata: int = 0) -> bytes:
    """A wheel of ``members`` small modules, then METADATA, ``after_metadata`` bytes of
    incompressible members, WHEEL and a RECORD of about ``record_bytes``."""
    rng = random.Random(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as wheel:
        for i in range(members):
            wheel.writestr(f"many/sub/module_number_{i:05d}.py", f"x = {i}\n")
        wheel.writestr("many-1.0.dist-info/METADATA", METADATA)
        if after_metadata:
            wheel.writestr("many-1.0.dist-info/licenses/BLOB", rng.randbytes(after_metadata))
        wheel.writestr("many-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        wheel.writestr("many-1.0.dist-info/RECORD", rng.randbytes(record_bytes).hex())
    return out.getvalue()


def _read(data: bytes) -> tuple[bytes, list[str]]:
    asked: list[str] = []

    async def fetch(url: str, header: str) -> RangeAnswer:
        asked.append(header)
        spec = header.removeprefix("bytes=")
        first, _, last = spec.partition("-")
        if not first:
            start, end = max(0, len(data) - int(last)), len(data) - 1
        else:
            start, end = int(first), min(int(last), len(data) - 1)
        return RangeAnswer(data[start : end + 1], start, len(data), whole=False)

    file = DistributionFile(
        filename="many-1.0-py3-none-any.whl",
        url="https://files.example/many-1.0-py3-none-any.whl",
        index_url="https://files.example/simple/",
        project="many",
        version=Version("1.0"),
        kind="wheel",
    )
    found, whole = asyncio.run(read_metadata_by_ranges(fetch, file))
    assert not whole
    return found, asked


def test_a_big_directory_and_metadata_come_in_two_requests() -> None:
    # ~4000 members: a central directory of ~300 KB, far beyond the first 64 KB
    data = _wheel(4000, record_bytes=60_000)
    found, asked = _read(data)
    assert found.startswith(METADATA.split(b"\n\n")[0])
    assert b"Requires-Dist: alpha" in found
    assert asked[0] == f"bytes=-{TAIL_BYTES}"
    assert len(asked) == 2  # the directory's read brought METADATA along


def test_metadata_far_before_the_directory_takes_a_third_request() -> None:
    # 3 MB of incompressible members between METADATA and the directory: out of reach
    data = _wheel(4000, record_bytes=1_000, after_metadata=3_000_000)
    found, asked = _read(data)
    assert b"Name: many" in found
    assert len(asked) == 3


def test_a_small_wheel_is_one_request() -> None:
    found, asked = _read(_wheel(20, record_bytes=500))
    assert b"Version: 1.0" in found
    assert asked == [f"bytes=-{TAIL_BYTES}"]
