"""Typo-squatting: a name that looks like a popular project's but is not it.

``typosquat_warning("reqeusts")`` -> "did you mean requests?". A name is flagged when it
is neither popular (in the shipped table) nor installed, and is close to one of the most
popular projects in one of these ways:

* one edit away (a swapped, repeated, missing, extra or substituted character), for
  targets of five characters or more; two edits for targets of ten or more;
* the same after folding look-alikes (``rn``/``m``, ``0``/``o``, ``1``/``l``), doubled
  letters, separators, word order, British spellings (``colour``) and ``python-``/``py-``
  prefixes or ``-python`` suffixes.

The most popular candidate at the smallest distance is suggested.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache

from .distance import edits1
from .fuzzy import DeletionIndex, NearIndex
from .imports import ImportNameMap, load_import_names
from .names import canonicalize
from .popular import PopularProject, PopularTable, load_popular

# How many of the most popular projects are protected.
TARGET_COUNT = 2500

_LOOKALIKES = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("5", "s"), ("i", "l"))
_BRITISH = (
    ("isation", "ization"),
    ("ising", "izing"),
    ("ised", "ized"),
    ("alyse", "alyze"),
    ("colour", "color"),
    ("flavour", "flavor"),
    ("behaviour", "behavior"),
    ("favour", "favor"),
    ("honour", "honor"),
    ("neighbour", "neighbor"),
    ("centre", "center"),
    ("metre", "meter"),
    ("grey", "gray"),
    ("catalogue", "catalog"),
    ("licence", "license"),
)
_AFFIXES = ("python3-", "python-", "py3-", "py-")
_SUFFIXES = ("-python3", "-python", "-py3", "-py")
_REPEATS = re.compile(r"(.)\1+")
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, set[str]]:
    neighbours: dict[str, set[str]] = {}
    for row_index, row in enumerate(_KEYBOARD_ROWS):
        for column, char in enumerate(row):
            near = neighbours.setdefault(char, set())
            for other_row in range(max(0, row_index - 1), min(len(_KEYBOARD_ROWS), row_index + 2)):
                for offset in (-1, 0, 1):
                    position = column + offset
                    if 0 <= position < len(_KEYBOARD_ROWS[other_row]):
                        near.add(_KEYBOARD_ROWS[other_row][position])
            near.discard(char)
    return neighbours


_NEIGHBOURS = _keyboard_neighbours()


@dataclass(frozen=True)
class TyposquatWarning:
    """A name that looks like a popular project's. ``message`` is for the user."""

    name: str
    suggestion: str
    canonical_suggestion: str
    suggestion_rank: int
    reason: str
    message: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _strip_affixes(name: str) -> str:
    for prefix in _AFFIXES:
        if name.startswith(prefix) and len(name) - len(prefix) >= 4:
            return name[len(prefix) :]
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 4:
            return name[: -len(suffix)]
    return name


def _american(name: str) -> str:
    for british, american in _BRITISH:
        name = name.replace(british, american)
    return name


def _lookalike(name: str) -> str:
    for seen, meant in _LOOKALIKES:
        name = name.replace(seen, meant)
    return name


def shape(name: str) -> str:
    """A name folded to what a hurried reader sees; equal shapes are easy to confuse."""
    stripped = _strip_affixes(name)
    parts = sorted(part for part in stripped.split("-") if part)
    joined = "".join(parts)
    return _REPEATS.sub(r"\1", _lookalike(_american(joined)))


def describe(name: str, target: str) -> tuple[str, str]:
    """The kind of typo that turns ``target`` into ``name``, as (reason, words)."""
    if name.replace("-", "") == target.replace("-", ""):
        return "separators", "the same name with other separators"
    if sorted(name.split("-")) == sorted(target.split("-")):
        return "word-order", "the same words in another order"
    if _american(name) == target or name == _american(target):
        return "spelling", "a British spelling of it"
    if _strip_affixes(name) == _strip_affixes(target):
        return "prefix", "the same name with a prefix or suffix added or dropped"
    if _lookalike(name) == _lookalike(target):
        return "lookalike", "characters that look alike"
    if len(name) == len(target):
        diffs = [index for index, (a, b) in enumerate(zip(name, target)) if a != b]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            first, second = diffs
            if name[first] == target[second] and name[second] == target[first]:
                return "swapped-letters", "two letters swapped"
        if len(diffs) == 1:
            typed, meant = name[diffs[0]], target[diffs[0]]
            if typed in _NEIGHBOURS.get(meant, set()):
                return "keyboard-neighbour", f"'{typed}' typed for the next key '{meant}'"
            return "substituted-letter", f"'{typed}' in place of '{meant}'"
    if _REPEATS.sub(r"\1", name) == _REPEATS.sub(r"\1", target):
        if len(name) > len(target):
            return "repeated-letter", "a letter repeated"
        return "missing-letter", "a doubled letter missing"
    if len(name) == len(target) + 1:
        return "extra-letter", "one extra character"
    if len(name) + 1 == len(target):
        return "missing-letter", "one character missing"
    return "similar", "a very similar name"


class TyposquatChecker:
    """Compares names with the most popular projects of a ``PopularTable``."""

    def __init__(
        self,
        popular: PopularTable,
        *,
        import_names: ImportNameMap | None = None,
        targets: int = TARGET_COUNT,
        near: NearIndex | None = None,
    ) -> None:
        """``near``: a deletion index over (at least) the popular names to reuse."""
        self._popular = popular
        self._imports = import_names or ImportNameMap()
        self._targets: dict[str, PopularProject] = {}
        self._shapes: dict[str, PopularProject] = {}
        for project in popular:
            if project.rank > targets:
                break
            name = project.canonical_name
            self._targets[name] = project
            self._shapes.setdefault(shape(name), project)
        self._near = near or DeletionIndex(self._targets, min_length=4)

    def check(self, name: str, *, installed: Collection[str] = ()) -> TyposquatWarning | None:
        """A warning if ``name`` looks like a popular project it is not, else None."""
        canonical = canonicalize(name.strip())
        if len(canonical) < 3 or canonical in self._popular:
            return None
        if any(canonicalize(other) == canonical for other in installed):
            return None
        target = self._by_import_name(canonical)
        if target is not None:
            reason, words = (
                "import-name",
                f"'{name.strip()}' is what you import, not what you install",
            )
        else:
            target = self._closest(canonical)
            if target is None:
                return None
            reason, words = describe(canonical, target.canonical_name)
        message = (
            f"'{name.strip()}' is not a well-known package, and it looks like "
            f"'{target.name}' ({words}). Did you mean {target.name}?"
        )
        return TyposquatWarning(
            name=name.strip(),
            suggestion=target.name,
            canonical_suggestion=target.canonical_name,
            suggestion_rank=target.rank,
            reason=reason,
            message=message,
        )

    def _by_import_name(self, canonical: str) -> PopularProject | None:
        """``yaml`` is imported, ``PyYAML`` installed: suggest the popular distribution."""
        for dist in self._imports.lookup(canonical):
            project = self._popular.get(dist)
            if dist != canonical and project is not None:
                return project
        return None

    @lru_cache(maxsize=4096)  # noqa: B019 - one checker per table, kept for its lifetime
    def _closest(self, canonical: str) -> PopularProject | None:
        found: list[tuple[int, int, PopularProject]] = []
        by_shape = self._shapes.get(shape(canonical))
        if by_shape is not None and by_shape.canonical_name != canonical:
            found.append((0, by_shape.rank, by_shape))
        depth = 2 if len(canonical) >= 8 else 1
        for target, distance in self._near.near(canonical, limit=depth).items():
            project = self._targets.get(target)
            if project is None:
                continue
            if distance == 1 and (len(target) >= 5 or self._is_common_slip(canonical, target)):
                found.append((1, project.rank, project))
            elif distance == 2 and len(target) >= 10:
                found.append((2, project.rank, project))
        if len(canonical) <= 4:  # three-letter targets are not in the deletion index
            for variant in edits1(canonical):
                project = self._targets.get(variant)
                if project and len(variant) < 4 and self._is_common_slip(canonical, variant):
                    found.append((1, project.rank, project))
        if not found:
            return None
        return min(found, key=lambda item: (item[0], item[1]))[2]

    @staticmethod
    def _is_common_slip(name: str, target: str) -> bool:
        """For short targets only the likeliest slips count."""
        reason, _ = describe(name, target)
        return reason in {"swapped-letters", "keyboard-neighbour", "repeated-letter", "lookalike"}


@lru_cache(maxsize=1)
def default_checker() -> TyposquatChecker:
    """A checker over the shipped popular table (built once)."""
    return TyposquatChecker(load_popular(), import_names=ImportNameMap(load_import_names()))


def typosquat_warning(
    name: str,
    *,
    installed: Mapping[str, str] | Collection[str] = (),
    checker: TyposquatChecker | None = None,
) -> TyposquatWarning | None:
    """``TyposquatWarning`` if ``name`` looks like a popular project it is not, else None.

    ``installed`` holds names (a mapping's keys count) that are installed and so trusted.
    """
    return (checker or default_checker()).check(name, installed=installed)
