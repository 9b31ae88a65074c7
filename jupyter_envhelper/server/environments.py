"""REST handlers for new environments: interpreters, plan, create (a job), list, delete.

The same rules as ``handlers.py``: ``@web.authenticated`` then ``@authorized`` on
the ``envhelper`` resource; questions (interpreters, plan, list) need "read",
changes (create, delete) "write", jupyter-server's action for POST and DELETE, which
also get the XSRF check. Over HTTP the Python is chosen by version only (``3.12``),
never by a path: the server runs only interpreters it found itself.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..core import PlanOptions
from ..core.creating import NewEnvironmentRequest
from .handlers import EnvHelperHandler, authorized_read

NEW_ENVIRONMENT_FIELDS = ("name", "requirements", "python_version", "display_name",
                          "allow_download", "allow_prereleases")  # fmt: skip


class EnvironmentRequestMixin(EnvHelperHandler):
    def new_environment_request(self, *, name_required: bool) -> NewEnvironmentRequest:
        body = self.json_body(NEW_ENVIRONMENT_FIELDS)
        name = self.optional_string(body, "name")
        if name_required and not name:
            raise web.HTTPError(
                400, "`name` is required: the new kernel's name, like py312-data.",
                reason="bad-request",
            )  # fmt: skip
        return NewEnvironmentRequest(
            name=name,
            requirements=tuple(self.string_list(body, "requirements")),
            python_version=self.optional_string(body, "python_version"),
            display_name=self.optional_string(body, "display_name"),
            allow_download=self.flag(body, "allow_download"),
            options=PlanOptions(allow_prereleases=self.flag(body, "allow_prereleases")),
        )


class InterpretersHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish_json(await self.call(self.core.environments.interpreters()))


class NewEnvironmentPlanHandler(EnvironmentRequestMixin):
    # Planning creates nothing: "read", like the other plans.
    @web.authenticated
    @authorized_read
    async def post(self) -> None:
        request = self.new_environment_request(name_required=False)
        self.finish_json(await self.call(self.core.environments.plan(request)))


class EnvironmentsHandler(EnvironmentRequestMixin):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish_json(await self.call(self.core.environments.list_all()))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Create: a job of kind ``create``, followed at /envhelper/jobs/<id>."""
        request = self.new_environment_request(name_required=True)
        payload: dict[str, Any] = await self.call(self.core.environments.start(request))
        job_id = str(payload["job"]["id"])
        self.set_header("Location", url_path_join(self.base_url, "envhelper", "jobs", job_id))
        self.finish_json(payload, status=202)


class ManagedEnvironmentHandler(EnvHelperHandler):
    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        self.finish_json(await self.call(self.core.environments.delete(name)))
