"""``outdated``, ``why`` and ``update``: keeping a target current from a terminal."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from ..core import Core
from ..text import render_plan
from ..text_currency import render_outdated, render_update, render_why
from .commands import EXIT_OK, EXIT_UNAVAILABLE, _follow, _refused, answer, confirm, emit, target_of


def add_commands(sub: Any, target_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """The three subcommands, on ``sub`` (the parser's subparsers)."""
    outdated = sub.add_parser(
        "outdated",
        help="packages with newer releases, and the newest that fits",
        description="For each installed package: the newest release on the target's "
        "indexes and the newest one that fits this Python, platform, constraints and "
        "the other installed packages' requirements. Yanked releases, pre-releases "
        "(unless installed as one) and builds the target cannot use are not updates.",
    )
    target_options(outdated)
    outdated.add_argument("--every", action="store_true", help="list current packages too")
    outdated.add_argument("--json", action="store_true", help="print the JSON document")
    outdated.set_defaults(handler=run_outdated)
    why = sub.add_parser(
        "why",
        help="why a package is installed (and who would break without it)",
        description="The chain of requirements that brought a package, from what you "
        "asked for; who needs it; whether it is an orphan that can be removed safely.",
    )
    why.add_argument("names", nargs="+", metavar="NAME")
    target_options(why)
    why.add_argument("--json", action="store_true", help="print the JSON document(s)")
    why.set_defaults(handler=run_why)
    update = sub.add_parser(
        "update",
        help="update packages through a plan (recorded, undoable)",
        description="Plan an update, show it (what it changes and breaks), confirm, "
        "install. NAME updates to the newest version that fits (NAME==V for another); "
        "--all-that-fit updates only what breaks nothing; --all takes every newest "
        "release this kernel can use, and the plan says what that breaks.",
    )
    update.add_argument("names", nargs="*", metavar="NAME")
    every = update.add_mutually_exclusive_group()
    every.add_argument("--all", action="store_true", help="every newer release")
    every.add_argument("--all-that-fit", action="store_true", help="only what breaks nothing")
    target_options(update)
    update.add_argument("-y", "--yes", action="store_true", help="do not ask to confirm")
    update.add_argument("--json", action="store_true", help="print the plan and job as JSON")
    update.set_defaults(handler=run_update)


def run_outdated(args: argparse.Namespace) -> int:
    doc = answer(args, lambda core: core.outdated(target_of(args)))
    emit(args, doc, render_outdated(doc, every=args.every))
    return EXIT_OK


def run_why(args: argparse.Namespace) -> int:
    async def run(core: Core) -> list[dict[str, Any]]:
        target = target_of(args)
        return [await core.why(target, name) for name in args.names]

    docs = answer(args, run)
    if args.json:
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
    else:
        print("\n\n".join(render_why(d) for d in docs))
    return EXIT_OK


def run_update(args: argparse.Namespace) -> int:
    mode = "all" if args.all else "all-that-fit" if args.all_that_fit else "names"
    if mode != "names" and args.names:
        mode = "names"

    async def run(core: Core) -> int:
        target = target_of(args)
        doc = await core.plan_update(target, args.names, mode)
        if doc["state"] == "up-to-date":
            return _refused(args, doc, render_update(doc), EXIT_OK)
        if not args.json:
            print(render_plan(doc))
            print(render_update(doc))
        if doc["plan"] is None or doc["verdict"] == "blocker":
            return _refused(args, doc, "Nothing was updated: the plan has a blocker.")
        requirements = doc["update"]["requirements"]
        if not confirm(args, f"Update {len(requirements)} package(s)?"):
            print("Nothing was updated.")
            return EXIT_OK
        started = await core.start_update(target, requirements, doc["fingerprint"])
        return await _follow(core, args, started)

    code: int = answer(args, run)
    return code if code in (EXIT_OK, EXIT_UNAVAILABLE) else EXIT_UNAVAILABLE
