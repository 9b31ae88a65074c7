"""``%envhelp``: the environment of the kernel you are in, from a notebook cell.

Load it with ``%load_ext jupyter_envhelper``, or for every IPython session with
``c.InteractiveShellApp.extensions = ["jupyter_envhelper"]`` in an IPython profile
(``ipython_config.py`` / ``ipython_kernel_config.py``). Then::

    %envhelp                      # this kernel: interpreter, Python, environment, GPU, warnings
    %envhelp search QUERY         # by name, import name (cv2) or purpose
    %envhelp show NAME            # versions, and which of them fit this kernel
    %envhelp plan REQ...          # what installing would change, and whether it is safe
    %envhelp install REQ... [-y]  # plan, confirm, install into THIS kernel's environment
    %envhelp uninstall NAME [-y]
    %envhelp history              # recorded changes (the same history as the side panel)
    %envhelp undo [JOB] [-y]      # reverse a change (default: the latest)
    %envhelp which REQ            # which kernelspecs have it, or could take it
    %envhelp export [FORMAT]      # requirements (with hashes), pylock or environment-yml
    %envhelp rescue on|off        # on ModuleNotFoundError, say which package to install
    %envhelp outdated             # newer releases, and the newest that breaks nothing
    %envhelp why NAME             # who asked for it, who needs it, is it an orphan
    %envhelp update NAME|--all|--all-that-fit [-y]  # an update as a plan, undoable
    %envhelp new-kernel --name NAME [--python-version X.Y] REQ... [-y]  # a new env + kernel
    %envhelp environments         # the environments new-kernel made

Flags: ``-y``/``--yes`` (do not ask), ``--no-widgets`` (plain text), ``--index-url URL``
(else the kernel's own pip/uv configuration, else PyPI), ``--pre``, ``--upgrade``, ``--all``.

The target is always this kernel's interpreter (``sys.executable`` with its
``os.environ``), so it works wherever the Jupyter server runs. With a widget front end
(JupyterLab, Notebook 7, VS Code) plans come with a Confirm button and a progress bar;
elsewhere (terminal IPython, nbconvert, ``--no-widgets``) it is text and install asks
with ``input()``, or needs ``-y`` when there is no stdin.

The async core runs on one private event loop in a daemon thread (ipykernel's own loop
owns the main thread); the cell blocks on it and prints progress as it comes.
"""

from __future__ import annotations

import functools
import importlib
import queue
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core import magic_arguments as _magic_arguments
from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from packaging.utils import canonicalize_name

from ..core import JobRequest, PlanOptions
from ..errors import BadRequest, EnvHelperError
from ..text import (
    render_environment,
    render_history,
    render_job,
    render_package,
    render_plan,
    render_rescue,
    render_search,
    render_suggestions,
    render_undo,
)
from ..text_currency import render_outdated, render_update, render_why
from .loop import KernelSession
from .newkernel import environments, new_kernel

T = TypeVar("T")
_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
# IPython's decorators are untyped; these names give them the types they have.
magic_arguments: Callable[[], _Decorator] = _magic_arguments.magic_arguments
argument: Callable[..., _Decorator] = _magic_arguments.argument
USAGE = (
    "usage: %envhelp [search QUERY | show NAME | plan REQ... | install REQ... [-y] | "
    "uninstall NAME... [-y] | history | undo [JOB] [-y] | which REQ | export [FORMAT] | "
    "rescue on|off | outdated | why NAME... | update [NAME... | --all | --all-that-fit] [-y] | "
    "new-kernel --name NAME [--python-version X.Y | --python PATH] REQ... [-y] | environments] "
    "[--no-widgets] [--index-url URL]"
)
RESCUE_BUDGET = 10.0  # seconds the rescue hint may take


@magics_class
class EnvHelpMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.session = KernelSession()
        self._rescue_index_url: str | None = None
        self._rescue_active = False

    @magic_arguments()
    @argument("command", nargs="?", default="env", help="the subcommand (default: env)")
    @argument("args", nargs="*", help="its arguments: a query, names or requirements")
    @argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    @argument("--no-widgets", action="store_true", help="plain text, even with widgets")
    @argument("--index-url", metavar="URL", help="the package index to use")
    @argument("--pre", action="store_true", help="plan: allow pre-releases")
    @argument("--upgrade", action="store_true", help="plan: prefer the newest versions")
    @argument("--all", action="store_true", help="show: every version; update: every package")
    @argument("--all-that-fit", action="store_true", help="update: only what breaks nothing")
    @argument("--only-requested", action="store_true", help="export: what was asked for")
    @argument("-o", "--output", metavar="FILE", help="export: write to FILE")
    @argument("--name", metavar="NAME", help="new-kernel: the new kernel's name")
    @argument("--python-version", metavar="X.Y", help="new-kernel: e.g. 3.12")
    @argument("--python", metavar="PATH", help="new-kernel: the interpreter to use")
    @line_magic
    def envhelp(self, line: str = "") -> None:
        """See and change this kernel's environment (see ``jupyter_envhelper.magic``)."""
        parser: Any = self.envhelp.parser  # type: ignore[attr-defined]
        args = parser.parse_intermixed_args(_split(line))
        handler = {
            "env": self._env,
            "search": self._search,
            "show": self._show,
            "plan": self._plan,
            "install": self._install,
            "uninstall": self._uninstall,
            "history": self._history,
            "undo": self._undo,
            "which": self._which,
            "export": self._export,
            "rescue": self._rescue_switch,
            "outdated": self._outdated,
            "why": self._why,
            "update": self._update,
            "new-kernel": self._new_kernel,
            "environments": self._environments,
        }.get(args.command)
        if handler is None:
            raise UsageError(f"Unknown subcommand {args.command!r}.\n{USAGE}")
        try:
            handler(args)
        except BadRequest as exc:
            raise UsageError(exc.message) from None
        except EnvHelperError as exc:
            print(f"envhelp: {exc.message}", file=sys.stderr)
            if exc.detail:
                print(str(exc.detail).strip()[-2000:], file=sys.stderr)

    # -- plumbing ------------------------------------------------------------------------

    def _widgets(self, args: Any) -> bool:
        if args.no_widgets or self.shell is None:
            return False
        if type(self.shell).__name__ != "ZMQInteractiveShell":
            return False
        kernel = getattr(self.shell, "kernel", None)
        if kernel is None or not getattr(kernel, "_allow_stdin", True):
            return False  # nbconvert / papermill run without stdin and without a view
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            return False
        return True

    def close(self) -> None:
        self.session.close()

    # -- read-only answers -----------------------------------------------------------------

    def _env(self, args: Any) -> None:
        if args.args:
            raise UsageError(f"Unknown subcommand {args.args[0]!r}.\n{USAGE}")
        print(render_environment(self.session.environment()))

    def _search(self, args: Any) -> None:
        query = " ".join(_need(args, "search QUERY"))
        print(render_search(self.session.search(query, index_url=args.index_url)))

    def _show(self, args: Any) -> None:
        (name,) = _need(args, "show NAME", most=1)
        doc = self.session.package(name, index_url=args.index_url)
        print(render_package(doc, every_version=args.all))

    def _which(self, args: Any) -> None:
        requirements = _need(args, "which REQ")
        doc = self.session.kernel_suggestions(requirements, index_url=args.index_url)
        print(render_suggestions(doc["suggestions"]))

    def _export(self, args: Any) -> None:
        (fmt,) = _need(args, "export [requirements|pylock|environment-yml]", least=0, most=1) or [
            "requirements"
        ]
        doc = self.session.export(fmt, only_requested=args.only_requested, index_url=args.index_url)
        for note in doc["notes"]:
            print(f"note: not reproducible from an index: {note}")
        if args.output:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(doc["content"])
            print(f"Wrote {args.output}: {doc['packages']} packages ({doc['format']}).")
        else:
            print(doc["content"], end="")

    def _history(self, args: Any) -> None:
        print(render_history(self.session.history()["jobs"]))

    # -- keeping current (core/currency.py) --------------------------------------------------

    def _outdated(self, args: Any) -> None:
        _need(args, "outdated", least=0, most=0)
        target = self.session.target
        doc = self.session.run(lambda core: core.outdated(target, index_url=args.index_url))
        print(render_outdated(doc, every=args.all))

    def _why(self, args: Any) -> None:
        names = _need(args, "why NAME...")
        target = self.session.target
        for name in names:
            print(render_why(self.session.run(functools.partial(_why_of, target, name))))

    def _update(self, args: Any) -> None:
        names = _need(args, "update [NAME... | --all | --all-that-fit]", least=0)
        mode = "names" if names else "all" if args.all else "all-that-fit"
        if not names and not (args.all or args.all_that_fit):
            raise UsageError("Name the packages to update, or add --all or --all-that-fit.")
        target = self.session.target
        doc = self.session.run(
            lambda core: core.plan_update(target, names, mode, index_url=args.index_url)
        )
        print(render_update(doc))
        if doc["state"] == "up-to-date":
            return
        print(render_plan(doc))
        if doc.get("plan") is None or doc["verdict"] == "blocker":
            print("Nothing was updated: the plan has a blocker.")
        elif self._confirm(args, f"Update {len(doc['update']['requirements'])} package(s)?"):
            request = JobRequest(
                "install",
                requirements=tuple(doc["update"]["requirements"]),
                fingerprint=doc["fingerprint"],
                options=PlanOptions(index_url=args.index_url, imported_modules=_imported()),
                purpose="update",
            )
            self._run_job_text(request)

    # -- plans and changes ---------------------------------------------------------------------

    def _new_kernel(self, args: Any) -> None:
        new_kernel(self, args)  # magic/newkernel.py

    def _environments(self, args: Any) -> None:
        environments(self, args)

    def _options(self, args: Any) -> PlanOptions:
        return PlanOptions(
            allow_prereleases=args.pre,
            upgrade=args.upgrade,
            index_url=args.index_url,
            imported_modules=_imported(),
        )

    def _plan(self, args: Any) -> None:
        requirements = _need(args, "plan REQ...")
        options = self._options(args)
        doc = self.session.plan(requirements, options)
        if self._widgets(args):
            request = JobRequest(
                "install",
                requirements=tuple(requirements),
                fingerprint=doc["fingerprint"],
                options=options,
            )
            self._show_view(doc, request)
        else:
            print(render_plan(doc))

    def _install(self, args: Any) -> None:
        requirements = _need(args, "install REQ...")
        options = self._options(args)
        doc = self.session.plan(requirements, options)
        request = JobRequest(
            "install",
            requirements=tuple(requirements),
            fingerprint=doc["fingerprint"],
            options=options,
        )
        if self._widgets(args):
            self._show_view(doc, request, start=args.yes)
            return
        print(render_plan(doc))
        if doc.get("plan") is None or doc["verdict"] == "blocker":
            print("Nothing was installed: the plan has a blocker.")
        elif not any(a["kind"] != "keep" for a in doc["plan"]["actions"]):
            print("Nothing to install: it is already there.")
        elif self._confirm(args, f"Install into {sys.prefix}?"):
            self._run_job_text(request)

    def _uninstall(self, args: Any) -> None:
        names = _need(args, "uninstall NAME...")
        doc = self.session.plan_uninstall(names)
        request = JobRequest(
            "uninstall",
            names=tuple(names),
            fingerprint=doc["fingerprint"],
            options=self._options(args),
        )
        if self._widgets(args):
            self._show_view(doc, request, start=args.yes)
            return
        print(render_plan(doc))
        if self._confirm(args, f"Remove {', '.join(names)} from {sys.prefix}?"):
            self._run_job_text(request)

    def _undo(self, args: Any) -> None:
        given = _need(args, "undo [JOB]", least=0, most=1)
        if given and not given[0].isdigit():
            raise UsageError(f"undo takes a job number (see %envhelp history), not {given[0]!r}.")
        preview = self.session.undo_preview(
            int(given[0]) if given else None, index_url=args.index_url
        )
        print(render_undo(preview))
        job_id = int(preview["job_id"])
        if self._confirm(args, f"Undo job {job_id}?"):
            self._run_job_text(JobRequest("undo", job_id=job_id, options=self._options(args)))

    def _confirm(self, args: Any, question: str) -> bool:
        if args.yes:
            return True
        try:
            answer = input(f"{question} [y/N] ")
        except (StdinNotImplementedError, EOFError, OSError):
            raise UsageError(
                "Cannot ask for confirmation here (no input available, e.g. nbconvert): "
                "add -y to confirm in the command."
            ) from None
        if answer.strip().lower() in {"y", "yes"}:
            return True
        print("Nothing was changed.")
        return False

    def _run_job_text(self, request: JobRequest) -> None:
        updates: queue.Queue[str] = queue.Queue()
        seen: list[str] = []

        def sink(_fraction: Any, phase: str, message: str | None) -> None:
            # "done" is the job's outcome, printed once below by render_job
            if message and phase != "done" and (not seen or seen[-1] != message):
                seen.append(message)
                updates.put(f"  [{phase}] {message}")

        def drain() -> None:
            while not updates.empty():
                print(updates.get_nowait(), flush=True)

        doc = self.session.run_job(request, sink, drain)
        importlib.invalidate_caches()
        print(render_job(doc["job"]))

    def _show_view(self, doc: dict[str, Any], request: JobRequest, *, start: bool = False) -> None:
        import concurrent.futures

        from IPython import display as ipy_display

        from .widgets import PlanView

        def confirmed(view: PlanView) -> None:
            future = self.session.start_job(request, view.update)

            def done(f: concurrent.futures.Future[dict[str, Any]]) -> None:
                try:
                    finished = f.result()
                except EnvHelperError as exc:
                    view.fail(exc.message)
                    return
                except BaseException as exc:  # shown, never raised in a thread
                    view.fail(f"The job could not run: {exc!r}")
                    return
                importlib.invalidate_caches()
                view.finish(finished["job"])

            future.add_done_callback(done)

        view = PlanView(doc, action=request.action, on_confirm=confirmed)
        show: Callable[..., Any] = ipy_display.display
        show(view.box)
        if start:
            view.start()

    # -- rescue ------------------------------------------------------------------------------

    def _rescue_switch(self, args: Any) -> None:
        (state,) = _need(args, "rescue on|off", most=1)
        shell: Any = self.shell
        if state == "on":
            if shell.custom_exceptions and not self._rescue_active:
                raise UsageError("Another custom exception handler is set; not replacing it.")
            self._rescue_index_url = args.index_url
            shell.set_custom_exc((ModuleNotFoundError,), self._rescue_handler)
            self._rescue_active = True
            print("envhelp rescue is on: a failed import will name the package to install.")
        elif state == "off":
            self.rescue_off()
            print("envhelp rescue is off.")
        else:
            raise UsageError(f"rescue takes on or off, not {state!r}.")

    def rescue_off(self) -> None:
        shell: Any = self.shell
        if self._rescue_active and shell is not None:
            shell.set_custom_exc((), None)
        self._rescue_active = False
        self._rescue_index_url = None

    def _rescue_handler(
        self, shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
    ) -> None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        name = getattr(value, "name", None)
        if not name:
            return
        try:
            print(self.rescue_hint(str(name).partition(".")[0]), flush=True)
        except Exception as exc:  # a hint never hides the error
            print(f"envhelp: no suggestion for {name!r} ({exc})", flush=True)

    def rescue_hint(self, module: str) -> str:
        """The core's rescue document in words; within ``RESCUE_BUDGET`` seconds, else
        the shipped import-name table's answer alone."""
        try:
            doc = self.session.rescue(
                module, index_url=self._rescue_index_url, timeout=RESCUE_BUDGET
            )
        except (EnvHelperError, TimeoutError) as exc:
            from ..search import ImportNameMap, load_import_names

            candidates = ImportNameMap(load_import_names()).lookup(module) or [
                str(canonicalize_name(module))
            ]
            return "\n".join(
                [
                    f"envhelp: 'import {module}' comes from the package {candidates[0]}.",
                    f"  Could not check it here: {getattr(exc, 'message', None) or exc}",
                    f"  Install it with: %envhelp install {candidates[0]}",
                ]
            )
        return render_rescue(doc)


async def _why_of(target: Any, name: str, core: Any) -> dict[str, Any]:
    doc: dict[str, Any] = await core.why(target, name)
    return doc


def _imported() -> frozenset[str]:
    return frozenset(m.partition(".")[0] for m in list(sys.modules) if m[:1] != "_")


def _need(args: Any, usage: str, *, least: int = 1, most: int | None = None) -> list[str]:
    given = [str(a) for a in args.args]
    if len(given) < least or (most is not None and len(given) > most):
        raise UsageError(f"usage: %envhelp {usage}")
    return given


def _split(line: str) -> list[str]:
    from IPython.utils.process import arg_split  # type: ignore[attr-defined]

    return [str(a) for a in arg_split(line)]


_MAGICS: dict[int, EnvHelpMagics] = {}


def session_of(ipython: Any) -> KernelSession:
    """The magic's data layer in this shell (``%load_ext jupyter_envhelper`` first)."""
    return _MAGICS[id(ipython)].session


def load_ipython_extension(ipython: Any) -> None:
    magics = EnvHelpMagics(ipython)
    _MAGICS[id(ipython)] = magics
    ipython.register_magics(magics)


def unload_ipython_extension(ipython: Any) -> None:
    magics = _MAGICS.pop(id(ipython), None)
    if magics is None:
        return
    magics.rescue_off()
    ipython.magics_manager.magics["line"].pop("envhelp", None)
    magics.close()


__all__ = ["EnvHelpMagics", "load_ipython_extension", "session_of", "unload_ipython_extension"]
