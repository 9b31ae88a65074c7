"""REST handler for what an undo would change, asked before the undo runs.

A question (GET, the "read" permission); the undo itself is POST /envhelper/jobs with
``action: undo`` ("write").
"""

from __future__ import annotations

from tornado import web

from .handlers import EnvHelperHandler, authorized_read


class UndoPreviewHandler(EnvHelperHandler):
    @web.authenticated
    @authorized_read
    async def get(self) -> None:
        target = self.query_target()
        assert target is not None
        raw = self.get_query_argument("job_id", default=None)
        job_id: int | None = None
        if raw is not None:
            if not raw.strip().isdigit():
                raise web.HTTPError(400, "`job_id` must be a job number.", reason="bad-request")
            job_id = int(raw)
        self.finish_json(await self.call(self.core.undo_preview(target, job_id)))
