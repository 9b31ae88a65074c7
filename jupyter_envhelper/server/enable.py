"""REST handler for ``%envhelp`` in a kernel: whether it works there, and the plan if not.

A question (GET, the "read" permission). Installing is the ordinary install job
(POST /envhelper/jobs with the document's ``requirement``), which needs "write".
"""

from __future__ import annotations

from tornado import web

from .handlers import EnvHelperHandler, authorized_read


class EnableMagicHandler(EnvHelperHandler):
    @web.authenticated
    @authorized_read
    async def get(self) -> None:
        target = self.query_target()
        assert target is not None
        self.finish_json(await self.call(self.core.enable_magic(target)))
