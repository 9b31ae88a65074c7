"""The HTTP layer of the index client: one connection pool, bounded concurrency,
timeouts, retries with backoff, credentials per host, the disk cache and counters.

Every failure leaves as ``IndexTimeout`` or ``IndexUnavailable`` with a redacted URL;
a 4xx other than 429 is returned to the caller, which knows what it means.

Disk work (the cache) runs on the fetcher's own small thread pool, never on the
loop's default executor: resolvers run in default-executor threads and wait for
pages, so a page that needed one of those threads to read the cache could wait for a
resolver that waits for it (enough concurrent plans filled the pool and every plan
stalled until its timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import random
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from ..errors import IndexTimeout, IndexUnavailable
from .cache import DEFAULT_PAGE_FRESHNESS, HttpCache
from .credentials import host_key, netrc_credentials, redact_url, split_credentials
from .models import ClientStats
from .wheelzip import RangeAnswer

if TYPE_CHECKING:  # httpx (70 ms of imports) is loaded by the first client made
    import httpx

    from .offload import BulkReader
    from .threaded import ThreadedTransport

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 10.0
IO_THREADS = 4
FOREGROUND_SHARE = 4  # a quarter of the request slots is never held by background ones
WRITES_WAIT = 30.0  # seconds closing waits for cache writes still under way
NETRC_RECHECK = 30.0  # seconds before ~/.netrc is read again for a host it lacked
T = TypeVar("T")


def _late(waited: float | None, shown: str) -> IndexTimeout:
    return IndexTimeout(
        f"The package index did not answer in time ({waited or 0:g} s) "
        f"for {shown}. Check the network or proxy, or try again later."
    )


def _unknown_host(exc: BaseException) -> bool:
    """Whether ``exc`` came from a name lookup that says the host does not exist (not
    "try again later"): the transport raises from the ``socket.gaierror``."""
    cause = exc.__cause__
    while cause is not None and not isinstance(cause, socket.gaierror):
        cause = cause.__cause__
    codes = {getattr(socket, n, None) for n in ("EAI_NONAME", "EAI_NODATA")} - {None}
    return cause is not None and cause.errno in codes


class Slots:
    """At most ``size`` requests at once, first come first served, except that a
    waiting request always goes before every waiting ``background`` one, and at most
    ``background`` (default: all) of the slots are held by background requests: the
    rest stay free for what a plan waits on (an advisory document of a big project
    is megabytes; a page the resolver waits for must not queue behind a dozen)."""

    def __init__(self, size: int, background: int | None = None) -> None:
        self.free = size
        self.background_limit = size if background is None else max(1, background)
        self.background_held = 0
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())

    @contextlib.asynccontextmanager
    async def hold(self, background: bool = False) -> AsyncIterator[None]:
        await self._acquire(background)
        try:
            yield
        finally:
            self._release(background)

    async def _acquire(self, background: bool) -> None:
        first, behind = self._waiting
        if self.free > 0 and not first:
            if not background:
                self.free -= 1
                return
            if not behind and self.background_held < self.background_limit:
                self.free -= 1
                self.background_held += 1
                return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = behind if background else first
        queue.append(waiter)
        try:
            await waiter  # a releasing request hands its slot over (see _hand_over)
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release(background)  # handed over, then cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(waiter)
            raise

    def _release(self, background: bool) -> None:
        if background:
            self.background_held -= 1
        self.free += 1
        self._hand_over()

    def _hand_over(self) -> None:
        first, behind = self._waiting
        while self.free > 0:
            if first:
                waiter = first.popleft()
                if not waiter.done():
                    self.free -= 1
                    waiter.set_result(None)
                continue
            if behind and self.background_held < self.background_limit:
                waiter = behind.popleft()
                if not waiter.done():
                    self.free -= 1
                    self.background_held += 1
                    waiter.set_result(None)
                continue
            return


@dataclass
class Page:
    status: int
    url: str
    body: bytes
    content_type: str
    from_cache: bool = False


class Fetcher:
    """The HTTP layer; cache files are read and written in worker threads, off the loop."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        total_timeout: float | None = 120.0,
        max_concurrency: int = 16,
        retries: int = 3,
        backoff: float = 0.5,
        cache: HttpCache | None = None,
        page_freshness: float = DEFAULT_PAGE_FRESHNESS,
        use_netrc: bool = True,
        verify: object = True,
        bulk_helper: bool = False,
    ) -> None:
        self._own_client = client is None
        # Made on the first request (loading a CA bundle takes ~50 ms, and a plan
        # answered from the disk cache never needs one); ``verify`` may be a
        # callable that returns what httpx takes, called then.
        self._client = client
        self._client_options = (transport, timeout, connect_timeout, max_concurrency, verify)
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.max_concurrency = max(1, max_concurrency)
        self.retries = max(0, retries)
        self.backoff = backoff
        self.cache = cache
        self.page_freshness = page_freshness
        self.use_netrc = use_netrc
        self.stats = ClientStats()
        self._credentials: dict[str, tuple[str, str]] = {}
        self._netrc_misses: dict[str, float] = {}  # host key -> when none was found
        self._writes: dict[str, asyncio.Future[Any]] = {}  # see write_behind
        self._writer: ThreadPoolExecutor | None = None
        self._semaphore: Slots | None = None
        self._io: ThreadPoolExecutor | None = None
        self._making: asyncio.Future[httpx.AsyncClient] | None = None
        # (transport, timeouts) when ``_send`` may use the threaded transport itself
        self._direct: tuple[ThreadedTransport, dict[str, float | None]] | None = None
        # background answers kept in part read by a helper process (index/offload.py),
        # made on first use; a process that plans once (a command line's) asks for it
        self._bulk_wanted = bulk_helper
        self._bulk: BulkReader | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> httpx.AsyncClient:
        import urllib.request

        import httpx

        from .threaded import ThreadedTransport, shared_context

        transport, timeout, connect_timeout, max_concurrency, verify = self._client_options
        if transport is None:  # one context per process for these CA settings
            verify = shared_context(verify)  # type: ignore[arg-type]
        elif callable(verify):
            verify = verify()
        limits = httpx.Limits(max_connections=max_concurrency * 2)
        threaded = None
        if transport is None:  # bodies read by http.client on worker threads
            transport = threaded = ThreadedTransport(verify=verify, max_connections=max_concurrency)  # type: ignore[arg-type]
        else:
            with contextlib.suppress(ImportError):  # what httpcore imports on its first request
                importlib.import_module("anyio._backends._asyncio")
        made = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=limits,
            follow_redirects=True,
            trust_env=True,
            verify=verify,  # type: ignore[arg-type]
            headers={"User-Agent": "jupyter-envhelper"},
        )
        # the client's proxies come from the environment as it is now (trust_env): with
        # none, every URL goes to the threaded transport, which ``_send`` may use itself
        direct = threaded is not None and not urllib.request.getproxies()
        self._direct = (threaded, made.timeout.as_dict()) if threaded and direct else None
        return made

    async def ready_client(self) -> httpx.AsyncClient:
        """``client``, made in an I/O thread the first time: loading the CA bundle is
        tens of milliseconds of CPU that must not stall the server's event loop."""
        if self._client is None:
            if self._making is None:  # the first request makes it; the others wait
                self._making = asyncio.ensure_future(self.in_io_thread(self._new_client))
            making = self._making
            try:
                made = await asyncio.shield(making)
            except BaseException:
                if making.done() and self._making is making:
                    self._making = None  # the next request tries again
                raise
            if self._client is None:
                self._client = made
        return self._client

    async def in_io_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking disk or parsing work on the fetcher's own threads (see above)."""
        if self._io is None:
            self._io = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="envhelper-index-io")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._io, functools.partial(function, *args))

    def add_credentials(self, url: str, *, replace: bool = True) -> str:
        """Remember credentials in ``url`` for its host; return the clean URL.

        ``replace=False`` keeps credentials already known for that host."""
        clean, credentials = split_credentials(url)
        if credentials is not None:
            if replace:
                self._credentials[host_key(clean)] = credentials
            else:
                self._credentials.setdefault(host_key(clean), credentials)
        return clean

    def _auth(self, url: str) -> httpx.BasicAuth | None:
        import httpx

        key = host_key(url)
        credentials = self._credentials.get(key)
        if credentials is None and self.use_netrc:
            # a host without netrc credentials is looked up again only after a while
            # (each look is a stat of ~/.netrc: hundreds per plan otherwise)
            missed = self._netrc_misses.get(key)
            if missed is None or time.monotonic() - missed > NETRC_RECHECK:
                host = httpx.URL(url).host
                credentials = netrc_credentials(host)
                if credentials is not None:
                    self._credentials[key] = credentials
                    self._netrc_misses.pop(key, None)
                else:
                    self._netrc_misses[key] = time.monotonic()
        return httpx.BasicAuth(*credentials) if credentials else None

    def write_behind(self, key: str, function: Callable[..., Any], *args: Any) -> None:
        """Run a cache write on the I/O threads without waiting for it: an answer is
        used at once, its copy on disk follows. ``settled(key)`` waits for the write
        of ``key``; closing waits for them all."""
        if self._writer is None:  # its own thread: reads never wait behind writes
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="envhelper-cache-write")
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._writer, functools.partial(function, *args))
        self._writes[key] = future

        def done(finished: asyncio.Future[Any]) -> None:
            if self._writes.get(key) is finished:
                del self._writes[key]
            if not finished.cancelled():
                finished.exception()  # a cache that cannot write is only slower

        future.add_done_callback(done)

    async def settled(self, key: str) -> None:
        """Wait for a pending ``write_behind`` of ``key`` (so it is read back, not missed)."""
        pending = self._writes.get(key)
        if pending is not None:
            await asyncio.wait([pending])

    async def aclose(self) -> None:
        if self._writes:  # what was fetched reaches the disk cache before the threads go
            await asyncio.wait(list(self._writes.values()), timeout=WRITES_WAIT)
        if self._bulk is not None:
            await self._bulk.aclose()
            self._bulk = None
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None
            self._direct = None
        self._making = None
        if self._io is not None:
            self._io.shutdown(wait=False, cancel_futures=True)
            self._io = None
        if self._writer is not None:
            self._writer.shutdown(wait=False, cancel_futures=True)
            self._writer = None

    # -- the one request path ----------------------------------------------------------
    async def request(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        total_timeout: float | None = None,
        method: str = "GET",
        background: bool = False,
    ) -> httpx.Response:
        """GET (or ``method``) ``url`` with retries; 2xx/3xx/4xx (not 429) are returned.

        Each attempt may take ``total_timeout`` seconds from start to last byte
        (default: the fetcher's); ``timeout`` bounds each wait for bytes within it.
        A ``background`` request (what a plan only reads once resolved) waits for a
        free slot behind every other waiting request."""
        import httpx

        limit = total_timeout if total_timeout is not None else self.total_timeout
        if self._semaphore is None:
            kept = self.max_concurrency // FOREGROUND_SHARE
            self._semaphore = Slots(self.max_concurrency, max(1, self.max_concurrency - kept))
        shown = redact_url(url)
        attempt = 0
        while True:
            self.stats.requests += 1
            problem: str
            retry_after: float | None = None
            try:
                client = await self.ready_client()
                async with self._semaphore.hold(background):
                    response = await asyncio.wait_for(
                        self._send(client, method, url, dict(headers or {})), limit
                    )
            except (httpx.TimeoutException, asyncio.TimeoutError) as exc:
                # httpx: a wait for bytes ran out; asyncio: the whole request did
                gap = isinstance(exc, httpx.TimeoutException) or limit is None
                raise _late(self.timeout if gap else limit, shown) from None
            except httpx.TransportError as exc:
                problem = f"could not connect ({type(exc).__name__})"
                if _unknown_host(exc):  # asking again will not make the name known
                    raise IndexUnavailable(
                        f"The package index {problem} for {shown}: its host name is not "
                        "known here. Check the index URL, or the network's name service."
                    ) from None
            except httpx.InvalidURL:
                raise IndexUnavailable(f"The index URL {shown} is not valid.") from None
            else:
                self.stats.bytes_downloaded += len(response.content)
                if response.status_code not in RETRY_STATUSES:
                    return response
                problem = f"answered HTTP {response.status_code}"
                value = response.headers.get("retry-after", "")
                retry_after = float(value) if value.isdigit() else None
            if attempt >= self.retries:
                raise IndexUnavailable(
                    f"The package index {problem} for {shown}"
                    f" (after {attempt + 1} attempts). Try again later.",
                )
            delay = retry_after if retry_after is not None else self.backoff * 2**attempt
            delay = min(MAX_BACKOFF, delay) * (0.5 + random.random())  # noqa: S311 - jitter
            log.info("Retrying %s in %.2f s: %s", shown, delay, problem)
            self.stats.retries += 1
            attempt += 1
            await asyncio.sleep(delay)

    async def _send(
        self, client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str]
    ) -> httpx.Response:
        """One exchange. A plain one (no proxy, no credentials, no cookies) goes to the
        threaded transport as ``client`` would send it, without the client's machinery
        around it (auth flow, redirect loop, cookie jar, hooks: ~0.7 ms of CPU a
        request, and a cold plan makes hundreds); a redirect is followed from there by
        ``client`` itself. Everything else is ``client.request``."""
        import httpx

        auth = self._auth(url)
        direct = self._direct
        if direct is not None and auth is None and not client.cookies:
            transport, timeout = direct
            merged = client.headers.copy()
            merged.update(headers)
            request = httpx.Request(method, url, headers=merged, extensions={"timeout": timeout})
            if request.url.userinfo:  # credentials in the URL: the client's basic auth
                return await client.request(method, url, headers=headers, auth=auth)
            response = await transport.handle_async_request(request)
            response.request = request
            if not response.has_redirect_location:
                try:
                    await response.aread()  # decoded as the client decodes it
                finally:
                    await response.aclose()
                if "set-cookie" in response.headers:  # kept, as the client keeps them
                    client.cookies.extract_cookies(response)
                return response
            await response.aclose()
            # the client follows the rest of the way (and says where it ended)
            url = str(request.url.join(response.headers["location"]))
        return await client.request(method, url, headers=headers, auth=auth)

    # -- pages, with the cache -----------------------------------------------------------
    async def get_page(
        self,
        url: str,
        accept: str,
        *,
        total_timeout: float | None = None,
        background: bool = False,
        store_as: Callable[[bytes], bytes] | None = None,
    ) -> Page:
        """The page at ``url``, from the disk cache while fresh. ``store_as``: what of
        a new answer's body the cache keeps (the part a caller reads back), in its
        place; the answer itself is returned whole, unless a helper process read it
        (a ``background`` answer kept in part, see ``_from_helper``): then it is
        returned as kept."""
        await self.settled(f"{accept}\n{url}")
        entry = await self.in_io_thread(self.cache.load, url, accept) if self.cache else None
        if entry is not None and entry.is_fresh(self.page_freshness):
            self.stats.cache_hits += 1
            return Page(
                200,
                entry.headers.get("x-final-url", url),
                entry.body,
                entry.headers.get("content-type", ""),
                from_cache=True,
            )
        headers = {"Accept": accept, **(entry.validators() if entry else {})}
        answer = None
        if background and store_as is not None and self._bulk_wanted:
            answer = await self._from_helper(url, headers, store_as, total_timeout)
        if answer is None:
            response = await self.request(
                url, headers, total_timeout=total_timeout, background=background
            )
            answer = (
                response.status_code,
                str(response.url),
                {k.lower(): v for k, v in response.headers.items()},
                response.content,
                False,
            )
        status, final, reply, body, kept_already = answer
        if status == 304 and entry is not None and self.cache is not None:
            self.stats.revalidated += 1
            self.write_behind(f"{accept}\n{url}", self.cache.refresh, entry, accept, reply)
            return Page(
                200,
                entry.headers.get("x-final-url", final),
                entry.body,
                entry.headers.get("content-type", ""),
                from_cache=True,
            )
        content_type = reply.get("content-type", "")
        if status == 200 and self.cache is not None:
            kept = {**reply, "x-final-url": final}
            key = f"{accept}\n{url}"
            if store_as is None or kept_already:
                self.write_behind(key, self.cache.store, url, accept, 200, kept, body)
            else:
                self.write_behind(key, self._store_part, url, accept, kept, body, store_as)
        return Page(status, final, body, content_type)

    async def _from_helper(
        self,
        url: str,
        headers: dict[str, str],
        store_as: Callable[[bytes], bytes],
        total_timeout: float | None,
    ) -> tuple[int, str, dict[str, str], bytes, bool] | None:
        """A background answer read by the helper process (``index/offload.py``):
        (status, final URL, headers, body, whether the body is already as kept).

        Only for what this process would send as is (``_send``'s plain case: no
        proxy, no credentials, no cookies, its own CA settings) and a ``store_as`` the
        helper knows. None: fetch it here, as without a helper (it could not start,
        has gone, could not connect, or the index asks to try again: the retries and
        their words are ``request``'s). A wait that ran out is the same IndexTimeout."""
        from .bulk import KEEPS

        keep = next((name for name, kept in KEEPS.items() if kept is store_as), None)
        if keep is None or (self._bulk is not None and self._bulk.broken):
            return None
        client = await self.ready_client()
        verify = self._client_options[4]
        if self._direct is None or client.cookies or self._auth(url) is not None:
            return None
        from .config import ssl_context_from_env

        parts = urlsplit(url)
        if verify is not ssl_context_from_env or parts.username is not None:
            return None
        if parts.scheme not in ("http", "https"):
            return None
        if self._bulk is None:
            from .offload import BulkReader, ca_location

            self._bulk = BulkReader(
                ca_location(),
                timeout=self.timeout,
                connect_timeout=self._client_options[2],
                user_agent=client.headers.get("user-agent", "jupyter-envhelper"),
            )
        limit = total_timeout if total_timeout is not None else self.total_timeout
        try:
            answer = await asyncio.wait_for(self._bulk.get(url, headers, keep), limit)
        except asyncio.TimeoutError:
            answer = None
        from .offload import BulkAnswer

        if not isinstance(answer, BulkAnswer):
            if answer is None or answer.kind == "timeout":
                gap = answer is not None or limit is None  # as ``request`` tells them
                raise _late(self.timeout if gap else limit, redact_url(url))
            return None
        if answer.status in RETRY_STATUSES:
            return None
        self.stats.requests += 1
        self.stats.bytes_downloaded += answer.size
        return answer.status, answer.url, answer.headers, answer.body, answer.kept

    def _store_part(
        self,
        url: str,
        accept: str,
        headers: dict[str, str],
        body: bytes,
        part: Callable[[bytes], bytes],
    ) -> None:
        assert self.cache is not None
        with contextlib.suppress(ValueError):  # else kept whole: the reader says what is wrong
            body = part(body)
        self.cache.store(url, accept, 200, headers, body)

    # -- files -----------------------------------------------------------------------------
    async def get_bytes(self, url: str, *, total_timeout: float | None = None) -> tuple[int, bytes]:
        response = await self.request(url, total_timeout=total_timeout)
        return response.status_code, response.content

    async def get_range(self, url: str, range_header: str) -> RangeAnswer:
        response = await self.request(url, {"Range": range_header, "Accept-Encoding": "identity"})
        if response.status_code == 200:
            self.stats.full_downloads += 1
            body = response.content
            return RangeAnswer(body, 0, len(body), whole=True)
        if response.status_code != 206:
            raise IndexUnavailable(
                f"The index answered HTTP {response.status_code} for a part of {redact_url(url)}."
            )
        content_range = response.headers.get("content-range", "")
        try:
            span, _, total = content_range.removeprefix("bytes ").partition("/")
            start = int(span.split("-", 1)[0])
            size = int(total) if total != "*" else -1
        except ValueError:
            raise IndexUnavailable(
                f"The index sent an unreadable Content-Range for {redact_url(url)}."
            ) from None
        return RangeAnswer(response.content, start, size, whole=False)
