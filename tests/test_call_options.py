"""Per-call options and the official constructor arguments (issue 14).

Request shapes are read from a scripted loopback server (what it received); behaviour that
depends on the API's state runs against the emulator.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

import runway_async
from runway_async import (
    AmbiguousSubmissionError,
    APITimeoutError,
    AsyncRunway,
    DefaultAioHttpClient,
    PollConfig,
    RetryConfig,
    Runway,
    Timeout,
)
from runway_async.emulator import Emulator

from .conftest import API_KEY, ScriptedServer, hang, json_reply

TASK = {
    "id": "7c9d4a3e-0f1b-4f55-8c57-2e1a1f4c2b10",
    "status": "RUNNING",
    "createdAt": "2026-12-02T10:00:00Z",
}
IMAGE = "https://example.com/a.png"


def client_for(server: ScriptedServer, **kwargs: Any) -> AsyncRunway:
    kwargs.setdefault("max_concurrency", None)
    return AsyncRunway(api_key=API_KEY, base_url=server.url, **kwargs)


class _HttpxLikeTimeout:
    """What ``timeout=`` reads from an ``httpx.Timeout``."""

    def __init__(self, read: float | None, connect: float | None = None) -> None:
        self.read = read
        self.write = read
        self.pool = read
        self.connect = connect


class TestExtraHeadersAndQuery:
    async def test_extra_headers_override_by_any_spelling(self, server: ScriptedServer) -> None:
        server.reply(json_reply(TASK))
        async with client_for(server, default_headers={"X-Team": "a", "X-Keep": "k"}) as client:
            await client.tasks.retrieve(TASK["id"], extra_headers={"x-team": "b", "X-Trace": "t1"})
            await client.tasks.retrieve(TASK["id"])
        first, second = server.requests
        sent = {name.lower(): value for name, value in first.headers.items()}
        assert [name for name in first.headers if name.lower() == "x-team"] == ["x-team"]
        assert sent["x-team"] == "b"
        assert sent["x-trace"] == "t1"
        assert sent["x-keep"] == "k"
        assert sent["authorization"] == f"Bearer {API_KEY}"
        assert second.headers["X-Team"] == "a"
        assert "X-Trace" not in second.headers

    async def test_default_and_extra_query(self, server: ScriptedServer) -> None:
        server.reply(json_reply(TASK))
        async with client_for(server, default_query={"tenant": "acme", "debug": True}) as client:
            await client.tasks.retrieve(
                TASK["id"], extra_query={"debug": False, "ids": ["a", "b"], "n": 3}
            )
            await client.tasks.retrieve(TASK["id"])
        first, second = server.requests
        assert first.path.endswith("?tenant=acme&debug=false&ids=a,b&n=3")
        assert second.path.endswith("?tenant=acme&debug=true")

    async def test_with_options_adds_defaults(self, server: ScriptedServer) -> None:
        server.reply(json_reply(TASK))
        async with client_for(server, default_headers={"X-A": "1"}) as client:
            copy = client.with_options(default_headers={"X-B": "2"}, default_query={"q": "v"})
            await copy.tasks.retrieve(TASK["id"])
            assert copy.default_headers == {"X-A": "1", "X-B": "2"}
            assert client.default_query == {}
        (received,) = server.requests
        assert received.headers["X-A"] == "1"
        assert received.headers["X-B"] == "2"
        assert received.path.endswith("?q=v")

    async def test_create_sends_options_and_body(self, server: ScriptedServer) -> None:
        server.reply(json_reply({"id": TASK["id"]}))
        async with client_for(server) as client:
            handle = await client.text_to_image.create(
                model="gen4_image",
                prompt_text="a fox",
                ratio="1920:1080",
                extra_headers={"Idempotency-Key": "k-1"},
                extra_query={"trace": "1"},
                extra_body={"brandNewOption": {"level": 2}},
            )
        assert handle.id == TASK["id"]
        (received,) = server.requests
        assert received.method == "POST"
        assert received.path == "/v1/text_to_image?trace=1"
        assert received.headers["Idempotency-Key"] == "k-1"
        assert received.json() == {
            "model": "gen4_image",
            "promptText": "a fox",
            "ratio": "1920:1080",
            "brandNewOption": {"level": 2},
        }

    async def test_bad_options_fail_before_sending(self, server: ScriptedServer) -> None:
        server.reply(json_reply(TASK))
        async with client_for(server) as client:
            with pytest.raises(TypeError, match="extra_headers"):
                await client.tasks.retrieve(TASK["id"], extra_headers={"X": 1})  # type: ignore[dict-item]
            with pytest.raises(TypeError, match="extra_query must be a mapping"):
                await client.tasks.retrieve(TASK["id"], extra_query=["a"])  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="timeout"):
                await client.tasks.retrieve(TASK["id"], timeout=-1)
        assert server.requests == []


class TestTimeouts:
    async def test_per_call_timeout_bounds_the_request(self, server: ScriptedServer) -> None:
        server.reply(hang())
        async with client_for(server, max_retries=0, timeout=30.0) as client:
            with pytest.raises(APITimeoutError):
                await client.tasks.retrieve(TASK["id"], timeout=0.2)

    async def test_per_call_timeout_keeps_never_pay_twice(self, server: ScriptedServer) -> None:
        server.reply(hang())
        async with client_for(server, timeout=30.0) as client:
            with pytest.raises(AmbiguousSubmissionError):
                await client.text_to_image.create(
                    model="gen4_image", prompt_text="a fox", ratio="1920:1080", timeout=0.2
                )
        assert len(server.requests) == 1  # the create was not re-sent

    async def test_none_is_bounded_by_the_retry_budget(self, server: ScriptedServer) -> None:
        server.reply(hang())
        retry = RetryConfig(max_retries=0, max_total=0.3)
        async with client_for(server, retry=retry) as client:
            with pytest.raises(APITimeoutError, match="max_total"):
                await client.tasks.retrieve(TASK["id"], timeout=None)

    def test_constructor_timeouts(self) -> None:
        none = AsyncRunway(api_key=API_KEY, timeout=None)
        assert none.timeout == Timeout(total=math.inf, connect=math.inf)
        like = AsyncRunway(api_key=API_KEY, timeout=_HttpxLikeTimeout(20.0, connect=4.0))
        assert like.timeout == Timeout(total=20.0, connect=4.0)
        assert like.with_options(timeout=None).timeout.total == math.inf
        unset = AsyncRunway(api_key=API_KEY, timeout=_HttpxLikeTimeout(None, connect=3.0))
        assert unset.timeout == Timeout(total=math.inf, connect=3.0)
        with pytest.raises(TypeError, match=r"httpx\.Timeout-like"):
            AsyncRunway(api_key=API_KEY, timeout="60")  # type: ignore[arg-type]

    def test_httpx_timeout(self) -> None:
        httpx = pytest.importorskip("httpx")
        client = AsyncRunway(api_key=API_KEY, timeout=httpx.Timeout(60.0, connect=5.0))
        assert client.timeout == Timeout(total=60.0, connect=5.0)


class TestHttpClient:
    def test_default_aiohttp_client_is_accepted(self) -> None:
        client = AsyncRunway(api_key=API_KEY, http_client=DefaultAioHttpClient())
        assert client.base_url == "https://api.dev.runwayml.com"
        with Runway(api_key=API_KEY, http_client=runway_async.DefaultHttpxClient()) as sync:
            assert sync.base_url == client.base_url

    def test_other_clients_are_refused_with_the_alternative(self) -> None:
        class AsyncClient:  # what an httpx client looks like from here
            pass

        with pytest.raises(TypeError, match=r"session=aiohttp\.ClientSession") as info:
            AsyncRunway(api_key=API_KEY, http_client=AsyncClient())
        assert "HTTPS_PROXY" in str(info.value)
        assert "with_options" in str(info.value)
        with pytest.raises(TypeError, match="takes no options"):
            DefaultAioHttpClient(proxy="http://proxy:8080")


class TestUnknownKeywords:
    def test_create_points_to_extra_body(self) -> None:
        client = AsyncRunway(api_key=API_KEY)
        with pytest.raises(TypeError, match=r"unexpected keyword argument 'promptTxt'") as info:
            client.text_to_image.create(model="gen4_image", promptTxt="x")  # type: ignore[call-arg]
        assert "extra_body={'promptTxt': ...}" in str(info.value)
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__

    async def test_async_method_points_to_extra_body(self) -> None:
        async with AsyncRunway(api_key=API_KEY) as client:
            with pytest.raises(TypeError, match="extra_body"):
                await client.tasks.retrieve("x", expand=True)  # type: ignore[call-arg]
            with pytest.raises(TypeError, match="extra_body"):
                client.avatars.list(limit=1, order="asc")  # type: ignore[call-arg]

    def test_sync_twin_points_to_extra_body(self) -> None:
        with Runway(api_key=API_KEY) as client, pytest.raises(TypeError, match="extra_body"):
            client.tasks.retrieve("x", expand=True)  # type: ignore[call-arg]

    def test_errors_raised_inside_are_not_reworded(self) -> None:
        client = AsyncRunway(api_key=API_KEY)
        with pytest.raises(TypeError) as info:
            client.text_to_image.create(model="gen4_image", prompt_text="x", extra_body=[1])  # type: ignore[arg-type]
        assert "extra_body must be a mapping" in str(info.value)

    def test_wrapped_methods_keep_their_kind(self) -> None:
        import inspect

        client = AsyncRunway(api_key=API_KEY)
        assert asyncio.iscoroutinefunction(client.tasks.retrieve)
        assert inspect.isasyncgenfunction(type(client.tasks).events)
        assert "extra_body" in inspect.signature(client.tasks.retrieve).parameters


FAST = PollConfig(interval=0.005)


class TestAgainstTheEmulator:
    async def test_options_through_the_engine(self) -> None:
        async with (
            Emulator(time_scale=0.002, seed=3) as emu,
            AsyncRunway(API_KEY, base_url=emu.url, poll=FAST) as client,
        ):
            task = await client.text_to_image.create(
                model="gen4_image",
                prompt_text="a fox",
                ratio="1920:1080",
                timeout=5.0,
                extra_headers={"X-Trace": "1"},
            ).wait_for_task_output(timeout=30)
            assert task.status == "SUCCEEDED"
            again = await client.tasks.retrieve(task.id, timeout=5.0, extra_query={"x": "1"})
            assert again.id == task.id
            org = await client.organization.retrieve(timeout=_HttpxLikeTimeout(5.0))
            assert org.tier.models["gen4_image"].max_concurrent_generations >= 1

    def test_sync_client_options(self) -> None:
        with (
            Emulator(time_scale=0.002, seed=3).in_thread() as emu,
            Runway(API_KEY, base_url=emu.url, poll=FAST, default_query={"a": "b"}) as client,
        ):
            task = client.text_to_image.create(
                model="gen4_image", prompt_text="a fox", ratio="1920:1080", timeout=5.0
            ).wait_for_task_output(timeout=30)
            assert client.tasks.retrieve(task.id, extra_headers={"X-A": "1"}).id == task.id


def test_type_errors_from_inside_keep_their_cause() -> None:
    from runway_async._options import hint_unknown_keywords

    def inner(**kwargs: Any) -> None:
        try:
            raise KeyError("root")
        except KeyError as exc:
            raise TypeError("got an unexpected keyword argument 'x' deeper down") from exc

    with pytest.raises(TypeError) as info:
        hint_unknown_keywords(inner)(a=1)
    assert "extra_body" not in str(info.value)
    assert isinstance(info.value.__cause__, KeyError)


class TestBatchJobs:
    async def test_job_options_reach_the_request(self, server: ScriptedServer) -> None:
        from runway_async import Job

        server.reply(
            json_reply({"id": TASK["id"]}), json_reply(TASK | {"status": "SUCCEEDED", "output": []})
        )
        async with client_for(server, poll=PollConfig(interval=0.005)) as client:
            job = Job(
                "text_to_image",
                {
                    "model": "gen4_image",
                    "prompt_text": "a fox",
                    "ratio": "1920:1080",
                    "extra_body": {"brandNewOption": 1},
                    "extra_headers": {"X-Job": "1"},
                },
            )
            results = [result async for result in client.batch([job])]
        assert results[0].task_id == TASK["id"]
        create = server.requests[0]
        assert create.json()["brandNewOption"] == 1
        assert create.headers["X-Job"] == "1"

    def test_bad_job_options_are_refused_before_sending(self) -> None:
        from runway_async import Job
        from runway_async._batch import validate_job

        job = Job("text_to_image", {"model": "gen4_image", "prompt_text": "x", "extra_body": 3})
        with pytest.raises(TypeError, match="extra_body must be a mapping"):
            validate_job(job)


class _RecordingLimiter(runway_async.InProcessLimiter):
    """Records what each create asked the limiter for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, float | None]] = []

    async def acquire(self, model: str, **kwargs: Any) -> Any:
        self.asked.append((model, kwargs.get("timeout")))
        return await super().acquire(model, **kwargs)


class TestOptionsAndTheLimiter:
    async def test_slot_wait_has_its_own_deadline_and_counts_the_sent_model(
        self, server: ScriptedServer
    ) -> None:
        """timeout= never reaches the slot wait; extra_body's model is the one counted."""
        server.reply(json_reply({"id": TASK["id"]}))
        limiter = _RecordingLimiter()
        async with AsyncRunway(
            API_KEY,
            base_url=server.url,
            limiter=limiter,
            max_concurrency=4,
            slot_timeout=30.0,
        ) as client:
            await client.text_to_image.create(
                model="gen4_image",
                prompt_text="a fox",
                ratio="1920:1080",
                timeout=0.5,
                extra_body={"model": "gen4_image_turbo", "referenceImages": [{"uri": IMAGE}]},
            )
            assert limiter.asked == [("gen4_image_turbo", 30.0)]
            assert limiter.in_use("gen4_image_turbo") == 1
            assert limiter.in_use("gen4_image") == 0
        create = server.requests[0]
        assert create.json()["model"] == "gen4_image_turbo"


class TestUploadTimeout:
    async def test_upload_takes_timeout_objects(self, tmp_path: Any) -> None:
        image = tmp_path / "a.png"
        image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        async with (
            Emulator(time_scale=0.002, seed=3) as emu,
            AsyncRunway(API_KEY, base_url=emu.url) as client,
        ):
            first = await client.uploads.create_ephemeral(
                file=image, timeout=_HttpxLikeTimeout(30.0, connect=5.0), extra_headers={"X-U": "1"}
            )
            second = await client.uploads.create_ephemeral(file=image, timeout=None)
        assert first.uri.startswith("runway://")
        assert second.uri.startswith("runway://")


def test_hint_reads_the_name_whatever_python_adds() -> None:
    """Python 3.13 appends "Did you mean ...?"; the hint still names the keyword given."""
    from runway_async._options import _reworded

    try:
        raise TypeError(
            "TextToImage.create() got an unexpected keyword argument 'promptTxt'. "
            "Did you mean 'prompt_text'?"
        )
    except TypeError as exc:
        message = str(_reworded(exc))
    assert "Did you mean 'prompt_text'? To send" in message
    assert "extra_body={'promptTxt': ...}" in message


class TestOneQueryWriter:
    """Every query option is written one way (``_spec.merge_query``), and once."""

    async def test_nested_and_none_values_on_every_kind_of_call(
        self, server: ScriptedServer
    ) -> None:
        server.reply(json_reply({"data": [], "nextCursor": None}), json_reply(TASK))
        extra = {"filter": {"state": "READY"}, "tenant": None, "flag": True}
        async with client_for(server, default_query={"tenant": "acme"}) as client:
            await client.avatars.list(limit=5, extra_query=extra)  # a plain call: to_request
            await client.tasks.retrieve(TASK["id"], extra_query=extra)  # a core request
        listed, retrieved = (received.path for received in server.requests)
        assert listed == "/v1/avatars?limit=5&filter%5Bstate%5D=READY&flag=true"
        assert retrieved.endswith("?filter%5Bstate%5D=READY&flag=true")
