"""What the emulator's plain-resource routes share (``_resources_a``, ``_resources_b``).

The request's account and origin, the JSON body, the API's timestamps, the cursor tokens of
paginated lists and their page reply. Each module keeps its own error replies (their
wording follows the endpoints they emulate); ``json_object`` raises the one it is given.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Final

from aiohttp import web

__all__ = [
    "MAX_PAGE",
    "account_of",
    "decode_cursor",
    "encode_cursor",
    "iso",
    "json_object",
    "origin_of",
    "page_reply",
]

MAX_PAGE: Final = 100
"""The largest ``limit`` a cursor page accepts."""


def account_of(request: web.Request) -> str:
    """Return the API key of a request (the auth middleware has checked it is there)."""
    return request.headers.get("Authorization", "").partition(" ")[2].strip()


def origin_of(request: web.Request) -> str:
    """Return the scheme and host the request reached (for URLs in replies)."""
    return f"{request.scheme}://{request.host}"


async def json_object(
    request: web.Request,
    invalid: Callable[[str | None, str], Exception],
    *,
    optional: bool = False,
) -> dict[str, Any]:
    """Return the request's JSON object body.

    Args:
        request: The request.
        invalid: Makes the 400 to raise from a field (``None``: the body) and a message.
        optional: An empty body is an empty object.

    Raises:
        Exception: ``invalid(None, ...)``: the body is not JSON, or not an object.

    """
    raw = await request.read()
    if optional and not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid(None, "The request body must be valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid(None, "The request body must be a JSON object.")
    return body


def iso(moment: datetime) -> str:
    """Return a UTC timestamp as the API writes it: milliseconds and ``Z``."""
    moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def encode_cursor(value: object) -> str:
    """Return the opaque cursor of a JSON value (URL-safe base64, no padding)."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> object:
    """Return the JSON value of a cursor made by ``encode_cursor``; ``None`` if not one."""
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        return None


def page_reply(data: list[Any], next_cursor: str | None) -> web.Response:
    """Return the reply of one page: ``{"data": [...], "nextCursor": ...}``."""
    return web.json_response({"data": data, "nextCursor": next_cursor})
