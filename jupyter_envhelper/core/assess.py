"""From "install X" to a verdict: resolve, advise, and say where else it would work.

``assess`` is called by ``Core.plan`` and nothing else, so every surface gets the
same verdict for the same request. It resolves for the target Environment, gathers
what the advice checks need (vulnerability data for what would be installed, the
running kernel's imported modules, CPU builds of GPU frameworks, typo-squat checks)
and, when the verdict is a blocker, asks for the other kernels that could take the
request and offers them as ways out.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..advice import AdviceContext, run_checks
from ..environment import Environment
from ..errors import EnvHelperError
from ..index import IndexClient
from ..plan import Conflict, Finding, Plan, ResolutionConflict, WayOut, worst
from ..resolver import plan_install

VULNERABILITY_BUDGET = 3.0  # seconds spent asking the index for advisories
GPU_FRAMEWORKS = frozenset({"torch", "torchvision", "torchaudio"})


@dataclass
class PlanAnswer:
    plan: Plan | None
    conflict: Conflict | None
    findings: list[Finding]
    suggestions: list[dict[str, Any]]
    fingerprint: str

    @property
    def verdict(self) -> str:
        return worst(self.findings) or "ok"

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "state": "plan" if self.plan is not None else "conflict",
            "plan": self.plan.to_json() if self.plan is not None else None,
            "conflict": self.conflict.to_json() if self.conflict is not None else None,
            "findings": [f.to_json() for f in self.findings],
            "verdict": "ok" if verdict == "info" else verdict,
            "suggestions": self.suggestions,
            "fingerprint": self.fingerprint,
        }


def fingerprint(env: Environment) -> str:
    """What a job compares before acting: the installed name -> version map."""
    items = sorted((name, dist.version) for name, dist in env.distributions.items())
    digest = hashlib.sha256(repr((env.executable, items)).encode()).hexdigest()
    return digest[:16]


async def assess(
    requirements: Sequence[str],
    env: Environment,
    client: IndexClient,
    *,
    allow_prereleases: bool = False,
    allow_direct_urls: bool = False,
    upgrade: bool = False,
    kernel: str | None = None,
    imported_modules: frozenset[str] | None = None,
    typosquat: Callable[[str], dict[str, Any] | None] | None = None,
    suggest: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
) -> PlanAnswer:
    plan: Plan | None = None
    conflict: Conflict | None = None
    try:
        plan = await plan_install(
            requirements,
            env,
            client,
            allow_prereleases=allow_prereleases,
            allow_direct_urls=allow_direct_urls,
            upgrade=upgrade,
            kernel=kernel,
        )
    except ResolutionConflict as exc:
        conflict = exc.conflict
    ctx = AdviceContext(
        vulnerabilities=await _vulnerabilities(client, plan) if plan is not None else {},
        typosquat=typosquat,
        imported_modules=imported_modules,
        cpu_alternatives=await _cpu_alternatives(client, plan) if plan is not None else {},
    )
    subject: Plan | Conflict = plan if plan is not None else conflict  # type: ignore[assignment]
    findings = run_checks(subject, env, ctx)
    if any(f.check in ("python", "platform") and f.severity == "blocker" for f in findings):
        # the specific finding says the same as the general conflict, in better words
        findings = [f for f in findings if f.check != "conflict"]
    suggestions: list[dict[str, Any]] = []
    if (worst(findings) == "blocker") and suggest is not None:
        suggestions = await suggest()
        if conflict is not None:
            for s in suggestions:
                if s["rank"] != "impossible":
                    conflict.ways_out.append(
                        WayOut(
                            "other-kernel",
                            f"{s['display_name']}: {s['message']}",
                            {
                                "kind": "switch-kernel",
                                "kernel": s["name"],
                                "label": f"Switch to {s['display_name']}",
                            },
                        )
                    )
    return PlanAnswer(plan, conflict, findings, suggestions, fingerprint(env))


async def _vulnerabilities(client: IndexClient, plan: Plan) -> dict[str, Any]:
    """Advisories for what the plan installs, as far as the index publishes them."""
    names = [a.canonical_name for a in plan.changes if a.version is not None]
    if not names:
        return {}

    async def one(name: str) -> tuple[str, dict[str, Any]]:
        try:
            doc = await client.project_json(name)
        except EnvHelperError:
            doc = None
        if doc is None:
            return name, {"version": None, "records": None}
        info = doc.get("info") or {}
        return name, {"version": info.get("version"), "records": doc.get("vulnerabilities")}

    tasks = [asyncio.ensure_future(one(n)) for n in names]
    done, pending = await asyncio.wait(tasks, timeout=VULNERABILITY_BUDGET)
    for task in pending:
        task.cancel()
    return dict(t.result() for t in done if not t.cancelled() and t.exception() is None)


async def _cpu_alternatives(client: IndexClient, plan: Plan) -> dict[str, Any]:
    """For CUDA builds of torch and its family: the +cpu build of the same version, if any."""
    out: dict[str, Any] = {}
    for action in plan.changes:
        if action.canonical_name not in GPU_FRAMEWORKS or action.version is None:
            continue
        try:
            chosen = Version(action.version)
            page = await client.get_project(action.name)
        except (InvalidVersion, EnvHelperError):
            continue
        for file in page.files:
            if (
                file.version.public == chosen.public
                and file.version.local == "cpu"
                and canonicalize_name(file.project) == action.canonical_name
            ):
                out[action.canonical_name] = {
                    "requirement": f"{action.name}=={file.version}",
                    "index_url": file.index_url,
                    "size": file.size,
                }
                break
    return out
