"""A plan asks for each project's advisories (``/pypi/<name>/json``) while it is still
resolving, not after: against the real local index, with a dependency's page held
back, the top project's advisories are asked for before that page has been answered,
and the plan still says everything it said (the advisories of what it installs)."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_envhelper.core.assess import PlanAnswer, assess
from jupyter_envhelper.environment import Environment
from jupyter_envhelper.index import IndexClient, IndexConfig
from tests.indexserver import DistSpec, Fault, IndexServer

ADVISORY = {
    "id": "GHSA-test-0000-0001",
    "aliases": ["CVE-2099-0001"],
    "summary": "A test advisory",
    "fixed_in": ["9.0"],
    "link": "https://osv.dev/vulnerability/GHSA-test-0000-0001",
}
DISTS = [
    DistSpec("top", "1.0", requires_dist=("middle",)),
    DistSpec("middle", "1.0", requires_dist=("leaf",)),
    DistSpec("leaf", "1.0"),
]


def test_advisories_are_asked_for_while_resolving() -> None:
    vulnerabilities = {"top": [ADVISORY], "middle": [], "leaf": [ADVISORY]}
    with IndexServer(DISTS, vulnerabilities=vulnerabilities) as index:
        index.set_fault(Fault("hang", seconds=3.0, times=1), project="leaf")
        seen_before_leaf: list[int] = []

        async def go() -> PlanAnswer:
            env = Environment.synthetic(python_version="3.11")
            config = IndexConfig(index_url=index.index_url)
            async with IndexClient(config, retries=0, use_netrc=False) as client:
                planning = asyncio.ensure_future(assess(["top"], env, client))
                while not planning.done() and not index.path_stats("/pypi/top/json").requests:
                    await asyncio.sleep(0.01)
                # the JSON API of top was answered while leaf's page was still held back
                seen_before_leaf.append(index.path_stats("/simple/leaf/").requests)
                return await planning

        answer = asyncio.run(go())

    assert seen_before_leaf == [0]
    assert answer.plan is not None
    assert {a.canonical_name for a in answer.plan.changes} == {"top", "middle", "leaf"}
    found: dict[str, Any] = {}
    for finding in answer.findings:
        if finding.check == "vulnerable":
            found.setdefault(finding.severity, []).append(finding)
    flagged = {w.details["name"] for w in found.get("warning", [])}
    assert flagged == {"top", "leaf"}  # middle has none; every project was looked up
    assert "info" not in found  # none unknown
