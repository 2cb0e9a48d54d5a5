"""A web endpoint that makes one image per request, with one AsyncRunway for the whole app.

Plain aiohttp.web (already a dependency of runway_async), so it runs as is:

    python examples/web_handler.py --emulator     # or with RUNWAYML_API_SECRET set
    curl -X POST localhost:8080/posters -d '{"prompt": "a lighthouse at dawn"}'

The pattern: create the client once at startup and close it at shutdown (it holds the
connection pool, the task watcher and the concurrency limiter, so every request shares them),
then in each request await ``create`` and ``wait_for_task_output``. Requests beyond the
organization's concurrency limit wait for a slot in the client instead of piling up
THROTTLED tasks; a request whose coroutine is cancelled while it waits creates nothing.

The same in FastAPI, line for line:

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):           # = runway_client() below
        async with AsyncRunway() as client:
            app.state.runway = client
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/posters")                       # = create_poster() below
    async def create_poster(body: PosterRequest, request: Request):
        client: AsyncRunway = request.app.state.runway
        ...                                     # the same try/except, raising HTTPException
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from runway_async import (
    AsyncRunway,
    InvalidRequestError,
    PollConfig,
    RateLimitError,
    TaskFailedError,
    TaskTimeoutError,
)
from runway_async.emulator import Emulator

RUNWAY = web.AppKey("runway", AsyncRunway)
WAIT_SECONDS = 120


async def create_poster(request: web.Request) -> web.Response:
    """POST /posters {"prompt": "..."}: generate an image, answer its URL."""
    try:
        body: Any = await request.json()
        prompt = body["prompt"]
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": 'send {"prompt": "..."}'}, status=400)
    client = request.app[RUNWAY]
    try:
        task = await client.text_to_image.create(
            model="gen4_image", prompt_text=prompt, ratio="1360:768"
        )
        done = await task.wait_for_task_output(timeout=WAIT_SECONDS)
    except InvalidRequestError as exc:  # checked before anything was sent
        return web.json_response({"error": str(exc), "field": exc.field}, status=400)
    except RateLimitError:  # daily quota used up, or the API shedding load
        return web.json_response({"error": "busy, try again later"}, status=429)
    except TaskTimeoutError as exc:  # still running: the client can poll for it later
        task_id = exc.task_details.id if exc.task_details else None
        return web.json_response({"error": "still running", "task_id": task_id}, status=504)
    except TaskFailedError as exc:  # includes cancelled tasks and moderation
        return web.json_response({"error": "failed", "code": exc.failure_code}, status=422)
    return web.json_response({"task_id": task.id, "images": list(done.output)})


def make_app(
    api_key: str | None = None, *, base_url: str | None = None, poll: PollConfig | None = None
) -> web.Application:
    """Return the app; the client is made at startup, from the arguments or the environment."""

    async def runway_client(app: web.Application) -> AsyncIterator[None]:
        # Startup: one client for every request. Shutdown: close it (and its pool).
        async with AsyncRunway(api_key, base_url=base_url, poll=poll) as client:
            app[RUNWAY] = client
            yield

    app = web.Application()
    app.cleanup_ctx.append(runway_client)
    app.router.add_post("/posters", create_poster)
    return app


async def emulator_app() -> web.Application:
    """Return the app wired to an in-process emulator that lives as long as the app."""
    emu = Emulator()
    await emu.start()
    app = make_app(emu.api_key, base_url=emu.url, poll=PollConfig(min_interval=0.25))

    async def stop_emulator(_app: web.Application) -> None:
        await emu.stop()

    app.on_cleanup.append(stop_emulator)
    return app


if __name__ == "__main__":
    if "--emulator" in sys.argv:
        web.run_app(emulator_app(), host="127.0.0.1", port=8080)
    else:
        web.run_app(make_app(), host="127.0.0.1", port=8080)
