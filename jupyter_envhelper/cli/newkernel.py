"""``new-kernel`` and ``environments``: a new environment with its kernel, from a terminal.

    python -m jupyter_envhelper new-kernel --name py312-data [--python-version 3.12 |
        --python PATH] pandas 'polars>=1' [--yes] [--json]
    python -m jupyter_envhelper environments [list | interpreters | delete NAME] [--json]

``new-kernel`` shows the plan first (the Python chosen, the packages, the size, the
findings), asks, then creates the environment as a job and follows it like
``install`` does. ``environments`` lists (or deletes) only the environments this
project made.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..core import Core, PlanOptions
from .commands import EXIT_OK, EXIT_UNAVAILABLE, _follow, answer, confirm, emit


def add_parsers(sub: Any) -> None:
    """The two commands, on the main parser's subparsers."""
    new = sub.add_parser(
        "new-kernel",
        help="a new environment and kernel with these packages (when no kernel fits)",
        description="Plan, then create a virtual environment with uv in the environments "
        "folder (c.EnvHelperApp.environments_dir), install the packages and ipykernel, "
        "and register it as a kernel. Without --python-version/--python the newest "
        "Python here that fits the request is used.",
    )
    new.add_argument("requirements", nargs="+", metavar="REQ", help="e.g. 'pandas>=2'")
    new.add_argument("--name", required=True, help="the kernel's (and folder's) name")
    new.add_argument("--display-name", metavar="TEXT", help="as the kernel menu shows it")
    which = new.add_mutually_exclusive_group()
    which.add_argument("--python-version", metavar="X.Y", help="e.g. 3.12")
    which.add_argument("--python", metavar="PATH", help="the interpreter to make it with")
    new.add_argument(
        "--allow-download",
        action="store_true",
        help="let uv download the Python version when it is not here (needs its host)",
    )
    new.add_argument("--pre", action="store_true", help="allow pre-releases")
    new.add_argument("--index-url", metavar="URL", help="the package index to use")
    new.add_argument("--extra-index-url", metavar="URL", action="append", help="another index")
    new.add_argument("-y", "--yes", action="store_true", help="do not ask to confirm")
    new.add_argument("--json", action="store_true", help="print the plan and job as JSON")
    new.set_defaults(handler=new_kernel)

    envs = sub.add_parser(
        "environments",
        help="the environments new-kernel made (list, interpreters, delete)",
        description="List or delete the environments jupyter-envhelper created (never "
        "others), or show the Pythons a new one could be made with.",
    )
    envs.add_argument(
        "action", nargs="?", choices=["list", "interpreters", "delete"], default="list"
    )
    envs.add_argument("name", nargs="?", help="the environment to delete")
    envs.add_argument("-y", "--yes", action="store_true", help="do not ask to confirm")
    envs.add_argument("--json", action="store_true", help="print the JSON document")
    envs.set_defaults(handler=environments)


def new_kernel(args: argparse.Namespace) -> int:
    # imported here: every other command starts without them (~15 ms)
    from ..core.creating import NewEnvironmentRequest
    from ..text_environments import render_new_environment_plan

    request = NewEnvironmentRequest(
        name=args.name,
        requirements=tuple(args.requirements),
        python_version=args.python_version,
        python=args.python,
        display_name=args.display_name,
        allow_download=args.allow_download,
        options=PlanOptions(allow_prereleases=args.pre, index_url=args.index_url),
    )

    async def run(core: Core) -> int:
        doc = await core.environments.plan(request)
        if not args.json:
            print(render_new_environment_plan(doc))
        if not doc["ready"]:
            if args.json:
                print(json.dumps(doc, indent=2))
            else:
                print("Nothing was created: no Python here takes this request.", file=sys.stderr)
            return EXIT_UNAVAILABLE
        where = doc["directory"]
        if not confirm(args, f"Create {where} and the kernel {doc['kernel_name']}?"):
            print("Nothing was created.")
            return EXIT_OK
        chosen = request.as_planned(doc)
        started = await core.environments.start(chosen)
        code = await _follow(core, args, started)
        if code == EXIT_OK and not args.json:
            print(
                f"The kernel {doc['display_name']} [{doc['kernel_name']}] is ready: pick it "
                "in Jupyter (Kernel > Change Kernel)."
            )
        return code

    return answer(args, run)


def environments(args: argparse.Namespace) -> int:
    from ..text_environments import render_deleted, render_environments, render_interpreters

    if args.action == "interpreters":
        doc = answer(args, lambda core: core.environments.interpreters())
        emit(args, doc, render_interpreters(doc))
        return EXIT_OK
    if args.action == "delete":
        if not args.name:
            print("error: name the environment to delete.", file=sys.stderr)
            return 2
        if not confirm(args, f"Delete the environment {args.name} and its kernel?"):
            print("Nothing was deleted.")
            return EXIT_OK
        doc = answer(args, lambda core: core.environments.delete(args.name))
        emit(args, doc, render_deleted(doc))
        return EXIT_OK
    doc = answer(args, lambda core: core.environments.list_all())
    emit(args, doc, render_environments(doc))
    return EXIT_OK
