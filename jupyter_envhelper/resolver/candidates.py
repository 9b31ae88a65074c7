"""What the resolver chooses from: one version of a project, the same with extras, or
the target's Python (pip's ``RequiresPythonCandidate``, so a conflict can name it).

A ``ReleaseCandidate`` is either a release on the index (``file`` is the best file
of that version for the target) or the installed distribution (``installed`` is set;
its dependencies come from the environment, with no request to the index).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from packaging.version import Version

from ..environment import Distribution
from ..index import DistributionFile
from .requirements import PYTHON_IDENTIFIER, identifier_for


@dataclass(frozen=True)
class ReleaseCandidate:
    name: str  # canonical
    display_name: str
    version: Version
    file: DistributionFile | None = None
    installed: Distribution | None = field(default=None, compare=False, hash=False)
    is_installed: bool = False

    @property
    def identifier(self) -> str:
        return self.name

    @property
    def base(self) -> ReleaseCandidate:
        return self

    @property
    def extras(self) -> frozenset[str]:
        return frozenset()

    def format_for_error(self) -> str:
        return f"{self.display_name} {self.version}"

    def __str__(self) -> str:
        return self.format_for_error()


@dataclass(frozen=True)
class ExtrasCandidate:
    """``name[extras]`` at the version of ``base``: depends on ``base`` pinned exactly."""

    base: ReleaseCandidate
    extras: frozenset[str]

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def version(self) -> Version:
        return self.base.version

    @property
    def identifier(self) -> str:
        return identifier_for(self.base.name, self.extras)

    def format_for_error(self) -> str:
        extras = ",".join(sorted(self.extras))
        return f"{self.base.display_name}[{extras}] {self.base.version}"

    def __str__(self) -> str:
        return self.format_for_error()


@dataclass(frozen=True)
class PythonCandidate:
    """The target interpreter; its version is what every Requires-Python is checked with."""

    version: Version
    name: str = "python"

    @property
    def identifier(self) -> str:
        return PYTHON_IDENTIFIER

    def format_for_error(self) -> str:
        return f"Python {self.version}"


Candidate = Union[ReleaseCandidate, ExtrasCandidate, PythonCandidate]


def version_order(version: Version) -> tuple[Version, bool, Version]:
    """Sort key, best last: newest public version; for equal public versions the
    un-labelled release beats local labels (``2.1.0`` before ``2.1.0+cpu``), then
    PEP 440 order among labels. A variant is only chosen when asked for by its label
    or when it is the only build there is (see the package docstring).
    """
    return Version(version.public), version.local is None, version
