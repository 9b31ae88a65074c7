"""What the resolver is asked for: a project with a specifier, or the target's Python.

Identifiers (resolvelib's keys) are the canonical project name, ``name[extra1,extra2]``
for a project with extras (pip's scheme: the extras form depends on the plain form,
pinned to the same version) and ``<python>`` for the target interpreter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if TYPE_CHECKING:
    from .candidates import Candidate

PYTHON_IDENTIFIER = "<python>"


def identifier_for(name: str, extras: Iterable[str] = ()) -> str:
    key = canonicalize_name(name)
    wanted = sorted({canonicalize_name(e) for e in extras})
    return f"{key}[{','.join(wanted)}]" if wanted else key


def split_identifier(identifier: str) -> tuple[str, frozenset[str]]:
    """``"a[x,y]"`` -> ``("a", {"x", "y"})``."""
    if identifier.endswith("]") and "[" in identifier:
        name, _, rest = identifier.partition("[")
        return name, frozenset(e for e in rest[:-1].split(",") if e)
    return identifier, frozenset()


def is_pinned(specifier: SpecifierSet) -> bool:
    """An exact ``==`` (no wildcard) or ``===`` pin: what PEP 592 lets select a yanked file."""
    return any(
        s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*"))
        for s in specifier
    )


def pins_version(specifier: SpecifierSet, version: object) -> bool:
    """True when one exact pin of ``specifier`` names ``version``."""
    for s in specifier:
        if s.operator == "===" and s.version == str(version):
            return True
        if s.operator == "==" and not s.version.endswith(".*") and s.contains(str(version), True):
            return True
    return False


@dataclass(frozen=True)
class SpecifierRequirement:
    """``name[extras] <specifier>`` from the user or from a candidate's Requires-Dist.

    ``url`` (redacted, for messages) is set for the user's ``name @ URL``: the factory
    then offers that URL's wheel as the only candidate (see ``direct.py``).
    """

    name: str  # canonical
    display_name: str
    extras: frozenset[str]
    specifier: SpecifierSet
    url: str | None = None
    # version -> does the specifier admit it: resolvelib asks again for every pin in
    # every round (tens of thousands of times in a 90-package plan)
    _admits: dict[Version, bool] = field(
        default_factory=dict, init=False, compare=False, hash=False, repr=False
    )

    @classmethod
    def from_packaging(cls, req: Requirement) -> SpecifierRequirement:
        return cls(
            name=canonicalize_name(req.name),
            display_name=req.name,
            extras=frozenset(canonicalize_name(e) for e in req.extras),
            specifier=req.specifier,
        )

    @classmethod
    def exact(cls, name: str, version: str) -> SpecifierRequirement:
        """The plain project pinned to one version, local label included (``===``)."""
        return cls(name, name, frozenset(), SpecifierSet(f"==={version}"))

    @property
    def identifier(self) -> str:
        return identifier_for(self.name, self.extras)

    @property
    def pinned(self) -> bool:
        """An exact pin, or a URL: either way one candidate at most."""
        return self.url is not None or is_pinned(self.specifier)

    def format_for_error(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        if self.url is not None:
            return f"{self.display_name}{extras} @ {self.url}"
        spec = str(self.specifier).replace("===", "==")
        return f"{self.display_name}{extras}{spec}"

    def is_satisfied_by(self, candidate: Candidate) -> bool:
        version = candidate.version  # every candidate has one (the hottest call of a plan)
        found = self._admits.get(version)
        if found is None:
            found = self._admits[version] = self.specifier.contains(version, prereleases=True)
        return found

    def __str__(self) -> str:
        return self.format_for_error()


@dataclass(frozen=True)
class PythonRequirement:
    """A Requires-Python: satisfied only by the target interpreter's version."""

    specifier: SpecifierSet
    name: str = "python"
    extras: frozenset[str] = frozenset()

    @property
    def identifier(self) -> str:
        return PYTHON_IDENTIFIER

    @property
    def pinned(self) -> bool:
        return True

    def format_for_error(self) -> str:
        return f"Python {self.specifier}"

    def is_satisfied_by(self, candidate: Candidate) -> bool:
        version = getattr(candidate, "version", None)
        return version is not None and self.specifier.contains(version, prereleases=True)

    def __str__(self) -> str:
        return self.format_for_error()


ResolverRequirement = Union[SpecifierRequirement, PythonRequirement]
