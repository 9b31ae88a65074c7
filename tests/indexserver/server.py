"""``IndexServer``: a threaded Simple Repository API index on 127.0.0.1.

Serves ``/simple/`` (project list), ``/simple/<name>/`` (PEP 691 JSON or PEP 503
HTML, by ``Accept`` or ``?format=json|html``) and ``/files/<filename>`` (with
``.metadata`` siblings, PEP 658/714). Supports single HTTP ranges (206, suffix
ranges), ETag/Last-Modified with 304, optional basic auth, per-path counters and
fault modes per project or globally. pip and uv can install from it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from packaging.version import Version

from .wheels import BuiltFile, DistSpec, build_dist

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
_LAST_MODIFIED = formatdate(1704067200, usegmt=True)
MAX_HANG_SECONDS = 30.0


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Fault:
    """A misbehaviour. ``mode``: ``broken-page`` (malformed JSON/HTML), ``garbage-page``
    (bytes that are no page at all), ``empty-page`` (a valid page without files), ``status``
    (answer ``status``, e.g. 500), ``hang`` (sleep ``seconds``, bounded, then answer),
    ``drip`` (send the body in ``chunk``-byte pieces every ``seconds``).
    ``times`` limits it to the first N matching requests; ``files`` extends a project
    fault from its page to its files; ``suffix`` keeps it to the file names that end
    so (``.metadata``: the PEP 658 files only)."""

    mode: str
    status: int = 500
    seconds: float = 5.0
    chunk: int = 64
    times: int | None = None
    files: bool = False
    hits: int = 0
    # only for file names that end so (".metadata", ".whl"), when given
    suffix: str | None = None


_LIST = "/simple/"  # the key of a fault of the project list (no project is named so)


@dataclass
class PathStats:
    requests: int = 0
    bytes: int = 0
    full_downloads: int = 0
    statuses: list[int] = field(default_factory=list)


class IndexServer:
    """Serve ``dists`` as an index; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        dists: Iterable[DistSpec],
        *,
        no_metadata: Iterable[str] = (),
        hidden_metadata: Iterable[str] = (),
        auth: tuple[str, str] | None = None,
        api_version: str = "1.1",
        html_only: bool = False,
        vulnerabilities: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        """``no_metadata``: projects without ``.metadata`` files. ``hidden_metadata``:
        projects whose ``.metadata`` files exist but are not advertised (like the PyPI
        front end reachable here). ``html_only``: ignore ``Accept``, serve PEP 503 HTML.
        ``vulnerabilities``: project -> records; those projects (only) also get a PyPI
        style JSON API document at ``/pypi/<name>/json`` with its ``vulnerabilities``.
        """
        self.files: dict[str, BuiltFile] = {}
        self.projects: dict[str, list[BuiltFile]] = {}
        self.display_names: dict[str, str] = {}
        for spec in dists:
            built = build_dist(spec)
            self.files[built.filename] = built
            key = normalize(spec.name)
            self.projects.setdefault(key, []).append(built)
            self.display_names.setdefault(key, spec.name)
        self.no_metadata = {normalize(n) for n in no_metadata}
        self.hidden_metadata = {normalize(n) for n in hidden_metadata}
        self.html_only = html_only
        self.vulnerabilities = {normalize(k): list(v) for k, v in (vulnerabilities or {}).items()}
        self.auth = auth
        self.api_version = api_version
        self.faults: dict[str | None, Fault] = {}
        self.json_faults: dict[str, Fault] = {}
        self.stats: dict[str, PathStats] = {}
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self, port: int = 0) -> IndexServer:
        handler = type("Handler", (_Handler,), {"index": self})
        httpd = _Server(("127.0.0.1", port), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def index_url(self) -> str:
        """The index URL, without credentials."""
        return f"{self.url}/simple/"

    @property
    def index_url_with_auth(self) -> str:
        if self.auth is None:
            return self.index_url
        return f"http://{self.auth[0]}:{self.auth[1]}@127.0.0.1:{self.port}/simple/"

    def file_url(self, filename: str) -> str:
        return f"{self.url}/files/{filename}"

    # -- control and counters --------------------------------------------------------
    def publish(self, spec: DistSpec) -> BuiltFile:
        """A new release while the index is up (as a maintainer uploads one)."""
        built = build_dist(spec)
        key = normalize(spec.name)
        with self._lock:
            self.files[built.filename] = built
            self.projects.setdefault(key, []).append(built)
            self.display_names.setdefault(key, spec.name)
        return built

    def set_fault(self, fault: Fault, project: str | None = None) -> None:
        """Misbehave for ``project`` (its page, and its files if ``fault.files``) or all."""
        with self._lock:
            self.faults[normalize(project) if project else None] = fault

    def set_json_fault(self, fault: Fault, project: str) -> None:
        """Misbehave (``status`` or ``hang``) for ``project``'s JSON API document only."""
        with self._lock:
            self.json_faults[normalize(project)] = fault

    def set_list_fault(self, fault: Fault) -> None:
        """Misbehave for the project list (``/simple/``) only, not for project pages."""
        with self._lock:
            self.faults[_LIST] = fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
            self.json_faults.clear()

    def reset_stats(self) -> None:
        with self._lock:
            self.stats.clear()
            self.log.clear()

    def path_stats(self, path: str) -> PathStats:
        with self._lock:
            return self.stats.get(path, PathStats())

    def file_stats(self, filename: str) -> PathStats:
        return self.path_stats(f"/files/{filename}")

    def total_requests(self) -> int:
        with self._lock:
            return sum(s.requests for s in self.stats.values())

    def _record(self, path: str, status: int, nbytes: int, full: bool) -> None:
        with self._lock:
            stats = self.stats.setdefault(path, PathStats())
            stats.requests += 1
            stats.bytes += nbytes
            stats.statuses.append(status)
            if full:
                stats.full_downloads += 1

    def _record_shortfall(self, path: str, missing: int) -> None:
        with self._lock:
            self.stats[path].bytes -= missing

    def _fault_for(
        self, project: str | None, is_file: bool, filename: str | None = None
    ) -> Fault | None:
        with self._lock:
            if project:
                fault = self.faults.get(project)
            else:
                fault = None if is_file else self.faults.get(_LIST)
            if fault is not None and is_file and not fault.files:
                fault = None
            if fault is None:
                fault = self.faults.get(None)
            if fault is None:
                return None
            if fault.suffix is not None and not (filename or "").endswith(fault.suffix):
                return None
            if fault.times is not None and fault.hits >= fault.times:
                return None
            fault.hits += 1
            return fault

    def _json_fault_for(self, project: str) -> Fault | None:
        with self._lock:
            fault = self.json_faults.get(normalize(project))
            if fault is None or (fault.times is not None and fault.hits >= fault.times):
                return None
            fault.hits += 1
            return fault

    # -- pages -----------------------------------------------------------------------
    def _file_entry(self, built: BuiltFile) -> dict[str, Any]:
        spec = built.spec
        entry: dict[str, Any] = {
            "filename": built.filename,
            "url": f"../../files/{built.filename}",
            "hashes": {"sha256": built.sha256},
            "requires-python": spec.requires_python,
            "yanked": spec.yanked,
            "size": len(built.data),
        }
        if spec.upload_time:
            entry["upload-time"] = spec.upload_time
        if normalize(spec.name) not in self.no_metadata | self.hidden_metadata:
            entry["core-metadata"] = {"sha256": built.metadata_sha256}
            entry["dist-info-metadata"] = {"sha256": built.metadata_sha256}
        return entry

    def project_json(self, project: str) -> bytes:
        files = self.projects[project]
        versions = sorted({f.spec.version for f in files})
        page = {
            "meta": {"api-version": self.api_version},
            "name": project,
            "versions": versions,
            "files": [self._file_entry(f) for f in files],
        }
        return json.dumps(page, indent=1).encode()

    def project_html(self, project: str) -> bytes:
        rows = []
        for built in self.projects[project]:
            entry = self._file_entry(built)
            attrs = [f'href="{entry["url"]}#sha256={built.sha256}"']
            if entry["requires-python"]:
                attrs.append(f'data-requires-python="{html.escape(entry["requires-python"])}"')
            if entry["yanked"]:
                reason = entry["yanked"] if isinstance(entry["yanked"], str) else ""
                attrs.append(f'data-yanked="{html.escape(reason)}"')
            if "core-metadata" in entry:
                value = f"sha256={built.metadata_sha256}"
                attrs.append(f'data-core-metadata="{value}" data-dist-info-metadata="{value}"')
            rows.append(f"<a {' '.join(attrs)}>{html.escape(built.filename)}</a><br/>")
        body = (
            "<!DOCTYPE html>\n<html><head>"
            f'<meta name="pypi:repository-version" content="{self.api_version}">'
            f"<title>Links for {project}</title></head><body><h1>Links for {project}</h1>\n"
            + "\n".join(rows)
            + "\n</body></html>\n"
        )
        return body.encode()

    def json_api(self, project: str) -> bytes | None:
        """A PyPI-style ``/pypi/<name>/json`` document, for projects given vulnerabilities."""
        key = normalize(project)
        if key not in self.vulnerabilities or key not in self.projects:
            return None
        latest = max(self.projects[key], key=lambda b: Version(b.spec.version)).spec
        info = {
            "name": self.display_names[key],
            "version": latest.version,
            "summary": latest.summary,
        }
        releases: dict[str, list[dict[str, Any]]] = {}
        for built in self.projects[key]:
            releases.setdefault(built.spec.version, []).append(self._file_entry(built))
        # laid out as PyPI writes it: the file lists between info and vulnerabilities
        doc = {
            "info": info,
            "last_serial": 1,
            "releases": releases,
            "urls": releases[latest.version],
            "vulnerabilities": self.vulnerabilities[key],
        }
        return json.dumps(doc).encode()

    def list_json(self) -> bytes:
        projects = [{"name": self.display_names[p]} for p in sorted(self.projects)]
        return json.dumps(
            {"meta": {"api-version": self.api_version}, "projects": projects}
        ).encode()

    def list_html(self) -> bytes:
        rows = [f'<a href="{p}/">{self.display_names[p]}</a>' for p in sorted(self.projects)]
        return ("<!DOCTYPE html>\n<html><body>\n" + "\n".join(rows) + "\n</body></html>\n").encode()


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops bursts of parallel connects (1 s SYN retry)


def _wants_json(accept: str) -> bool:
    best_json, best_html = -1.0, -1.0
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media, q = pieces[0].lower(), 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if media in (JSON_TYPE, "application/vnd.pypi.simple.latest+json"):
            best_json = max(best_json, q)
        elif media in (HTML_TYPE, "text/html", "application/vnd.pypi.simple.latest+html", "*/*"):
            best_html = max(best_html, q)
    return best_json > 0 and best_json >= best_html


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single ``bytes=`` range, or None when unsatisfiable."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not match or (not match[1] and not match[2]):
        return None
    if not match[1]:
        length = int(match[2])
        if length == 0:
            return None
        return max(0, size - length), size - 1
    start = int(match[1])
    end = int(match[2]) if match[2] else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


class _Handler(BaseHTTPRequestHandler):
    index: IndexServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes
    server_version = "EnvhelperTestIndex/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    # -- dispatch ----------------------------------------------------------------------
    def _serve(self, head: bool) -> None:
        index = self.index
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        with index._lock:
            index.log.append((self.command, path, dict(self.headers.items())))
        if index.auth is not None and not self._authorized(index.auth):
            self._send(
                path,
                401,
                b"authentication required",
                "text/plain",
                extra={"WWW-Authenticate": 'Basic realm="test index"'},
                head=head,
            )
            return
        project, filename = None, None
        if path.startswith("/simple/"):
            rest = path[len("/simple/") :]
            if rest:
                name = rest.rstrip("/")
                if name != normalize(name) or not rest.endswith("/"):
                    self._redirect(path, f"/simple/{normalize(name)}/")
                    return
                project = name
        elif path.startswith("/files/"):
            filename = path[len("/files/") :]
            base = filename[: -len(".metadata")] if filename.endswith(".metadata") else filename
            built = index.files.get(base)
            project = normalize(built.spec.name) if built else None
        elif path in ("", "/", "/simple"):
            self._redirect(path, "/simple/")
            return
        elif path.startswith("/pypi/") and path.endswith("/json"):
            name = path[len("/pypi/") : -len("/json")].strip("/")
            fault = index._json_fault_for(name)
            if fault is not None and fault.mode == "hang":
                index._stopping.wait(min(fault.seconds, MAX_HANG_SECONDS))
            elif fault is not None and fault.mode == "status":
                self._send(
                    path, fault.status, b"server error (test fault)", "text/plain", head=head
                )
                return
            body = index.json_api(name)
            if body is None:
                self._send(path, 404, b"not found", "text/plain", head=head)
            else:
                self._send(path, 200, body, "application/json", head=head)
            return
        fault = index._fault_for(project, is_file=filename is not None, filename=filename)
        if fault is not None and fault.mode == "hang":
            index._stopping.wait(min(fault.seconds, MAX_HANG_SECONDS))
            fault = None
        if fault is not None and fault.mode == "status":
            self._send(path, fault.status, b"server error (test fault)", "text/plain", head=head)
            return
        if filename is not None:
            self._serve_file(path, filename, head, fault)
        elif project is not None:
            self._serve_project(path, project, query, head, fault)
        elif path == "/simple/":
            as_json = self._choose_json(query)
            body = index.list_json() if as_json else index.list_html()
            self._send(
                path, 200, body, JSON_TYPE if as_json else "text/html", head=head, fault=fault
            )
        else:
            self._send(path, 404, b"not found", "text/plain", head=head)

    def _choose_json(self, query: dict[str, list[str]]) -> bool:
        if self.index.html_only:
            return False
        if "format" in query:
            return query["format"][0] == "json"
        return _wants_json(self.headers.get("Accept", "text/html"))

    def _serve_project(
        self, path: str, project: str, query: dict[str, list[str]], head: bool, fault: Fault | None
    ) -> None:
        index = self.index
        if project not in index.projects:
            self._send(path, 404, b"not found", "text/plain", head=head)
            return
        as_json = self._choose_json(query)
        if fault is not None and fault.mode == "broken-page":
            body = (
                b'{"meta": {"api-version": "1.1"}, "name": "x", "files": [{"filen'
                if as_json
                else b'<html><body><a href="../../files/%%%">not-a-dist.txt</a>'
                b'<a href="../../files/broken-1.0-garbage.whl#sha256=zz">broken-1.0-garbage.whl'
                b'<a data-requires-python="&gt;=3.x!!" href="../../files/'
                + project.encode()
                + b'-notaversion.tar.gz">'
                + project.encode()
                + b"-notaversion.tar.gz</a>\n<a href="
            )
            fault = None
        elif fault is not None and fault.mode == "garbage-page":
            body = b"\x1f\x8b\x08\x00 not a page \xff\xfe\x00 at all"
            fault = None
        elif fault is not None and fault.mode == "empty-page":
            body = (
                f"<!DOCTYPE html>\n<html><head><title>Links for {project}</title></head>"
                f"<body><h1>Links for {project}</h1>\n</body></html>\n"
            ).encode()
            fault = None
        else:
            body = index.project_json(project) if as_json else index.project_html(project)
        self._send(
            path,
            200,
            body,
            JSON_TYPE if as_json else "text/html; charset=utf-8",
            head=head,
            fault=fault,
        )

    def _serve_file(self, path: str, filename: str, head: bool, fault: Fault | None) -> None:
        index = self.index
        if filename.endswith(".metadata"):
            built = index.files.get(filename[: -len(".metadata")])
            if built is None or normalize(built.spec.name) in index.no_metadata:
                self._send(path, 404, b"not found", "text/plain", head=head)
                return
            self._send(
                path, 200, built.metadata, "application/octet-stream", head=head, fault=fault
            )
            return
        built = index.files.get(filename)
        if built is None:
            self._send(path, 404, b"not found", "text/plain", head=head)
            return
        data = built.data
        ctype = "application/octet-stream"
        range_header = self.headers.get("Range")
        if range_header:
            span = _parse_range(range_header, len(data))
            if span is None:
                self._send(
                    path,
                    416,
                    b"",
                    ctype,
                    head=head,
                    extra={"Content-Range": f"bytes */{len(data)}"},
                )
                return
            start, end = span
            self._send(
                path,
                206,
                data[start : end + 1],
                ctype,
                head=head,
                fault=fault,
                extra={"Content-Range": f"bytes {start}-{end}/{len(data)}"},
                full=start == 0 and end == len(data) - 1,
            )
            return
        self._send(path, 200, data, ctype, head=head, fault=fault, full=True)

    # -- responses -----------------------------------------------------------------------
    def _authorized(self, auth: tuple[str, str]) -> bool:
        header = self.headers.get("Authorization", "")
        expected = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        return header == f"Basic {expected}"

    def _redirect(self, path: str, location: str) -> None:
        self._send(path, 301, b"", "text/plain", extra={"Location": location}, head=False)

    def _send(
        self,
        path: str,
        status: int,
        body: bytes,
        ctype: str,
        *,
        head: bool,
        extra: dict[str, str] | None = None,
        fault: Fault | None = None,
        full: bool = False,
    ) -> None:
        headers = {"Content-Type": ctype, **(extra or {})}
        if status in (200, 206):
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            if status == 200:
                headers["ETag"] = etag
            headers["Last-Modified"] = _LAST_MODIFIED
            headers["Accept-Ranges"] = "bytes"
            if status == 200 and self._not_modified(etag):
                status, body, full = 304, b"", False
                headers.pop("Content-Type")
        if head:
            body_to_send = b""
            headers["Content-Length"] = str(len(body))
        else:
            body_to_send = body
            headers["Content-Length"] = str(len(body))
        if status in (301, 302) or "Vary" not in headers:
            headers["Vary"] = "Accept"
        # Counted before sending: a client may check the counters as soon as it has the body.
        planned = len(body_to_send)
        self.index._record(path, status, planned, full and not head)
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            sent = self._write(body_to_send, fault)
        except (BrokenPipeError, ConnectionResetError):
            sent = 0
        if sent != planned:
            self.index._record_shortfall(path, planned - sent)

    def _not_modified(self, etag: str) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in [t.strip() for t in if_none_match.split(",")] or if_none_match == "*"
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return parsedate_to_datetime(since) >= parsedate_to_datetime(_LAST_MODIFIED)
            except (TypeError, ValueError):
                return False
        return False

    def _write(self, body: bytes, fault: Fault | None) -> int:
        if fault is None or fault.mode != "drip":
            self.wfile.write(body)
            return len(body)
        sent = 0
        for offset in range(0, len(body), max(1, fault.chunk)):
            if self.index._stopping.wait(fault.seconds):
                break
            piece = body[offset : offset + fault.chunk]
            self.wfile.write(piece)
            self.wfile.flush()
            sent += len(piece)
        return sent


IndexServerFactory = Callable[..., IndexServer]
