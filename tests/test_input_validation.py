"""Bad input refused at the boundary (issue 9, items 6-8): durations, text, media URLs."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from runway_async import (
    AsyncRunway,
    InvalidRequestError,
    Job,
    PollConfig,
    RetryConfig,
    Timeout,
)
from runway_async._batch import validate_job
from runway_async._config import check_seconds
from runway_async._limits import InProcessLimiter
from runway_async._spec import to_wire, validate_wire
from runway_async.emulator import Emulator

NAN = float("nan")
INF = float("inf")
# What every duration refuses: (value, exception type). A bool is refused although it is an
# int: ``timeout=True`` is a mistake, not one second.
BAD_DURATIONS: list[tuple[object, type[Exception]]] = [
    (NAN, ValueError),
    (INF, ValueError),
    (-INF, ValueError),
    (-1, ValueError),
    ("5", TypeError),
    (True, TypeError),
    ([5], TypeError),
]
TIMEOUT_BUILDERS: list[Callable[[object], object]] = [
    lambda v: Timeout(total=v),  # type: ignore[arg-type]
    lambda v: Timeout(connect=v),  # type: ignore[arg-type]
]
OFFLINE_URL = "http://127.0.0.1:9"  # nothing listens there; nothing here connects
IMAGE_URL = "https://example.com/cat.png"


def image_params(**extra: Any) -> dict[str, Any]:
    """Return valid gen4_image text_to_image parameters, updated with ``extra``."""
    return {"model": "gen4_image", "prompt_text": "a fox", "ratio": "1920:1080", **extra}


def gen45(**extra: Any) -> dict[str, Any]:
    """Return valid gen4.5 image_to_video parameters, updated with ``extra``."""
    params: dict[str, Any] = {
        "model": "gen4.5",
        "prompt_image": IMAGE_URL,
        "prompt_text": "A cat walks",
        "ratio": "1280:720",
        "duration": 5,
    }
    params.update(extra)
    return params


def assert_names(error: BaseException, name: str, value: object) -> None:
    """Assert the message names the argument and shows the value given."""
    assert name in str(error)
    assert repr(value) in str(error)


def assert_nothing_sent(emu: Emulator) -> None:
    """Assert the emulator received no request at all."""
    metrics = emu.metrics()
    assert metrics["requests"] == {}
    assert metrics["tasks_created_total"] == 0


class TestCheckSeconds:
    """The one helper behind every duration argument."""

    @pytest.mark.parametrize(("value", "expected"), [(0, 0.0), (5, 5.0), (2.5, 2.5)])
    def test_numbers_come_back_as_floats(self, value: float, expected: float) -> None:
        """Finite non-negative numbers are returned as floats."""
        result = check_seconds("timeout", value)
        assert result == expected
        assert type(result) is float

    def test_other_real_numbers_are_accepted(self) -> None:
        """Any real number type (a Fraction, say) is accepted and converted."""
        assert check_seconds("timeout", Fraction(1, 4)) == 0.25

    def test_none_only_where_it_means_no_deadline(self) -> None:
        """None passes with allow_none and is a TypeError without it."""
        assert check_seconds("timeout", None, allow_none=True) is None
        with pytest.raises(TypeError, match="timeout"):
            check_seconds("timeout", None)

    @pytest.mark.parametrize(("value", "error"), BAD_DURATIONS)
    def test_bad_values_are_refused_naming_the_argument(
        self, value: object, error: type[Exception]
    ) -> None:
        """NaN, infinities and negatives are ValueErrors, non-numbers TypeErrors, named."""
        with pytest.raises(error) as info:
            check_seconds("wait_timeout", value, allow_none=True)
        assert_names(info.value, "wait_timeout", value)

    def test_zero_is_refused_where_positive(self) -> None:
        """With positive=True, zero is a ValueError."""
        with pytest.raises(ValueError, match=r"deadline must be .*> 0"):
            check_seconds("deadline", 0, positive=True)


class TestConfigDurations:
    """Config objects refuse bad durations when built (item 7)."""

    @pytest.mark.parametrize(("value", "error"), BAD_DURATIONS)
    @pytest.mark.parametrize(
        "build",
        [
            pytest.param(TIMEOUT_BUILDERS[0], id="Timeout.total"),
            pytest.param(TIMEOUT_BUILDERS[1], id="Timeout.connect"),
            pytest.param(Timeout.coerce, id="Timeout.coerce"),
            pytest.param(lambda v: RetryConfig(initial_delay=v), id="RetryConfig.initial_delay"),
            pytest.param(lambda v: RetryConfig(max_delay=v), id="RetryConfig.max_delay"),
            pytest.param(lambda v: RetryConfig(jitter=v), id="RetryConfig.jitter"),
            pytest.param(
                lambda v: RetryConfig(max_retry_after=v), id="RetryConfig.max_retry_after"
            ),
            pytest.param(lambda v: RetryConfig(max_total=v), id="RetryConfig.max_total"),
            pytest.param(lambda v: PollConfig(min_interval=v), id="PollConfig.min_interval"),
            pytest.param(lambda v: PollConfig(max_interval=v), id="PollConfig.max_interval"),
            pytest.param(
                lambda v: PollConfig(default_duration=v), id="PollConfig.default_duration"
            ),
            pytest.param(lambda v: PollConfig(jitter=v), id="PollConfig.jitter"),
            pytest.param(
                lambda v: PollConfig(requests_per_second=v), id="PollConfig.requests_per_second"
            ),
            pytest.param(
                lambda v: InProcessLimiter(refresh_interval=v), id="InProcessLimiter.refresh"
            ),
            pytest.param(
                lambda v: InProcessLimiter(failure_retry=v), id="InProcessLimiter.failure_retry"
            ),
        ],
    )
    def test_bad_values_are_refused(
        self, build: Callable[[object], object], value: object, error: type[Exception]
    ) -> None:
        """Every duration (and rate) field refuses NaN, infinity, negatives and non-numbers.

        Except ``Timeout``'s infinity, which means "no per-request deadline"
        (``timeout=None``; the retry budget still bounds every call).
        """
        if value == INF and build in TIMEOUT_BUILDERS:
            built = build(value)
            assert isinstance(built, Timeout)
            assert math.isinf(built.total) or math.isinf(built.connect)
            return
        with pytest.raises(error) as info:
            build(value)
        assert repr(value) in str(info.value)

    def test_valid_values_still_work(self) -> None:
        """Ordinary values, ints included, are accepted as before."""
        assert Timeout.coerce(5).total == 5.0
        assert RetryConfig(initial_delay=0, max_total=1).max_total == 1
        assert PollConfig(min_interval=1, max_interval=None, jitter=0.1).jitter == 0.1
        with pytest.raises(ValueError, match="jitter"):
            PollConfig(jitter=0.2)


class TestClientDurations:
    """The client's own duration arguments (item 7)."""

    @pytest.mark.parametrize(("value", "error"), [*BAD_DURATIONS, (0, ValueError)])
    async def test_timeout_is_checked_at_construction(
        self, value: object, error: type[Exception]
    ) -> None:
        """timeout=nan/inf/... fails building the client, not (or never) at a request."""
        with pytest.raises(error) as info:
            AsyncRunway("key", base_url=OFFLINE_URL, timeout=value)  # type: ignore[arg-type]
        assert_names(info.value, "timeout", value)

    @pytest.mark.parametrize(("value", "error"), BAD_DURATIONS)
    async def test_slot_timeout_is_checked(self, value: object, error: type[Exception]) -> None:
        """slot_timeout refuses bad values, in the constructor and in with_options."""
        with pytest.raises(error) as info:
            AsyncRunway("key", base_url=OFFLINE_URL, slot_timeout=value)  # type: ignore[arg-type]
        assert_names(info.value, "slot_timeout", value)
        client = AsyncRunway("key", base_url=OFFLINE_URL)
        with pytest.raises(error):
            client.with_options(slot_timeout=value)  # type: ignore[arg-type]
        with pytest.raises(error):
            client.with_options(timeout=value)  # type: ignore[arg-type]
        await client.aclose()

    async def test_none_still_means_no_slot_deadline(self) -> None:
        """slot_timeout=None and 0 stay valid."""
        async with AsyncRunway("key", base_url=OFFLINE_URL, slot_timeout=None) as client:
            assert client.with_options(slot_timeout=0).slot_timeout == 0

    async def test_nan_timeout_repro_cannot_start(self, runway_emulator: Emulator) -> None:
        """The slot-leak repro (5 create-and-close cycles, NaN timeout) stops at its first line."""
        for _ in range(5):
            with pytest.raises(ValueError, match="timeout"):
                AsyncRunway(runway_emulator.api_key, base_url=runway_emulator.url, timeout=NAN)

    async def test_infinite_timeout_is_refused_before_any_slot_is_taken(
        self, fresh_runway_emulator: Emulator
    ) -> None:
        """timeout=inf used to raise OverflowError mid-create, holding the slot: now refused."""
        emu = fresh_runway_emulator
        with pytest.raises(ValueError, match="timeout"):
            AsyncRunway(emu.api_key, base_url=emu.url, timeout=INF)
        assert_nothing_sent(emu)


class TestWaitDurations:
    """wait / wait_for_task_output / batch / download timeouts (item 7)."""

    @pytest.mark.parametrize(("value", "error"), BAD_DURATIONS)
    async def test_chained_wait_checks_before_the_create_is_sent(
        self,
        fresh_runway_emulator: Emulator,
        runway_client: AsyncRunway,
        value: object,
        error: type[Exception],
    ) -> None:
        """create(...).wait_for_task_output(timeout="5") fails before paying for a task."""
        creation = runway_client.text_to_image.create(**image_params())
        with pytest.raises(error) as info:
            await creation.wait_for_task_output(timeout=value)  # type: ignore[arg-type]
        assert_names(info.value, "timeout", value)
        assert_nothing_sent(fresh_runway_emulator)

    @pytest.mark.parametrize(("value", "error"), BAD_DURATIONS)
    async def test_waits_refuse_bad_timeouts(
        self,
        fresh_runway_emulator: Emulator,
        runway_client: AsyncRunway,
        value: object,
        error: type[Exception],
    ) -> None:
        """handle.wait_for_task_output, tasks.wait and the watcher name the bad timeout."""
        handle = await runway_client.text_to_image.create(**image_params())
        with pytest.raises(error, match="timeout"):
            await handle.wait_for_task_output(timeout=value)  # type: ignore[arg-type]
        with pytest.raises(error, match="timeout"):
            await runway_client.tasks.wait(handle.id, timeout=value)  # type: ignore[arg-type]
        watcher = runway_client._core.watcher()
        with pytest.raises(error, match="timeout"):
            await watcher.wait(handle.id, timeout=value, poll=runway_client.poll)  # type: ignore[arg-type]
        assert (await handle.wait_for_task_output(timeout=None)).id == handle.id

    async def test_a_zero_wait_is_allowed(
        self, fresh_runway_emulator: Emulator, runway_client: AsyncRunway
    ) -> None:
        """timeout=0 is a valid wait: it returns an ended task the watcher already saw."""
        handle = await runway_client.text_to_image.create(**image_params())
        done = await handle.wait_for_task_output(timeout=None)
        assert (await handle.wait_for_task_output(timeout=0)).id == done.id

    @pytest.mark.parametrize(("value", "error"), [*BAD_DURATIONS, (0, ValueError)])
    async def test_batch_deadline(self, value: object, error: type[Exception]) -> None:
        """A batch deadline must be a finite number > 0 or None."""
        async with AsyncRunway("key", base_url=OFFLINE_URL) as client:
            with pytest.raises(error) as info:
                client.batch([], deadline=value)  # type: ignore[arg-type]
        assert_names(info.value, "deadline", value)

    @pytest.mark.parametrize(("value", "error"), [*BAD_DURATIONS, (0, ValueError)])
    async def test_download_timeout(
        self, tmp_path: Any, value: object, error: type[Exception]
    ) -> None:
        """client.download(timeout=...) refuses a bad value before fetching anything."""
        async with AsyncRunway("key", base_url=OFFLINE_URL) as client:
            with pytest.raises(error) as info:
                await client.download(IMAGE_URL, tmp_path, timeout=value)  # type: ignore[arg-type]
        assert_names(info.value, "timeout", value)
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(("value", "error"), BAD_DURATIONS)
    async def test_limiter_acquire_timeout(self, value: object, error: type[Exception]) -> None:
        """A NaN slot deadline would never pass; the limiter refuses it like the client."""
        limiter = InProcessLimiter()
        with pytest.raises(error, match="timeout"):
            await limiter.acquire("gen4_image", timeout=value)  # type: ignore[arg-type]
        assert limiter.in_use("gen4_image") == 0


SURROGATE_CASES = [
    pytest.param("text_to_image", image_params(prompt_text="a\ud800b"), "prompt_text", id="top"),
    pytest.param(
        "text_to_speech",
        {
            "model": "eleven_multilingual_v2",
            "prompt_text": "Hello",
            "voice": {"type": "runway-preset", "preset_id": "Le\udfffslie"},
        },
        "voice.preset_id",
        id="nested",
    ),
    pytest.param(
        "image_to_video",
        gen45(prompt_image=[{"uri": "https://example.com/a\udc00.png", "position": "first"}]),
        "prompt_image[0].uri",
        id="list-media-url",
    ),
    pytest.param(
        "image_to_video",
        gen45(prompt_image="runway://uploads/\ud800"),
        "prompt_image",
        id="runway-uri",
    ),
    pytest.param(
        "image_to_video",
        {
            "model": "kling_4",
            "prompt_image": IMAGE_URL,
            "reference_videos": [{"uri": "https://example.com/\ud800.mp4"}],
        },
        "reference_videos[0].uri",
        id="untyped-member",
    ),
    pytest.param(
        "image_to_video",
        {
            "model": "veo3",
            "prompt_image": IMAGE_URL,
            "prompt_text": "a\ud800",
            "ratio": "1280:720",
            "duration": 8,
        },
        "prompt_text",
        id="legacy-variant",
    ),
    pytest.param(
        "image_to_video",
        {
            "model": "veo3",
            "prompt_image": IMAGE_URL,
            "ratio": "1280:720",
            "duration": 8,
            "extra": {"note": ["\ud800"]},
        },
        "extra.note[0]",
        id="legacy-unknown-member",
    ),
]


class TestUnencodableText:
    """Lone surrogates anywhere in a body are an InvalidRequestError naming the field (item 6)."""

    @pytest.mark.parametrize(("endpoint", "params", "field"), SURROGATE_CASES)
    def test_to_wire_names_the_field(
        self, endpoint: str, params: dict[str, Any], field: str
    ) -> None:
        """The error names the field (with its path) and the message can be printed."""
        with pytest.raises(InvalidRequestError) as info:
            to_wire(endpoint, params)
        assert info.value.field == field
        assert "not valid Unicode text" in str(info.value)
        str(info.value).encode("utf-8")  # printable: the surrogate is shown escaped

    @pytest.mark.parametrize(("endpoint", "params", "field"), SURROGATE_CASES)
    def test_validate_job_names_the_field(
        self, endpoint: str, params: dict[str, Any], field: str
    ) -> None:
        """A batch job (a CLI jobs line) with such text is invalid, not a crash."""
        with pytest.raises(InvalidRequestError) as info:
            validate_job(Job(endpoint, params))
        assert info.value.field == field

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"k\ud800": "v"}, "reference_videos[0].k\\ud800"),
            ({1: "v"}, "reference_videos[0]"),
            ({"x": NAN}, "reference_videos[0].x"),
            ({"x": b"bytes"}, "reference_videos[0].x"),
        ],
    )
    def test_untyped_members_must_be_json(self, params: dict[Any, Any], field: str) -> None:
        """Members the spec leaves open still need string keys, valid text and JSON values."""
        body = {"model": "kling_4", "prompt_image": IMAGE_URL, "reference_videos": [params]}
        with pytest.raises(InvalidRequestError) as info:
            to_wire("image_to_video", body)
        assert info.value.field == field
        str(info.value).encode("utf-8")

    def test_a_bad_key_is_reported_printably(self) -> None:
        """An unknown member whose name holds a surrogate is refused with a printable message."""
        with pytest.raises(InvalidRequestError) as info:
            to_wire("image_to_video", gen45(**{"bad\ud800": 1}))
        assert "bad\\ud800" in str(info.value)
        str(info.value).encode("utf-8")

    def test_the_emulator_reports_it_too(self) -> None:
        """validate_wire (the emulator's check) reports the same issue for a wire body."""
        issues = validate_wire(
            "text_to_image", {"model": "gen4_image", "promptText": "a\ud800", "ratio": "1920:1080"}
        )
        assert [(i.path, i.code) for i in issues] == [(("promptText",), "invalid_format")]

    async def test_nothing_reaches_the_server(
        self, fresh_runway_emulator: Emulator, runway_client: AsyncRunway
    ) -> None:
        """A create with a lone surrogate in its prompt raises and sends no request."""
        with pytest.raises(InvalidRequestError) as info:
            await runway_client.text_to_image.create(**image_params(prompt_text="a\ud800b"))
        assert info.value.field == "prompt_text"
        assert_nothing_sent(fresh_runway_emulator)


REFUSED_URLS = [
    pytest.param("https://user:pass@example.com/a.png", "credentials", id="credentials"),
    pytest.param("https://user@example.com/a.png", "credentials", id="user-only"),
    pytest.param("https://example.com:99999/a.png", "Port out of range", id="port-too-big"),
    pytest.param("https://example.com:0/a.png", "port", id="port-zero"),
    pytest.param("https://example.com:https/a.png", "not a valid URL", id="port-not-a-number"),
    pytest.param("https://example.com/a b.png", "whitespace", id="space"),
    pytest.param("https://example.com/a.png\r\nX-Injected: 1", "whitespace", id="crlf"),
    pytest.param("https://example.com/a.png\n", "whitespace", id="trailing-newline"),
    pytest.param(" https://example.com/a.png", "whitespace", id="leading-space"),
    pytest.param("https://example.com/a\tb.png", "whitespace", id="tab"),
    pytest.param("https://example.com/a\x00.png", "control", id="nul"),
    pytest.param("https://example.com/a\x7f.png", "control", id="del"),
    pytest.param("https://example.com/a\u00a0b.png", "whitespace", id="nbsp"),
    pytest.param("https://example.com\\@127.0.0.1/a.png", "backslash", id="backslash"),
    pytest.param("https://localhost/a.png", "not localhost", id="localhost"),
    pytest.param("https://LocalHost./a.png", "not localhost", id="localhost-fqdn"),
    pytest.param("https://cdn.localhost/a.png", "not localhost", id="sub-localhost"),
    pytest.param("https://127.0.0.1/a.png", "not an IP address", id="loopback-ip"),
    pytest.param("https://[::1]/a.png", "not an IP address", id="loopback-ipv6"),
    pytest.param("https://127.1/a.png", "not an IP address", id="short-ipv4"),
    pytest.param("https://2130706433/a.png", "not an IP address", id="decimal-ipv4"),
    pytest.param("https://0x7f.0.0.1/a.png", "not an IP address", id="hex-ipv4"),
    pytest.param("https://127%2e0%2e0%2e1/a.png", "not an IP address", id="percent-encoded"),
    pytest.param(
        "https://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/a.png",
        "not an IP address",
        id="fullwidth-ipv4",
    ),
]


class TestMediaUrls:
    """Media URLs the API would refuse, or that carry injection material (item 8)."""

    @pytest.mark.parametrize(("url", "reason"), REFUSED_URLS)
    def test_refused_in_a_python_call(self, url: str, reason: str) -> None:
        """to_wire (every create) refuses the URL, naming the field and the reason."""
        with pytest.raises(InvalidRequestError) as info:
            to_wire("image_to_video", gen45(prompt_image=url))
        assert info.value.field == "prompt_image"
        assert reason in str(info.value)

    @pytest.mark.parametrize(("url", "reason"), REFUSED_URLS)
    def test_refused_in_a_batch_job(self, url: str, reason: str) -> None:
        """validate_job refuses the same URL the same way."""
        with pytest.raises(InvalidRequestError) as info:
            validate_job(Job("image_to_video", gen45(prompt_image=url)))
        assert info.value.field == "prompt_image"
        assert reason in str(info.value)

    @pytest.mark.parametrize(
        "url",
        [
            "https://user:pass@127.0.0.1:8000/a.png",
            "http://127.0.0.1:99999/a.png",
            "http://127.0.0.1:8000/a b.png",
            "http://127.0.0.1:8000/a.png\r\nX: 1",
        ],
    )
    def test_loopback_allowance_keeps_the_other_rules(self, url: str) -> None:
        """With allow_loopback_http, credentials, bad ports and whitespace are still refused."""
        with pytest.raises(InvalidRequestError) as info:
            validate_job(Job("image_to_video", gen45(prompt_image=url)), allow_loopback_http=True)
        assert info.value.field == "prompt_image"

    @pytest.mark.parametrize(
        "url",
        [
            "https://localhost/a.png",
            "http://localhost:8000/a.png",
            "http://cdn.localhost/a.png",
            "https://127.0.0.1:8443/a.png",
            "http://[::1]:9/a.png",
        ],
    )
    def test_loopback_hosts_pass_with_the_allowance(self, url: str) -> None:
        """A client whose base URL is loopback may feed local (emulator) outputs back in."""
        to_wire("image_to_video", gen45(prompt_image=url), allow_loopback_http=True)

    @pytest.mark.parametrize(
        "url",
        [
            "https://example.com/a%20b.png",
            "https://cdn.example.com:8443/a.png?sig=a%2Fb&x=1#frag",
            "https://example.com/caf\u00e9.png",
            "https://xn--caf-dma.example/a.png",
            "https://user-content.example.com/@alice/a.png",
        ],
    )
    def test_ordinary_urls_still_pass(self, url: str) -> None:
        """Percent-encoded, international, ported and query-carrying URLs are accepted."""
        to_wire("image_to_video", gen45(prompt_image=url))

    def test_data_and_runway_uris_keep_their_rules(self) -> None:
        """The URL rules do not apply to data: and runway:// URIs."""
        to_wire("image_to_video", gen45(prompt_image="runway://uploads/a@b:c"))
        to_wire("image_to_video", gen45(prompt_image="data:image/png;base64,iVBORw0KGgo="))

    async def test_nothing_reaches_the_server(
        self, fresh_runway_emulator: Emulator, runway_client: AsyncRunway
    ) -> None:
        """A header-injection URL is refused by the client before any request."""
        with pytest.raises(InvalidRequestError) as info:
            await runway_client.image_to_video.create(
                **gen45(prompt_image="https://example.com/a.png\r\nX-Injected: 1")
            )
        assert info.value.field == "prompt_image"
        assert_nothing_sent(fresh_runway_emulator)
