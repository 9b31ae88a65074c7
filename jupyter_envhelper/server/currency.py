"""REST handlers for keeping a kernel current: outdated, why, the graph, updates.

Questions (GET, and the update plan's POST) need the "read" permission; running an
update needs "write", like every job. Thin, as the others: parse, call one ``Core``
method, send its document.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from .handlers import TARGET_FIELDS, EnvHelperHandler, authorized_read

UPDATE_PLAN_FIELDS = (*TARGET_FIELDS, "names", "mode")
UPDATE_FIELDS = (*TARGET_FIELDS, "requirements", "fingerprint")


class OutdatedHandler(EnvHelperHandler):
    @web.authenticated
    @authorized_read
    async def get(self) -> None:
        target = self.query_target()
        assert target is not None
        self.finish_json(await self.call(self.core.outdated(target)))


class WhyHandler(EnvHelperHandler):
    @web.authenticated
    @authorized_read
    async def get(self, name: str) -> None:
        target = self.query_target()
        assert target is not None
        self.finish_json(await self.call(self.core.why(target, name)))


class GraphHandler(EnvHelperHandler):
    @web.authenticated
    @authorized_read
    async def get(self) -> None:
        target = self.query_target()
        assert target is not None
        name = self.optional_argument("name")
        self.finish_json(await self.call(self.core.dependency_graph(target, name)))


class UpdatePlanHandler(EnvHelperHandler):
    """The plan of an update; changes nothing ("read")."""

    @web.authenticated
    @authorized_read
    async def post(self) -> None:
        body = self.json_body(UPDATE_PLAN_FIELDS)
        mode = body.get("mode", "names")
        if mode not in ("names", "all", "all-that-fit"):
            raise web.HTTPError(
                400, "`mode` must be names, all or all-that-fit.", reason="bad-request"
            )
        names = self.string_list(body, "names") if "names" in body else []
        target = self.target_of(body)
        assert target is not None
        self.finish_json(await self.call(self.core.plan_update(target, names, mode)))


class UpdateHandler(EnvHelperHandler):
    """Run an update plan's pins as one job ("write"); 202 with the job."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body(UPDATE_FIELDS)
        requirements = self.string_list(body, "requirements")
        target = self.target_of(body)
        assert target is not None
        payload = await self.call(
            self.core.start_update(target, requirements, self.optional_string(body, "fingerprint"))
        )
        job_id = str(payload["job"]["id"])
        self.set_header("Location", url_path_join(self.base_url, "envhelper", "jobs", job_id))
        self.finish_json(payload, status=202)
