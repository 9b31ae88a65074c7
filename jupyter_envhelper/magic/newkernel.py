"""``%envhelp new-kernel --name NAME [--python-version X.Y | --python PATH] REQ... [-y]``.

The same as ``python -m jupyter_envhelper new-kernel``: the plan first (which Python,
what gets installed, how big, the findings), a confirmation, then the job with its
progress. A kernel cannot switch its own notebook to another kernel: the last line
says which kernel to pick (the side panel switches by itself).
"""

from __future__ import annotations

import queue
from typing import Any

from IPython.core.error import UsageError

from ..core import PlanOptions
from ..core.creating import NewEnvironmentRequest
from ..text import render_job
from ..text_environments import render_environments, render_new_environment_plan


def new_kernel(magics: Any, args: Any) -> None:
    """``magics``: the EnvHelpMagics (its session and its confirmation)."""
    requirements = list(args.args)
    if not args.name or not requirements:
        raise UsageError(
            "usage: %envhelp new-kernel --name NAME [--python-version X.Y | --python PATH] "
            "REQ... [-y]"
        )
    if args.python and args.python_version:
        raise UsageError("Give --python-version or --python, not both.")
    request = NewEnvironmentRequest(
        name=args.name,
        requirements=tuple(requirements),
        python_version=args.python_version,
        python=args.python,
        options=PlanOptions(allow_prereleases=args.pre, index_url=args.index_url),
    )
    session = magics.session
    doc = session.run(lambda core: core.environments.plan(request))
    print(render_new_environment_plan(doc))
    if not doc["ready"]:
        print("Nothing was created: no Python here takes this request.")
        return
    if not magics._confirm(args, f"Create {doc['directory']} and the kernel {doc['kernel_name']}?"):
        return
    chosen = request.as_planned(doc)
    updates: queue.Queue[str] = queue.Queue()

    async def follow() -> dict[str, Any]:
        core = await session.core()
        started = await core.environments.start(chosen)
        job_id = int(started["job"]["id"])
        last = None
        async for event in core.job_events(job_id):
            message = event.get("message")
            if event["type"] == "progress" and message and message != last:
                last = message
                updates.put(f"  [{event['phase']}] {message}")
        result: dict[str, Any] = await core.wait_job(job_id)
        return result

    def drain() -> None:
        while not updates.empty():
            print(updates.get_nowait(), flush=True)

    job = session.loop.run(follow(), drain)["job"]
    drain()
    print(render_job(job))
    if job["state"] == "succeeded":
        print(
            f"The kernel {doc['display_name']} [{doc['kernel_name']}] is ready: switch this "
            "notebook to it (Kernel > Change Kernel, or the envhelper panel)."
        )


def environments(magics: Any, args: Any) -> None:
    """``%envhelp environments``: the environments new-kernel made."""
    doc = magics.session.run(lambda core: core.environments.list_all())
    print(render_environments(doc))
