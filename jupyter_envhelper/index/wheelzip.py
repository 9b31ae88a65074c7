"""Reading one member of a remote wheel with HTTP range requests (as uv does).

1. A suffix range (``bytes=-65536``) fetches the tail: the end-of-central-directory
   record, usually the whole central directory and often METADATA itself, since
   wheel builders write ``.dist-info`` last.
2. If the central directory starts before the tail, one range fetches it, with as
   many bytes before it as it is long (at least 64 KB, at most 2 MB): METADATA is
   written just before the last few members (RECORD, about as long as the directory).
3. If the METADATA member is not in bytes already held, one range fetches its local
   header and data. Then it is inflated.

So a wheel of any size costs one to three small requests (a big wheel two, mostly). A
server that ignores ranges answers 200 with the whole file: that still works, and the
caller counts it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .metadata import MAX_METADATA_BYTES, is_metadata_member, pick_metadata_member
from .models import DistributionFile

TAIL_BYTES = 64 * 1024
_MAX_LEAD = 2 * 1024 * 1024  # read before a central directory that the tail missed
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_MASK32 = 0xFFFFFFFF


class ZipReadError(Exception):
    """The remote file is not a zip we can read by ranges."""


@dataclass
class RangeAnswer:
    """A range request's result: ``start`` is the offset of ``data`` in the file;
    ``whole`` is True when the server ignored the range and sent the entire file."""

    data: bytes
    start: int
    total: int
    whole: bool


# fetch(url, range_header) -> RangeAnswer
RangeFetch = Callable[[str, str], Awaitable[RangeAnswer]]


@dataclass
class _Entry:
    name: str
    method: int
    compressed_size: int
    size: int
    local_offset: int
    extra_len: int


class _Window:
    """Bytes held so far, addressed by file offset."""

    def __init__(self, answer: RangeAnswer) -> None:
        self.pieces = [(answer.start, answer.data)]
        self.whole = answer.whole

    def add(self, answer: RangeAnswer) -> None:
        self.pieces.append((answer.start, answer.data))
        self.whole = self.whole or answer.whole

    def get(self, start: int, length: int) -> bytes | None:
        for offset, data in self.pieces:
            if offset <= start and start + length <= offset + len(data):
                return data[start - offset : start - offset + length]
        return None


def _find_directory(window: _Window, tail: RangeAnswer) -> tuple[int, int]:
    data = tail.data
    at = data.rfind(_EOCD)
    if at < 0 or len(data) - at < 22:
        raise ZipReadError("no end-of-central-directory record in the last bytes")
    _sig, _d, _cd, _n1, _n2, cd_size, cd_offset, _clen = struct.unpack_from("<4sHHHHIIH", data, at)
    if _MASK32 in (cd_offset, cd_size):
        loc = at - 20
        if loc < 0 or data[loc : loc + 4] != _EOCD64_LOCATOR:
            raise ZipReadError("zip64 locator not found")
        (eocd64_offset,) = struct.unpack_from("<Q", data, loc + 8)
        record = window.get(eocd64_offset, 56)
        if record is None or record[:4] != _EOCD64:
            raise ZipReadError("zip64 end-of-central-directory record out of reach")
        cd_size, cd_offset = struct.unpack_from("<QQ", record, 40)
    return cd_offset, cd_size


def _zip64_values(extra: bytes, wanted: int) -> list[int]:
    pos = 0
    while pos + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, pos)
        if header_id == 0x0001:
            count = min(wanted, size // 8)
            return list(struct.unpack_from(f"<{count}Q", extra, pos + 4))
        pos += 4 + size
    return []


def _entry_at(directory: bytes, pos: int) -> tuple[_Entry, int]:
    """The central directory record at ``pos``, and where the next one starts."""
    fields = struct.unpack_from("<4sHHHHHHIIIHHHHHII", directory, pos)
    method, csize, usize = fields[4], fields[8], fields[9]
    name_len, extra_len, comment_len, offset = fields[10], fields[11], fields[12], fields[16]
    name = directory[pos + 46 : pos + 46 + name_len].decode("utf-8", errors="replace")
    extra = directory[pos + 46 + name_len : pos + 46 + name_len + extra_len]
    big = [v for v in (usize, csize, offset) if v == _MASK32]
    if big:
        values = iter(_zip64_values(extra, len(big)))
        usize = next(values, usize) if usize == _MASK32 else usize
        csize = next(values, csize) if csize == _MASK32 else csize
        offset = next(values, offset) if offset == _MASK32 else offset
    entry = _Entry(name, method, csize, usize, offset, extra_len)
    return entry, pos + 46 + name_len + extra_len + comment_len


def _parse_directory(directory: bytes) -> list[_Entry]:
    entries = []
    pos = 0
    while pos + 46 <= len(directory) and directory[pos : pos + 4] == _CENTRAL:
        entry, pos = _entry_at(directory, pos)
        entries.append(entry)
    if not entries:
        raise ZipReadError("empty or unreadable central directory")
    return entries


_MEMBER = b".dist-info/METADATA"
_LONGEST_NAME = 4096  # how far before a match its record may start


def _metadata_entries(directory: bytes) -> list[_Entry] | None:
    """The ``*.dist-info/METADATA`` records of a central directory, in its order,
    found by their names instead of by reading every record (a big wheel has tens
    of thousands); None when a match does not sit in a record as expected (then the
    whole directory is read)."""
    found = []
    at = directory.find(_MEMBER)
    while at >= 0:
        end = at + len(_MEMBER)
        # the record whose name ends here starts 46 bytes before its name
        start = directory.rfind(_CENTRAL, max(0, at - 46 - _LONGEST_NAME), at - 45)
        while start >= 0:
            (name_len,) = struct.unpack_from("<H", directory, start + 28)
            if start + 46 + name_len == end:
                break
            start = directory.rfind(_CENTRAL, max(0, at - 46 - _LONGEST_NAME), start)
        if start < 0:
            return None  # not the end of a record's name: read them all
        entry, _next = _entry_at(directory, start)
        if is_metadata_member(entry.name):
            found.append(entry)
        at = directory.find(_MEMBER, end)
    return found


def _inflate(entry: _Entry, raw: bytes) -> bytes:
    if entry.method == 0:
        return raw
    if entry.method == 8:
        try:
            return _inflate_headers(raw)
        except zlib.error as exc:
            raise ZipReadError(f"METADATA does not inflate: {exc}") from None
    raise ZipReadError(f"METADATA uses compression method {entry.method}")


# A blank line (any mix of line ends) ends the header fields, all that is read of
# METADATA; what follows is the long description, often most of it.
_BLANK = (b"\n\n", b"\r\r", b"\n\r")
_STEP = 16 * 1024


def _inflate_headers(raw: bytes) -> bytes:
    """Inflate ``raw`` up to the end of its header fields (at most MAX_METADATA_BYTES):
    the same bytes as inflating it all, cut after the first blank line."""
    inflater = zlib.decompressobj(-15)
    pieces: list[bytes] = []
    size = 0
    data = raw
    last = b""
    while size < MAX_METADATA_BYTES:
        piece = inflater.decompress(data, min(_STEP, MAX_METADATA_BYTES - size))
        data = inflater.unconsumed_tail
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
        seen = last + piece
        if any(blank in seen for blank in _BLANK):
            break
        last = piece[-2:]
    return b"".join(pieces)


async def read_metadata_by_ranges(fetch: RangeFetch, file: DistributionFile) -> tuple[bytes, bool]:
    """(METADATA bytes, whole file downloaded?) for the wheel ``file``."""
    url = file.url
    tail = await fetch(url, f"bytes=-{TAIL_BYTES}")
    window = _Window(tail)
    cd_offset, cd_size = _find_directory(window, tail)
    directory = window.get(cd_offset, cd_size)
    if directory is None:
        # with the bytes before it: METADATA sits there, behind the last few members
        # (RECORD, about as long as the directory), so the member is not a third ask
        start = max(0, cd_offset - min(max(cd_size, TAIL_BYTES), _MAX_LEAD))
        answer = await fetch(url, f"bytes={start}-{cd_offset + cd_size - 1}")
        window.add(answer)
        directory = window.get(cd_offset, cd_size)
        if directory is None:
            raise ZipReadError("the server did not send the central directory asked for")
    candidates = _metadata_entries(directory)
    if not candidates:  # none found by name (or unsure): every record, as zipfile would
        candidates = [e for e in _parse_directory(directory) if is_metadata_member(e.name)]
    entries = {e.name: e for e in candidates}
    chosen = pick_metadata_member(list(entries), file)
    if chosen is None:
        raise ZipReadError("no .dist-info/METADATA in the wheel")
    entry = entries[chosen]
    if entry.compressed_size > MAX_METADATA_BYTES:
        raise ZipReadError("METADATA is implausibly large")
    # The local header's extra field may differ from the central one: ask with slack.
    want = 30 + len(chosen.encode()) + entry.extra_len + entry.compressed_size + 1024
    want = min(want, max(0, cd_offset - entry.local_offset))
    header = window.get(entry.local_offset, 30)
    if header is None or window.get(entry.local_offset, want) is None:
        window.add(await fetch(url, f"bytes={entry.local_offset}-{entry.local_offset + want - 1}"))
        header = window.get(entry.local_offset, 30)
    if header is None or header[:4] != _LOCAL:
        raise ZipReadError("bad local file header for METADATA")
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    start = entry.local_offset + 30 + name_len + extra_len
    raw = window.get(start, entry.compressed_size)
    if raw is None:
        window.add(await fetch(url, f"bytes={start}-{start + entry.compressed_size - 1}"))
        raw = window.get(start, entry.compressed_size)
        if raw is None:
            raise ZipReadError("the server did not send the METADATA bytes asked for")
    return _inflate(entry, raw), window.whole
