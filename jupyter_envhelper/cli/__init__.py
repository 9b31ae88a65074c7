"""``python -m jupyter_envhelper``: the same answers as the panel, in a terminal.

Human-readable by default; with ``--json`` the same documents the REST API returns,
errors included (``{"message", "reason", "detail"}`` on stdout). Exit status: 0 when
the answer is there, 1 when the target has no usable environment or the request
cannot be done (a blocker, a conflict, a failed job), 2 for a usage error.

The commands run with the server's settings (the ``c.EnvHelperApp`` section of the
Jupyter configuration files), so they share its history, locks and indexes.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from ..core import error_document
from ..errors import EnvHelperError
from . import commands, currency, enable, newkernel
from .commands import EXIT_UNAVAILABLE, EXIT_USAGE


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
    inspect.set_defaults(handler=commands.inspect)
    search = sub.add_parser(
        "search",
        help="find a package by name, import name or purpose",
        description="Search the package index the target uses (PyPI by default).",
    )
    search.add_argument("query", nargs="+", help="a name, an import name (cv2) or words")
    _target_options(search)
    search.add_argument("--json", action="store_true", help="print the JSON document")
    search.set_defaults(handler=commands.search)
    show = sub.add_parser(
        "show",
        help="a package's versions and which of them fit the target",
        description="Details of a package, with the fit of each version for the target.",
    )
    show.add_argument("name", help="a project name")
    _target_options(show)
    show.add_argument("--json", action="store_true", help="print the JSON document")
    show.add_argument("--all", action="store_true", help="list every version, not the last 10")
    show.set_defaults(handler=commands.show)
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
    plan.set_defaults(handler=commands.plan)
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
    install.set_defaults(handler=commands.install)
    uninstall.set_defaults(handler=commands.uninstall)
    undo.set_defaults(handler=commands.undo)
    history = sub.add_parser("history", help="the recorded changes of the target's environment")
    _target_options(history)
    history.add_argument("--json", action="store_true", help="print the JSON document")
    history.set_defaults(handler=commands.history)
    export = sub.add_parser(
        "export",
        help="write the target's environment down (requirements, pylock, environment.yml)",
        description="Write the target's environment down so another machine gets the same "
        "set: pinned requirements with every --hash the index offers, a PEP 751 "
        "pylock.toml, or a conda environment.yml. What an index cannot reproduce "
        "(editable, direct-URL and local installs) is written as a comment.",
    )
    _target_options(export)
    export.add_argument(
        "--format",
        choices=["requirements", "pylock", "environment-yml"],
        default="requirements",
        help="the file to write (default: requirements)",
    )
    export.add_argument(
        "--only-requested",
        action="store_true",
        help="only what was asked for (REQUESTED files, the history), not every dependency",
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    export.add_argument("--json", action="store_true", help="print the JSON document")
    export.set_defaults(handler=commands.export)
    needs = sub.add_parser(
        "needs",
        help="what a notebook needs that the target lacks (and install it)",
        description="Read a notebook's imports and its recorded dependencies (a PEP 723 "
        "'# /// script' block in the first cell) and compare them with the target.",
    )
    needs.add_argument("notebook", metavar="NOTEBOOK.ipynb")
    _target_options(needs)
    needs.add_argument("--install", action="store_true", help="plan and install what is missing")
    needs.add_argument("-y", "--yes", action="store_true", help="do not ask to confirm")
    needs.add_argument("--json", action="store_true", help="print the JSON document")
    needs.set_defaults(handler=commands.needs)
    newkernel.add_parsers(sub)
    kernels = sub.add_parser("kernels", help="every kernel with its interpreter")
    kernels.add_argument("--json", action="store_true", help="print the JSON document")
    kernels.set_defaults(handler=commands.kernels)
    currency.add_commands(sub, _target_options)  # outdated, why, update
    enable.add_parser(sub)  # enable-magic
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
        if getattr(args, "json", False):
            print(json.dumps(error_document(exc), indent=2))
        else:
            print(f"error: {exc.message}", file=sys.stderr)
            if exc.detail:
                print(exc.detail, file=sys.stderr)
        return EXIT_USAGE if exc.status == 400 else EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 130
