"""The emulator's building blocks: media files, fault queue, configuration."""

from __future__ import annotations

import io
import struct
import wave
import zlib

import pytest

from runway_async.emulator import EmulatorConfig, Fault, FaultKind, FaultQueue
from runway_async.emulator._faults import parse_fault
from runway_async.emulator._media import MP4, PNG, WAV, media_for_extension


def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split ISO-BMFF bytes into (type, payload) pairs, checking every size adds up."""
    out = []
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        assert size >= 8
        assert offset + size <= len(data)
        out.append((kind, data[offset + 8 : offset + size]))
        offset += size
    assert offset == len(data)
    return out


class TestMedia:
    def test_png_is_a_valid_png(self) -> None:
        """The PNG has the signature, a 16x16 RGB header, valid CRCs and decodable data."""
        data = PNG.data
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        offset, chunks = 8, {}
        while offset < len(data):
            (length,) = struct.unpack(">I", data[offset : offset + 4])
            kind = data[offset + 4 : offset + 8]
            payload = data[offset + 8 : offset + 8 + length]
            (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
            assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF
            chunks[kind] = payload
            offset += 12 + length
        width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
        assert (width, height) == (16, 16)
        assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + width * 3)
        assert PNG.content_type == "image/png"

    def test_wav_opens_with_the_wave_module(self) -> None:
        """The WAV is mono 16-bit PCM with a quarter second of samples."""
        assert WAV.data[:4] == b"RIFF"
        assert WAV.data[8:12] == b"WAVE"
        with wave.open(io.BytesIO(WAV.data)) as sound:
            assert sound.getnchannels() == 1
            assert sound.getsampwidth() == 2
            assert sound.getnframes() == sound.getframerate() // 4
        assert WAV.content_type == "audio/wav"

    def test_mp4_is_ftyp_then_moov_with_a_video_track(self) -> None:
        """The MP4 is well-formed boxes: ftyp, then moov holding mvhd and a video trak."""
        top = boxes(MP4.data)
        assert [kind for kind, _ in top] == [b"ftyp", b"moov"]
        assert top[0][1][:4] == b"isom"
        moov = boxes(top[1][1])
        assert [kind for kind, _ in moov] == [b"mvhd", b"trak"]
        trak = boxes(moov[1][1])
        mdia = boxes(trak[1][1])
        assert [kind for kind, _ in mdia] == [b"mdhd", b"hdlr", b"minf"]
        assert mdia[1][1][8:12] == b"vide"
        assert MP4.content_type == "video/mp4"

    def test_extension_lookup(self) -> None:
        """Each served extension maps to its file; others to nothing."""
        assert media_for_extension("png") is PNG
        assert media_for_extension("mp4") is MP4
        assert media_for_extension("gif") is None


class TestFaultQueue:
    def test_queued_faults_apply_in_order_and_run_out(self) -> None:
        """Faults apply to the next matching requests, oldest first, count times each."""
        queue = FaultQueue()
        queue.inject("error_before", count=2)
        queue.inject(FaultKind.RATE_LIMIT, retry_after=3)
        kinds = [
            queue.take("/v1/text_to_image", "text_to_image", creates_task=True) for _ in range(4)
        ]
        assert [f.kind if f else None for f in kinds] == [
            FaultKind.ERROR_BEFORE,
            FaultKind.ERROR_BEFORE,
            FaultKind.RATE_LIMIT,
            None,
        ]
        assert queue.pending() == []

    def test_default_route_is_task_creating_posts_only(self) -> None:
        """With no route, a fault waits for a task-creating POST and skips other requests."""
        queue = FaultQueue()
        queue.inject("drop_after")
        assert queue.take("/v1/tasks/x", "tasks", creates_task=False) is None
        fault = queue.take("/v1/image_to_video", "image_to_video", creates_task=True)
        assert fault is not None
        assert fault.kind is FaultKind.DROP_AFTER

    def test_route_by_endpoint_name_or_path_prefix(self) -> None:
        """A route selects by endpoint name or by path prefix."""
        queue = FaultQueue()
        queue.inject("error_after", route="recipes.product_ad")
        queue.inject("latency", route="/v1/tasks", delay=0.5)
        assert queue.take("/v1/text_to_image", "text_to_image", creates_task=True) is None
        assert queue.take("/v1/tasks/abc", "tasks", creates_task=False) == Fault(
            kind=FaultKind.LATENCY, route="/v1/tasks", delay=0.5
        )
        fault = queue.take("/v1/recipes/product_ad", "recipes.product_ad", creates_task=True)
        assert fault is not None
        assert fault.kind is FaultKind.ERROR_AFTER

    def test_random_rates_are_seeded(self) -> None:
        """Random faults follow the seed: same seed, same sequence."""
        runs = []
        for _ in range(2):
            queue = FaultQueue(rates={FaultKind.ERROR_BEFORE: 0.5}, seed=3)
            runs.append(
                [queue.take("/v1/x", "x", creates_task=True) is not None for _ in range(40)]
            )
        assert runs[0] == runs[1]
        assert 5 < sum(runs[0]) < 35

    def test_default_statuses(self) -> None:
        """error_before answers 503, error_after 500, rate_limit 429 unless told otherwise."""
        assert Fault(kind="error_before").http_status == 503
        assert Fault(kind="error_after").http_status == 500
        assert Fault(kind="rate_limit").http_status == 429
        assert Fault(kind="error_before", status=502).http_status == 502

    @pytest.mark.parametrize(
        "body",
        [
            {"kind": "nope"},
            {"kind": "error_before", "status": 200},
            {"kind": "latency", "delay": -1},
            {"kind": "error_before", "count": 0},
            {"kind": "error_before", "colour": "red"},
            {},
            [],
        ],
    )
    def test_parse_rejects_invalid_faults(self, body: object) -> None:
        """Invalid fault descriptions raise ValueError."""
        with pytest.raises(ValueError):  # noqa: PT011 - every message differs
            parse_fault(body)

    def test_parse_accepts_camel_case(self) -> None:
        """The HTTP form accepts retryAfter as well as retry_after."""
        fault, count = parse_fault({"kind": "rate_limit", "retryAfter": 2, "count": 3})
        assert fault.retry_after == 2
        assert count == 3


class TestConfig:
    def test_defaults(self) -> None:
        """Defaults: concurrency 5, daily 10,000, real time, images faster than video."""
        config = EmulatorConfig()
        assert config.concurrency_for("gen4.5") == 5
        assert config.daily_limit_for("gen4.5") == 10_000
        assert config.duration_for("gen4_image", "image") < config.duration_for("gen4.5", "video")
        assert config.duration_for("gen4.5", "video") <= 10

    def test_is_frozen(self) -> None:
        """The config cannot be changed after creation, mappings included."""
        config = EmulatorConfig(concurrency={"gen4.5": 1})
        with pytest.raises(AttributeError):
            config.seed = 3  # type: ignore[misc]
        with pytest.raises(TypeError):
            config.concurrency["gen4.5"] = 2  # type: ignore[index]

    @pytest.mark.parametrize(
        "settings",
        [
            {"concurrency": -1},
            {"concurrency": {"gen4.5": "many"}},
            {"daily_limit": 1.5},
            {"time_scale": 0},
            {"jitter": 1.0},
            {"failure_rate": 2},
            {"durations": {"gen4.5": 0}},
            {"fault_rates": {"error_before": 1.5}},
            {"fault_rates": {"meteor": 0.1}},
            {"port": 70000},
            {"api_key": ""},
        ],
    )
    def test_rejects_invalid_settings(self, settings: dict[str, object]) -> None:
        """Out-of-range or mistyped settings are refused at construction."""
        with pytest.raises((ValueError, TypeError)):
            EmulatorConfig(**settings)  # type: ignore[arg-type]


class TestNamespace:
    def test_all_is_sorted_and_importable(self) -> None:
        """The emulator package's __all__ is unique and every name in it importable."""
        import runway_async.emulator as package

        assert len(package.__all__) == len(set(package.__all__))
        for name in package.__all__:
            assert hasattr(package, name), name
