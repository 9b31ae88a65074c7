"""REST handlers: thin adapters from HTTP to the core's use cases.

Every verb is ``@web.authenticated`` then ``@authorized`` against the
``envhelper`` resource, so jupyter-server's own authentication and authorizer
decide; POSTs get tornado's XSRF check through APIHandler. A handler parses the
request into a ``Target`` and arguments, calls one ``Core`` method and sends the
document it returns. Domain errors map to HTTP statuses here and nowhere else, as
the one error document; a response never carries a traceback.

Input is checked here before the core sees it, so bad input is a 400 (or 404, 415)
and never a 500: a JSON body must be sent as ``application/json`` (415 otherwise, so
a form post from another site cannot be read as a request); a field the endpoint
does not know is refused by name (``index_url`` in a body must not look as if it
took effect); every field has its type checked; a job number is a number a job can
have.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.iostream import StreamClosedError

from ..core import Core, JobRequest, PlanOptions, Target, error_document
from ..errors import EnvHelperError

AUTH_RESOURCE = "envhelper"
JSON_TYPE = "application/json"
MAX_JOB_ID = 2**63 - 1  # the history's ids are SQLite integers
MAX_EVENT_INDEX = 10**9
_F = TypeVar("_F", bound=Callable[..., Any])
# Questions that change nothing (plan, suggestions) are POSTs that need "read" only;
# every change (jobs) needs "write", jupyter-server's action for POST.
authorized_read = cast(Callable[[_F], _F], authorized("read"))


# The JSON text of the last documents sent of those the core hands out again unchanged
# (an environment's, ~100 KB for a big one: a millisecond or more of encoding on the
# event loop, for every request), by identity; each entry holds its document, so an
# id is never another object's while it is here. Used on the event loop only.
MAX_KEPT_JSON = 16
_KEPT_JSON: OrderedDict[int, tuple[object, str]] = OrderedDict()


def kept_json(value: object) -> str:
    """``json.dumps(value)``, encoded once for as long as it is among the last
    ``MAX_KEPT_JSON`` such values (``value`` is never changed: the core says so)."""
    found = _KEPT_JSON.get(id(value))
    if found is not None and found[0] is value:
        _KEPT_JSON.move_to_end(id(value))
        return found[1]
    text = json.dumps(value)
    _KEPT_JSON[id(value)] = (value, text)
    while len(_KEPT_JSON) > MAX_KEPT_JSON:
        _KEPT_JSON.popitem(last=False)
    return text


def encode_json(payload: dict[str, Any], kept: Iterable[str] = ()) -> str:
    """``json.dumps(payload)``, the same text, with the fields named in ``kept`` (when
    they are objects or lists) encoded by ``kept_json``."""
    names = {name for name in kept if isinstance(payload.get(name), (dict, list))}
    if not names:
        return json.dumps(payload)
    parts = [
        f"{json.dumps(key)}: {kept_json(value) if key in names else json.dumps(value)}"
        for key, value in payload.items()
    ]
    return "{" + ", ".join(parts) + "}"


class EnvHelperHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def core(self) -> Core:
        app: Any = self.extensionapp
        core: Core = app.core
        return core

    def compute_etag(self) -> str | None:
        """No ETag (tornado's is a hash of the whole body, on the event loop): every
        answer is made afresh, and no client sends it back."""
        return None

    def finish_json(
        self, payload: dict[str, Any], status: int = 200, *, kept: Iterable[str] = ()
    ) -> None:
        """``payload`` as JSON. ``kept``: fields whose value the core hands out again,
        the very same object, while it is unchanged: their JSON text is kept too."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(encode_json(payload, kept))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """``{"message", "reason", "detail"}`` for every error; never a traceback."""
        body: dict[str, Any] = {"message": self._reason, "reason": "error", "detail": None}
        exc_info = kwargs.get("exc_info")
        if exc_info:
            exc = exc_info[1]
            if isinstance(exc, web.HTTPError) and isinstance(exc.__cause__, EnvHelperError):
                body = error_document(exc.__cause__)
            elif isinstance(exc, web.HTTPError):
                body.update(message=exc.log_message or body["message"], reason=exc.reason)
            else:
                body["message"] = (
                    "Unexpected error in jupyter_envhelper; the server log has the details."
                )
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    async def call(self, coro: Any) -> Any:
        """Await a use case, translating domain errors to HTTP errors."""
        try:
            return await coro
        except EnvHelperError as exc:
            raise web.HTTPError(exc.status, exc.message, reason=exc.reason) from exc

    def answer(self, function: Any, *args: Any) -> Any:
        """Call a synchronous use case, translating domain errors to HTTP errors."""
        try:
            return function(*args)
        except EnvHelperError as exc:
            raise web.HTTPError(exc.status, exc.message, reason=exc.reason) from exc

    def json_body(self, fields: Iterable[str], *, optional: bool = False) -> dict[str, Any]:
        """The request's JSON object, or 400 saying what is wrong with it.

        ``fields``: the names this endpoint understands; any other is refused by name.
        ``optional``: an empty body (any Content-Type) stands for ``{}``."""
        raw = self.request.body or b""
        if optional and not raw.strip():
            return {}
        media = self.request.headers.get("Content-Type", "").partition(";")[0].strip().lower()
        if media != JSON_TYPE:
            shown = media or "none"
            raise web.HTTPError(
                415,
                f"Send the request body as JSON, with Content-Type: {JSON_TYPE} "
                f"(this request said {shown[:80]}).",
                reason="unsupported-media-type",
            )
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise web.HTTPError(
                400, f"The request body is not JSON: {exc}", reason="bad-request"
            ) from exc
        if not isinstance(body, dict):
            raise web.HTTPError(
                400, "The request body must be a JSON object.", reason="bad-request"
            )
        known = set(fields)
        unknown = sorted(str(k) for k in body if k not in known)
        if unknown:
            names = ", ".join(f"`{name[:40]}`" for name in unknown[:5])
            accepted = ", ".join(f"`{name}`" for name in sorted(known)) or "no fields"
            raise web.HTTPError(
                400,
                f"Unknown field{'s' if len(unknown) > 1 else ''} {names}: this endpoint "
                f"accepts {accepted}. Nothing was done. (Indexes and installer options "
                "are the server's settings, not part of a request.)",
                reason="bad-request",
            )
        return body

    @staticmethod
    def flag(body: dict[str, Any], key: str) -> bool:
        value = body.get(key, False)
        if not isinstance(value, bool):
            raise web.HTTPError(400, f"`{key}` must be true or false.", reason="bad-request")
        return value

    @staticmethod
    def optional_string(body: dict[str, Any], key: str) -> str | None:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise web.HTTPError(400, f"`{key}` must be a string.", reason="bad-request")
        return value or None

    @staticmethod
    def job_number(value: object, *, field: str = "job") -> int:
        """A job id from a path or a body: 400 when it is not a number, 404 when no job
        can have it (too big for the history)."""
        text = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
        if not text.isascii() or not text.isdigit():
            raise web.HTTPError(
                400, f"`{field}` must be a job number, like 12.", reason="bad-request"
            )
        # (the length first: int() of a 5000-digit string is itself an error)
        if len(text.lstrip("0")) > len(str(MAX_JOB_ID)) or int(text) > MAX_JOB_ID:
            shown = text if len(text) <= 30 else text[:30] + "..."
            raise web.HTTPError(404, f"There is no job {shown}.", reason="not-found")
        return int(text)

    @staticmethod
    def target_of(body: dict[str, Any], *, required: bool = True) -> Target | None:
        """The kernel a request is about: ``kernel`` (a kernelspec) or ``kernel_id``.

        Over HTTP a target is always a kernel: an interpreter path is never accepted.
        """
        kernel, kernel_id = body.get("kernel"), body.get("kernel_id")
        for value in (kernel, kernel_id):
            if value is not None and not isinstance(value, str):
                raise web.HTTPError(
                    400, "kernel and kernel_id must be strings.", reason="bad-request"
                )
        if not kernel and not kernel_id and not required:
            return None
        try:
            return Target(kernel=kernel or None, kernel_id=kernel_id or None)
        except EnvHelperError as exc:
            raise web.HTTPError(exc.status, exc.message, reason=exc.reason) from exc

    def query_target(self, *, required: bool = True) -> Target | None:
        return self.target_of(
            {
                "kernel": self.optional_argument("kernel"),
                "kernel_id": self.optional_argument("kernel_id"),
            },
            required=required,
        )

    @staticmethod
    def string_list(body: dict[str, Any], key: str) -> list[str]:
        value = body.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise web.HTTPError(400, f"`{key}` must be a list of strings.", reason="bad-request")
        return value

    def optional_argument(self, name: str) -> str | None:
        value = self.get_query_argument(name, default=None)
        return value.strip() if value and value.strip() else None


TARGET_FIELDS = ("kernel", "kernel_id")
# torch_backend: a backend *name* (cu126), never a URL: the core maps it to the index
PLAN_FIELDS = (*TARGET_FIELDS, "requirements", "allow_prereleases", "upgrade", "torch_backend")
SUGGESTION_FIELDS = (*TARGET_FIELDS, "requirements")
JOB_FIELDS = (*TARGET_FIELDS, "action", "requirements", "names", "job_id", "fingerprint",
              "torch_backend")  # fmt: skip


class KernelsHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish_json(await self.call(self.core.kernels()))


class EnvironmentHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        refresh = self.get_query_argument("refresh", "0") in {"1", "true", "yes"}
        target = self.query_target()
        assert target is not None
        doc = await self.call(self.core.environment(target, refresh=refresh, prepare_plans=True))
        # (the core's document of an unchanged environment is the same object)
        self.finish_json(doc, kept=("environment",))


class SearchHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.get_query_argument("q", "")
        target = self.query_target(required=False)
        self.finish_json(await self.call(self.core.search(query, target)))


class PackageHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        target = self.query_target(required=False)
        self.finish_json(await self.call(self.core.package(name, target)))


class PlanHandler(EnvHelperHandler):
    # Planning changes nothing: it needs the "read" permission, like the other questions.
    @web.authenticated
    @authorized_read
    async def post(self) -> None:
        body = self.json_body(PLAN_FIELDS)
        requirements = self.string_list(body, "requirements")
        target = self.target_of(body)
        assert target is not None
        options = PlanOptions(
            allow_prereleases=self.flag(body, "allow_prereleases"),
            upgrade=self.flag(body, "upgrade"),
            torch_backend=self.optional_string(body, "torch_backend"),
        )
        self.finish_json(await self.call(self.core.plan(target, requirements, options)))


class KernelSuggestionsHandler(EnvHelperHandler):
    @web.authenticated
    @authorized_read
    async def post(self) -> None:
        body = self.json_body(SUGGESTION_FIELDS)
        requirements = self.string_list(body, "requirements")
        target = self.target_of(body, required=False)
        self.finish_json(await self.call(self.core.kernel_suggestions(requirements, target=target)))


class JobsHandler(EnvHelperHandler):
    """POST: install, uninstall or undo in a kernel's environment (the "write" permission)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body(JOB_FIELDS)
        action = body.get("action", "install")
        job_id = body.get("job_id")
        job_number = self.job_number(job_id, field="job_id") if job_id is not None else None
        if not isinstance(action, str) or action not in {"install", "uninstall", "undo"}:
            raise web.HTTPError(
                400, "`action` must be install, uninstall or undo.", reason="bad-request"
            )
        target = self.target_of(body)
        assert target is not None
        request = JobRequest(
            action=action,  # type: ignore[arg-type]  # one of the three, checked above
            requirements=tuple(self.string_list(body, "requirements"))
            if "requirements" in body
            else (),
            names=tuple(self.string_list(body, "names")) if "names" in body else (),
            job_id=job_number,
            fingerprint=self.optional_string(body, "fingerprint"),
            options=PlanOptions(torch_backend=self.optional_string(body, "torch_backend")),
        )
        payload = await self.call(self.core.start_job(target, request))
        self.set_header(
            "Location", url_path_join(self.base_url, "envhelper", "jobs", str(payload["job"]["id"]))
        )
        self.finish_json(payload, status=202)


class JobHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        self.finish_json(self.answer(self.core.job, self.job_number(job_id)))


class JobCancelHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        self.json_body((), optional=True)  # no fields; an empty body is fine
        self.finish_json(self.answer(self.core.cancel_job, self.job_number(job_id)), status=202)


class JobEventsHandler(EnvHelperHandler):
    """Server-sent events: a late client gets everything from ``since`` on, then live ones."""

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        since_text = self.get_query_argument("since", "0")
        digits = since_text.isascii() and since_text.isdigit()
        since = min(int(since_text[:12]), MAX_EVENT_INDEX) if digits else 0
        number = self.job_number(job_id)
        self.answer(self.core.job, number)  # 404 before the stream starts
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        try:
            async for event in self.core.job_events(number, since):
                index = event.get("index", -1)
                self.write(f"id: {index}\ndata: {json.dumps(event)}\n\n")
                await self.flush()
        except StreamClosedError:
            return
        self.finish()


class HistoryHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        target = self.query_target()
        assert target is not None
        self.finish_json(await self.call(self.core.history(target)))


class RescueHandler(EnvHelperHandler):
    """After ``ModuleNotFoundError``: which package provides the module, and where it is."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        module = self.get_query_argument("module", "")
        target = self.query_target()
        assert target is not None
        self.finish_json(await self.call(self.core.rescue(module, target)))


class ExportHandler(EnvHelperHandler):
    """The kernel's environment written down (requirements, pylock, environment-yml)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        fmt = self.get_query_argument("format", "requirements")
        only = self.get_query_argument("only_requested", "0") in {"1", "true", "yes"}
        target = self.query_target()
        assert target is not None
        self.finish_json(await self.call(self.core.export(target, fmt, only_requested=only)))


class NeedsHandler(EnvHelperHandler):
    """What a notebook (its cells, sent by the front end) needs that the kernel lacks."""

    @web.authenticated
    @authorized_read
    async def post(self) -> None:
        body = self.json_body((*TARGET_FIELDS, "notebook"))
        notebook = body.get("notebook")
        if not isinstance(notebook, dict):
            raise web.HTTPError(
                400,
                "`notebook` must be the notebook's JSON (at least its cells).",
                reason="bad-request",
            )
        target = self.target_of(body)
        assert target is not None
        self.finish_json(await self.call(self.core.needs(target, notebook)))
