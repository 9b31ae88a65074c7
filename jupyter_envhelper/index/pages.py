"""Reading Simple Repository API pages: PEP 691 JSON and PEP 503 HTML.

Both formats become the same ``DistributionFile`` list. A page we cannot read at
all (bad JSON, or a body with no HTML in it) raises ``IndexUnavailable``; a single bad
file entry (unknown file type, invalid version or specifier) is skipped and explained in
``ProjectPage.warnings``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ..errors import IndexUnavailable
from .credentials import redact_url
from .models import DistributionFile, ProjectPage

if TYPE_CHECKING:
    from .htmlparse import AnchorParser

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_IGNORED_SUFFIXES = (
    ".egg",
    ".exe",
    ".msi",
    ".rpm",
    ".dmg",
    ".tar.bz2",
    ".tgz",
    ".tar.xz",
    ".tar",
    ".deb",
)


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media.endswith("+json") or media == "application/json"


def _check_api_version(version: Any, url: str) -> str | None:
    if version is None:
        return None
    text = str(version)
    if not text.split(".", 1)[0] == "1":
        raise IndexUnavailable(
            f"The index at {redact_url(url)} speaks Simple API version {text}, "
            "which jupyter-envhelper does not understand (it reads version 1.x)."
        )
    return text


def _load_json(body: bytes, url: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexUnavailable(
            f"The index at {redact_url(url)} sent a page that is not valid JSON.",
            detail=str(exc),
        ) from None
    if not isinstance(data, dict):
        raise IndexUnavailable(f"The index at {redact_url(url)} sent an unexpected JSON page.")
    return data


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _metadata_hashes(value: Any) -> dict[str, str] | None:
    if value is True:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str) and value.lower() not in ("", "false"):
        if value.lower() == "true":
            return {}
        algo, _, digest = value.partition("=")
        return {algo: digest} if digest else {}
    return None


# -- cheap, cached pieces of a file entry -------------------------------------------------
# A project page repeats the same few hundred version strings, tag strings and
# Requires-Python texts across tens of thousands of files: each is parsed once.
_WHEEL_NAME = re.compile(r"^[\w\d._]*$", re.UNICODE)
_BUILD_TAG = re.compile(r"^(\d+)(.*)$")
_MISSING = object()


@lru_cache(maxsize=8192)
def cached_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


@lru_cache(maxsize=4096)
def cached_tags(text: str) -> frozenset[Tag] | None:
    try:
        return parse_tag(text)
    except ValueError:  # packaging's InvalidTag is a ValueError
        return None


@lru_cache(maxsize=4096)
def cached_specifier(text: str) -> SpecifierSet | None:
    """``SpecifierSet(text)``, shared (treat it as immutable); None when invalid."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


@lru_cache(maxsize=4096)
def _canonical(name: str) -> str:
    return canonicalize_name(name)


def _quick_name(filename: str, project: str) -> tuple[Version, str, frozenset[Tag]] | None:
    """(version, kind, tags) of a well-formed wheel or sdist of ``project``, from the
    caches; None for anything unusual (``make_file`` then decides, with its warning)."""
    if filename.endswith(".whl"):
        stem = filename[:-4]
        dashes = stem.count("-")
        if dashes not in (4, 5):
            return None
        parts = stem.split("-", dashes - 2)
        name_part = parts[0]
        if "__" in name_part or _WHEEL_NAME.match(name_part) is None:
            return None
        if dashes == 5 and _BUILD_TAG.match(parts[2]) is None:
            return None
        version = cached_version(parts[1])
        tags = cached_tags(parts[-1])
        kind = "wheel"
    elif filename.endswith((".tar.gz", ".zip")):
        stem = filename[:-7] if filename.endswith(".tar.gz") else filename[:-4]
        name_part, sep, version_part = stem.rpartition("-")
        if not sep or not name_part:
            return None
        version = cached_version(version_part)
        tags = frozenset()
        kind = "sdist"
    else:
        return None
    if version is None or tags is None or _canonical(name_part) != project:
        return None
    return version, kind, tags


def _wheel_head(head: str, project: str) -> Version | None:
    """The version of a wheel whose name before the tags is ``head``
    (``name-version`` or ``name-version-build``), when it is a well-formed wheel
    of ``project``; None for anything unusual."""
    dashes = head.count("-")
    if dashes not in (1, 2):
        return None
    parts = head.split("-")
    name_part = parts[0]
    if "__" in name_part or _WHEEL_NAME.match(name_part) is None:
        return None
    if dashes == 2 and _BUILD_TAG.match(parts[2]) is None:
        return None
    if _canonical(name_part) != project:
        return None
    return cached_version(parts[1])


# A page's entries stay in memory as long as the page (a server keeps hundreds, of
# up to tens of thousands of files each): as JSON made them, an entry is seven objects
# (two one-key dicts among them, {"sha256": ...}) and most of a plan's memory. The
# usual entry is packed into one string; ``_make`` unpacks the few a plan reads.
_SEP = "\x00"
_TAIL = "\x01"  # the URL ends with the file name, which is not repeated


def _pack(filename: str, href: str, hashes: Any, upload: Any, meta: Any) -> str | None:
    """``filename``, ``href``, the sha256 of ``hashes``, ``upload`` and ``meta`` (as
    ``_metadata_hashes`` reads it) as one string; None for anything unusual (another
    hash, a value of another type, a separator in a value): kept as it came."""
    if type(hashes) is dict and len(hashes) == 1 and type(hashes.get("sha256")) is str:
        digest = hashes["sha256"]
    elif hashes is None:
        digest = ""
    else:
        return None
    if upload is None:
        upload = ""
    elif type(upload) is not str:
        return None
    if meta is None or meta is False:
        meta = ""
    elif meta is True:
        meta = "true"
    elif type(meta) is dict and len(meta) == 1 and type(meta.get("sha256")) is str:
        meta = f"sha256={meta['sha256']}"
    elif type(meta) is not str:
        return None
    if _TAIL in href:
        return None
    if href.endswith(filename) and len(href) > len(filename):
        href = href[: -len(filename)] + _TAIL
    packed = _SEP.join((filename, href, digest, upload, meta))
    return packed if packed.count(_SEP) == 4 else None


def _unpack(packed: str) -> tuple[str, str, dict[str, str] | None, str | None, str]:
    filename, href, digest, upload, meta = packed.split(_SEP)
    if href.endswith(_TAIL):
        href = href[:-1] + filename
    return filename, href, {"sha256": digest} if digest else None, upload or None, meta


SKIPPED = object()  # ``classify``'s answer for a kind of file the parser ignores


def classify(
    filename: str, project: str, heads: dict[str, Any], tag_memo: dict[str, Any]
) -> tuple[Version, str, frozenset[Tag]] | object | None:
    """(version, kind, tags) of a well-formed wheel or sdist of ``project`` (the
    fast path: ``heads`` and ``tag_memo`` keep what one page repeats), ``SKIPPED`` for
    an ignored kind, None for anything unusual (``make_file`` then decides)."""
    if filename.endswith(".whl"):
        stem = filename[:-4]
        cut = stem.rfind("-", 0, stem.rfind("-", 0, stem.rfind("-")))
        if cut <= 0:
            return None
        head = stem[:cut]
        version = heads.get(head, _MISSING)
        if version is _MISSING:
            version = heads[head] = _wheel_head(head, project)
        if version is None:
            return None
        tag_text = stem[cut + 1 :]
        tags = tag_memo.get(tag_text, _MISSING)
        if tags is _MISSING:
            tags = tag_memo[tag_text] = cached_tags(tag_text)
        return None if tags is None else (version, "wheel", tags)
    if filename.endswith(_IGNORED_SUFFIXES):
        return SKIPPED
    return _quick_name(filename, project)


def quick_version(
    filename: str, project: str, heads: dict[str, Any], tag_memo: dict[str, Any]
) -> Version | object | None:
    """The version ``classify`` finds (``SKIPPED``, None: as it says)."""
    found = classify(filename, project, heads, tag_memo)
    return found[0] if type(found) is tuple else found


class LazyEntries:
    """A page's file entries, checked but not yet ``DistributionFile``s (see
    ``ProjectPage``). Each entry keeps the few values a file is made of."""

    __slots__ = ("_base", "_built", "_by_version", "_entries", "_versions", "index_url", "project")

    def __init__(self, page_url: str, index_url: str, project: str) -> None:
        self._base = page_url
        self.index_url = index_url
        self.project = canonicalize_name(project)
        # one per file: the entry's values, or the file itself when made eagerly
        self._entries: list[tuple[Any, ...] | DistributionFile] = []
        self._by_version: dict[Version, list[int]] = {}
        self._built: dict[int, DistributionFile] = {}
        self._versions: list[Version] = []

    def add(self, entry: dict[str, Any], base: str, warnings: list[str]) -> None:
        self.add_many((entry,), base, warnings)

    def add_many(self, entries: Iterable[Any], base: str, warnings: list[str]) -> None:
        """Add a page's entries: the fast path looks each distinct wheel head
        (``name-version[-build]``), tag triple and Requires-Python text up once per
        page; anything unusual goes to ``make_file``, which says why it is skipped."""
        by_version = self._by_version
        out = self._entries
        heads: dict[str, Any] = {}
        tag_memo: dict[str, Any] = {}
        rp_memo: dict[Any, bool] = {None: True}
        rp_same: dict[str, str] = {}
        project = self.project
        for entry in entries:
            if type(entry) is not dict:
                warnings.append(f"Skipped a malformed file entry on {project}'s page.")
                continue
            get = entry.get
            filename = get("filename")
            href = get("url")
            quick: tuple[Version, str, frozenset[Tag]] | None = None
            if type(filename) is str and type(href) is str:
                found = classify(filename, project, heads, tag_memo)
                if found is SKIPPED:
                    continue
                quick = found  # type: ignore[assignment]
            rp_text = get("requires-python")
            if type(rp_text) is str:  # one string per distinct text, not one per file
                rp_text = rp_same.setdefault(rp_text, rp_text)
            if quick is not None:
                valid = rp_memo.get(rp_text)
                if valid is None:
                    valid = rp_memo[rp_text] = not (
                        isinstance(rp_text, str)
                        and rp_text.strip()
                        and cached_specifier(rp_text) is None
                    )
                if not valid:
                    quick = None  # make_file says why it is skipped
            if quick is None:
                made = make_file(entry, base, self.index_url, project, warnings)
                if made is not None:
                    by_version.setdefault(made.version, []).append(len(out))
                    out.append(made)
                continue
            version, kind, tags = quick
            positions = by_version.get(version)
            if positions is None:
                by_version[version] = [len(out)]
            else:
                positions.append(len(out))
            hashes = get("hashes")
            upload = get("upload-time")
            meta = get("core-metadata", get("dist-info-metadata"))
            packed = _pack(str(filename), str(href), hashes, upload, meta)  # both str here
            if packed is not None:
                out.append((packed, base, rp_text, get("yanked", False), get("size"), *quick))
            else:
                raw = (filename, href, base, rp_text, get("yanked", False), hashes,
                       get("size"), upload, meta, version, kind, tags)  # fmt: skip
                out.append(self._make(raw))

    def done(self) -> LazyEntries:
        self._versions = sorted(self._by_version, reverse=True)
        return self

    @property
    def count(self) -> int:
        return len(self._entries)

    @property
    def built(self) -> int:
        """How many ``DistributionFile`` objects were made so far."""
        return len(self._built)

    @property
    def versions(self) -> Sequence[Version]:
        return self._versions

    def _file(self, position: int) -> DistributionFile:
        found = self._built.get(position)
        if found is not None:
            return found
        raw = self._entries[position]
        file = raw if isinstance(raw, DistributionFile) else self._make(raw)
        self._built[position] = file
        return file

    def _make(self, raw: tuple[Any, ...]) -> DistributionFile:
        if len(raw) == 8:  # packed (_pack)
            packed, base, rp_text, yanked_value, size, version, kind, tags = raw
            filename, href, hashes, upload, meta = _unpack(packed)
        else:
            (filename, href, base, rp_text, yanked_value, hashes, size, upload, meta) = raw[:9]
            version, kind, tags = raw[9:]
        url = href if href.startswith(("https://", "http://")) else urljoin(base, href)
        hashes = dict(hashes) if isinstance(hashes, dict) else {}
        if "#" in url:
            url, _, fragment = url.partition("#")
            if "=" in fragment:
                algo, _, digest = fragment.partition("=")
                hashes = {algo: digest, **hashes}
        has_rp = isinstance(rp_text, str) and bool(rp_text.strip())
        if size is None and url.startswith("file:"):
            size = _local_size(url)  # a file:// index's index.html carries no sizes
        if isinstance(yanked_value, str):  # PEP 691: a string means yanked, with a reason
            yanked, reason = True, (yanked_value.strip() or None)
        else:
            yanked, reason = bool(yanked_value), None
        return DistributionFile(
            filename=filename,
            url=url,
            index_url=self.index_url,
            project=self.project,
            version=version,
            kind=kind,
            tags=tags,
            hashes={str(k): str(v) for k, v in hashes.items()},
            requires_python=cached_specifier(rp_text) if has_rp else None,
            requires_python_text=rp_text if has_rp else None,
            yanked=yanked,
            yanked_reason=reason,
            size=size if isinstance(size, int) and size >= 0 else None,
            upload_time=_parse_time(upload),
            metadata_hashes=_metadata_hashes(meta),
        )

    def files_for(self, version: Version) -> list[DistributionFile]:
        return [self._file(i) for i in self._by_version.get(version, ())]

    def filenames(self) -> list[str]:
        return [
            e.filename if isinstance(e, DistributionFile) else e[0].partition(_SEP)[0]
            for e in self._entries
        ]

    def build_all(self) -> list[DistributionFile]:
        return [self._file(i) for i in range(len(self._entries))]


def make_file(
    entry: dict[str, Any], page_url: str, index_url: str, project: str, warnings: list[str]
) -> DistributionFile | None:
    """One ``DistributionFile`` from a JSON-shaped entry, or None (with a warning)."""
    filename = entry.get("filename")
    href = entry.get("url")
    if not isinstance(filename, str) or not isinstance(href, str):
        warnings.append(f"Skipped a file entry without a name or URL on {project}'s page.")
        return None
    if filename.endswith(_IGNORED_SUFFIXES):
        return None
    try:
        if filename.endswith(".whl"):
            name, version, _build, tags = parse_wheel_filename(filename)
            kind = "wheel"
        elif filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            tags = frozenset()
            kind = "sdist"
        else:
            warnings.append(f"Skipped {filename}: not a wheel or an sdist.")
            return None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion) as exc:
        warnings.append(f"Skipped {filename}: {exc}")
        return None
    if canonicalize_name(name) != canonicalize_name(project):
        warnings.append(f"Skipped {filename}: it belongs to {name}, not {project}.")
        return None
    rp_text = entry.get("requires-python")
    requires_python = None
    if isinstance(rp_text, str) and rp_text.strip():
        try:
            requires_python = SpecifierSet(rp_text)
        except InvalidSpecifier:
            warnings.append(
                f"Skipped {filename}: its Requires-Python {rp_text!r} is not a valid specifier."
            )
            return None
    else:
        rp_text = None
    yanked_value = entry.get("yanked", False)
    if isinstance(yanked_value, str):  # PEP 691: a string means yanked, with a reason
        yanked, reason = True, (yanked_value.strip() or None)
    else:
        yanked, reason = bool(yanked_value), None
    url = urljoin(page_url, href)
    hashes = entry.get("hashes") or {}
    fragment = urlsplit(url).fragment
    if "=" in fragment:
        algo, _, digest = fragment.partition("=")
        hashes = {algo: digest, **hashes}
    url = url.split("#", 1)[0]
    meta = entry.get("core-metadata", entry.get("dist-info-metadata"))
    size = entry.get("size")
    if size is None and url.startswith("file:"):
        size = _local_size(url)  # a file:// index's index.html carries no sizes
    return DistributionFile(
        filename=filename,
        url=url,
        index_url=index_url,
        project=canonicalize_name(project),
        version=version,
        kind=kind,  # type: ignore[arg-type]
        tags=frozenset(tags),
        hashes={str(k): str(v) for k, v in hashes.items()} if isinstance(hashes, dict) else {},
        requires_python=requires_python,
        requires_python_text=rp_text,
        yanked=yanked,
        yanked_reason=reason,
        size=size if isinstance(size, int) and size >= 0 else None,
        upload_time=_parse_time(entry.get("upload-time")),
        metadata_hashes=_metadata_hashes(meta),
    )


def _local_size(url: str) -> int | None:
    from urllib.request import url2pathname

    try:
        return os.path.getsize(url2pathname(urlsplit(url).path))
    except OSError:
        return None


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """No cyclic GC while a page is read: it makes tens of thousands of small
    containers and no cycles, and each collection it triggers walks every object of
    the process (that was half the time of a cold plan)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_project_json(body: bytes, page_url: str, index_url: str, project: str) -> ProjectPage:
    with _no_gc():
        return _parse_project_json(body, page_url, index_url, project)


def _parse_project_json(body: bytes, page_url: str, index_url: str, project: str) -> ProjectPage:
    from .rawpage import read_json_page

    lazy = read_json_page(body, page_url, index_url, project)
    return lazy if lazy is not None else parse_json_in_full(body, page_url, index_url, project)


def full_json_entries(body: bytes, page_url: str, index_url: str, project: str) -> LazyEntries:
    """Every entry of a JSON page decoded and checked (its warnings dropped)."""
    page = parse_json_in_full(body, page_url, index_url, project)
    assert isinstance(page._lazy, LazyEntries)
    return page._lazy


def parse_json_in_full(body: bytes, page_url: str, index_url: str, project: str) -> ProjectPage:
    """A JSON page with every entry decoded and checked (``LazyEntries``)."""
    data = _load_json(body, page_url)
    api_version = _check_api_version((data.get("meta") or {}).get("api-version"), page_url)
    files = data.get("files")
    if not isinstance(files, list):
        raise IndexUnavailable(
            f"The index at {redact_url(page_url)} sent a project page without a file list."
        )
    page = ProjectPage(
        name=canonicalize_name(project), index_url=index_url, api_version=api_version
    )
    lazy = LazyEntries(page_url, index_url, project)
    lazy.add_many(files, page_url, page.warnings)
    page.set_lazy(lazy.done())
    versions = data.get("versions")
    if isinstance(versions, list):
        page.versions = [str(v) for v in versions]
    return page


def _parse_html(body: bytes, url: str) -> AnchorParser:
    # html.parser (~25 ms of imports) only for an index that sends HTML pages
    from .htmlparse import AnchorParser

    parser = AnchorParser()
    try:
        parser.feed(body.decode("utf-8", errors="replace"))
        parser.close()
    except Exception as exc:
        raise IndexUnavailable(
            f"The index at {redact_url(url)} sent an HTML page that cannot be read.",
            detail=str(exc),
        ) from None
    return parser


def parse_project_html(body: bytes, page_url: str, index_url: str, project: str) -> ProjectPage:
    with _no_gc():
        return _parse_project_html(body, page_url, index_url, project)


def _parse_project_html(body: bytes, page_url: str, index_url: str, project: str) -> ProjectPage:
    parser = _parse_html(body, page_url)
    if parser.tags == 0 and body.strip():
        # Not HTML at all (binary or plain text under text/html): an empty project it
        # is not, so say so rather than "the index has no files for it".
        raise IndexUnavailable(
            f"The index at {redact_url(page_url)} sent a page for {project} that could not "
            "be read (it is neither a JSON nor an HTML project page).",
            detail=body[:80].decode("utf-8", "replace"),
        )
    api_version = _check_api_version(parser.api_version, page_url)
    base = urljoin(page_url, parser.base) if parser.base else page_url
    page = ProjectPage(
        name=canonicalize_name(project), index_url=index_url, api_version=api_version
    )
    lazy = LazyEntries(page_url, index_url, project)
    entries: list[dict[str, Any]] = []
    for attrs, text in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        path = urlsplit(urljoin(base, href)).path
        entry: dict[str, Any] = {
            "filename": text or path.rsplit("/", 1)[-1],
            "url": href,
            "requires-python": attrs.get("data-requires-python"),
        }
        if "data-yanked" in attrs:
            entry["yanked"] = attrs["data-yanked"] or True
        meta = attrs.get("data-core-metadata") or attrs.get("data-dist-info-metadata")
        if meta is not None:
            entry["core-metadata"] = meta
        entries.append(entry)
    lazy.add_many(entries, base, page.warnings)
    page.set_lazy(lazy.done())
    return page


_ANCHOR_TEXT = re.compile(rb"<a\s[^>]*>([^<]*)</a>", re.IGNORECASE)


def parse_project_list(body: bytes, content_type: str, url: str) -> list[str]:
    """Project names from ``/simple/`` (JSON or HTML), as the index spells them."""
    if is_json(content_type):
        data = _load_json(body, url)
        _check_api_version((data.get("meta") or {}).get("api-version"), url)
        projects = data.get("projects")
        if not isinstance(projects, list):
            raise IndexUnavailable(
                f"The index at {redact_url(url)} sent a project list without projects."
            )
        return [
            p["name"] for p in projects if isinstance(p, dict) and isinstance(p.get("name"), str)
        ]
    # PyPI's list is ~50 MB of HTML with ~900,000 anchors: html.parser takes ~20 s on
    # it, this pattern ~0.5 s. The list is plain (one <a> per project), so a pattern
    # is enough; pages of one project keep the full parser.
    names = []
    for raw in _ANCHOR_TEXT.findall(body):
        text = raw.decode("utf-8", "replace").strip()
        if "&" in text:
            import html

            text = html.unescape(text)
        if text:
            names.append(text)
    return names
