"""``python -m jupyter_envhelper``: the same answers as the panel, in a terminal.

Human-readable by default, JSON with ``--json`` (the same documents the REST
API returns). Exit status: 0 when the answer is there, 1 when the target has no
usable environment (the reason is printed), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from .errors import BadRequest, EnvHelperError

EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_envhelper",
        description="See the Python environment of a Jupyter kernel or interpreter.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    inspect = sub.add_parser(
        "inspect",
        help="what is in a kernel's environment",
        description="Show the environment a kernel (or a Python interpreter) runs in.",
    )
    target = inspect.add_mutually_exclusive_group()
    target.add_argument(
        "--kernel", metavar="NAME", help="a kernelspec name (see `jupyter kernelspec list`)"
    )
    target.add_argument("--python", metavar="PATH", help="a Python interpreter (default: this one)")
    inspect.add_argument("--json", action="store_true", help="print the JSON document")
    inspect.add_argument(
        "--packages", action="store_true", help="list every installed distribution"
    )
    inspect.add_argument("--refresh", action="store_true", help="ignore cached probe results")
    inspect.set_defaults(handler=_inspect)
    search = sub.add_parser(
        "search",
        help="find a package by name, import name or purpose",
        description="Search the package index the target uses (PyPI by default).",
    )
    search.add_argument("query", nargs="+", help="a name, an import name (cv2) or words")
    _target_options(search)
    search.add_argument("--json", action="store_true", help="print the JSON document")
    search.set_defaults(handler=_search)
    show = sub.add_parser(
        "show",
        help="a package's versions and which of them fit the target",
        description="Details of a package, with the fit of each version for the target.",
    )
    show.add_argument("name", help="a project name")
    _target_options(show)
    show.add_argument("--json", action="store_true", help="print the JSON document")
    show.add_argument("--all", action="store_true", help="list every version, not the last 10")
    show.set_defaults(handler=_show)
    plan = sub.add_parser(
        "plan",
        help="what installing would change, and whether it is safe there",
        description="Resolve requirements for a target without installing anything. "
        "Synthetic targets answer 'would this work on Python 3.9 on macOS arm64?'.",
    )
    plan.add_argument("requirements", nargs="+", metavar="REQ", help="e.g. 'pandas>=2'")
    _target_options(plan)
    plan.add_argument("--target-python-version", metavar="V", help="e.g. 3.9 (synthetic target)")
    plan.add_argument(
        "--target-platform",
        metavar="TAG",
        help="e.g. manylinux_2_28_x86_64, macosx_14_0_arm64, win_amd64 (synthetic target)",
    )
    plan.add_argument("--pre", action="store_true", help="allow pre-releases")
    plan.add_argument("--upgrade", action="store_true", help="prefer the newest versions")
    plan.add_argument("--json", action="store_true", help="print the JSON document")
    plan.set_defaults(handler=_plan)
    install = sub.add_parser(
        "install",
        help="plan, confirm and install into the target's environment",
        description="Install into the environment of a kernel (or interpreter) and nowhere "
        "else: the plan is shown first, blockers stop it, and the change is recorded "
        "so `undo` can reverse it.",
    )
    install.add_argument("requirements", nargs="+", metavar="REQ")
    uninstall = sub.add_parser("uninstall", help="remove distributions (recorded, undoable)")
    uninstall.add_argument("names", nargs="+", metavar="NAME")
    undo = sub.add_parser("undo", help="reverse a recorded change (default: the latest)")
    undo.add_argument("job", nargs="?", type=int, metavar="JOB", help="a job number (history)")
    for changer in (install, uninstall, undo):
        _target_options(changer)
        changer.add_argument("-y", "--yes", action="store_true", help="do not ask to confirm")
        changer.add_argument("--json", action="store_true", help="print the job as JSON")
    install.set_defaults(handler=_install)
    uninstall.set_defaults(handler=_uninstall)
    undo.set_defaults(handler=_undo)
    history = sub.add_parser("history", help="the recorded changes of the target's environment")
    _target_options(history)
    history.add_argument("--json", action="store_true", help="print the JSON document")
    history.set_defaults(handler=_history)
    kernels = sub.add_parser("kernels", help="every kernel with its interpreter")
    kernels.add_argument("--json", action="store_true", help="print the JSON document")
    kernels.set_defaults(handler=_kernels)
    return parser


def _target_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--kernel", metavar="NAME", help="a kernelspec name")
    target.add_argument("--python", metavar="PATH", help="a Python interpreter (default: this one)")
    parser.add_argument("--index-url", metavar="URL", help="the package index to use")
    parser.add_argument(
        "--extra-index-url", metavar="URL", action="append", help="another index (repeatable)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Skipped files and retries are logged for server operators; in a terminal they
    # would bury the answer (PyPI's sympy page alone has a dozen malformed names).
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s: %(message)s")
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.handler(args)
        return code
    except EnvHelperError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.detail:
            print(exc.detail, file=sys.stderr)
        return EXIT_USAGE if exc.status == 400 else EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 130


def _service(args: argparse.Namespace | None = None) -> Any:
    from jupyter_client.kernelspec import KernelSpecManager

    from .probing import Prober
    from .service import EnvHelperService, IndexSettings

    prober = Prober()
    settings = IndexSettings(
        index_url=getattr(args, "index_url", None),
        extra_index_urls=getattr(args, "extra_index_url", None),
        cache_dir=str(prober.cache_dir),
    )
    return EnvHelperService(
        kernel_spec_manager=KernelSpecManager(), prober=prober, index_settings=settings
    )


async def _target(service: Any, args: argparse.Namespace) -> Any:
    """The Environment named by --kernel / --python (default: this interpreter)."""
    if args.kernel:
        return await service.resolve_environment(kernel=args.kernel)
    python = os.path.abspath(args.python) if args.python else sys.executable
    return await service.prober.probe(python, env=dict(os.environ))


def _search(args: argparse.Namespace) -> int:
    query = " ".join(args.query)

    async def run() -> dict[str, Any]:
        async with _reading(args) as (service, env):
            answer: dict[str, Any] = await service.search_for(query, env)
            return answer

    payload = asyncio.run(run())
    if args.json:
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    if payload.get("note"):
        print(f"note: {payload['note']}", file=sys.stderr)
    if not payload["hits"]:
        print(f"Nothing found for {query!r}.")
    for hit in payload["hits"]:
        badge = f" [installed {hit['installed_version']}]" if hit["installed_version"] else ""
        version = hit["version"] or ""
        print(f"{hit['name']:<32} {version:<12} {hit['match']:<12}{badge}")
        if hit["summary"]:
            print(f"    {hit['summary'][:100]}")
        if hit["typosquat"]:
            print(f"    WARNING: {hit['typosquat']['message']}")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    async def run() -> dict[str, Any]:
        async with _reading(args) as (service, env):
            details: dict[str, Any] = await service.package_for(args.name, env)
            return details

    payload = asyncio.run(run())
    if args.json:
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    print(render_package(payload, every_version=args.all))
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    from .planning import make_plan

    synthetic = args.target_python_version or args.target_platform
    if synthetic and (args.kernel or args.python):
        raise BadRequest("Use either a synthetic target or --kernel/--python, not both.")

    async def run() -> dict[str, Any]:
        async with _reading(args) as (service, env):
            client = service.index_client(env)
            answer = await make_plan(
                args.requirements,
                env,
                client,
                allow_prereleases=args.pre,
                upgrade=args.upgrade,
                kernel=args.kernel,
                typosquat=await service.catalog.typosquat_check(client, env),
            )
            return {"schema": 1, **answer.to_json()}

    payload = asyncio.run(run())
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(render_plan(payload))
    return EXIT_UNAVAILABLE if payload["verdict"] == "blocker" else EXIT_OK


_SEVERITY_MARK = {"blocker": "BLOCKER", "warning": "warning", "info": "info"}


def render_plan(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    plan, conflict = doc.get("plan"), doc.get("conflict")
    target = (plan or conflict or {}).get("target") or {}
    where = f"Python {target.get('python_version')} on {target.get('platform')}"
    if target.get("synthetic"):
        where += " (synthetic target)"
    lines.append(_row("Target", where))
    if plan is not None:
        changes = [a for a in plan["actions"] if a["kind"] != "keep"]
        lines.append(_row("Changes", f"{len(changes)}" + _size_words(plan["download_size"])))
        for a in plan["actions"]:
            if a["kind"] == "keep":
                continue
            before = f"{a['installed_version']} -> " if a["installed_version"] else ""
            build = " (built from source)" if (a.get("file") or {}).get("needs_build") else ""
            lines.append(f"  {a['kind']:<10} {a['name']} {before}{a['version'] or ''}{build}")
        for b in plan["breaks"]:
            lines.append(f"  breaks     {b['message']}")
    if conflict is not None:
        lines.append(_row("Conflict", conflict["message"]))
        for way in conflict["ways_out"]:
            lines.append(_row("Way out", way["message"]))
    for finding in doc.get("findings") or []:
        label = _SEVERITY_MARK.get(finding["severity"], finding["severity"])
        lines.append(_row(label, finding["message"]))
    for s in doc.get("suggestions") or []:
        lines.append(_row("Other kernel", f"{s['display_name']} [{s['name']}]: {s['message']}"))
    lines.append(_row("Verdict", doc["verdict"]))
    return "\n".join(lines)


def _size_words(size: int | None) -> str:
    if size is None:
        return ", download size unknown"
    if size < 1_000_000:
        return f", {size / 1e3:.0f} kB to download"
    return f", {size / 1e6:.1f} MB to download"


def _runner(service: Any, args: argparse.Namespace) -> Any:
    from .installing import default_history_path
    from .jobs import JobConfig, JobRunner

    urls = [u for u in (getattr(args, "index_url", None), *(args.extra_index_url or [])) if u]
    config = JobConfig(history_path=default_history_path(), index_urls=tuple(urls))
    return JobRunner(config, prober=service.prober)


def _confirm(args: argparse.Namespace, question: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise BadRequest("Not asking without a terminal: add --yes to confirm.")
    return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}


async def _run_job(job: Any, args: argparse.Namespace) -> dict[str, Any]:
    last = None
    async for event in job.events():
        if args.json:
            continue
        words = event.message or (f"{event.phase} {event.package}" if event.package else None)
        if words and words != last:
            print(f"  [{event.phase}] {words}", file=sys.stderr)
            last = words
    await job.wait()
    doc: dict[str, Any] = job.to_json()
    return doc


def _print_job(doc: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        outcome = doc.get("outcome") or {}
        print(f"Job {doc['id']} {doc['state']}: {outcome.get('message', '')}")
        failure = outcome.get("failure")
        if failure:
            print(f"  {failure['message']}")
            if failure.get("way_out"):
                print(f"  Way out: {failure['way_out']}")
        for change in outcome.get("changes") or []:
            print(
                f"  {change['kind']:<10} {change['name']} {change['before'] or ''} -> "
                f"{change['after'] or ''}"
            )
    return EXIT_OK if doc["state"] == "succeeded" else EXIT_UNAVAILABLE


@contextlib.asynccontextmanager
async def _reading(args: argparse.Namespace) -> AsyncIterator[tuple[Any, Any]]:
    """The service and the target Environment (synthetic when asked for); closed after."""
    from .environment import Environment

    service = _service(args)
    try:
        if getattr(args, "target_python_version", None) or getattr(args, "target_platform", None):
            env = Environment.synthetic(
                python_version=args.target_python_version or "3.12",
                platform=args.target_platform or "manylinux_2_28_x86_64",
            )
        else:
            env = await _target(service, args)
        yield service, env
    finally:
        await service.close()


@contextlib.asynccontextmanager
async def _changing(args: argparse.Namespace) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The service, a job runner and the target Environment; both closed afterwards."""
    service = _service(args)
    runner = _runner(service, args)
    try:
        yield service, runner, await _target(service, args)
    finally:
        await runner.close()
        await service.close()


def _install(args: argparse.Namespace) -> int:
    from .planning import make_plan

    async def run() -> int:
        async with _changing(args) as (service, runner, env):
            answer = await make_plan(args.requirements, env, service.index_client(env))
            doc = {"schema": 1, **answer.to_json()}
            if not args.json:
                print(render_plan(doc))
            if answer.plan is None or answer.verdict == "blocker":
                print("Nothing was installed: the plan has a blocker.", file=sys.stderr)
                return EXIT_UNAVAILABLE
            if not _confirm(args, f"Install into {env.prefix}?"):
                print("Nothing was installed.")
                return EXIT_OK
            job = await runner.submit(
                answer.plan, env, kind="install", request={"requirements": args.requirements}
            )
            return _print_job(await _run_job(job, args), args)

    return asyncio.run(run())


def _uninstall(args: argparse.Namespace) -> int:
    from .resolver import plan_uninstall

    async def run() -> int:
        async with _changing(args) as (_, runner, env):
            plan = plan_uninstall(args.names, env)
            for b in plan.breaks:
                print(f"warning: {b.message}", file=sys.stderr)
            if not _confirm(args, f"Remove {', '.join(args.names)} from {env.prefix}?"):
                print("Nothing was removed.")
                return EXIT_OK
            job = await runner.submit(plan, env, kind="uninstall", request={"names": args.names})
            return _print_job(await _run_job(job, args), args)

    return asyncio.run(run())


def _undo(args: argparse.Namespace) -> int:
    from .jobs.undo import index_checker

    async def run() -> int:
        async with _changing(args) as (service, runner, env):
            job_id = args.job
            if job_id is None:
                rows = await runner.history_async(env.prefix)
                done = [r for r in rows if r["state"] == "succeeded"]
                if not done:
                    raise BadRequest(f"No recorded change of {env.prefix} to undo.")
                job_id = int(done[0]["id"])
            checker = index_checker(service.index_client(env))
            proposal = await runner.plan_undo(job_id, checker=checker)
            for action in proposal.plan.changes:
                print(f"  {action.kind:<10} {action.name} {action.version or ''}")
            for missing in proposal.unavailable:
                print(f"  cannot restore: {missing}", file=sys.stderr)
            if not _confirm(args, f"Undo job {job_id}?"):
                print("Nothing was changed.")
                return EXIT_OK
            job = await runner.undo(job_id, checker=checker)
            return _print_job(await _run_job(job, args), args)

    return asyncio.run(run())


def _history(args: argparse.Namespace) -> int:
    async def run() -> list[dict[str, Any]]:
        async with _changing(args) as (_, runner, env):
            rows: list[dict[str, Any]] = await runner.history_async(env.prefix)
            return rows

    rows = asyncio.run(run())
    if args.json:
        print(json.dumps({"schema": 1, "jobs": rows}, indent=2))
        return EXIT_OK
    if not rows:
        print("No recorded changes.")
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["started"]))
        request = row.get("request") or {}
        what = " ".join(request.get("requirements") or request.get("names") or [])
        if row.get("undo_of"):
            what = f"undo of job {row['undo_of']}"
        print(f"{row['id']:>4}  {when}  {row['kind']:<9} {row['state']:<10} {what}")
    return EXIT_OK


def render_package(doc: dict[str, Any], *, every_version: bool = False) -> str:
    lines = [f"{doc['name']} — {doc.get('summary') or '(no summary)'}"]
    if doc.get("typosquat"):
        lines.append(f"WARNING: {doc['typosquat']['message']}")
    lines.append(_row("Latest", doc.get("latest") or "none"))
    if doc.get("installed_version"):
        lines.append(_row("Installed", doc["installed_version"]))
    lines.append(_row("Fits here", doc["fit"]["message"]))
    if doc.get("license"):
        lines.append(_row("License", doc["license"]))
    for label, url in (doc.get("links") or {}).items():
        lines.append(_row(label[:24], url))
    vulns = doc.get("vulnerabilities")
    if vulns is None:
        lines.append(_row("Advisories", "unknown (the index publishes no vulnerability data)"))
    elif not vulns:
        lines.append(_row("Advisories", f"none known for {doc.get('vulnerabilities_for')}"))
    else:
        for v in vulns:
            fixed = ", ".join(v["fixed_in"]) or "no fix yet"
            lines.append(_row("Advisory", f"{v['id']} (fixed in {fixed}) {v['summary'][:60]}"))
    lines.append("")
    rows = doc["versions"] if every_version else doc["versions"][:10]
    for row in rows:
        flags = []
        if row["yanked"]:
            flags.append(f"yanked: {row['yanked_reason'] or 'no reason given'}")
        if row["prerelease"]:
            flags.append("pre-release")
        why = f" ({row['reason']})" if row["fit"] == "incompatible" and row["reason"] else ""
        extra = f"  [{'; '.join(flags)}]" if flags else ""
        lines.append(f"  {row['version']:<14} {row['fit']:<13}{why}{extra}")
    if len(doc["versions"]) > len(rows):
        lines.append(f"  … {len(doc['versions']) - len(rows)} older versions (--all)")
    return "\n".join(lines)


def _inspect(args: argparse.Namespace) -> int:
    service = _service()
    if args.kernel:
        payload = asyncio.run(service.environment(kernel=args.kernel, refresh=args.refresh))
    else:
        python = os.path.abspath(args.python) if args.python else sys.executable
        payload = asyncio.run(_python_payload(service, python, args.refresh))
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(render_environment(payload, packages=args.packages))
    return EXIT_OK if payload["state"] == "ok" else EXIT_UNAVAILABLE


async def _python_payload(service: Any, python: str, refresh: bool) -> dict[str, Any]:
    from .errors import ProbeError
    from .service import environment_document

    try:
        env = await service.prober.probe(python, env=dict(os.environ), refresh=refresh)
    except ProbeError as exc:
        return {
            "schema": 1,
            "kernel": None,
            "state": "probe-failed",
            "reason": exc.message,
            "detail": exc.detail,
            "environment": None,
        }
    return {
        "schema": 1,
        "kernel": None,
        "state": "ok",
        "reason": None,
        "detail": None,
        "environment": environment_document(env),
    }


def _kernels(args: argparse.Namespace) -> int:
    payload = asyncio.run(_service().list_kernels())
    if args.json:
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    rows = []
    for k in payload["kernels"]:
        summary = k.get("summary")
        if summary:
            what = (
                f"Python {summary['python_version']}, {summary['kind']} at {summary['prefix']}, "
                f"{summary['package_count']} packages"
            )
        else:
            what = f"({k['state']}) {k.get('reason') or ''}".strip()
        rows.append(f"{k['name']:<20} {k['display_name']:<28} {what}")
    print("\n".join(rows) if rows else "No kernelspecs found.")
    return EXIT_OK


def render_environment(payload: dict[str, Any], *, packages: bool = False) -> str:
    """The environment document as a person reads it in a terminal."""
    lines: list[str] = []
    kernel = payload.get("kernel")
    if kernel:
        lines.append(_row("Kernel", f"{kernel['display_name']} [{kernel['name']}]"))
        if kernel.get("interpreter"):
            lines.append(
                _row("Interpreter", f"{kernel['interpreter']} ({kernel.get('interpreter_source')})")
            )
        if kernel.get("mismatch"):
            lines.append(_row("Note", kernel["mismatch"]))
    env = payload.get("environment")
    if payload.get("state") != "ok" or not env:
        lines.append(_row("State", payload.get("state", "unknown")))
        if payload.get("reason"):
            lines.append(_row("Reason", payload["reason"]))
        if payload.get("detail"):
            lines.append(
                _row("Detail", str(payload["detail"]).strip().replace("\n", "\n" + " " * 14))
            )
        return "\n".join(lines)
    if not kernel:
        lines.append(_row("Interpreter", env["executable"]))
    platform = env.get("platform") or {}
    libc = platform.get("libc")
    libc_text = f", {libc['name']} {libc['version']}" if libc else ""
    implementation = _IMPLEMENTATIONS.get(env["implementation"], env["implementation"])
    lines.append(
        _row(
            "Python",
            f"{implementation} {env['python_version']} on "
            f"{platform.get('system', '?')} {platform.get('machine', '?')}{libc_text}",
        )
    )
    writable = "writable" if env.get("writable") else "NOT writable"
    lines.append(_row("Environment", f"{env['kind']} at {env['prefix']} ({writable})"))
    installers = env.get("installers") or {}
    names = [f"{n} {v.get('version') or ''}".strip() for n, v in installers.items() if v]
    lines.append(_row("Installers", ", ".join(names) if names else "none found"))
    index = (env.get("index") or {}).get("pip") or {}
    extra = index.get("extra_index_urls") or []
    index_text = index.get("index_url") or "https://pypi.org/simple/ (default)"
    lines.append(_row("Index", index_text + (f" + {len(extra)} extra" if extra else "")))
    gpu = env.get("gpu") or {}
    lines.append(_row("GPU", gpu.get("summary", "unknown")))
    lines.append(_row("Packages", f"{env['package_count']} distributions"))
    for warning in env.get("warnings") or []:
        lines.append(_row("Warning", warning["message"]))
    if packages:
        lines.append("")
        for dist in env.get("distributions") or []:
            flags = " (editable)" if dist.get("editable") else ""
            lines.append(f"  {dist['name']:<40} {dist['version']}{flags}")
    return "\n".join(lines)


_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


def _row(label: str, value: str) -> str:
    return f"{label:<13} {value}"
