"""The target's installer policy inside the resolver: constraints, binary formats, pre-releases.

pip and uv apply constraint files (``constraint =`` in pip.conf, ``PIP_CONSTRAINT``,
``UV_CONSTRAINT``, ``constraint-dependencies``) by narrowing the candidates of a
project, never by adding it to the request; ``ResolverPolicy.narrow`` does the same:
the constraint's specifier is intersected with the request's in ``find_matches``, so
installed versions, index releases and pre-release rules all see it.

``only-binary`` / ``no-binary`` decide per project which files count (pip's
``FormatControl.get_allowed_formats``: a project named in ``only-binary`` wins, then
one named in ``no-binary``, then ``:all:`` in either).

When a resolution fails because of a cap, ``explain_constraints`` rewrites the causes
to name the constraint, its file and line, and offers "lift the cap in FILE".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from ..index.config import ConstraintLine, InstallerSettings
from ..index.models import DistributionFile
from ..plan import Cause, Conflict, WayOut


@dataclass(frozen=True)
class Constraint:
    name: str  # canonical
    specifier: SpecifierSet
    line: ConstraintLine

    @property
    def text(self) -> str:
        return self.line.requirement

    @property
    def where(self) -> str:
        if self.line.line <= 0:
            return self.line.file
        return f"{self.line.file}, line {self.line.line}"


@dataclass
class ResolverPolicy:
    constraints: dict[str, list[Constraint]] = field(default_factory=dict)
    no_binary: frozenset[str] = frozenset()
    only_binary: frozenset[str] = frozenset()
    prereleases: bool = False
    origin: str | None = None  # where the constraints were set, in words
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_settings(
        cls, settings: InstallerSettings | None, markers: Mapping[str, str] | None = None
    ) -> ResolverPolicy:
        if settings is None:
            return cls()
        policy = cls(
            no_binary=frozenset(settings.no_binary),
            only_binary=frozenset(settings.only_binary),
            prereleases=settings.prereleases,
            origin=settings.level("constraint") or settings.level("constraint-dependencies"),
        )
        for line in settings.constraints:
            policy.add(line, markers)
        return policy

    def add(self, line: ConstraintLine, markers: Mapping[str, str] | None = None) -> None:
        try:
            req = Requirement(line.requirement)
        except InvalidRequirement as exc:
            self.warnings.append(
                f"The constraint {line.requirement!r} ({line.file}, line {line.line}) "
                f"cannot be read and is ignored: {exc}."
            )
            return
        if req.url:
            self.warnings.append(
                f"The constraint {req.name} @ URL ({line.file}, line {line.line}) is not "
                "applied by jupyter-envhelper; the installer still applies it."
            )
            return
        if req.marker is not None and not req.marker.evaluate({**(markers or {}), "extra": ""}):
            return
        name = canonicalize_name(req.name)
        self.constraints.setdefault(name, []).append(Constraint(name, req.specifier, line))

    def narrow(self, name: str, specifier: SpecifierSet) -> SpecifierSet:
        """``specifier`` with every constraint on ``name`` added."""
        for constraint in self.constraints.get(name, ()):
            specifier &= constraint.specifier
        return specifier

    def file_allowed(self, file: DistributionFile) -> bool:
        name = file.project
        if name in self.only_binary:
            allowed = {"wheel"}
        elif name in self.no_binary:
            allowed = {"sdist"}
        elif ":all:" in self.only_binary:
            allowed = {"wheel"}
        elif ":all:" in self.no_binary:
            allowed = {"sdist"}
        else:
            return True
        return file.kind in allowed

    def __bool__(self) -> bool:
        return bool(self.constraints or self.no_binary or self.only_binary or self.prereleases)


def _cause_name(cause: Cause) -> str | None:
    try:
        return canonicalize_name(Requirement(cause.requirement).name)
    except InvalidRequirement:
        return None


def _cause_specifier(cause: Cause) -> SpecifierSet:
    try:
        return Requirement(cause.requirement).specifier
    except InvalidRequirement:
        return SpecifierSet()


def explain_constraints(
    conflict: Conflict, policy: ResolverPolicy, versions: Mapping[str, Sequence[str]]
) -> Conflict:
    """``conflict`` with the causes a constraint made impossible said as such.

    ``versions``: per canonical name, the versions the index has that could be used
    (usable files, newest first), as the factory saw them. A cause is blamed on a
    constraint when some of those versions satisfy the requirement and none of them
    also satisfies the constraints.
    """
    if not policy.constraints:
        return conflict
    causes: list[Cause] = []
    extra_sentences: list[str] = []
    ways: list[WayOut] = []
    for cause in conflict.causes:
        name = _cause_name(cause)
        caps = policy.constraints.get(name or "", [])
        if not caps or cause.kind not in ("requirement", "installed"):
            causes.append(cause)
            continue
        wanted = _cause_specifier(cause)
        available = list(versions.get(name or "", ()))
        matching = [v for v in available if wanted.contains(v, prereleases=True)]
        narrowed = policy.narrow(name or "", wanted)
        if not matching or any(narrowed.contains(v, prereleases=True) for v in matching):
            causes.append(cause)
            continue
        blocking = [c for c in caps if not any(c.specifier.contains(v, True) for v in matching)]
        blocking = blocking or caps
        shown = "; ".join(f"{c.text} ({c.where})" for c in blocking)
        origins = [c.line.origin for c in blocking if c.line.origin] or [policy.origin or ""]
        origin = f", set in {' and '.join(dict.fromkeys(o for o in origins if o))}"
        origin = "" if origin == ", set in " else origin
        detail = (
            f"{cause.requirement} is ruled out by the constraint {shown}{origin}: "
            f"{', '.join(matching[:3])} would fit the request, but not the constraint."
        )
        causes.append(replace(cause, kind="requirement", detail=detail))
        extra_sentences.append(detail)
        for c in blocking:
            fits = [v for v in available if c.specifier.contains(v, True)]
            mine = cause.required_by is None  # the user's own request, not a dependency's
            hint = f" (or ask for {c.name} {fits[0]}, which it allows)" if fits and mine else ""
            ways.append(
                WayOut(
                    "relax-pin",
                    f"Lift the cap {c.text} in {c.where}{hint}.",
                    None,  # an edit of that file is the user's to make
                )
            )
    if not extra_sentences:
        return conflict
    added = " ".join(s for s in dict.fromkeys(extra_sentences) if s not in conflict.message)
    return replace(
        conflict,
        causes=causes,
        message=f"{conflict.message} {added}".strip(),
        ways_out=[*ways, *conflict.ways_out],
    )
