"""What the index tells us: files of a project, core metadata, client counters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.version import Version

FileKind = Literal["wheel", "sdist"]
MetadataSource = Literal["metadata-file", "range", "download", "pkg-info", "unavailable"]


@dataclass(frozen=True)
class DistributionFile:
    """One file on a project page, with its parsed file name.

    ``metadata_hashes`` is ``None`` when the index does not advertise a
    ``.metadata`` file (PEP 658/714), ``{}`` when it does without a hash.
    ``direct_url`` is True for a wheel named by a bare URL (``name @ URL``), not found
    on an index page (``index_url`` is then empty; see ``direct.py``).
    """

    filename: str
    url: str
    index_url: str
    project: str
    version: Version
    kind: FileKind
    tags: frozenset[Tag] = field(default_factory=frozenset, hash=False, compare=False)
    hashes: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    requires_python: SpecifierSet | None = field(default=None, hash=False, compare=False)
    requires_python_text: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    size: int | None = None
    upload_time: datetime | None = None
    metadata_hashes: dict[str, str] | None = field(default=None, hash=False, compare=False)
    direct_url: bool = False

    @property
    def has_metadata_file(self) -> bool:
        return self.metadata_hashes is not None

    @property
    def metadata_url(self) -> str:
        return self.url.split("#", 1)[0] + ".metadata"

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")

    def to_json(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "url": self.url,
            "index_url": self.index_url,
            "version": str(self.version),
            "kind": self.kind,
            "tags": sorted(str(t) for t in self.tags),
            "hashes": dict(self.hashes),
            "requires_python": self.requires_python_text,
            "yanked": self.yanked,
            "yanked_reason": self.yanked_reason,
            "size": self.size,
            "upload_time": self.upload_time.isoformat() if self.upload_time else None,
            "has_metadata_file": self.has_metadata_file,
            "direct_url": self.direct_url,
        }


class ProjectPage:
    """A project's files on one index (or several, with the ``merge`` strategy).

    A page read from an index is *lazy*: its entries were checked (name, version,
    tags, Requires-Python; bad ones skipped with a warning, as before) but a
    ``DistributionFile`` is only made for the versions somebody asks about
    (``files_for``); PyPI's pages hold tens of thousands of files of which a plan
    reads a handful. ``files`` (all of them, in page order) still works: it builds
    the rest once, and from then on the list is the page (it may be changed).
    """

    def __init__(  # noqa: PLR0917 - the dataclass it was took these by position
        self,
        name: str,
        index_url: str,
        files: list[DistributionFile] | None = None,
        versions: list[str] | None = None,
        api_version: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.name = name
        self.index_url = index_url
        self.versions: list[str] = list(versions) if versions is not None else []
        self.api_version = api_version
        self.warnings: list[str] = list(warnings) if warnings is not None else []
        self._files: list[DistributionFile] | None = list(files) if files is not None else []
        self._lazy: LazyFiles | None = None

    def __repr__(self) -> str:
        return f"ProjectPage({self.name!r}, {self.index_url!r}, {self.file_count} files)"

    def set_lazy(self, lazy: LazyFiles) -> None:
        """Entries to build on demand (see ``pages.py``); replaces any files."""
        self._files, self._lazy = None, lazy

    @property
    def is_lazy(self) -> bool:
        return self._files is None

    @property
    def files_made(self) -> int | None:
        """How many file objects a lazy page has made so far (None: not lazy)."""
        return self._lazy.built if self._files is None and self._lazy is not None else None

    @property
    def files(self) -> list[DistributionFile]:
        if self._files is None:
            assert self._lazy is not None
            self._files = self._lazy.build_all()
            self._lazy = None
        return self._files

    @files.setter
    def files(self, value: list[DistributionFile]) -> None:
        self._files, self._lazy = list(value), None

    @property
    def file_count(self) -> int:
        if self._files is None and self._lazy is not None:
            return self._lazy.count
        return len(self._files or ())

    def all_versions(self) -> list[Version]:
        """Versions with at least one file, newest first."""
        if self._files is None and self._lazy is not None:
            return list(self._lazy.versions)
        return sorted({f.version for f in self.files}, reverse=True)

    def files_for(self, version: Version | str) -> list[DistributionFile]:
        wanted = version if isinstance(version, Version) else Version(str(version))
        if self._files is None and self._lazy is not None:
            return self._lazy.files_for(wanted)
        return [f for f in self.files if f.version == wanted]

    def filenames(self) -> list[str]:
        """Every file's name, in page order, without making the files of a lazy page."""
        if self._files is None and self._lazy is not None:
            return self._lazy.filenames()
        return [f.filename for f in self._files or ()]


class LazyFiles(Protocol):
    """What a lazy ``ProjectPage`` needs from its parser (``pages.LazyEntries``)."""

    @property
    def count(self) -> int: ...

    @property
    def built(self) -> int: ...

    @property
    def versions(self) -> Sequence[Version]: ...  # newest first

    def files_for(self, version: Version) -> list[DistributionFile]: ...

    def filenames(self) -> list[str]: ...  # in page order, no file made

    def build_all(self) -> list[DistributionFile]: ...


@dataclass
class CoreMetadata:
    """Parsed core metadata of one distribution file.

    ``complete`` is False when the dependency list may not be the one an install
    would use: metadata unavailable, or an sdist whose PKG-INFO is older than
    Metadata 2.2 or marks Requires-Dist as dynamic.
    """

    name: str
    version: Version
    source: MetadataSource
    metadata_version: str | None = None
    summary: str | None = None
    requires_dist: list[Requirement] = field(default_factory=list)
    requires_python: SpecifierSet | None = None
    provides_extra: list[str] = field(default_factory=list)
    license: str | None = None
    license_expression: str | None = None
    project_urls: dict[str, str] = field(default_factory=dict)
    home_page: str | None = None
    keywords: list[str] = field(default_factory=list)
    classifiers: list[str] = field(default_factory=list)
    import_names: list[str] = field(default_factory=list)
    dynamic: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Invalid Requires-Dist lines: {as written: as uv reads it} for those read leniently
    # (they are in ``requires_dist`` in that form), and the unreadable ones (left out).
    repaired_requires_dist: dict[str, str] = field(default_factory=dict)
    invalid_requires_dist: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        if self.source == "unavailable":
            return False
        if self.source == "pkg-info":
            if "requires-dist" in {d.lower() for d in self.dynamic}:
                return False
            try:
                return Version(self.metadata_version or "1.0") >= Version("2.2")
            except ValueError:
                return False
        return True

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": str(self.version),
            "source": self.source,
            "complete": self.complete,
            "metadata_version": self.metadata_version,
            "summary": self.summary,
            "requires_dist": [str(r) for r in self.requires_dist],
            "requires_python": str(self.requires_python) if self.requires_python else None,
            "provides_extra": list(self.provides_extra),
            "license": self.license,
            "license_expression": self.license_expression,
            "project_urls": dict(self.project_urls),
            "home_page": self.home_page,
            "keywords": list(self.keywords),
            "classifiers": list(self.classifiers),
            "import_names": list(self.import_names),
            "dynamic": list(self.dynamic),
            "warnings": list(self.warnings),
        }


@dataclass
class ClientStats:
    """Counters for one ``IndexClient``: what the network cost."""

    requests: int = 0
    bytes_downloaded: int = 0
    full_downloads: int = 0
    cache_hits: int = 0
    revalidated: int = 0
    retries: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)
