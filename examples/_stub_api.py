"""A minimal local stand-in for the Runway API used by the quickstart.

Every task-creating POST returns a task that is PENDING on its first GET, RUNNING on the
second and SUCCEEDED on the third. It checks nothing else.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from types import TracebackType

from aiohttp import web

from runway_async import PollConfig


class StubAPI:
    poll = PollConfig(interval=0.05)

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._polls: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _create(self, request: web.Request) -> web.Response:
        await request.json()
        task_id = f"task-{next(self._ids)}"
        self._polls[task_id] = 0
        return web.json_response({"id": task_id, "estimatedCost": {"credits": 5}})

    async def _get(self, request: web.Request) -> web.Response:
        task_id = request.match_info["id"]
        if task_id not in self._polls:
            return web.json_response({"error": "Task not found"}, status=404)
        self._polls[task_id] += 1
        created = datetime.now(timezone.utc).isoformat()
        body: dict[str, object] = {"id": task_id, "createdAt": created}
        n = self._polls[task_id]
        if n == 1:
            body.update(status="PENDING", estimatedCost={"credits": 5})
        elif n == 2:
            body.update(status="RUNNING", estimatedCost={"credits": 5}, progress=0.5)
        else:
            body.update(
                status="SUCCEEDED", cost={"credits": 5}, output=[f"{self.url}/out/{task_id}.png"]
            )
        return web.json_response(body)

    async def __aenter__(self) -> StubAPI:
        app = web.Application()
        app.router.add_get("/v1/tasks/{id}", self._get)
        app.router.add_post("/v1/{tail:.*}", self._create)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
