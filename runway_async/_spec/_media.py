"""Checks of media URIs: ``https://`` URLs, ``runway://`` uploads and base64 ``data:`` URIs.

The limits are the docs' (reference section 13); the server stays authoritative, so the client
only rejects what the server certainly would.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
import urllib.parse

from .._config import is_loopback_host, may_be_ip_address

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
# Whitespace (any Unicode space), C0/C1 control characters and DEL, and the backslash.
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\\]")
# A label WHATWG's host parser reads as a number: decimal, or hex with 0x.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
# Full stops that IDNA mapping turns into ".".
_DOTS = str.maketrans(dict.fromkeys("\u3002\uff0e\uff61", "."))


def media_problem(value: str, kind: str | None, *, allow_loopback_http: bool = False) -> str | None:
    """Return why ``value`` is not an acceptable media URI for ``kind``, or ``None`` if it is.

    An ``https://`` URL is fetched by Runway's servers, so it must be one they would fetch
    and one that cannot smuggle anything into that fetch: no whitespace or control
    characters (header injection material, and parsers disagree on where such a URL ends),
    no backslash (browsers' parsers read it as ``/``, Python's does not: the two would see
    different hosts), no credentials, a valid port, and a public domain name as host: not
    an IP address (the reference refuses them) nor ``localhost``, which would name the
    server itself.

    Args:
        value: The string given for a media field.
        kind: ``image``, ``video`` or ``audio``; ``None`` accepts any media type.
        allow_loopback_http: Also accept ``http://`` and loopback hosts (``localhost``,
            ``127.0.0.1``, ``[::1]``), so that outputs of a local emulator can be fed back
            in. The other rules still hold.

    """
    if type(value) is str and len(value) <= MAX_URL_LENGTH:
        # The same image or video is often given to many creates: the answer is a pure
        # function of the arguments, kept for the last few hundred short URIs.
        return _cached_problem(value, kind, allow_loopback_http)
    return _media_problem(value, kind, allow_loopback_http)


@functools.lru_cache(maxsize=256)
def _cached_problem(value: str, kind: str | None, allow_loopback_http: bool) -> str | None:
    return _media_problem(value, kind, allow_loopback_http)


def _media_problem(value: str, kind: str | None, allow_loopback_http: bool) -> str | None:
    head = value[:10].lower()
    if head.startswith("runway://"):
        return None if len(value) > len("runway://") else "the runway:// URI is empty"
    if head.startswith("data:"):
        return _data_uri_problem(value, kind)
    bad = _UNSAFE.search(value)
    if bad is not None:
        return (
            f"URLs must not contain whitespace, control characters or backslashes "
            f"(found {bad[0]!r} at index {bad.start()}); percent-encode them"
        )
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        # urlsplit names the problem ("Port out of range 0-65535", "Invalid IPv6 URL").
        return f"it is not a valid URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return "it must be an https:// URL, a runway:// upload URI or a base64 data: URI"
    if "@" in parts.netloc:
        return "URLs must not carry credentials (user:password@); use a signed URL instead"
    if not host:
        return "the URL has no host"
    if port == 0:
        return "the URL's port is not valid (0)"
    host = _as_fetched(host)
    loopback = is_loopback_host(host)
    if allow_loopback_http and loopback:
        return _length_problem(value)
    if scheme == "http":
        return "plain http:// URLs are not accepted; use https://"
    if _is_ip_literal(host):
        return "the URL's host must be a domain name, not an IP address"
    if loopback:
        return "the URL's host must be a public domain name, not localhost"
    return _length_problem(value)


def _as_fetched(host: str) -> str:
    """Return ``host`` roughly as a WHATWG URL parser (the server's) would resolve it.

    It percent-decodes the host and maps compatibility characters (fullwidth digits and
    dots) before deciding whether it is an IP address, so ``127%2e0%2e0%2e1``, and 127.0.0.1
    written in fullwidth digits, are 127.0.0.1 to it.
    """
    decoded = unicodedata.normalize("NFKC", urllib.parse.unquote(host))
    return decoded.translate(_DOTS).lower()


def _is_ip_literal(host: str) -> bool:
    """Return whether a URL parser would take ``host`` as an IP address.

    Besides the canonical forms, WHATWG URL parsers (the server's) read a host whose last
    label is a number as IPv4: ``127.1``, ``2130706433``, ``0x7f.0.0.1``.
    """
    if may_be_ip_address(host):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return True
    last = host.removesuffix(".").rpartition(".")[2]
    return bool(_NUMERIC_LABEL.fullmatch(last))


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
            f"(got {payload_length / _MB:.1f} MB); pass the file as a pathlib.Path (it is "
            "uploaded for you) or the runway:// URI of client.uploads.create_ephemeral(file=...)"
        )
    if _BASE64.fullmatch(value, match.end()) is None:
        return "the data URI's payload is not valid base64"
    return None
