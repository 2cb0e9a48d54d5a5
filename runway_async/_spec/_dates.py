"""ISO-8601 dates and datetimes of query parameters: reading them, and writing Python values."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["format_iso", "parse_iso"]

_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[Tt ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
    r"(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)


def parse_iso(text: str) -> dt.datetime | None:
    """Return the moment an ISO-8601 date or datetime names, or ``None`` if it is not one.

    A date is its midnight; a datetime without an offset is read as UTC (the API's rule), so
    the result is always timezone-aware. Works the same on every supported Python (3.10's
    ``fromisoformat`` knows neither ``Z`` nor most fraction lengths).
    """
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    tz = match["tz"]
    offset = dt.timezone.utc
    if tz and tz not in "Zz":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            return None
        offset = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return dt.datetime(
            int(match["y"]),
            int(match["mo"]),
            int(match["d"]),
            int(match["h"] or 0),
            int(match["mi"] or 0),
            int(match["s"] or 0),
            int((match["f"] or "0")[:6].ljust(6, "0")),
            tzinfo=offset,
        )
    except ValueError:  # month 13, February 30, hour 24, ...
        return None


def format_iso(value: dt.date, *, date_allowed: bool) -> str:
    """Return a ``date`` or ``datetime`` as the ISO-8601 text of a query parameter.

    A ``datetime`` is written as it is (``isoformat()``, as the official SDK does; without an
    offset the API reads UTC). A ``date`` stays a date where the parameter takes dates, and
    is otherwise its midnight UTC.
    """
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if date_allowed:
        return value.isoformat()
    return f"{value.isoformat()}T00:00:00Z"
