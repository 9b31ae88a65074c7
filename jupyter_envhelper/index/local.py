"""Packages on local disk: find-links folders and ``file://`` indexes, read without a server.

``find-links`` (pip's and uv's) names folders (or ``file://`` URLs of folders) whose
wheels and sdists are candidates for every project, *added* to what the indexes offer
whatever the index strategy (pip and uv both merge them). A ``file://`` index URL is a
PEP 503 tree: ``<root>/<project>/`` holding ``index.html`` (pip reads that) or, without
one, the files themselves (a folder listing, as uv accepts).

``LocalIndexClient`` is an ``IndexClient`` that knows both; for a configuration
without local sources it behaves exactly like its parent. Metadata of a local wheel is
read from its ``METADATA`` member, of an sdist from its ``PKG-INFO``, straight from disk.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from ..errors import NotFound
from .client import IndexClient
from .merge import merge_pages
from .metadata import MAX_METADATA_BYTES, extract_pkg_info, is_metadata_member, pick_metadata_member
from .models import DistributionFile, ProjectPage
from .pages import make_file, parse_project_html

_SUFFIXES = (".whl", ".tar.gz", ".zip")


def is_local(location: str) -> bool:
    """A local path or a ``file:`` URL (not http/https)."""
    return location.startswith("file:") or "://" not in location


def local_path(location: str) -> str:
    """The filesystem path of a local path or ``file:`` URL."""
    if location.startswith("file:"):
        return url2pathname(urlsplit(location).path)
    return os.path.abspath(os.path.expanduser(location))


def _project_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return canonicalize_name(parse_wheel_filename(filename)[0])
        if filename.endswith((".tar.gz", ".zip")):
            return canonicalize_name(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None
    return None


class _Folder:
    """One folder's distribution files by project, re-listed when the folder changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.mtime: float | None = None
        self.by_project: dict[str, list[str]] = {}

    def files_of(self, key: str) -> list[str]:
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError:
            return []
        if mtime != self.mtime:
            by_project: dict[str, list[str]] = {}
            try:
                names = sorted(os.listdir(self.path))
            except OSError:
                names = []
            for name in names:
                project = _project_of(name) if name.endswith(_SUFFIXES) else None
                if project is not None:
                    by_project.setdefault(project, []).append(name)
            self.by_project, self.mtime = by_project, mtime
        return list(self.by_project.get(key, ()))


def _files_from_folder(
    path: str, key: str, index_url: str, names: list[str], warnings: list[str]
) -> list[DistributionFile]:
    out = []
    for name in names:
        full = os.path.join(path, name)
        try:
            size: int | None = os.path.getsize(full)
        except OSError:
            continue
        entry: dict[str, Any] = {"filename": name, "url": Path(full).as_uri(), "size": size}
        file = make_file(entry, index_url, index_url, key, warnings)
        if file is not None:
            out.append(file)
    return out


def folder_page(location: str, key: str, folder: _Folder | None = None) -> ProjectPage | None:
    """The files of ``key`` in the find-links folder ``location`` (None: none there)."""
    path = local_path(location)
    folder = folder or _Folder(path)
    names = folder.files_of(key)
    if not names:
        return None
    url = Path(path).as_uri() + "/"
    page = ProjectPage(name=key, index_url=url)
    page.files = _files_from_folder(path, key, url, names, page.warnings)
    return page


def file_index_page(index_url: str, key: str) -> ProjectPage | None:
    """``<root>/<key>/`` of a ``file://`` index: its ``index.html``, else its files."""
    root = local_path(index_url)
    project_dir = os.path.join(root, key)
    if not os.path.isdir(project_dir):
        return None
    page_file = os.path.join(project_dir, "index.html")
    if os.path.isfile(page_file):
        with open(page_file, "rb") as f:
            body = f.read()
        return parse_project_html(body, Path(page_file).as_uri(), index_url, key)
    page = ProjectPage(name=key, index_url=index_url)
    names = [n for n in sorted(os.listdir(project_dir)) if _project_of(n) == key]
    page.files = _files_from_folder(project_dir, key, index_url, names, page.warnings)
    return page


def read_local_metadata(file: DistributionFile) -> tuple[bytes | None, str]:
    """Core metadata of a local wheel or sdist, and where it came from."""
    import zipfile  # a local index's wheels only

    path = local_path(file.url)
    try:
        if file.kind == "wheel":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if is_metadata_member(n)]
                chosen = pick_metadata_member(names, file)
                if chosen is None or archive.getinfo(chosen).file_size > MAX_METADATA_BYTES:
                    return None, "unavailable"
                return archive.read(chosen), "download"
        with open(path, "rb") as f:
            return extract_pkg_info(f.read(), file.filename), "pkg-info"
    except (OSError, zipfile.BadZipFile, KeyError):
        return None, "unavailable"


def _project_dirs(root: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)))
    except OSError:
        return []


class LocalIndexClient(IndexClient):
    """An ``IndexClient`` that also reads find-links folders and ``file://`` indexes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._folders = {
            link: _Folder(local_path(link)) for link in self.config.find_links if is_local(link)
        }

    @property
    def find_links(self) -> tuple[str, ...]:
        return tuple(self._folders)

    async def local_pages(self, name: str) -> list[ProjectPage]:
        """``name``'s files in each find-links folder that has some, read now (what
        ``get_project`` merges after the indexes' page): for a caller that reads the
        indexes' pages itself (``outdated``)."""
        key = canonicalize_name(name)
        pages = []
        for link, folder in self._folders.items():
            page = await asyncio.to_thread(folder_page, link, key, folder)
            if page is not None:
                pages.append(page)
        return pages

    async def _load_project(self, key: str) -> ProjectPage:
        remote: ProjectPage | None = None
        missing: NotFound | None = None
        if not self.config.no_index:
            try:
                remote = await super()._load_project(key)
            except NotFound as exc:
                missing = exc
        local: list[ProjectPage] = []
        for link, folder in self._folders.items():
            page = await asyncio.to_thread(folder_page, link, key, folder)
            if page is not None:
                local.append(page)
        if not local:
            if remote is not None:
                return remote
            if missing is not None:
                raise missing
            raise NotFound(f"No project named {key} in {', '.join(self._folders) or 'no index'}.")
        # the index's files first (a name found there wins), the remote page kept lazy
        return merge_pages(key, [remote, *local] if remote is not None else local)

    async def _page_from(self, index_url: str, key: str) -> ProjectPage | None:
        if index_url.startswith("file:"):
            return await asyncio.to_thread(file_index_page, index_url, key)
        return await super()._page_from(index_url, key)

    async def project_list(self, index_url: str | None = None) -> list[str]:
        """For a ``file://`` index, its project folders (and, with the main index, the
        projects of the find-links folders); otherwise the index's own list."""
        url = self.index_urls[-1] if index_url is None else index_url
        if not url.startswith("file:"):
            names = await super().project_list(index_url)
        else:
            names = await asyncio.to_thread(_project_dirs, local_path(url))
        if url == self.index_urls[-1]:
            for folder in self._folders.values():
                folder.files_of("")  # (re)lists the folder
                names += list(folder.by_project)
        return list(dict.fromkeys(names))

    async def project_json(self, name: str) -> dict[str, Any] | None:
        """PyPI's JSON API, from the HTTP(S) indexes only: a ``file://`` tree has none
        (asking it would only cost retries, as a connection error)."""
        if not any(u.startswith("file:") for u in self.index_urls):
            return await super().project_json(name)
        remote = [u for u in self.index_urls if not u.startswith("file:")]
        if not remote:
            return None
        view = IndexClient.__new__(IndexClient)
        view.__dict__.update(self.__dict__)
        view.index_urls = remote  # the same fetcher, caches and warnings
        return await IndexClient.project_json(view, name)

    async def _read_metadata(self, file: DistributionFile) -> tuple[bytes | None, str]:
        if file.url.startswith("file:"):
            return await asyncio.to_thread(read_local_metadata, file)
        return await super()._read_metadata(file)
