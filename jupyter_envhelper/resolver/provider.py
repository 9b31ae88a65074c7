"""The resolvelib provider: a thin layer over the factory, plus a counting reporter.

Preference (smaller is decided first), as a tuple:

1. the target's Python (it has exactly one candidate; fail fast on Requires-Python);
2. identifiers that caused the last backtrack (resolve the conflict where it is);
3. exactly pinned requirements (one candidate: cheap, and they constrain the rest);
4. what the user asked for, before what it pulls in;
5. depth in the dependency graph (shallow first, as pip infers it);
6. the identifier, so the order is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from resolvelib import AbstractProvider, BaseReporter
from resolvelib.structs import RequirementInformation

from .candidates import Candidate
from .factory import Factory
from .requirements import PYTHON_IDENTIFIER, ResolverRequirement, split_identifier

Information = RequirementInformation[ResolverRequirement, Candidate]


class Provider(AbstractProvider[ResolverRequirement, Candidate, str]):
    def __init__(self, factory: Factory, user_identifiers: Iterable[str]) -> None:
        self.factory = factory
        self.user_identifiers = frozenset(user_identifiers)
        self._depth: dict[str, int] = {i: 1 for i in self.user_identifiers}

    def identify(self, requirement_or_candidate: ResolverRequirement | Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Information]],
        backtrack_causes: Sequence[Information],
    ) -> Any:
        infos = list(information[identifier])
        pinned = any(i.requirement.pinned for i in infos)
        causes = {c.requirement.identifier for c in backtrack_causes}
        causes |= {c.parent.identifier for c in backtrack_causes if c.parent is not None}
        depth = self._depth.get(identifier)
        if depth is None:
            parents = [self._depth.get(i.parent.identifier, 1) for i in infos if i.parent]
            depth = min(parents, default=0) + 1
            self._depth[identifier] = depth
        return (
            identifier != PYTHON_IDENTIFIER,
            identifier not in causes,
            not pinned,
            identifier not in self.user_identifiers,
            depth,
            identifier,
        )

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[ResolverRequirement]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]]:
        wanted = list(requirements[identifier])
        name, extras = split_identifier(identifier)
        if extras:  # the plain project's requirements bound the extras form too
            wanted += list(requirements.get(name, ()))
        # lazily: resolvelib reads candidates best first and mostly stops at the first
        return self.factory.iter_matches(identifier, wanted, list(incompatibilities[identifier]))

    def is_satisfied_by(self, requirement: ResolverRequirement, candidate: Candidate) -> bool:
        return requirement.is_satisfied_by(candidate)

    def get_dependencies(self, candidate: Candidate) -> list[ResolverRequirement]:
        return self.factory.dependencies(candidate)


class CountingReporter(BaseReporter[ResolverRequirement, Candidate, str]):
    """Counts rounds and backtracks for Plan.stats."""

    def __init__(self) -> None:
        self.rounds = 0
        self.backtracks = 0
        self.rejected: dict[str, int] = {}  # canonical name -> candidates rejected
        self.tried: dict[str, set[str]] = {}  # canonical name -> versions pinned

    def starting_round(self, index: int) -> None:
        self.rounds = index + 1

    def pinning(self, candidate: Candidate) -> None:
        self.tried.setdefault(candidate.name, set()).add(str(candidate.version))

    def rejecting_candidate(self, criterion: Any, candidate: Candidate) -> None:
        self.backtracks += 1
        self.rejected[candidate.name] = self.rejected.get(candidate.name, 0) + 1
