"""Checks of media URIs: ``https://`` URLs, ``runway://`` uploads and base64 ``data:`` URIs.

The limits are the docs' (reference section 13); the server stays authoritative, so the client
only rejects what the server certainly would.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse

from .._config import is_loopback_host

__all__ = ["DATA_URI_LIMITS", "MAX_URL_LENGTH", "media_problem"]

MAX_URL_LENGTH = 2048
"""Longest URL the API fetches."""

_MB = 1024 * 1024
# Encoded (base64) length of a data URI's payload, per media kind. Binary megabytes, the more
# lenient reading of the docs' "MB": the client must not refuse what the server accepts.
DATA_URI_LIMITS = {"image": 5 * _MB, "video": 16 * _MB, "audio": 16 * _MB}

_DATA_URI = re.compile(
    r"data:(?P<top>[a-z0-9!#$&^_.+-]+)/(?P<sub>[a-z0-9!#$&^_.+-]+)(?P<params>(?:;[^;,]*)*),",
    re.IGNORECASE,
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def media_problem(value: str, kind: str | None, *, allow_loopback_http: bool = False) -> str | None:
    """Return why ``value`` is not an acceptable media URI for ``kind``, or ``None`` if it is.

    Args:
        value: The string given for a media field.
        kind: ``image``, ``video`` or ``audio``; ``None`` accepts any media type.
        allow_loopback_http: Also accept ``http://`` (and IP literals) for loopback hosts, so
            that outputs of a local emulator can be fed back in.

    """
    head = value[:10].lower()
    if head.startswith("runway://"):
        return None if len(value) > len("runway://") else "the runway:// URI is empty"
    if head.startswith("data:"):
        return _data_uri_problem(value, kind)
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
    except ValueError:
        return "it is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and allow_loopback_http and is_loopback_host(host):
        return _length_problem(value)
    if scheme == "http":
        return "plain http:// URLs are not accepted; use https://"
    if scheme != "https":
        return "it must be an https:// URL, a runway:// upload URI or a base64 data: URI"
    if not host:
        return "the URL has no host"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _length_problem(value)
    return "the URL's host must be a domain name, not an IP address"


def _length_problem(url: str) -> str | None:
    if len(url) > MAX_URL_LENGTH:
        return f"URLs are limited to {MAX_URL_LENGTH} characters (got {len(url)})"
    return None


def _data_uri_problem(value: str, kind: str | None) -> str | None:
    match = _DATA_URI.match(value)
    if match is None:
        return "a data URI must look like data:<type>/<subtype>;base64,<data>"
    params = [p.strip().lower() for p in match["params"].split(";")[1:]]
    if not params or params[-1] != "base64":
        return "the data URI must be base64-encoded (data:<type>/<subtype>;base64,...)"
    mime = f"{match['top']}/{match['sub']}".lower()
    if kind is not None and match["top"].lower() != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        return f"the data URI declares {mime}, not {article} {kind} type"
    payload_length = len(value) - match.end()
    limit = DATA_URI_LIMITS.get(kind or "", max(DATA_URI_LIMITS.values()))
    if payload_length > limit:
        return (
            f"data URIs of {kind or 'media'} are limited to {limit // _MB} MB encoded "
            f"(got {payload_length / _MB:.1f} MB); upload the file and pass its runway:// URI"
        )
    if _BASE64.fullmatch(value, match.end()) is None:
        return "the data URI's payload is not valid base64"
    return None
