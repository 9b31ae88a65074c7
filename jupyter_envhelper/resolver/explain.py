"""A failed resolution, explained: causes as data, sentences for people, ways out.

``resolvelib`` reports ``ResolutionImpossible`` with the requirements that could not
be satisfied together, each with the candidate that required it (None: the user).
Each becomes a ``Cause`` (why exactly: no such project, no version for this Python,
no file for this platform, or a plain clash), the causes become sentences ("pandas
2.2.3 needs numpy>=1.26; your scipy 1.10.1 needs numpy<1.25."), and the ways out are
*checked* before they are offered: another version of a requested project is only
suggested when a resolution with it succeeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ..index import check_compatibility
from ..plan import Cause, Conflict, TargetSummary, WayOut
from .candidates import Candidate, ReleaseCandidate
from .direct import incompatible_detail
from .factory import Factory, Release
from .provider import Information
from .requirements import PythonRequirement, SpecifierRequirement

MAX_RETRIES = 6  # resolutions spent checking ways out
NEWEST_PYTHON_MINOR = 20


@dataclass(frozen=True)
class UserRequirement:
    text: str  # as the user wrote it
    requirement: SpecifierRequirement


# A resolution attempt with other user requirements: the version chosen per name, or None.
Retry = Callable[[list[SpecifierRequirement]], "dict[str, Version] | None"]


def python_words(factory: Factory, target: TargetSummary) -> str:
    version = factory.python
    shown = f"{version.major}.{version.minor}"
    return f"the target has {shown}" if target.synthetic else f"this kernel has {shown}"


def _who(parent: Candidate | None) -> str:
    if parent is None:
        return "you asked for"
    if isinstance(parent, ReleaseCandidate) and parent.is_installed:
        return f"your {parent.format_for_error()} needs"
    return f"{parent.format_for_error()} needs"


def _newest_matching(
    releases: Sequence[Release], specifier: SpecifierSet, prereleases: bool = False
) -> list[Release]:
    """Releases the specifier admits, newest first; final releases before pre-releases
    unless pre-releases were asked for (so "alpha 3.0 needs ..." rather than 3.1rc1)."""
    found = [r for r in releases if specifier.contains(r.version, prereleases=True)]
    if prereleases or specifier.prereleases:
        return found
    return sorted(found, key=lambda r: r.version.is_prerelease)


def cause_for(info: Information, factory: Factory, target: TargetSummary) -> Cause:
    req, parent = info.requirement, info.parent
    by = parent.format_for_error() if parent is not None else None
    if isinstance(req, PythonRequirement):
        subject = by or "The request"
        return Cause(
            req.format_for_error(),
            by,
            "requires-python",
            f"{subject} needs Python {req.specifier}; {python_words(factory, target)}.",
            version=str(parent.version) if parent is not None else None,
            requires_python=str(req.specifier),
        )
    text = req.format_for_error()
    installed = isinstance(parent, ReleaseCandidate) and parent.is_installed
    if req.name in factory.direct:
        return _direct_cause(req, by, factory, target)
    if req.name in factory.not_found:
        hint = suggest_name(req.name, factory)
        detail = factory.not_found[req.name] + (f" Did you mean {hint}?" if hint else "")
        return Cause(text, by, "not-found", detail)
    releases = factory.releases(req.name) or []
    display = factory.display_names.get(req.name, req.display_name)
    matching = _newest_matching(releases, req.specifier, factory.allow_prereleases)
    if not matching:
        shown = ", ".join(str(r.version) for r in releases[:5]) or "none"
        return Cause(
            text,
            by,
            "requirement",
            f"No version of {display} matches {req.specifier}; the index has {shown}.",
        )
    if not any(r.usable for r in matching):
        newest = matching[0]
        if newest.excluded == "requires-python":
            return Cause(
                text,
                by,
                "requires-python",
                f"{display} {newest.version} needs Python {newest.requires_python}; "
                f"{python_words(factory, target)}.",
                version=str(newest.version),
                requires_python=newest.requires_python,
            )
        return Cause(
            text,
            by,
            "no-compatible-file",
            _no_file_detail(factory, req.name, newest),
            version=str(newest.version),
        )
    if all(r.yanked for r in matching if r.usable) and not req.pinned:
        return Cause(
            text,
            by,
            "requirement",
            f"Only yanked releases of {display} match {req.specifier}; pin one with == "
            "to use it anyway.",
        )
    return Cause(text, by, "installed" if installed else "requirement")


def _direct_cause(
    req: SpecifierRequirement, by: str | None, factory: Factory, target: TargetSummary
) -> Cause:
    """A requirement on a project the user named by URL: that wheel is its only candidate."""
    wheel = factory.direct[req.name]
    release = factory.direct_release(req.name)
    assert release is not None
    text = req.format_for_error()
    display = factory.display_names.get(req.name, wheel.display_name)
    if release.file is None:
        who = "the target" if target.synthetic else "this kernel"
        detail = incompatible_detail(wheel, factory.env, who)
        return Cause(text, by, "no-compatible-file", detail, version=str(release.version))
    if not req.specifier.contains(release.version, prereleases=True):
        return Cause(
            text,
            by,
            "requirement",
            f"The URL you gave for {display} holds version {release.version} "
            f"({wheel.file.filename}), and while that URL is asked for no other version "
            f"of {display} is considered.",
            version=str(release.version),
        )
    return Cause(text, by, "requirement")


def _no_file_detail(factory: Factory, name: str, release: Release) -> str:
    page = factory.bridge.known_page(name)
    display = factory.display_names.get(name, name)
    reasons: list[str] = []
    for file in page.files_for(release.version) if page else ():
        compat = check_compatibility(file, factory.env)
        if not compat.installable and compat.reason and compat.reason not in reasons:
            reasons.append(compat.reason)
    why = f" ({'; '.join(reasons[:3])})" if reasons else ""
    return f"{display} {release.version} has no file this Python and platform can use{why}."


def sentences(causes: Sequence[Cause], infos: Sequence[Information]) -> str:
    """One sentence per conflicting project, plus each cause's own detail."""
    groups: dict[str, list[int]] = {}
    for index, info in enumerate(infos):
        groups.setdefault(info.requirement.name, []).append(index)
    out: list[str] = []
    for indexes in groups.values():
        details = [causes[i].detail for i in indexes if causes[i].detail]
        if len(indexes) > 1 or not details:
            parts = [
                f"{_who(infos[i].parent)} {infos[i].requirement.format_for_error()}"
                for i in indexes
            ]
            sentence = "; ".join(dict.fromkeys(parts))
            if sentence.startswith("you"):
                sentence = "Y" + sentence[1:]
            out.append(sentence + ".")
        out.extend(d for d in dict.fromkeys(details) if d)
    return " ".join(out)


def suggest_name(name: str, factory: Factory) -> str | None:
    """A popular project one or two typos away that this index really has."""
    from ..search.distance import osa_distance
    from ..search.popular import load_popular

    best: list[tuple[int, int, str]] = []
    for project in load_popular():
        distance = osa_distance(name, project.canonical_name, 2)
        if 0 < distance <= 2:
            best.append((distance, project.rank, project.canonical_name))
    for _, _, candidate in sorted(best)[:3]:
        if factory.releases(candidate) is not None:
            return factory.display_names.get(candidate, candidate)
    return None


def _with(requirement: SpecifierRequirement, specifier: str) -> SpecifierRequirement:
    return replace(requirement, specifier=SpecifierSet(specifier))


def _version_text(requirement: SpecifierRequirement, version: Version) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.display_name}{extras}=={version}"


def ways_out(
    causes: Sequence[Cause],
    infos: Sequence[Information],
    factory: Factory,
    user: Sequence[UserRequirement],
    *,
    retry: Retry,
) -> list[WayOut]:
    out: list[WayOut] = []
    kinds: dict[str, str] = {}
    for cause, info in zip(causes, infos):
        if isinstance(info.requirement, PythonRequirement):
            if info.parent is not None:
                kinds.setdefault(info.parent.name, cause.kind)
        else:
            kinds.setdefault(info.requirement.name, cause.kind)
    involved = {i.requirement.name for i in infos}
    involved |= {i.parent.name for i in infos if i.parent is not None}
    ordered = sorted(user, key=lambda u: u.requirement.name not in involved)
    budget = MAX_RETRIES
    all_user = [u.requirement for u in user]
    for item in ordered:
        req = item.requirement
        if req.url is not None:
            continue  # the user chose that very file; other versions are not ours to offer
        if req.name in factory.not_found:
            hint = suggest_name(req.name, factory)
            if hint:
                text = item.text.replace(req.display_name, hint, 1)
                out.append(
                    WayOut(
                        "other-name",
                        f"There is no {req.display_name} here; did you mean {hint}?",
                        {"kind": "use-requirement", "requirement": text, "label": f"Use {hint}"},
                    )
                )
            continue
        position = all_user.index(req)
        others = all_user[:position] + all_user[position + 1 :]
        if req.pinned and budget > 0:
            budget -= 1
            chosen = retry([*others, _with(req, "")])
            version = chosen.get(req.name) if chosen else None
            if version is not None:
                # the explicit version, so the button installs what its label says
                text = _version_text(req, version)
                out.append(
                    WayOut(
                        "relax-pin",
                        f"Without the pin {item.text}, {req.display_name} {version} fits.",
                        {
                            "kind": "use-requirement",
                            "requirement": text,
                            "label": f"Use {req.display_name} {version}",
                        },
                    )
                )
                continue
        for release in factory.releases(req.name) or ():
            if budget <= 0:
                break
            version = release.version
            if not release.usable or release.yanked:
                continue
            if req.specifier.contains(version, prereleases=True):
                continue  # the resolver has tried these already
            if version.is_prerelease and not (factory.allow_prereleases or version.is_devrelease):
                continue
            budget -= 1
            if retry([*others, _with(req, f"=={version}")]) is None:
                continue
            why = kinds.get(req.name)
            if why == "requires-python":
                py = f"{factory.python.major}.{factory.python.minor}"
                message = f"{req.display_name} {version} supports your Python {py}."
            elif why == "no-compatible-file":
                message = f"{req.display_name} {version} has a file for this platform."
            elif req.specifier:
                message = (
                    f"{req.display_name} {version} instead of {item.text} fits with the rest "
                    "of the request."
                )
            else:
                message = f"{req.display_name} {version} fits with the rest of the request."
            out.append(
                WayOut(
                    "relax-pin" if req.pinned else "other-version",
                    message,
                    {
                        "kind": "use-requirement",
                        "requirement": _version_text(req, version),
                        "label": f"Use {req.display_name} {version}",
                    },
                )
            )
            break
    out.extend(_other_python(causes, infos, factory))
    return out


def _other_python(
    causes: Sequence[Cause], infos: Sequence[Information], factory: Factory
) -> list[WayOut]:
    out: list[WayOut] = []
    seen: set[str] = set()
    for cause, info in zip(causes, infos):
        if cause.kind != "requires-python":
            continue
        req = info.requirement
        if isinstance(req, PythonRequirement):
            spec, who = req.specifier, cause.required_by or "The request"
        else:
            releases = factory.releases(req.name) or []
            matching = _newest_matching(releases, req.specifier, factory.allow_prereleases)
            newest = matching[0] if matching else None
            if newest is None or newest.requires_python is None:
                continue
            spec = SpecifierSet(newest.requires_python)
            display = factory.display_names.get(req.name, req.display_name)
            who = f"{display} {newest.version}"
        python = factory.python
        for minor in range(python.minor + 1, NEWEST_PYTHON_MINOR + 1):
            candidate = f"{python.major}.{minor}"
            if spec.contains(f"{candidate}.0", prereleases=True) and candidate not in seen:
                seen.add(candidate)
                out.append(
                    WayOut(
                        "other-python",
                        f"{who} needs Python {spec}: a kernel with Python {candidate} or "
                        "newer would take it.",
                        {
                            "kind": "other-python",
                            "python": candidate,
                            "label": f"Use Python {candidate} or newer",
                        },
                    )
                )
                break
    return out


def build_conflict(
    infos: Sequence[Information],
    factory: Factory,
    user: Sequence[UserRequirement],
    target: TargetSummary,
    retry: Retry,
) -> Conflict:
    unique = list({(id(i.requirement), id(i.parent)): i for i in infos}.values())
    causes = [cause_for(i, factory, target) for i in unique]
    message = sentences(causes, unique) or "The request cannot be satisfied."
    return Conflict(
        requirements=[u.text for u in user],
        target=target,
        causes=causes,
        message=message,
        ways_out=ways_out(causes, unique, factory, user, retry=retry),
    )


def too_deep(user: Sequence[UserRequirement], target: TargetSummary, rounds: int) -> Conflict:
    return Conflict(
        requirements=[u.text for u in user],
        target=target,
        causes=[],
        message=(
            f"No answer after {rounds} rounds of trying versions: the request is too open. "
            "Pin the versions you want of the biggest packages and try again."
        ),
    )
