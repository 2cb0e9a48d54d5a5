"""Tiny, valid media files that the emulator serves as task outputs.

They are built in code at import rather than shipped as package data, so the wheel needs no
extra files and every file is reproducible byte for byte.
"""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib
from collections.abc import Mapping
from typing import Final, Literal

import attrs

__all__ = ["MEDIA", "MP4", "PNG", "WAV", "MediaFile", "MediaKind", "media_for_extension"]

MediaKind = Literal["image", "video", "audio"]


@attrs.frozen
class MediaFile:
    """One output file: its bytes, content type and file extension.

    Attributes:
        kind: The media kind it stands for.
        extension: The file extension without the dot (``png``).
        content_type: The ``Content-Type`` it is served with.
        data: The file's bytes.

    """

    kind: MediaKind
    extension: str
    content_type: str
    data: bytes = attrs.field(repr=False)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def build_png(width: int = 16, height: int = 16) -> bytes:
    """Return an RGB PNG with a simple gradient, so viewers show something.

    Args:
        width: Width in pixels.
        height: Height in pixels.

    Returns:
        The PNG file's bytes.

    """
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "None" for this scanline
        for x in range(width):
            rows += bytes((x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), 160))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def build_wav(seconds: float = 0.25, rate: int = 8000, tone: float = 440.0) -> bytes:
    """Return a mono 16-bit PCM WAV holding a quiet sine tone.

    Args:
        seconds: Length of the sound.
        rate: Sample rate in Hz.
        tone: Frequency of the tone in Hz.

    Returns:
        The WAV file's bytes.

    """
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * tone * n / rate)))
        for n in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return buffer.getvalue()


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


# The identity transformation matrix that mvhd and tkhd carry (16.16 and 2.30 fixed point).
_MATRIX: Final = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def build_mp4(width: int = 16, height: int = 16, timescale: int = 1000) -> bytes:
    """Return a structurally valid ISO-BMFF (MP4) file: ``ftyp`` plus ``moov`` with one track.

    The video track has empty sample tables, which players and parsers accept as a
    zero-length video; enough to check type, container and download end to end.

    Args:
        width: Track width in pixels.
        height: Track height in pixels.
        timescale: Time units per second of the movie and the track.

    Returns:
        The MP4 file's bytes.

    """
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"mp41")
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, timescale, 0),  # created, modified, timescale, duration
        struct.pack(">IH", 0x10000, 0x100),  # rate 1.0, volume 1.0
        b"\x00" * 10,  # reserved
        _MATRIX,
        b"\x00" * 24,  # pre-defined
        struct.pack(">I", 2),  # next track id
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        0x3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, 1, 0, 0),  # created, modified, track id, reserved, duration
        b"\x00" * 8,  # reserved
        struct.pack(">hhhH", 0, 0, 0, 0),  # layer, alternate group, volume (0 for video), reserved
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _full_box(
        b"mdhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, timescale, 0),
        struct.pack(">HH", 0x55C4, 0),  # language "und", pre-defined
    )
    hdlr = _full_box(b"hdlr", 0, 0, b"\x00" * 4, b"vide", b"\x00" * 12, b"VideoHandler\x00")
    vmhd = _full_box(b"vmhd", 0, 1, b"\x00" * 8)  # graphics mode and opcolor
    dref = _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1))
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 0)),
        _full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        _full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        _full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        _full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    minf = _box(b"minf", vmhd, _box(b"dinf", dref), stbl)
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
    return ftyp + _box(b"moov", mvhd, trak)


PNG: Final = MediaFile("image", "png", "image/png", build_png())
WAV: Final = MediaFile("audio", "wav", "audio/wav", build_wav())
MP4: Final = MediaFile("video", "mp4", "video/mp4", build_mp4())

MEDIA: Final[Mapping[MediaKind, MediaFile]] = {"image": PNG, "audio": WAV, "video": MP4}
"""The file served for each media kind."""


def media_for_extension(extension: str) -> MediaFile | None:
    """Return the media file served under ``extension`` (``png``, ``wav``, ``mp4``), if any.

    Args:
        extension: A file extension without the dot.

    Returns:
        The file, or ``None`` for an extension the emulator does not serve.

    """
    for media in MEDIA.values():
        if media.extension == extension:
            return media
    return None
