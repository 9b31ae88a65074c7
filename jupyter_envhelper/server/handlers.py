"""REST handlers: thin adapters from HTTP to the core's use cases.

Every verb is ``@web.authenticated`` then ``@authorized`` against the
``envhelper`` resource, so jupyter-server's own authentication and authorizer
decide; POSTs get tornado's XSRF check through APIHandler. A handler parses the
request into a ``Target`` and arguments, calls one ``Core`` method and sends the
document it returns. Domain errors map to HTTP statuses here and nowhere else, as
the one error document; a response never carries a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
_F = TypeVar("_F", bound=Callable[..., Any])
# Questions that change nothing (plan, suggestions) are POSTs that need "read" only;
# every change (jobs) needs "write", jupyter-server's action for POST.
authorized_read = cast(Callable[[_F], _F], authorized("read"))


class EnvHelperHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def core(self) -> Core:
        app: Any = self.extensionapp
        core: Core = app.core
        return core

    def finish_json(self, payload: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))

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

    def json_body(self) -> dict[str, Any]:
        """The request's JSON object, or 400 saying what is wrong with it."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise web.HTTPError(
                400, f"The request body is not JSON: {exc}", reason="bad-request"
            ) from exc
        if not isinstance(body, dict):
            raise web.HTTPError(
                400, "The request body must be a JSON object.", reason="bad-request"
            )
        return body

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
        self.finish_json(await self.call(self.core.environment(target, refresh=refresh)))


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
        body = self.json_body()
        requirements = self.string_list(body, "requirements")
        target = self.target_of(body)
        assert target is not None
        options = PlanOptions(
            allow_prereleases=bool(body.get("allow_prereleases", False)),
            upgrade=bool(body.get("upgrade", False)),
        )
        self.finish_json(await self.call(self.core.plan(target, requirements, options)))


class KernelSuggestionsHandler(EnvHelperHandler):
    @web.authenticated
    @authorized_read
    async def post(self) -> None:
        body = self.json_body()
        requirements = self.string_list(body, "requirements")
        target = self.target_of(body, required=False)
        self.finish_json(await self.call(self.core.kernel_suggestions(requirements, target=target)))


class JobsHandler(EnvHelperHandler):
    """POST: install, uninstall or undo in a kernel's environment (the "write" permission)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        action = str(body.get("action", "install"))
        job_id = body.get("job_id")
        if job_id is not None and not str(job_id).isdigit():
            raise web.HTTPError(400, "`job_id` must be a job number.", reason="bad-request")
        if action not in {"install", "uninstall", "undo"}:
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
            job_id=int(job_id) if job_id is not None else None,
            fingerprint=str(body["fingerprint"]) if body.get("fingerprint") else None,
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
        self.finish_json(self.answer(self.core.job, int(job_id)))


class JobCancelHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        self.finish_json(self.answer(self.core.cancel_job, int(job_id)), status=202)


class JobEventsHandler(EnvHelperHandler):
    """Server-sent events: a late client gets everything from ``since`` on, then live ones."""

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        since_text = self.get_query_argument("since", "0")
        since = int(since_text) if since_text.isdigit() else 0
        self.answer(self.core.job, int(job_id))  # 404 before the stream starts
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        try:
            async for event in self.core.job_events(int(job_id), since):
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
