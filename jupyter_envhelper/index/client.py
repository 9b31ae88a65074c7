"""``IndexClient``: projects, files and core metadata from Simple API indexes.

How metadata is read, cheapest first:

1. the ``.metadata`` file when the page advertises it (PEP 658/714), hash-checked;
2. for wheels, ``<url>.metadata`` tried *optimistically* when the file is hosted by
   PyPI (``files.pythonhosted.org``, which serves it for every wheel even when a
   front end strips ``core-metadata`` from the pages), when ``optimistic_metadata``
   is True, or for a wheel named by a bare URL (``direct_file``) unless
   ``optimistic_metadata`` is False; the first 404 from a host turns the guess off
   for that host;
3. for wheels, METADATA read out of the remote zip with HTTP range requests;
4. last resort, the whole file (counted in ``stats.full_downloads`` and warned
   about); an sdist yields its PKG-INFO. Without it, metadata is "unavailable".
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from ..errors import EnvHelperError, IndexTimeout, IndexUnavailable, NotFound
from ..validation import MAX_NAME_LENGTH, PROJECT_NAME
from .cache import DEFAULT_PAGE_FRESHNESS, HttpCache
from .config import IndexConfig, ssl_context_from_env
from .credentials import redact_url, split_credentials
from .direct import wheel_file_from_url
from .fetcher import Fetcher, Page
from .jsonapi import json_api_document, kept_document
from .merge import merge_pages
from .metadata import (
    extract_pkg_info,
    metadata_from_wheel_bytes,
    parse_core_metadata,
    unavailable_metadata,
)
from .models import ClientStats, CoreMetadata, DistributionFile, ProjectPage
from .pages import ACCEPT, is_json, parse_project_html, parse_project_json, parse_project_list
from .wheelzip import RangeAnswer, ZipReadError, read_metadata_by_ranges

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

PYPI_FILE_HOSTS = frozenset({"files.pythonhosted.org"})
DEFAULT_MAX_DOWNLOAD = 100 * 1024 * 1024
# parsed pages kept in memory per client: a server serves many plans with one client,
# and a page of a big project is megabytes of entries
MAX_PAGES = 512


class IndexClient:
    """Asynchronous client for one ``IndexConfig``; one per event loop.

    Pass ``client`` (an ``httpx.AsyncClient`` you own) or ``transport`` to control
    the HTTP layer, as tests do; otherwise one AsyncClient is made with proxies from
    the environment and CA bundles from PIP_CERT / SSL_CERT_FILE / REQUESTS_CA_BUNDLE.
    ``bulk_helper``: read the JSON API documents (vulnerabilities) in a helper process
    (``index/offload.py``), for a process that plans once and exits.
    """

    def __init__(
        self,
        config: IndexConfig | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        cache_dir: str | Path | None = None,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        total_timeout: float | None = 120.0,
        download_timeout: float | None = None,
        max_concurrency: int = 16,
        retries: int = 3,
        backoff: float = 0.5,
        page_freshness: float = DEFAULT_PAGE_FRESHNESS,
        optimistic_metadata: bool | None = None,
        allow_downloads: bool = True,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD,
        use_netrc: bool = True,
        bulk_helper: bool = False,
    ) -> None:
        self.config = config or IndexConfig()
        self._fetcher = Fetcher(
            client=client,
            transport=transport,
            timeout=timeout,
            connect_timeout=connect_timeout,
            total_timeout=total_timeout,
            max_concurrency=max_concurrency,
            retries=retries,
            backoff=backoff,
            cache=HttpCache(cache_dir) if cache_dir is not None else None,
            page_freshness=page_freshness,
            use_netrc=use_netrc,
            verify=ssl_context_from_env if client is None else True,
            bulk_helper=bulk_helper,
        )
        # Credentials are split off here once: everything else sees clean URLs.
        self.index_urls = [self._fetcher.add_credentials(u) for u in self.config.search_order]
        self.strategy = self.config.strategy
        self.optimistic_metadata = optimistic_metadata
        self.allow_downloads = allow_downloads
        self.max_download_bytes = max_download_bytes
        # a whole file (the last resort for metadata, or the project list) may take
        # longer than a page; None: the same limit as a page
        self.download_timeout = download_timeout
        self.warnings: list[str] = list(self.config.warnings)
        self._no_metadata_hosts: set[str] = set()
        # hosts whose wheels' ranges are read while a guessed .metadata is awaited
        self.ranged_guess_hosts: frozenset[str] = PYPI_FILE_HOSTS
        self._pages: dict[str, asyncio.Task[ProjectPage]] = {}  # LRU order
        self._loaded_at: dict[str, float] = {}  # key -> when its page was asked for
        # how long a parsed page is given again before the index is asked again: the
        # page freshness, but never less than a minute (a plan, and the next, are one
        # view of the index even with page_freshness=0, which revalidates on disk)
        self.memo_seconds = max(page_freshness, 60.0)
        # page URL -> (length, hash) of the body parsed, and that page while it lives
        self._parsed: dict[str, tuple[int, int, weakref.ref[ProjectPage]]] = {}
        self.max_pages = MAX_PAGES
        self._json_docs: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._watchers: list[Callable[[str], None]] = []  # see watch_projects
        self._metadata: dict[str, CoreMetadata] = {}
        self._sizes: dict[str, int] = {}  # file URL -> size, as range answers told it

    def __repr__(self) -> str:
        urls = ", ".join(redact_url(u) for u in self.index_urls)
        return f"IndexClient([{urls}], strategy={self.strategy!r})"

    @property
    def stats(self) -> ClientStats:
        return self._fetcher.stats

    @property
    def page_freshness(self) -> float:
        """Seconds a cached page is reused without asking the index."""
        return self._fetcher.page_freshness

    @property
    def http_cache_dir(self) -> Path | None:
        """The directory of the disk cache (None: this client keeps none)."""
        cache = self._fetcher.cache
        return cache.directory if cache is not None else None

    async def aclose(self) -> None:
        await self._fetcher.aclose()

    async def __aenter__(self) -> IndexClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _warn(self, message: str) -> None:
        message = redact_url(message)
        if message not in self.warnings:
            self.warnings.append(message)
            log.warning("%s", message)

    # -- projects ------------------------------------------------------------------------
    async def get_project(self, name: str) -> ProjectPage:
        """The project's files, following the configured strategy (memoised per client)."""
        key = _request_key(name)
        for watcher in self._watchers:
            watcher(key)
        task = self._pages.pop(key, None)  # re-inserted last: the most recently used
        now = time.monotonic()
        if (
            task is None
            or (task.done() and task.exception() is not None)
            # a long-lived client (the server's) asks again once the page is no longer
            # fresh, so a release published since is seen; unchanged, the parsed page is
            # given back as it was (see _page_from)
            or (task.done() and now - self._loaded_at.get(key, now) >= self.memo_seconds)
        ):
            task = asyncio.ensure_future(self._load_project(key))
            self._loaded_at[key] = now
        self._pages[key] = task
        if len(self._pages) > self.max_pages:
            self._evict()
        return await asyncio.shield(task)

    @contextmanager
    def watch_projects(self, watcher: Callable[[str], None]) -> Iterator[None]:
        """While in the block, ``watcher(key)`` is called (on the loop, before the page
        is read) with the normalised name of every project page asked for: so a plan
        can start what it will want to know about a project as soon as it is named."""
        self._watchers.append(watcher)
        try:
            yield
        finally:
            self._watchers.remove(watcher)

    def _evict(self) -> None:
        """Forget the least recently used finished pages beyond ``max_pages`` (a plan
        holds the pages it uses itself; the disk cache has them all)."""
        excess = len(self._pages) - self.max_pages
        for old in [k for k, t in self._pages.items() if t.done()][:excess]:
            del self._pages[old]
            self._loaded_at.pop(old, None)
        for url in [u for u, (_, _, ref) in self._parsed.items() if ref() is None]:
            del self._parsed[url]

    async def _load_project(self, key: str) -> ProjectPage:
        if self.strategy == "merge":
            results = await asyncio.gather(*(self._page_from(u, key) for u in self.index_urls))
            found = [page for page in results if page is not None]
            if not found:
                raise self._not_found(key)
            return merge_pages(key, found)  # lazy: files are made per version asked
        for url in self.index_urls:
            first = await self._page_from(url, key)
            if first is not None:
                return first
        raise self._not_found(key)

    def _not_found(self, key: str) -> NotFound:
        where = " or ".join(redact_url(u) for u in self.index_urls)
        return NotFound(f"No project named {key} on {where}.")

    async def _page_from(self, index_url: str, key: str) -> ProjectPage | None:
        url = f"{index_url}{key}/"
        page = await self._fetcher.get_page(url, ACCEPT)
        if page.status == 404:
            return None
        self._check_status(page.status, url)
        # the same bytes as the page parsed last time (a 304, or still fresh on disk):
        # that page again, not a new one (plans memoised on it stay valid)
        seen = (len(page.body), hash(page.body))
        known = self._parsed.get(url)
        if known is not None and known[:2] == seen:
            again = known[2]()
            if again is not None:
                return again
        if is_json(page.content_type):
            result = parse_project_json(page.body, page.url, index_url, key)
        else:
            result = parse_project_html(page.body, page.url, index_url, key)
        for warning in result.warnings:
            self._warn(warning)
        self._parsed[url] = (*seen, weakref.ref(result))
        return result

    async def read_page(self, index_url: str, name: str) -> Page | None:
        """``name``'s page on one of ``index_urls`` as sent (None: not there), through
        the disk cache but neither parsed nor memoised: for a caller that reads only a
        part of each page (``outdated`` wants the releases newer than one version)."""
        key = _request_key(name)
        url = f"{index_url}{key}/"
        page = await self._fetcher.get_page(url, ACCEPT)
        if page.status == 404:
            return None
        self._check_status(page.status, url)
        return page

    def _check_status(self, status: int, url: str) -> None:
        if status in (401, 403):
            raise IndexUnavailable(
                f"The package index refused access to {redact_url(url)} (HTTP {status}). "
                "Check the credentials in the index URL or in ~/.netrc."
            )
        if status != 200:
            raise IndexUnavailable(
                f"The package index answered HTTP {status} for {redact_url(url)}."
            )

    async def project_list(self, index_url: str | None = None) -> list[str]:
        """All project names of one index (default: the main index), for search."""
        url = self.index_urls[-1] if index_url is None else self._fetcher.add_credentials(index_url)
        # PyPI's list is tens of megabytes: a download, not a page, as far as time goes
        page = await self._fetcher.get_page(url, ACCEPT, total_timeout=self.download_timeout)
        self._check_status(page.status, url)
        # A big list (PyPI's: ~900,000 names) takes a while to parse: not on the loop.
        return await self._fetcher.in_io_thread(
            parse_project_list, page.body, page.content_type, page.url
        )

    async def project_json(self, name: str) -> dict[str, Any] | None:
        """PyPI's JSON API document for ``name`` (``<root>/pypi/<name>/json``), if offered.

        Only indexes whose URL ends in ``/simple/`` can offer it (PyPI, and mirrors
        laid out like it). ``None`` means "this index publishes no such data",
        never "nothing to report": callers must say "unknown".

        Without its per-release file lists (``releases``, ``urls``: megabytes for a big
        project, and the Simple API pages say the same), and kept in memory for the
        page freshness, so a repeated plan does not read and parse them again.
        """
        key = _request_key(name)
        kept = self._json_docs.get(key)
        if kept is not None and time.monotonic() - kept[0] < self.page_freshness:
            self._json_docs[key] = self._json_docs.pop(key)  # most recently used
            return kept[1]
        found, failed = await self._project_json(key)
        if not failed:  # a timeout is asked again next time
            self._json_docs[key] = (time.monotonic(), found)
        while len(self._json_docs) > self.max_pages:
            del self._json_docs[next(iter(self._json_docs))]
        return found

    async def _project_json(self, key: str) -> tuple[dict[str, Any] | None, bool]:
        failed = False
        for index_url in self.index_urls:
            if not index_url.rstrip("/").endswith("/simple"):
                continue
            url = index_url.rstrip("/")[: -len("simple")] + f"pypi/{key}/json"
            try:
                # read once the plan is made: after every request the resolver waits on
                page = await self._fetcher.get_page(
                    url, "application/json", background=True, store_as=kept_document
                )
            except (IndexUnavailable, IndexTimeout) as exc:
                self._warn(f"No vulnerability data: {exc.message}")
                failed = True
                continue
            if page.status != 200:
                continue
            try:
                data = json_api_document(page.body)  # its file lists skipped unread
            except ValueError:
                self._warn(f"The JSON API of {redact_url(index_url)} sent malformed JSON.")
                continue
            if isinstance(data, dict):
                return data, False
        return None, failed

    # -- files named by URL ------------------------------------------------------------------
    def direct_file(self, url: str) -> DistributionFile:
        """The wheel at ``url`` (a PEP 508 ``name @ URL``) as a ``DistributionFile``.

        Its ``url`` is clean (no credentials, no fragment); a ``#sha256=`` fragment
        becomes its hash; credentials in ``url`` are kept for its host, as for index
        URLs, unless the configuration already has some for that host (they win).
        ``get_metadata`` then reads it like an index file: ``<url>.metadata`` first,
        then HTTP ranges. Raises ``DirectURLError`` (a ``ValueError`` with a
        ``reason``) when ``url`` is not an http(s) URL of a wheel.
        """
        file = wheel_file_from_url(url)
        if split_credentials(url)[1] is not None:
            self._fetcher.add_credentials(url, replace=False)
        return file

    def known_size(self, file: DistributionFile) -> int | None:
        """The file's size: from its page, else from a range answer read for its metadata."""
        return file.size if file.size is not None else self._sizes.get(file.url)

    async def size_of(self, url: str) -> int | None:
        """The size of the file at ``url`` (an index file's clean URL): as a range answer
        told it, else from a HEAD request's Content-Length; None when nobody says."""
        known = self._sizes.get(url)
        if known is not None:
            return known
        try:
            response = await self._fetcher.request(
                url, {"Accept-Encoding": "identity"}, method="HEAD"
            )
        except EnvHelperError:
            return None
        length = response.headers.get("content-length", "")
        if response.status_code != 200 or not length.isdigit():
            return None
        self._sizes[url] = int(length)
        return int(length)

    async def _get_range(self, url: str, range_header: str) -> RangeAnswer:
        answer = await self._fetcher.get_range(url, range_header)
        if answer.total >= 0:
            self._sizes[url] = answer.total
        return answer

    # -- metadata --------------------------------------------------------------------------
    async def prefetch_metadata(self, files: Iterable[DistributionFile]) -> list[CoreMetadata]:
        """Metadata of many files concurrently (bounded by ``max_concurrency``).

        A file whose metadata cannot be read yields "unavailable" metadata with the
        reason in its warnings, so one bad file never sinks the batch.
        """

        async def one(file: DistributionFile) -> CoreMetadata:
            try:
                return await self.get_metadata(file)
            except EnvHelperError as exc:
                return unavailable_metadata(file, exc.message)

        return list(await asyncio.gather(*(one(f) for f in files)))

    def _blob_key(self, file: DistributionFile) -> str | None:
        digest = file.sha256 or (file.metadata_hashes or {}).get("sha256")
        return f"metadata\n{file.url}\n{digest}" if digest else None

    # -- answers already in memory, readable from any thread ------------------------------
    # The resolver runs in a worker thread; going through the loop for an answer the
    # client already holds costs a thread hand-off each time (80 of them made a warm
    # 40-package plan take 70-200 ms). These only read finished results.
    def peek_project(self, name: str) -> ProjectPage | None:
        task = self._pages.get(canonicalize_name(name))
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    def peek_metadata(self, file: DistributionFile) -> CoreMetadata | None:
        return self._metadata.get(f"{file.url}#{file.sha256}")

    async def get_metadata(self, file: DistributionFile) -> CoreMetadata:
        memo_key = f"{file.url}#{file.sha256}"
        if memo_key in self._metadata:
            return self._metadata[memo_key]
        cache = self._fetcher.cache
        blob_key = self._blob_key(file)
        if cache and blob_key:
            await self._fetcher.settled(blob_key)
        cached = (
            await self._fetcher.in_io_thread(cache.get_blob, blob_key)
            if cache and blob_key
            else None
        )
        if cached is not None:
            source = cached[:32].split(b"\n", 1)[0].decode()
            result = parse_core_metadata(cached.split(b"\n", 1)[1], file, source)  # type: ignore[arg-type]
        else:
            data, source = await self._read_metadata(file)
            if data is None:
                result = unavailable_metadata(
                    file, f"No metadata could be read for {file.filename}."
                )
            else:
                result = parse_core_metadata(data, file, source)  # type: ignore[arg-type]
                if cache and blob_key:
                    blob = source.encode() + b"\n" + data
                    self._fetcher.write_behind(blob_key, cache.put_blob, blob_key, blob)
        for warning in result.warnings:
            self._warn(warning)
        self._metadata[memo_key] = result
        return result

    def _optimistic(self, file: DistributionFile) -> bool:
        host = urlsplit(file.url).netloc
        if host in self._no_metadata_hosts or file.kind != "wheel":
            return False
        if self.optimistic_metadata is not None:
            return self.optimistic_metadata
        return file.direct_url or urlsplit(file.url).hostname in PYPI_FILE_HOSTS

    async def _read_metadata(self, file: DistributionFile) -> tuple[bytes | None, str]:
        ranges: asyncio.Future[tuple[bytes, bool]] | None = None
        if file.has_metadata_file or self._optimistic(file):
            guess = not file.has_metadata_file
            if guess and urlsplit(file.url).hostname in self.ranged_guess_hosts:
                # a guess: a miss costs a round trip, so the ranges are read meanwhile
                # (PyPI's file host honours ranges: a miss costs no download), and
                # whichever answers first is taken: a missing .metadata may take a
                # CDN's trip to its origin to say so (~120 ms for PyPI's newest
                # files on a mirror), while the wheel's ranges come from its cache
                ranges = asyncio.ensure_future(read_metadata_by_ranges(self._get_range, file))
                ranges.add_done_callback(lambda f: f.cancelled() or f.exception())
            try:
                if ranges is None:
                    data = await self._metadata_file(file)
                else:
                    data = await self._guess_or_ranges(file, ranges)
            except BaseException:
                if ranges is not None:
                    ranges.cancel()
                raise
            if data is not None:
                if ranges is not None:
                    ranges.cancel()
                return data, "metadata-file"
        if file.kind == "wheel":
            try:
                data, whole = await (
                    ranges if ranges is not None else read_metadata_by_ranges(self._get_range, file)
                )
            except ZipReadError as exc:
                self._warn(f"Could not read METADATA of {file.filename} by ranges: {exc}.")
            else:
                if whole:
                    self._warn(
                        f"The index ignored range requests: all of {file.filename} "
                        "was downloaded to read its metadata."
                    )
                return data, "download" if whole else "range"
        return await self._download_for_metadata(file)

    async def _guess_or_ranges(
        self, file: DistributionFile, ranges: asyncio.Future[tuple[bytes, bool]]
    ) -> bytes | None:
        """The guessed ``.metadata`` file's bytes, or None when the ranges read
        METADATA first (the guess is then dropped unanswered) or the guess missed."""
        guess = asyncio.ensure_future(self._metadata_file(file))
        try:
            await asyncio.wait((guess, ranges), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            guess.cancel()
            raise
        if not guess.done() and not ranges.cancelled() and ranges.exception() is None:
            guess.cancel()
            return None
        return await guess

    async def _metadata_file(self, file: DistributionFile) -> bytes | None:
        status, body = await self._fetcher.get_bytes(file.metadata_url)
        if status != 200:
            if not file.has_metadata_file:
                self._no_metadata_hosts.add(urlsplit(file.url).netloc)
            else:
                self._warn(f"{file.filename}: the advertised .metadata file answered {status}.")
            return None
        expected = (file.metadata_hashes or {}).get("sha256")
        if expected and hashlib.sha256(body).hexdigest() != expected:
            self._warn(f"{file.filename}: the .metadata file does not match its hash; ignored.")
            return None
        if not file.has_metadata_file and not body.lstrip().startswith(b"Metadata-Version"):
            self._no_metadata_hosts.add(urlsplit(file.url).netloc)
            return None
        return body

    async def _download_for_metadata(self, file: DistributionFile) -> tuple[bytes | None, str]:
        if not self.allow_downloads:
            return None, "unavailable"
        if file.size is not None and file.size > self.max_download_bytes:
            self._warn(f"{file.filename} is too big ({file.size} bytes) to download for metadata.")
            return None, "unavailable"
        status, body = await self._fetcher.get_bytes(file.url, total_timeout=self.download_timeout)
        if status != 200:
            self._check_status(status, file.url)
        self._fetcher.stats.full_downloads += 1
        self._warn(f"Downloaded all of {file.filename} ({len(body)} bytes) to read its metadata.")
        if file.kind == "wheel":
            return metadata_from_wheel_bytes(body, file), "download"
        return extract_pkg_info(body, file.filename), "pkg-info"

    def describe(self) -> dict[str, Any]:
        return {
            "indexes": [redact_url(u) for u in self.index_urls],
            "strategy": self.strategy,
            "stats": self.stats.to_json(),
            "warnings": list(self.warnings),
        }


def _request_key(name: str) -> str:
    """The canonical name to put in an index URL; NotFound for anything that is not a
    PEP 508 name (``a?x=1``, ``../x``), before a request (with credentials) is made."""
    key = canonicalize_name(name)
    if not key or len(key) > MAX_NAME_LENGTH or not PROJECT_NAME.fullmatch(key):
        raise NotFound(f"{name[:60]!r} is not a valid project name.")
    return key
