"""Undo a job: from its before/after snapshots, what to reinstall and what to remove.

Only the distributions the job changed are touched, and each is brought back to its
version *before* the job: reinstalled (an exact pin) or removed (the job added it).
The plan is computed against the environment as it is *now*, so what already matches
is left alone, and a later change by someone else is reported, not silently undone.

Old versions must still be on the index: ``check_available`` asks a checker (an
``IndexClient`` or any async callable ``(name, version) -> bool``) and names the ones
that are gone; editable and direct-URL installs cannot come back from an index.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..environment import Environment
from ..plan import Action, FileChoice, Plan, TargetSummary
from .models import Snapshot, diff_snapshots

Checker = Callable[[str, str], Awaitable[bool]]


@dataclass
class UndoPlan:
    plan: Plan
    unavailable: list[str] = field(default_factory=list)  # sentences
    drifted: list[str] = field(default_factory=list)  # changed again since the job

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_json(),
            "unavailable": list(self.unavailable),
            "drifted": list(self.drifted),
        }


def _kind(current: str | None, wanted: str) -> str:
    if current is None:
        return "install"
    try:
        return "upgrade" if Version(wanted) > Version(current) else "downgrade"
    except InvalidVersion:
        return "upgrade"


def undo_actions(
    before: Snapshot, after: Snapshot, current: Environment
) -> tuple[list[Action], list[str]]:
    """Actions that bring every distribution the job changed back to ``before``."""
    actions: list[Action] = []
    drifted: list[str] = []
    for change in diff_snapshots(before, after):
        key = canonicalize_name(change.name)
        now = current.installed(key)
        now_version = now.version if now is not None else None
        if now_version != change.after:
            drifted.append(
                f"{change.name} is {now_version or 'not installed'} now, not "
                f"{change.after or 'absent'} as the job left it."
            )
        old = before.get(key)
        if old is None:
            if now is not None:
                actions.append(
                    Action(
                        "remove",
                        change.name,
                        key,
                        None,
                        installed_version=now_version,
                        requested=True,
                    )
                )
            continue
        if now_version == old.version:
            continue
        file = None
        if old.index_url:
            file = FileChoice(filename="", url="", index_url=old.index_url, kind="wheel")
        actions.append(
            Action(
                _kind(now_version, old.version),  # type: ignore[arg-type]
                old.name,
                key,
                old.version,
                installed_version=now_version,
                requested=True,
                file=file,
            )
        )
    return actions, drifted


async def check_available(
    actions: Sequence[Action], before: Snapshot, checker: Checker | None
) -> list[str]:
    """Sentences naming the versions that cannot be reinstalled from the index."""
    missing: list[str] = []
    for action in actions:
        if action.pin is None or action.version is None:
            continue
        old = before.get(action.canonical_name)
        if old is not None and old.source in ("editable", "direct-url"):
            where = f" from {old.url}" if old.url else ""
            missing.append(
                f"{action.name} {action.version} was installed {old.source}{where}; "
                "it cannot be reinstalled from an index."
            )
            continue
        if checker is None:
            continue
        try:
            ok = await checker(action.name, action.version)
        except Exception as exc:  # an index error means: we cannot tell, so say so
            missing.append(f"{action.name} {action.version}: the index could not be asked ({exc}).")
            continue
        if not ok:
            missing.append(f"{action.name} {action.version} is no longer on the index.")
    return missing


def index_checker(client: Any) -> Checker:
    """A checker over an ``IndexClient`` (``get_project(name).versions``)."""

    async def check(name: str, version: str) -> bool:
        page = await client.get_project(name)
        wanted = Version(version)
        for candidate in page.versions:
            try:
                if Version(str(candidate)) == wanted:
                    return True
            except InvalidVersion:
                continue
        return False

    return check


async def plan_undo(
    *,
    job_id: int,
    before: Snapshot,
    after: Snapshot,
    current: Environment,
    index_urls: Sequence[str],
    checker: Checker | None = None,
) -> UndoPlan:
    actions, drifted = undo_actions(before, after, current)
    unavailable = await check_available(actions, before, checker)
    target = TargetSummary(
        python_version=current.python_version,
        implementation=current.implementation,
        platform=(current.platform_tags() or ["unknown"])[0],
        executable=current.executable,
    )
    plan = Plan(
        requirements=[f"undo of job {job_id}"],
        target=target,
        actions=actions,
        index_urls=list(index_urls),
        warnings=[*drifted, *unavailable],
    )
    return UndoPlan(plan=plan, unavailable=unavailable, drifted=drifted)
