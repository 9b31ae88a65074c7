"""The releases newer than the installed one, read from a project page without
parsing all of it: ``outdated`` needs the top of each page, and PyPI's pages of the
big projects (SQLAlchemy, botocore, numpy) hold thousands of releases and megabytes of
JSON; parsing all 166 pages of a data-science environment was most of a cold run.

For a PEP 691 JSON page that carries PEP 700's ``versions`` list (PyPI's do):

1. the ``versions`` list is read on its own (a few kilobytes) and compared with the
   installed version: for most distributions nothing is newer, and the page is done;
2. otherwise one pattern finds the file entries named after those versions (a wheel
   ``name-V-...whl``, an sdist ``name-V.tar.gz``/``.zip``), and only those entries are
   decoded, with the full parser's own rules (``make_file``); their files are made
   per version when asked, newest first (``_row`` stops at the newest that fits).

Anything this cannot vouch for goes to a full read instead, which gives the same
answer by construction: an HTML page (the full parser); a JSON page without
``versions``, with an escaped character anywhere, or with a newer version none of whose
files was found (a spelling of the version the pattern does not know, or a release
without files) -- then every entry is decoded and filtered (still no file is made for
the older releases). ``tests/test_currency_releases.py`` checks the two ways against
each other on pages of both layouts, and ``benchmarks/bench_outdated.py`` on every
page of its environment. The quick way does not check the JSON of the older entries
it skips: a page broken there is read, where the full parser would refuse it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from packaging.version import InvalidVersion, Version

from ..index import DistributionFile
from ..index.pages import LazyEntries, is_json, parse_json_in_full, parse_project_html
from ..index.rawpage import entry_at as _entry_at
from ..index.rawpage import value_at as _value_at

# a page up to this size is read on the loop; a bigger one in a worker thread
INLINE_BYTES = 256 * 1024
# a release number a version text starts with, when it has no epoch ("1!")
_RELEASE = re.compile(r"\s*[vV]?(\d+(?:\.\d+)*)(?![\d!])")
# a wheel's name and its version text (the part after the first dash)
_WHEEL = re.compile(rb'"filename"\s*:\s*"([^"\-]*-([^"\-]+)-[^"]*\.whl)"')
_SDIST = re.compile(rb'"filename"\s*:\s*"([^"]*)\.(?:tar\.gz|zip)"')


class Releases(Protocol):
    """What ``outdated`` reads of a project: a ``ProjectPage`` or ``NewerReleases``."""

    index_url: str

    def all_versions(self) -> list[Version]: ...  # newest first

    def files_for(self, version: Version) -> list[DistributionFile]: ...


class NewerReleases:
    """One project's releases newer than a version, from one page: their file
    entries (decoded, checked when made), the files made per version when asked."""

    def __init__(
        self,
        name: str,
        index_url: str,
        page_url: str,
        entries: dict[Version, list[dict[str, Any]]],
        *,
        fast: bool,
    ) -> None:
        self.name = name
        self.index_url = index_url
        self.page_url = page_url
        self.fast = fast  # read by the versions list and the pattern (else: every entry)
        self.warnings: list[str] = []
        self._entries = entries
        self._files: dict[Version, list[DistributionFile]] = {}
        self._versions: list[Version] | None = None

    def __repr__(self) -> str:
        return f"NewerReleases({self.name!r}, {len(self._entries)} versions, fast={self.fast})"

    def all_versions(self) -> list[Version]:
        """Newest first; a version whose entries all turn out unreadable has no files."""
        if self._versions is None:
            self._versions = sorted((v for v, e in self._entries.items() if e), reverse=True)
        return list(self._versions)

    def files_for(self, version: Version) -> list[DistributionFile]:
        made = self._files.get(version)
        if made is None:
            made = []
            entries = self._entries.get(version)
            if entries:
                # the full parser's own reading (and caches) of these entries only
                lazy = LazyEntries(self.page_url, self.index_url, self.name)
                lazy.add_many(entries, self.page_url, self.warnings)
                made = lazy.done().files_for(version)
            # stored once complete: two requests' threads may read one memoised page
            self._files[version] = made
        return made


def read_newer(
    body: bytes,
    content_type: str,
    page_url: str,
    index_url: str,
    name: str,
    *,
    installed: Version,
) -> Releases:
    """The releases of ``name`` newer than ``installed`` on one page as it was sent.

    Raises ``IndexUnavailable`` for a page that cannot be read (as the full parser)."""
    if not is_json(content_type):
        return parse_project_html(body, page_url, index_url, name)
    fast = _fast(body, page_url, index_url, name, installed)
    if fast is not None:
        return fast
    return _every_entry(body, page_url, index_url, name, installed)


def version_of(filename: str) -> str | None:
    """The version text of a wheel or sdist name, split as ``make_file`` splits it
    (a wheel's second dash-separated part, an sdist's text after its last dash)."""
    if filename.endswith(".whl"):
        parts = filename.split("-", 2)
        return parts[1] if len(parts) == 3 else None
    for suffix in (".tar.gz", ".zip"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            return stem.rpartition("-")[2] if "-" in stem else None
    return None


def _newer(texts: Iterable[str], installed: Version) -> dict[str, Version]:
    """The texts of valid versions newer than ``installed``. Most texts of a big
    project are plainly older by their release numbers alone, which is several times
    cheaper to see than a ``Version`` is to make."""
    release = _trimmed(installed.release) if installed.epoch == 0 else None
    found: dict[str, Version] = {}
    for text in texts:
        if release is not None:
            head = _RELEASE.match(text)
            # (trailing zeros in ``head`` only make it compare greater: never skipped wrongly)
            if head is not None and tuple(map(int, head[1].split("."))) < release:
                continue  # an older release: older whatever its suffix (epoch 0)
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if version > installed:
            found[text] = version
    return found


def _trimmed(release: tuple[int, ...]) -> tuple[int, ...]:
    """A release without trailing zeros (PEP 440 compares 1.2 and 1.2.0 as equal)."""
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return release[:end]


def _fast(
    body: bytes, page_url: str, index_url: str, name: str, installed: Version
) -> NewerReleases | None:
    """The versions list and a pattern; None when a full read must decide."""
    if b"\\" in body or not body.lstrip().startswith(b"{") or not body.rstrip().endswith(b"}"):
        return None
    # unescaped quotes: these can only be keys (PyPI puts both at the end of the page)
    api = _value_at(body, body.rfind(b'"api-version"'), b'"')
    if api is not None and body[api : body.find(b'"', api)].split(b".", 1)[0] != b"1":
        return None  # the full parser says which version it cannot read
    start = _value_at(body, body.rfind(b'"versions"'), b"[")
    if start is None or _value_at(body, body.find(b'"files"'), b"[") is None:
        return None
    end = body.find(b"]", start)
    try:
        listed = json.loads(body[start - 1 : end + 1])
    except ValueError:
        return None
    if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
        return None
    newer = _newer(listed, installed)
    entries: dict[Version, list[dict[str, Any]]] = {v: [] for v in newer.values()}
    by_text = {t.lower(): v for t, v in newer.items()}
    if newer:
        for at, filename in _named_after(body, newer):
            entry = _entry_at(body, at, filename)
            if entry is None:
                return None
            text = version_of(filename)
            version = by_text.get(text.lower()) if text is not None else None
            if version is not None:
                entries[version].append(entry)
        if any(not found for found in entries.values()):
            return None  # a newer version without a file found: read every entry
    return NewerReleases(name, index_url, page_url, entries, fast=True)


def _named_after(body: bytes, newer: dict[str, Version]) -> list[tuple[int, str]]:
    """(position of the ``"filename"`` key, the file name) of every wheel and sdist
    whose name carries one of the ``newer`` version texts (compared case-blind)."""
    wanted = {t.lower() for t in newer}
    found = [
        (m.start(), m[1].decode("utf-8", "replace"))
        for m in _WHEEL.finditer(body)
        if m[2].decode("utf-8", "replace").lower() in wanted
    ]
    for m in _SDIST.finditer(body):
        stem = m[1]
        if b"-" in stem and stem.rpartition(b"-")[2].decode("utf-8", "replace").lower() in wanted:
            suffix = body[m.end(1) : m.end() - 1].decode()
            found.append((m.start(), stem.decode("utf-8", "replace") + suffix))
    return found


def _every_entry(
    body: bytes, page_url: str, index_url: str, name: str, installed: Version
) -> Releases:
    """The whole page decoded, its entries filtered by their names' versions (no file
    made for the older ones); a page that is not a usable JSON page goes to the full
    parser, which raises the right error."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    files = data.get("files") if isinstance(data, dict) else None
    meta = data.get("meta") if isinstance(data, dict) else None
    api = (meta or {}).get("api-version") if isinstance(meta, dict) else None
    if not isinstance(files, list) or (api is not None and not str(api).startswith("1")):
        return parse_json_in_full(body, page_url, index_url, name)
    texts: dict[str, list[dict[str, Any]]] = {}
    for entry in files:
        filename = entry.get("filename") if isinstance(entry, dict) else None
        text = version_of(filename) if isinstance(filename, str) else None
        if text is not None:
            texts.setdefault(text, []).append(entry)
    entries: dict[Version, list[dict[str, Any]]] = {}
    for text, version in _newer(texts, installed).items():
        entries.setdefault(version, []).extend(texts[text])
    return NewerReleases(name, index_url, page_url, entries, fast=False)


def newer_files(page: Releases, installed: Version) -> list[tuple[Version, Sequence[str]]]:
    """(version, file names) of every release newer than ``installed``, newest first:
    what the two ways of reading a page are compared on."""
    out: list[tuple[Version, Sequence[str]]] = []
    for version in page.all_versions():
        if version <= installed:
            break
        names = sorted(f.filename for f in page.files_for(version))
        if names:
            out.append((version, names))
    return out


class MergedReleases:
    """An index's releases and the find-links folders' files of one project, as the
    client merges its pages: the index's first, a file name seen once (first wins)."""

    def __init__(self, parts: Sequence[Releases]) -> None:
        self.parts = list(parts)
        self.index_url = self.parts[0].index_url

    def all_versions(self) -> list[Version]:
        found: set[Version] = set()
        for part in self.parts:
            found.update(part.all_versions())
        return sorted(found, reverse=True)

    def files_for(self, version: Version) -> list[DistributionFile]:
        seen: set[str] = set()
        out: list[DistributionFile] = []
        for part in self.parts:
            for file in part.files_for(version):
                if file.filename not in seen:
                    seen.add(file.filename)
                    out.append(file)
        return out
