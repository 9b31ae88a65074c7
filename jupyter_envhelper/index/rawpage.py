"""A PEP 691 JSON project page read only where it is asked: the body is kept as it
came, and the entries of a version are decoded when somebody asks for that version.

PyPI's pages of the big projects hold thousands of releases and tens of thousands of
file entries, of which a plan reads one to three releases per project, newest first.
Decoding every entry (``json.loads``) and checking it (``pages.LazyEntries``) was most
of the CPU of a cold plan; the body as sent is also smaller than the checked entries
(370 to 500 bytes an entry on PyPI, against about 560 packed; a page that is bigger
than that as sent is parsed in full).

How (``read_json_page``):

1. one pattern finds every ``"filename": "..."`` of the page; each name is classified
   as the full parser classifies it (``pages.classify``): a well-formed wheel or sdist
   of the project gives its version without decoding anything; an ignored kind
   (``.egg``...) is skipped as the parser skips it; anything else, and an entry whose
   ``Requires-Python`` text is not a valid specifier (pyzmq has some), is "unusual":
   decoded at once and read by ``make_file``, which makes its file or says why not --
   so the page's versions, file count and warnings (same order) are the full
   parser's from the start;
2. ``files_for(version)`` decodes that version's entries (``entry_at``) and makes them
   with the full parser's own code (``LazyEntries``), in page order.

Anything this cannot vouch for is parsed in full instead, which gives the same answer
by construction: an escaped character anywhere in the body, bytes that are not UTF-8,
a ``"filename"`` or ``"url"`` value that is not a plain string, fewer or more entries
(objects one after the other, ``}, {``) than names or URLs, a first or last entry that
does not sit at the ends of the ``files`` list, a ``versions`` list not of strings, a
page bigger as sent than its packed entries would be. An entry that cannot be found
when its version is asked for turns the page into a fully parsed one from then on.
``tests/test_pages_raw.py`` compares the two readers version by version on pages of
several layouts. What is not checked: the JSON between the entries that are read (a
page broken there is read, where the full parser would refuse it), and a
``"filename"`` key nested inside another entry (PEP 691 has no such thing) where the
counts still agree.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from array import array
from collections.abc import Sequence
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from .models import DistributionFile, ProjectPage
from .pages import (
    _MISSING,
    SKIPPED,
    LazyEntries,
    _wheel_head,
    cached_specifier,
    cached_tags,
    full_json_entries,
    make_file,
    quick_version,
)

_AFTER_KEY = re.compile(rb"\s*:\s*")
_FILENAME_KEY = b'"filename"'
# a file name's key and its value (empty when the value is not a plain string)
_FILENAME = re.compile(rb'"filename"\s*:\s*(?:"([^"]*)"|)')
_URL = re.compile(rb'"url"\s*:\s*"')
_NEXT_ENTRY = re.compile(rb"\}\s*,\s*\{")
_REQUIRES_PYTHON = re.compile(rb'"requires-python"\s*:\s*"([^"]*)"')
_DECODER = json.JSONDecoder()
_BLANK = frozenset(b" \t\r\n")
_COLON = ord(":")
# A page is kept as sent when that is cheaper than its parsed entries (``_pack``):
# PyPI sends 370-500 bytes an entry, about 560 packed (measured on 206 of its pages:
# 49 MB as sent plus 13 MB of positions and versions, against 66 MB parsed).
_ENTRY_BYTES = 560
_PAGE_BYTES = 8192
_MAX_TRIES = 8  # "{" tried backwards from a filename before giving up on the fast read


def value_at(body: bytes, key: int, opening: bytes) -> int | None:
    """Where the value of the key found at ``key`` starts, just after its ``opening``
    character; None when there is no such key or its value opens otherwise."""
    if key < 0:
        return None
    colon = _AFTER_KEY.match(body, body.find(b'"', key + 1) + 1)
    if colon is None or body[colon.end() : colon.end() + 1] != opening:
        return None
    return colon.end() + 1


def entry_start(body: bytes, at: int, filename: str) -> tuple[int, dict[str, Any]] | None:
    """(where it opens, the entry) of the file entry (a JSON object) whose
    ``"filename"`` key is at ``at``: decoded from the ``{`` that opens it (the last one
    before the key that is not a nested value, which follows a ``:``) up to the next
    entry's ``"filename"`` key. None when no such object is found."""
    following = body.find(_FILENAME_KEY, at + len(_FILENAME_KEY))
    stop = len(body) if following < 0 else following
    start = at
    for _ in range(_MAX_TRIES):
        start = body.rfind(b"{", 0, start)
        if start < 0:
            return None
        before = start - 1
        while before > 0 and body[before] in _BLANK:
            before -= 1
        if body[before] == _COLON:
            continue  # "core-metadata": {...} and the like
        try:
            value, _ = _DECODER.raw_decode(body[start:stop].decode("utf-8"))
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("filename") == filename:
            return start, value
    return None


def entry_at(body: bytes, at: int, filename: str) -> dict[str, Any] | None:
    """The file entry whose ``"filename"`` key is at ``at`` (see ``entry_start``)."""
    found = entry_start(body, at, filename)
    return None if found is None else found[1]


class RawEntries:
    """The ``LazyFiles`` of a JSON page kept as sent (see the module's docstring)."""

    __slots__ = (
        "_body",
        "_count",
        "_full",
        "_lock",
        "_made",
        "_odd",
        "_positions",
        "_versions",
        "index_url",
        "page_url",
        "project",
    )

    def __init__(
        self,
        body: bytes,
        page_url: str,
        index_url: str,
        project: str,
        *,
        positions: dict[Version, array[int]],
        odd: dict[int, DistributionFile],
    ) -> None:
        self._body = body
        self.page_url = page_url
        self.index_url = index_url
        self.project = project
        self._positions = positions  # a version's "filename" keys, in page order
        self._odd = odd  # files made at once (by make_file), by their key's position
        self._versions = sorted(positions, reverse=True)
        self._count = sum(len(p) for p in positions.values())
        self._made: dict[Version, list[DistributionFile]] = {}
        self._full: LazyEntries | None = None
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return self._count if self._full is None else self._full.count

    @property
    def built(self) -> int:
        if self._full is not None:
            return self._full.built
        return sum(len(m) for m in self._made.values())

    @property
    def versions(self) -> Sequence[Version]:
        return self._versions if self._full is None else self._full.versions

    @property
    def decoded(self) -> list[Version]:
        """The versions whose entries were decoded so far."""
        return list(self._made)

    def files_for(self, version: Version) -> list[DistributionFile]:
        made = self._made.get(version)
        if made is None:
            full = self._full
            if full is not None:
                return full.files_for(version)
            with self._lock:  # two plans' threads may read one memoised page
                if self._full is None and version not in self._made:
                    decoded = self._decode(version)
                    if decoded is None:  # not what the scan saw: the full parser decides
                        self._full = full_json_entries(
                            self._body, self.page_url, self.index_url, self.project
                        )
                        self._made.clear()
                    else:
                        self._made[version] = decoded
            return self.files_for(version)
        return list(made)

    def _decode(self, version: Version) -> list[DistributionFile] | None:
        body = self._body
        wanted = []
        for at in self._positions.get(version, ()):
            if at in self._odd:
                continue
            match = _FILENAME.match(body, at)
            entry = None if match is None else entry_at(body, at, match[1].decode("utf-8"))
            if entry is None:
                return None
            wanted.append(entry)
        lazy = LazyEntries(self.page_url, self.index_url, self.project)
        warnings: list[str] = []
        lazy.add_many(wanted, self.page_url, warnings)
        decoded = iter(lazy.done().files_for(version))
        out = [
            self._odd[at] if at in self._odd else next(decoded, None)
            for at in self._positions.get(version, ())
        ]
        if warnings or any(f is None for f in out) or next(decoded, None) is not None:
            return None
        return out  # type: ignore[return-value]

    def filenames(self) -> list[str]:
        if self._full is not None:
            return self._full.filenames()
        every = sorted((at, v) for v, found in self._positions.items() for at in found)
        body = self._body
        out = []
        for at, _ in every:
            match = _FILENAME.match(body, at)
            assert match is not None  # found by this very pattern
            out.append(match[1].decode("utf-8"))
        return out

    def build_all(self) -> list[DistributionFile]:
        placed: list[tuple[int, DistributionFile]] = []
        for version in self._versions:
            files = self.files_for(version)
            if self._full is not None:
                return self._full.build_all()
            placed.extend(zip(self._positions[version], files, strict=True))
        placed.sort(key=lambda item: item[0])
        return [file for _, file in placed]


def read_json_page(body: bytes, page_url: str, index_url: str, project: str) -> ProjectPage | None:
    """The page of ``project`` read lazily from its body; None when the full parser
    must read it (see the module's docstring)."""
    if b"\\" in body or not body.lstrip().startswith(b"{") or not body.rstrip().endswith(b"}"):
        return None
    if not body.isascii():
        try:
            body.decode("utf-8")  # (what json.loads would refuse, the full parser does)
        except UnicodeDecodeError:
            return None
    api_version: str | None = None
    # the keys of the page's own object: PyPI puts "files" first and the others last
    # (a key given twice: JSON keeps the last; a file entry has none of these)
    files_key, versions_key = body.find(b'"files"'), body.rfind(b'"versions"')
    api_key = body.rfind(b'"api-version"')
    if api_key >= 0:
        api = value_at(body, api_key, b'"')
        if api is None:
            return None  # not a plain string: the full parser reads it
        api_version = body[api : body.index(b'"', api)].decode("utf-8")
        if api_version.split(".", 1)[0] != "1":
            return None  # the full parser says which version it cannot read
    files_at = value_at(body, files_key, b"[")
    if files_at is None:
        return None
    listed: list[str] | None = None
    if versions_key >= 0:
        start = value_at(body, versions_key, b"[")
        if start is None:
            return None
        try:
            found = json.loads(body[start - 1 : body.find(b"]", start) + 1])
        except ValueError:
            return None
        if not isinstance(found, list) or not all(isinstance(v, str) for v in found):
            return None
        listed = found
    # every file name and URL a plain string (a count each: nothing is decoded)
    # a Requires-Python that is not a valid specifier: its files are skipped, with a
    # warning (found below, and read as the unusual ones are)
    invalid = {
        text
        for text in set(_REQUIRES_PYTHON.findall(body))
        if text.strip() and cached_specifier(text.decode("utf-8")) is None
    }
    starts: list[int] = []  # every file name's key, when they are needed
    unusual: dict[int, bytes] = {}
    name = canonicalize_name(project)
    page = ProjectPage(name=name, index_url=index_url, api_version=api_version)
    # positions by a wheel's name before its tags (bytes), or by version (the others)
    groups: dict[Any, list[int]] = {}
    odd: dict[int, DistributionFile] = {}
    # what one page repeats, looked up once: a wheel's name before its tags and its
    # tags (as ``pages.classify`` splits them), on the bytes as sent
    heads: dict[bytes, Version | None] = {}
    tag_texts: dict[bytes, bool] = {}
    memo_heads: dict[str, Any] = {}
    memo_tags: dict[str, Any] = {}
    at = first = -1
    seen = 0
    for match in _FILENAME.finditer(body):
        at = match.start()
        seen += 1
        if invalid:
            starts.append(at)
        if first < 0:
            first = at
        raw = match[1]
        if raw is None:
            return None  # a file name that is not a plain string
        version: Any = None
        key: Any = None
        if raw.endswith(b".whl"):
            stem = raw[:-4]
            cut = stem.rfind(b"-", 0, stem.rfind(b"-", 0, stem.rfind(b"-")))
            if cut > 0:
                head = stem[:cut]
                version = heads.get(head, _MISSING)
                if version is _MISSING:
                    version = heads[head] = _wheel_version(head, name)
                if version is not None:
                    tag_text = stem[cut + 1 :]
                    fits = tag_texts.get(tag_text)
                    if fits is None:
                        fits = tag_texts[tag_text] = cached_tags(tag_text.decode()) is not None
                    if fits:
                        key = head
                    else:
                        version = None
        else:
            version = quick_version(raw.decode("utf-8"), name, memo_heads, memo_tags)
            if version is SKIPPED:
                continue
        if version is None:  # unusual: read below
            unusual[at] = raw
            continue
        found = groups.get(key or version)
        if found is None:
            groups[key or version] = [at]
        else:
            found.append(at)
    # as many entries (objects one after the other: "}, {") as names, and every
    # entry's URL a plain string (the full parser skips an entry without, and warns)
    if seen == 0:
        if not body[files_at:].lstrip().startswith(b"]"):
            return None  # entries without names: the full parser says what they are
    elif body.count(b"}, {") + 1 != seen and len(_NEXT_ENTRY.findall(body)) + 1 != seen:
        return None
    if body.count(b'"url": "') != seen and (
        body.count(b'"url"') != seen or len(_URL.findall(body)) != seen
    ):
        return None
    if len(body) > _PAGE_BYTES + _ENTRY_BYTES * seen:
        return None  # kept as sent it would take more memory than parsed (and packed)
    last = at
    if first >= 0 and not _at_the_ends(body, files_at, first, last):
        return None
    skipped: set[int] = set()
    if invalid:
        found_owners = _owners(body, invalid, starts)
        if found_owners is None:
            return None
        for owner, raw in found_owners:
            skipped.add(owner)
            unusual[owner] = raw
    positions: dict[Version, list[int]] = {}
    # the unusual entries with the full parser's own reading, warnings and all, in
    # page order (the usual ones never warn)
    for at in sorted(unusual):
        entry = entry_at(body, at, unusual[at].decode("utf-8"))
        if entry is None:
            return None
        made = make_file(entry, page_url, index_url, name, page.warnings)
        if made is not None:
            odd[at] = made
            positions.setdefault(made.version, []).append(at)
    for key, grouped in groups.items():
        version = heads[key] if type(key) is bytes else key
        kept_here = [at for at in grouped if at not in skipped] if skipped else grouped
        if kept_here:
            positions.setdefault(version, []).extend(kept_here)
    kept = {v: array("L", sorted(found)) for v, found in positions.items()}
    page.set_lazy(RawEntries(body, page_url, index_url, name, positions=kept, odd=odd))
    if listed is not None:
        page.versions = listed
    return page


def _owners(body: bytes, invalid: set[bytes], starts: list[int]) -> list[tuple[int, bytes]] | None:
    """(file name's key, file name) of each entry whose Requires-Python is one of the
    ``invalid`` texts: the entry before the text's key, or the one after when that
    one opens before the text; None when one is not found so (read in full then)."""
    owners = []
    for match in _REQUIRES_PYTHON.finditer(body):
        if match[1] not in invalid:
            continue
        where = match.start()
        after = bisect.bisect_right(starts, where)
        owner = starts[after - 1] if after > 0 else -1
        if after < len(starts):
            following = _entry_of(body, starts[after])
            if following is not None and following[0] < where:
                owner = starts[after]
        found = _entry_of(body, owner) if owner >= 0 else None
        if found is None or found[1].get("requires-python") != match[1].decode("utf-8"):
            return None
        filename = _FILENAME.match(body, owner)
        assert filename is not None and filename[1] is not None  # found by it
        owners.append((owner, filename[1]))
    return owners


def _wheel_version(head: bytes, project: str) -> Version | None:
    return _wheel_head(head.decode("utf-8"), project)


def _at_the_ends(body: bytes, files_at: int, first: int, last: int) -> bool:
    """Whether the first entry opens the ``files`` list and the last one closes it."""
    head = _entry_of(body, first)
    if head is None or body[files_at : head[0]].strip():
        return False
    tail = _entry_of(body, last)
    if tail is None:
        return False
    rest = body[tail[0] :].decode("utf-8")
    _, end = _DECODER.raw_decode(rest)
    return rest[end:].lstrip().startswith("]")


def _entry_of(body: bytes, at: int) -> tuple[int, dict[str, Any]] | None:
    match = _FILENAME.match(body, at)
    return None if match is None else entry_start(body, at, match[1].decode("utf-8"))
