"""REST handlers: thin adapters from HTTP to the service.

Every verb is ``@web.authenticated`` then ``@authorized`` against the
``envhelper`` resource, so jupyter-server's own authentication and authorizer
decide; POSTs get tornado's XSRF check through APIHandler. Domain errors map to
HTTP statuses here and nowhere else, and a response never carries a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .errors import EnvHelperError
from .service import EnvHelperService

AUTH_RESOURCE = "envhelper"


class EnvHelperHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> EnvHelperService:
        app: Any = self.extensionapp
        service: EnvHelperService = app.service
        return service

    def finish_json(self, payload: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """``{"message", "reason"}`` for every error; never a traceback."""
        message = self._reason
        reason = "error"
        exc_info = kwargs.get("exc_info")
        if exc_info:
            exc = exc_info[1]
            if isinstance(exc, web.HTTPError):
                message = exc.log_message or message
                reason = exc.reason or reason
            else:
                message = "Unexpected error in jupyter_envhelper; the server log has the details."
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "reason": reason}))

    async def call(self, coro: Any) -> Any:
        """Await a service call, translating domain errors to HTTP errors."""
        try:
            return await coro
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
    def target_of(body: dict[str, Any]) -> dict[str, str | None]:
        kernel, kernel_id = body.get("kernel"), body.get("kernel_id")
        for value in (kernel, kernel_id):
            if value is not None and not isinstance(value, str):
                raise web.HTTPError(
                    400, "kernel and kernel_id must be strings.", reason="bad-request"
                )
        return {"kernel": kernel or None, "kernel_id": kernel_id or None}

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
        self.finish_json(await self.call(self.service.list_kernels()))


class EnvironmentHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        payload = await self.call(
            self.service.environment(
                kernel=self.optional_argument("kernel"),
                kernel_id=self.optional_argument("kernel_id"),
                refresh=self.get_query_argument("refresh", "0") in {"1", "true", "yes"},
            )
        )
        self.finish_json(payload)


class SearchHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        payload = await self.call(
            self.service.search(
                self.get_query_argument("q", ""),
                kernel=self.optional_argument("kernel"),
                kernel_id=self.optional_argument("kernel_id"),
            )
        )
        self.finish_json(payload)


class PackageHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        payload = await self.call(
            self.service.package(
                name,
                kernel=self.optional_argument("kernel"),
                kernel_id=self.optional_argument("kernel_id"),
            )
        )
        self.finish_json(payload)


class PlanHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        payload = await self.call(
            self.service.plan(
                self.string_list(body, "requirements"),
                **self.target_of(body),
                allow_prereleases=bool(body.get("allow_prereleases", False)),
                upgrade=bool(body.get("upgrade", False)),
            )
        )
        self.finish_json(payload)


class KernelSuggestionsHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        target = self.target_of(body)
        exclude = target["kernel"]
        if target["kernel_id"] and self.service.kernel_manager is not None:
            try:
                exclude = self.service.kernel_manager.get_kernel(target["kernel_id"]).kernel_name
            except KeyError:
                exclude = None
        suggestions = await self.call(
            self.service.kernel_suggestions(self.string_list(body, "requirements"), exclude=exclude)
        )
        self.finish_json({"schema": 1, "suggestions": suggestions})
