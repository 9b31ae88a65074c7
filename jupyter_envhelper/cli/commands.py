"""The commands: parse arguments into a Target and options, call the core, render.

Each command builds the one core (``build_core``) from the Jupyter configuration
with the flags on top, runs one use case, and prints its document: as text
(``text.py``, the same words as the magic) or, with ``--json``, as is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from ..core import Core, CoreConfig, JobRequest, PlanOptions, Target, build_core
from ..errors import BadRequest
from ..text import (
    render_environment,
    render_history,
    render_job,
    render_kernels,
    render_needs,
    render_package,
    render_plan,
    render_search,
    render_undo,
)

EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")


# -- set-up ---------------------------------------------------------------------------------


def config_for(args: argparse.Namespace) -> CoreConfig:
    """The Jupyter configuration's ``c.EnvHelperApp``, with this command's flags on top."""
    extra = getattr(args, "extra_index_url", None)
    return CoreConfig.from_jupyter_config().replace(
        index_url=getattr(args, "index_url", None),
        extra_index_urls=tuple(extra) if extra else None,
    )


def target_of(args: argparse.Namespace) -> Target:
    """--kernel, --python, a synthetic target, or this interpreter."""
    version = getattr(args, "target_python_version", None)
    platform = getattr(args, "target_platform", None)
    if version or platform:
        if args.kernel or args.python:
            raise BadRequest("Use either a synthetic target or --kernel/--python, not both.")
        return Target.imagined(version, platform)
    if args.kernel:
        return Target(kernel=args.kernel)
    if args.python:
        return Target(python=args.python)
    return Target.this_interpreter()


def server_prefix() -> str | None:
    """The environment a Jupyter server would run from, seen from here: this one, when
    it has jupyter_server (the command line is installed beside the server extension),
    so plans for it warn as the server's do."""
    import importlib.util

    return sys.prefix if importlib.util.find_spec("jupyter_server") is not None else None


@asynccontextmanager
async def opened(args: argparse.Namespace) -> AsyncIterator[Core]:
    core = build_core(config_for(args), server_prefix=server_prefix(), one_shot=True)
    try:
        yield core
    finally:
        await core.close()


def answer(args: argparse.Namespace, use: Callable[[Core], Awaitable[T]]) -> T:
    async def run() -> T:
        async with opened(args) as core:
            return await use(core)

    return asyncio.run(run())


def emit(args: argparse.Namespace, doc: dict[str, Any], text: str) -> None:
    print(json.dumps(doc, indent=2) if args.json else text)


def confirm(args: argparse.Namespace, question: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise BadRequest("Not asking without a terminal: add --yes to confirm.")
    return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}


# -- questions ------------------------------------------------------------------------------


def inspect(args: argparse.Namespace) -> int:
    doc = answer(args, lambda core: core.environment(target_of(args), refresh=args.refresh))
    emit(args, doc, render_environment(doc, packages=args.packages))
    return EXIT_OK if doc["state"] == "ok" else EXIT_UNAVAILABLE


def kernels(args: argparse.Namespace) -> int:
    doc = answer(args, lambda core: core.kernels())
    emit(args, doc, render_kernels(doc))
    return EXIT_OK


def search(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    doc = answer(args, lambda core: core.search(query, target_of(args)))
    emit(args, doc, render_search(doc))
    return EXIT_OK


def show(args: argparse.Namespace) -> int:
    doc = answer(args, lambda core: core.package(args.name, target_of(args)))
    emit(args, doc, render_package(doc, every_version=args.all))
    return EXIT_OK


def plan(args: argparse.Namespace) -> int:
    options = PlanOptions(allow_prereleases=args.pre, upgrade=args.upgrade)
    doc = answer(args, lambda core: core.plan(target_of(args), args.requirements, options))
    emit(args, doc, render_plan(doc))
    return EXIT_UNAVAILABLE if doc["verdict"] == "blocker" else EXIT_OK


def history(args: argparse.Namespace) -> int:
    doc = answer(args, lambda core: core.history(target_of(args)))
    emit(args, doc, render_history(doc["jobs"]))
    return EXIT_OK


def export(args: argparse.Namespace) -> int:
    doc = answer(
        args,
        lambda core: core.export(target_of(args), args.format, only_requested=args.only_requested),
    )
    for note in doc["notes"]:
        print(f"note: not reproducible from an index: {note}", file=sys.stderr)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(doc["content"])
        if not args.json:
            print(f"Wrote {args.output}: {doc['packages']} packages ({doc['format']}).")
    if args.json:
        print(json.dumps(doc, indent=2))
    elif not args.output:
        sys.stdout.write(doc["content"])
    return EXIT_OK


# -- changes --------------------------------------------------------------------------------


def install(args: argparse.Namespace) -> int:
    async def run(core: Core) -> int:
        target = target_of(args)
        doc = await core.plan(target, args.requirements)
        if not args.json:
            print(render_plan(doc))
        if doc["plan"] is None or doc["verdict"] == "blocker":
            return _refused(args, doc, "Nothing was installed: the plan has a blocker.")
        if not any(a["kind"] != "keep" for a in doc["plan"]["actions"]):
            return _refused(args, doc, "Nothing to install: it is already there.", EXIT_OK)
        python = doc["plan"]["target"].get("executable")
        if not confirm(args, f"Install into the environment of {python}?"):
            print("Nothing was installed.")
            return EXIT_OK
        request = JobRequest(
            "install", requirements=tuple(args.requirements), fingerprint=doc["fingerprint"]
        )
        return await _follow(core, args, await core.start_job(target, request))

    return answer(args, run)


def uninstall(args: argparse.Namespace) -> int:
    async def run(core: Core) -> int:
        target = target_of(args)
        doc = await core.plan_uninstall(target, args.names)
        if not args.json:
            print(render_plan(doc))
        if not confirm(args, f"Remove {', '.join(args.names)}?"):
            print("Nothing was removed.")
            return EXIT_OK
        request = JobRequest("uninstall", names=tuple(args.names), fingerprint=doc["fingerprint"])
        return await _follow(core, args, await core.start_job(target, request))

    return answer(args, run)


def undo(args: argparse.Namespace) -> int:
    async def run(core: Core) -> int:
        target = target_of(args)
        preview = await core.undo_preview(target, args.job)
        if not args.json:
            print(render_undo(preview))
        if not confirm(args, f"Undo job {preview['job_id']}?"):
            print("Nothing was changed.")
            return EXIT_OK
        request = JobRequest("undo", job_id=int(preview["job_id"]))
        return await _follow(core, args, await core.start_job(target, request))

    return answer(args, run)


def needs(args: argparse.Namespace) -> int:
    try:
        with open(args.notebook, encoding="utf-8") as handle:
            notebook = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BadRequest(f"Cannot read {args.notebook} as a notebook: {exc}") from exc

    async def run(core: Core) -> int:
        target = target_of(args)
        doc = await core.needs(target, notebook)
        if not args.install:
            emit(args, doc, render_needs(doc))
            return EXIT_OK if not doc["missing"] else EXIT_UNAVAILABLE
        if not args.json:
            print(render_needs(doc))
        if not doc["missing"]:
            return _refused(args, doc, "Nothing to install: this kernel has what it needs.", 0)
        plan_doc = await core.plan(target, doc["missing"])
        if not args.json:
            print(render_plan(plan_doc))
        if plan_doc["plan"] is None or plan_doc["verdict"] == "blocker":
            return _refused(args, plan_doc, "Nothing was installed: the plan has a blocker.")
        if not confirm(args, f"Install {', '.join(doc['missing'])}?"):
            print("Nothing was installed.")
            return EXIT_OK
        request = JobRequest(
            "install", requirements=tuple(doc["missing"]), fingerprint=plan_doc["fingerprint"]
        )
        return await _follow(core, args, await core.start_job(target, request))

    return answer(args, run)


async def _follow(core: Core, args: argparse.Namespace, started: dict[str, Any]) -> int:
    """Print a job's progress on stderr until it ends; then its document."""
    job_id = int(started["job"]["id"])
    last = None
    async for event in core.job_events(job_id):
        if args.json or event["type"] != "progress" or event.get("phase") == "done":
            continue  # "done": the job's outcome, printed once below
        words = event.get("message") or (
            f"{event['phase']} {event['package']}" if event.get("package") else None
        )
        if words and words != last:
            print(f"  [{event['phase']}] {words}", file=sys.stderr)
            last = words
    doc = await core.wait_job(job_id)
    emit(args, doc, render_job(doc["job"]))
    return EXIT_OK if doc["job"]["state"] == "succeeded" else EXIT_UNAVAILABLE


def _refused(
    args: argparse.Namespace, doc: dict[str, Any], words: str, code: int = EXIT_UNAVAILABLE
) -> int:
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(words, file=sys.stderr if code else sys.stdout)
    return code
