"""A failed resolution, explained: causes as data, sentences for people, ways out.

``resolvelib`` reports ``ResolutionImpossible`` with the requirements that could not
be satisfied together, each with the candidate that required it (None: the user).
Each becomes a ``Cause`` (why exactly: no such project, no version for this Python,
no file for this platform, or a plain clash), the causes become sentences ("pandas
2.2.3 needs numpy>=1.26; your scipy 1.10.1 needs numpy<1.25."), and the ways out are
*checked* before they are offered: another version of a requested project is only
suggested when a resolution with it succeeds.

The sentences start from what the user asked for ("top cannot be installed."), trace a
conflict deep in the graph back to it ("left 1.0 (pulled in by top 1.0) needs
floor==1"), and say which versions each clashing requirement allows. Pythons are shown
with their patch version, because a Requires-Python can name one (``>=3.13.2``). The
round limit (``too_deep``) is said as what it is: a search given up, not a conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ..index import check_compatibility
from ..plan import Cause, Conflict, TargetSummary, WayOut
from .candidates import Candidate, ExtrasCandidate, ReleaseCandidate
from .direct import incompatible_detail
from .factory import Factory, Release
from .provider import CountingReporter, Information
from .requirements import PythonRequirement, SpecifierRequirement

MAX_RETRIES = 8  # resolutions spent checking ways out
NEWEST_PYTHON_MINOR = 20
NEWEST_PATCH = 30  # patch releases looked at per minor for "a kernel with Python ..."


@dataclass(frozen=True)
class UserRequirement:
    text: str  # as the user wrote it
    requirement: SpecifierRequirement


# A resolution attempt with other user requirements: the version chosen per name, or None.
Retry = Callable[[list[SpecifierRequirement]], "dict[str, Version] | None"]


def python_words(factory: Factory, target: TargetSummary) -> str:
    """``"this kernel has 3.13.0"``: the patch version too, since Requires-Python can
    name one (``>=3.13.2``)."""
    shown = str(factory.python)
    return f"the target has {shown}" if target.synthetic else f"this kernel has {shown}"


def spec_words(specifier: SpecifierSet) -> str:
    """A specifier for a sentence: ``>=2``, or ``(any version)`` for an empty one."""
    text = str(specifier).replace("===", "==")
    return text or "(any version)"


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
    if not releases:
        return Cause(text, by, "requirement", _empty_page_detail(factory, req.name, display))
    if not matching:
        shown = ", ".join(str(r.version) for r in releases[:5])
        return Cause(
            text,
            by,
            "requirement",
            f"No version of {display} matches {spec_words(req.specifier)}; the index has {shown}.",
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
        newest = next(r for r in matching if r.usable)
        which = (
            f"match {spec_words(req.specifier)}"
            if req.specifier
            else "are on the index (every one was withdrawn)"
        )
        return Cause(
            text,
            by,
            "requirement",
            f"Only yanked releases of {display} {which}; pin one, such as "
            f"{display}=={newest.version}, to use it anyway.",
            version=str(newest.version),
        )
    return Cause(text, by, "installed" if installed else "requirement")


def _empty_page_detail(factory: Factory, name: str, display: str) -> str:
    """No release at all: an empty page, or one whose every file entry was unreadable."""
    page = factory.bridge.known_page(name)
    if page is not None and page.warnings:
        skipped = len(page.warnings)
        return (
            f"The index sent a page for {display} that could not be read: {skipped} file "
            f"entr{'y was' if skipped == 1 else 'ies were'} unusable ({page.warnings[0]}). "
            "That is a fault of the index, not a sign that the project has no files."
        )
    return f"The index lists no files at all for {display}."


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


def _trace(
    name: str, factory: Factory, user_names: set[str], pinned: dict[str, str]
) -> tuple[str, list[str]] | None:
    """How a project the user did not name was pulled in: (the user's project, the
    candidates from it down to ``name``'s parent), breadth first over what the factory
    saw (``Factory.dependents``); None when no path is known. ``pinned``: name -> the
    candidate the conflict itself names ("xa 1.0"), shown in place of the first one
    that pulled the project in."""
    queue: list[tuple[str, list[str]]] = [(name, [])]
    seen = {name}
    while queue:
        current, below = queue.pop(0)
        for parent, shown in factory.dependents.get(current, {}).items():
            if parent in seen:
                continue
            seen.add(parent)
            path = [pinned.get(parent, shown), *below]
            if parent in user_names:
                return parent, path
            queue.append((parent, path))
    return None


def _and(items: Sequence[str]) -> str:
    """``"a, b and c"``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _versions_words(versions: Sequence[str]) -> str:
    """``"1.1 and 1.0"``; past four, ``"1.59, 1.58, 1.57 and 57 other versions"``."""
    if len(versions) > 4:
        return ", ".join(versions[:3]) + f" and {len(versions) - 3} other versions"
    return _and(versions)


def _clause(parent: Candidate | None, via: list[str], requirement: str, versions: list[str]) -> str:
    """``"pa 1.1 and 1.0 need pb==2"``, ``"left 1.0 (pulled in by top 1.0) needs shared==1"``."""
    if parent is None:
        return f"you asked for {requirement}"
    verb = "need" if len(versions) > 1 else "needs"
    if isinstance(parent, ReleaseCandidate | ExtrasCandidate):
        subject = parent.format_for_error().rsplit(" ", 1)[0] + " " + _versions_words(versions)
    else:
        subject = parent.format_for_error()
    if isinstance(parent, ReleaseCandidate) and parent.is_installed:
        subject = f"your {subject}"
    if via:
        chain = via[0] + (f" through {', '.join(via[1:])}" if len(via) > 1 else "")
        subject += f" (pulled in by {chain})"
    return f"{subject} {verb} {requirement}"


def _ranges(
    factory: Factory, infos: Sequence[Information], user: dict[SpecifierRequirement, str]
) -> str | None:
    """For several requirements on one project that each admit versions, but not the
    same ones: which versions each admits (the reason none is left)."""
    requirements = [i.requirement for i in infos]
    if not all(isinstance(r, SpecifierRequirement) for r in requirements):
        return None
    name = requirements[0].name
    releases = [r for r in factory.releases(name) or () if r.usable]
    parts: list[str] = []
    for req in dict.fromkeys(requirements):
        assert isinstance(req, SpecifierRequirement)
        found = [str(r.version) for r in releases if req.specifier.contains(r.version, True)]
        if not found:
            return None  # that requirement's own detail says why
        shown = ", ".join(found[:4]) + " and older" if len(found) > 4 else _and(found)
        parts.append(f"{user.get(req, req.format_for_error())} allows {shown}")
    display = factory.display_names.get(name, requirements[0].name)
    return f"No version of {display} is allowed by all of these: {'; '.join(parts)}."


def sentences(
    causes: Sequence[Cause],
    infos: Sequence[Information],
    factory: Factory,
    user: Sequence[UserRequirement],
) -> str:
    """What the user asked for that cannot be installed, then one sentence per
    conflicting project (who needs what, traced back to the request), then each cause's
    own detail."""
    user_text = {u.requirement.name: u.text for u in user}
    user_names = set(user_text)
    roots: dict[str, None] = {}
    pinned = {
        i.parent.name: i.parent.base.format_for_error()
        for i in infos
        if isinstance(i.parent, ReleaseCandidate | ExtrasCandidate)
    }
    groups: dict[str, list[int]] = {}
    for index, info in enumerate(infos):
        groups.setdefault(info.requirement.name, []).append(index)
    out: list[str] = []
    for indexes in groups.values():
        details = [causes[i].detail for i in indexes if causes[i].detail]
        clauses: dict[tuple[str | None, str, tuple[str, ...]], list[str]] = {}
        parents: dict[tuple[str | None, str, tuple[str, ...]], Candidate | None] = {}
        for i in indexes:
            info = infos[i]
            parent = info.parent
            via: list[str] = []
            if parent is None:
                roots.setdefault(user_text.get(info.requirement.name, ""))
            elif parent.name in user_names:
                roots.setdefault(user_text[parent.name])
            elif not (isinstance(parent, ReleaseCandidate) and parent.is_installed):
                traced = _trace(parent.name, factory, user_names, pinned)
                if traced is not None:
                    roots.setdefault(user_text[traced[0]])
                    via = traced[1]
            shown = info.requirement.format_for_error()
            if parent is None:  # as the user wrote it: rb>=2,<3, not rb<3,>=2
                shown = next((u.text for u in user if u.requirement == info.requirement), shown)
            key = (
                None if parent is None else parent.format_for_error().rsplit(" ", 1)[0],
                shown,
                tuple(via),
            )
            version = getattr(parent, "version", None)
            clauses.setdefault(key, [])
            if version is not None and str(version) not in clauses[key]:
                clauses[key].append(str(version))
            parents.setdefault(key, parent)
        if len(indexes) > 1 or not details:
            parts = [_clause(parents[k], list(k[2]), k[1], v) for k, v in clauses.items()]
            sentence = "; ".join(dict.fromkeys(parts))
            if sentence.startswith("you"):
                sentence = "Y" + sentence[1:]
            out.append(sentence + ".")
            pins = all(infos[i].requirement.pinned for i in indexes)
            if len(clauses) > 1 and not details and not pins:
                by_user = {u.requirement: u.text for u in user}
                ranges = _ranges(factory, [infos[i] for i in indexes], by_user)
                if ranges:
                    out.append(ranges)
        out.extend(d for d in dict.fromkeys(details) if d)
    roots.pop("", None)
    if roots and any(i.parent is not None for i in infos):
        order = {u.text: n for n, u in enumerate(user)}
        names = sorted(roots, key=lambda t: order.get(t, len(order)))
        together = " together" if len(names) > 1 else ""
        out.insert(0, f"{_and(names)} cannot be installed{together}.")
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
    """Ways out, each checked by a resolution that succeeds with it: the user's pin or
    constraint dropped, another version of a requested project, a yanked release
    pinned on purpose; then another Python (not checked: it is another target)."""
    out: list[WayOut] = []
    kinds: dict[str, str] = {}
    for cause, info in zip(causes, infos):
        if isinstance(info.requirement, PythonRequirement):
            if info.parent is not None:
                kinds.setdefault(info.parent.name, cause.kind)
        else:
            kinds.setdefault(info.requirement.name, cause.kind)
    names = [i.requirement.name for i in infos]
    clashing = {n for n in names if names.count(n) > 1}  # constrained by several
    involved = set(names) | {i.parent.name for i in infos if i.parent is not None}
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
        if req.extras and req.name in involved and budget > 0:
            budget -= 1
            chosen = retry([*others, replace(req, extras=frozenset())])
            version = chosen.get(req.name) if chosen else None
            if version is not None:
                extras = ",".join(sorted(req.extras))
                plain = f"{req.display_name}=={version}"
                out.append(
                    WayOut(
                        "relax-pin",
                        f"Without the extra [{extras}], {req.display_name} {version} fits.",
                        {"kind": "use-requirement", "requirement": plain, "label": f"Use {plain}"},
                    )
                )
        relax = req.pinned or (bool(req.specifier) and req.name in clashing)
        if relax and budget > 0:
            budget -= 1
            chosen = retry([*others, _with(req, "")])
            version = chosen.get(req.name) if chosen else None
            if version is not None:
                # the explicit version, so the button installs what its label says
                what = "the pin" if req.pinned else "your constraint"
                out.append(
                    WayOut(
                        "relax-pin",
                        f"Without {what} {item.text}, {req.display_name} {version} fits.",
                        {
                            "kind": "use-requirement",
                            "requirement": _version_text(req, version),
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
                message = f"{req.display_name} {version} supports your Python {factory.python}."
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
    if budget > 0:
        out.extend(_yanked_pins(causes, infos, factory, all_user, retry))
    out.extend(_other_python(causes, infos, factory))
    return out


def _yanked_pins(
    causes: Sequence[Cause],
    infos: Sequence[Information],
    factory: Factory,
    requested: list[SpecifierRequirement],
    retry: Retry,
) -> list[WayOut]:
    """For "only yanked releases match": pinning the newest of them, when that works."""
    out: list[WayOut] = []
    for cause, info in zip(causes, infos):
        req = info.requirement
        if cause.version is None or "yanked" not in (cause.detail or ""):
            continue
        if not isinstance(req, SpecifierRequirement):
            continue
        pin = _with(replace(req, extras=frozenset()), f"=={cause.version}")
        rest = [r for r in requested if r.name != req.name]
        if retry([*rest, *(r for r in requested if r.name == req.name and r.extras), pin]) is None:
            continue
        display = factory.display_names.get(req.name, req.display_name)
        text = f"{display}=={cause.version}"
        out.append(
            WayOut(
                "relax-pin",
                f"{display} {cause.version} was withdrawn (yanked) by its authors; pinning "
                f"{text} installs it anyway.",
                {"kind": "use-requirement", "requirement": text, "label": f"Use {text}"},
            )
        )
        break
    return out


def _older_python(spec: SpecifierSet, python: Version) -> str | None:
    """The newest ``major.minor`` below ``python`` that ``spec`` takes at some patch."""
    for minor in range(python.minor - 1, 5, -1):
        if any(spec.contains(f"{python.major}.{minor}.{p}", True) for p in range(NEWEST_PATCH)):
            return f"{python.major}.{minor}"
    return None


def newer_python(spec: SpecifierSet, python: Version) -> str | None:
    """The first Python after ``python`` that ``spec`` takes: a patch of the same minor
    (``>=3.13.2`` on 3.13.0 -> ``3.13.2``), else the first of a later minor (``3.14``,
    or ``3.14.1`` when the spec names that patch)."""
    for patch in range(python.micro + 1, NEWEST_PATCH):
        if spec.contains(f"{python.major}.{python.minor}.{patch}", True):
            return f"{python.major}.{python.minor}.{patch}"
    for minor in range(python.minor + 1, NEWEST_PYTHON_MINOR + 1):
        for patch in range(NEWEST_PATCH):
            if spec.contains(f"{python.major}.{minor}.{patch}", True):
                return f"{python.major}.{minor}" + (f".{patch}" if patch else "")
    return None


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
        newer = newer_python(spec, factory.python)
        older = None if newer else _older_python(spec, factory.python)
        candidate = newer or older
        if candidate is None or candidate in seen:
            continue
        seen.add(candidate)
        words = "or newer " if newer else ""
        out.append(
            WayOut(
                "other-python",
                f"{who} needs Python {spec}: a kernel with Python {candidate} {words}would "
                "take it.",
                {
                    "kind": "other-python",
                    "python": candidate,
                    "label": f"Use Python {candidate}" + (" or newer" if newer else ""),
                },
            )
        )
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
    message = sentences(causes, unique, factory, user) or "The request cannot be satisfied."
    return Conflict(
        requirements=[u.text for u in user],
        target=target,
        causes=causes,
        message=message,
        ways_out=ways_out(causes, unique, factory, user, retry=retry),
    )


def too_deep(
    user: Sequence[UserRequirement],
    target: TargetSummary,
    reporter: CountingReporter,
    factory: Factory,
) -> Conflict:
    """The round limit: said as what it is (the search gave up, no conflict was proven),
    with the projects whose versions took the rounds, the ones to pin."""
    busiest = sorted(reporter.rejected.items(), key=lambda item: (-item[1], item[0]))[:3]
    names = [factory.display_names.get(n, n) for n, _ in busiest]
    tried = sum(len(v) for v in reporter.tried.values())
    message = (
        f"No answer after {reporter.rounds} rounds of trying versions: the resolver gave "
        f"up before finding a set of versions that fits or proving that none does "
        f"({tried} versions of {len(reporter.tried)} projects tried, "
        f"{reporter.backtracks} rejected)."
    )
    if names:
        counts = ", ".join(f"{factory.display_names.get(n, n)} {c}" for n, c in busiest)
        message += (
            f" Most rejected versions were of {_and(names)} ({counts}): pin the "
            "versions you want of those, and try again."
        )
    else:
        message += " Pin the versions you want of the biggest packages and try again."
    return Conflict(
        requirements=[u.text for u in user],
        target=target,
        causes=[],
        message=message,
    )
