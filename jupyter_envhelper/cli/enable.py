"""``python -m jupyter_envhelper enable-magic --kernel K | --python P [--yes] [--startup]``.

Makes ``%load_ext jupyter_envhelper`` work in a kernel's environment by installing the
small kernel-side distribution (``core/enable.py``): the plan is shown first and the
install is an ordinary job (recorded, undoable). ``--startup`` also loads the
extension in every IPython kernel of that environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..core import Core, JobRequest
from ..core.enable import add_to_startup
from ..text import render_enable, render_plan
from .commands import EXIT_OK, EXIT_UNAVAILABLE, _follow, _refused, answer, confirm, target_of


def add_parser(sub: Any) -> None:
    enable = sub.add_parser(
        "enable-magic",
        help="make %%envhelp work in a kernel (no JupyterLab added there)",
        description="Install the kernel side of jupyter-envhelper (the %envhelp magic, "
        "without JupyterLab or jupyter-server) into a kernel's environment, so that "
        "`%load_ext jupyter_envhelper` works there.",
    )
    target = enable.add_mutually_exclusive_group(required=True)
    target.add_argument("--kernel", metavar="NAME", help="a kernelspec name")
    target.add_argument("--python", metavar="PATH", help="the kernel's Python interpreter")
    enable.add_argument("-y", "--yes", action="store_true", help="do not ask to confirm")
    enable.add_argument(
        "--startup",
        action="store_true",
        help="also load the extension in every IPython kernel of that environment",
    )
    enable.add_argument("--json", action="store_true", help="print the documents as JSON")
    enable.set_defaults(handler=enable_magic, index_url=None, extra_index_url=None)


def enable_magic(args: argparse.Namespace) -> int:
    async def run(core: Core) -> int:
        target = target_of(args)
        doc = await core.enable_magic(target)
        if not args.json:
            print(render_enable(doc))
            if doc["needed"] and doc["plan"] is not None:
                print(render_plan(doc))
        code = EXIT_OK
        if doc["needed"]:
            if doc["plan"] is None or doc["verdict"] == "blocker":
                return _refused(args, doc, "Nothing was installed: the plan has a blocker.")
            python = doc["plan"]["target"].get("executable")
            if not confirm(args, f"Install the %envhelp magic into the environment of {python}?"):
                print("Nothing was installed.")
                return EXIT_OK
            request = JobRequest(
                "install", requirements=(doc["requirement"],), fingerprint=doc["fingerprint"]
            )
            code = await _follow(core, args, await core.start_job(target, request))
        elif args.json:
            print(json.dumps(doc, indent=2))
        if code == EXIT_OK and args.startup:
            prefix = doc["startup"]["prefix"]
            if not prefix:
                print("error: this environment has no prefix to configure.", file=sys.stderr)
                return EXIT_UNAVAILABLE
            path, changed = add_to_startup(prefix)
            words = "now loads" if changed else "already loads"
            print(f"Every IPython kernel of this environment {words} %envhelp ({path}).")
        elif code == EXIT_OK and not args.json:
            print("In a notebook of that kernel: %load_ext jupyter_envhelper, then %envhelp.")
        return code

    return answer(args, run)
