"""One project page out of several (the ``merge`` index strategy, find-links folders).

The merged page is as lazy as its parts: a file of the first page that has a given
file name wins, as before, but no ``DistributionFile`` is made until somebody asks
for the version it belongs to (a file's name says its version, so the first page
with a name is found version by version). One page is returned as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from packaging.version import Version

from .models import DistributionFile, ProjectPage


class MergedFiles:
    """The ``LazyFiles`` of a merged page: its parts' files, first name wins."""

    __slots__ = ("_count", "_pages", "_versions")

    def __init__(self, pages: Sequence[ProjectPage]) -> None:
        self._pages = list(pages)
        found: set[Version] = set()
        for page in self._pages:
            found.update(page.all_versions())
        self._versions = sorted(found, reverse=True)
        self._count: int | None = None

    @property
    def count(self) -> int:
        if self._count is None:
            self._count = len(dict.fromkeys(self.filenames()))
        return self._count

    @property
    def built(self) -> int:
        total = 0
        for page in self._pages:
            made = page.files_made
            total += page.file_count if made is None else made  # None: all made
        return total

    @property
    def versions(self) -> Sequence[Version]:
        return self._versions

    def files_for(self, version: Version) -> list[DistributionFile]:
        return _first_of_each_name(page.files_for(version) for page in self._pages)

    def filenames(self) -> list[str]:
        return [name for page in self._pages for name in page.filenames()]

    def build_all(self) -> list[DistributionFile]:
        return _first_of_each_name(page.files for page in self._pages)


def _first_of_each_name(groups: Iterable[Iterable[DistributionFile]]) -> list[DistributionFile]:
    seen: set[str] = set()
    out: list[DistributionFile] = []
    for files in groups:
        for file in files:
            if file.filename not in seen:
                seen.add(file.filename)
                out.append(file)
    return out


def merge_pages(name: str, pages: Sequence[ProjectPage]) -> ProjectPage:
    """``pages`` as one page (its index: the first's): one page as it is; several,
    their warnings and ``versions`` joined and their files merged lazily."""
    if len(pages) == 1:
        return pages[0]
    merged = ProjectPage(name=name, index_url=pages[0].index_url)
    for page in pages:
        merged.warnings += page.warnings
        merged.versions += [v for v in page.versions if v not in merged.versions]
    merged.set_lazy(MergedFiles(pages))
    return merged
