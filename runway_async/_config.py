"""Frozen configuration objects, environment resolution and the testing switch."""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import numbers
import os
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, Literal, Protocol, overload, runtime_checkable

import attrs

from ._clock import is_testing, set_testing
from ._exceptions import InvalidRequestError

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_RUNWAY_VERSION",
    "LOG_ENV",
    "NOT_GIVEN",
    "NotGiven",
    "PollConfig",
    "RetryConfig",
    "Timeout",
    "check_number",
    "check_seconds",
    "default_duration_cache",
    "is_loopback_host",
    "is_loopback_url",
    "is_testing",
    "resolve_api_key",
    "resolve_base_url",
    "set_testing",
    "setup_logging_from_env",
]

API_KEY_ENV: Final = "RUNWAYML_API_SECRET"
BASE_URL_ENV: Final = "RUNWAYML_BASE_URL"
LOG_ENV: Final = "RUNWAYML_LOG"
DEFAULT_BASE_URL: Final = "https://api.dev.runwayml.com"
DEFAULT_RUNWAY_VERSION: Final = "2024-11-06"
_TESTING_MIN_INTERVAL: Final = 0.005
_CACHE_DIR: Final = "runway_async"
_CACHE_FILE: Final = "durations.json"


class NotGiven:
    """The type of ``NOT_GIVEN``: an argument left out, where ``None`` means something.

    ``client.with_options(slot_timeout=None)`` removes the slot deadline, while leaving
    ``slot_timeout`` out keeps the client's; the official SDK uses the same sentinel.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
"""The default of arguments for which ``None`` has a meaning of its own."""


@overload
def check_number(
    name: str,
    value: object,
    *,
    allow_none: Literal[False] = False,
    positive: bool = False,
    unit: str = "",
) -> float: ...


@overload
def check_number(
    name: str,
    value: object,
    *,
    allow_none: bool,
    positive: bool = False,
    unit: str = "",
) -> float | None: ...


def check_number(
    name: str,
    value: object,
    *,
    allow_none: bool = False,
    positive: bool = False,
    unit: str = "",
) -> float | None:
    """Return ``value`` as a float after checking it is a finite number in range.

    The one check behind every duration, rate and fraction a caller passes in: NaN would
    make every comparison false (so a deadline never passes, or passes at once), infinity
    overflows the timers underneath, and a bool is almost always a mistake.

    Args:
        name: The argument's name, for the message (``timeout``, ``poll.min_interval``).
        value: What the caller passed.
        allow_none: Accept ``None`` (returned as is), where it means "no limit".
        positive: Require ``> 0`` rather than ``>= 0``.
        unit: Words after "a number" in the message (``"of seconds"``).

    Returns:
        ``value`` as a float (``None`` when allowed and given).

    Raises:
        TypeError: ``value`` is not a real number (a bool, a string, ...), nor an allowed
            ``None``.
        ValueError: ``value`` is NaN, infinite, negative, or zero where ``positive``.

    """
    bound = "> 0" if positive else ">= 0"
    expected = f"a finite number{' ' + unit if unit else ''} {bound}"
    if allow_none:
        expected += " or None" + (" (no limit)" if unit == "of seconds" else "")
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


@overload
def check_seconds(
    name: str, value: object, *, allow_none: Literal[False] = False, positive: bool = False
) -> float: ...


@overload
def check_seconds(
    name: str, value: object, *, allow_none: bool, positive: bool = False
) -> float | None: ...


def check_seconds(
    name: str, value: object, *, allow_none: bool = False, positive: bool = False
) -> float | None:
    """Return a duration in seconds as a float, refusing NaN, infinity, negatives and bools.

    Every timeout, deadline, interval and delay a caller passes goes through here, so they
    all fail the same way, at the call that received them, before anything is sent.

    Args:
        name: The argument's name, for the message.
        value: What the caller passed.
        allow_none: Accept ``None`` (returned as is), where it means "no deadline".
        positive: Require ``> 0`` rather than ``>= 0``.

    Returns:
        ``value`` as a float (``None`` when allowed and given).

    Raises:
        TypeError: ``value`` is not a real number (nor an allowed ``None``).
        ValueError: ``value`` is NaN, infinite, negative, or zero where ``positive``.

    """
    return check_number(name, value, allow_none=allow_none, positive=positive, unit="of seconds")


def _seconds(
    *, positive: bool = False, allow_none: bool = False
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Return an attrs validator running ``check_seconds`` on the field."""

    def validate(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        check_seconds(attribute.name, value, positive=positive, allow_none=allow_none)

    return validate


def _number(
    *, positive: bool = False, at_most: float | None = None
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Return an attrs validator for a finite number that is not a duration."""

    def validate(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        number = check_number(attribute.name, value, positive=positive)
        if at_most is not None and number > at_most:
            raise ValueError(f"{attribute.name} must be <= {at_most}, got {value!r}")

    return validate


@runtime_checkable
class TimeoutLike(Protocol):
    """What ``timeout=`` reads from an ``httpx.Timeout`` (or any object with these attributes).

    ``read`` (else the largest of ``write`` and ``pool``) becomes the deadline of each
    request, ``connect`` the connection deadline; ``None`` means none.
    """

    @property
    def connect(self) -> float | None: ...

    @property
    def read(self) -> float | None: ...

    @property
    def write(self) -> float | None: ...

    @property
    def pool(self) -> float | None: ...


def _deadline(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validate a ``Timeout`` part: positive seconds, or ``math.inf`` for no deadline."""
    if isinstance(value, float) and value == math.inf:
        return
    check_seconds(attribute.name, value, positive=True)


@attrs.frozen(kw_only=True)
class Timeout:
    """Per-request timeouts, in seconds.

    Attributes:
        total: Deadline for one HTTP request, from connecting to the last byte of the reply;
            ``math.inf`` for none (``timeout=None``): the retry budget,
            ``RetryConfig.max_total``, still bounds every call.
        connect: Deadline for establishing the connection (TCP and TLS); ``math.inf`` for
            none.

    """

    total: float = attrs.field(default=60.0, validator=_deadline)
    connect: float = attrs.field(default=10.0, validator=_deadline)

    @classmethod
    def coerce(cls, value: object) -> Timeout:
        """Return ``value`` as a ``Timeout``.

        A number is the total deadline (connect: at most 10 s); ``None`` means no
        per-request deadline; an ``httpx.Timeout``-like object (``connect``, ``read``,
        ``write``, ``pool``) is read as ``total=read`` (else the largest of ``write`` and
        ``pool``) and ``connect``.

        Raises:
            TypeError: ``value`` is none of these.
            ValueError: A number is not positive and finite.

        """
        if isinstance(value, Timeout):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            total = check_seconds("timeout", value, positive=True)
            return cls(total=total, connect=min(10.0, total))
        if value is None:
            return cls(total=math.inf, connect=math.inf)
        if isinstance(value, TimeoutLike):
            return cls._from_timeout_like(value)
        raise TypeError(
            "timeout must be seconds, a Timeout, an httpx.Timeout-like object (with connect, "
            f"read, write and pool) or None, got {value!r:.80}"
        )

    @classmethod
    def _from_timeout_like(cls, value: TimeoutLike) -> Timeout:
        parts: dict[str, float | None] = {}
        for part in ("connect", "read", "write", "pool"):
            seconds = getattr(value, part)
            if seconds is not None:
                seconds = check_seconds(f"timeout.{part}", seconds, positive=True)
            parts[part] = seconds
        total = parts["read"]
        if total is None:
            others = [s for s in (parts["write"], parts["pool"]) if s is not None]
            total = max(others) if others else math.inf
        connect = parts["connect"] if parts["connect"] is not None else total
        return cls(total=total, connect=min(connect, total))


@attrs.frozen(kw_only=True)
class RetryConfig:
    """How requests are retried.

    Reads (GET, DELETE, PATCH) are retried on connection errors, timeouts, 408, 429 and 5xx.
    Creates (POST) are retried only when the server certainly did not accept them: the
    connection was never established, 429, 502 or 503.

    Attributes:
        max_retries: Retries after the first attempt (so ``max_retries + 1`` attempts at most).
        initial_delay: Back-off before the first retry; doubles each retry.
        max_delay: Cap on one back-off.
        jitter: Random extra of up to this fraction of the back-off (Runway advises up to 50%).
        max_retry_after: Cap on a server's ``Retry-After``.
        max_total: Give up retrying once this many seconds have passed since the first attempt.

    """

    max_retries: int = attrs.field(
        default=2,
        validator=attrs.validators.and_(
            attrs.validators.instance_of(int), attrs.validators.ge(0), attrs.validators.le(50)
        ),
    )
    initial_delay: float = attrs.field(default=0.5, validator=_seconds())
    max_delay: float = attrs.field(default=8.0, validator=_seconds())
    jitter: float = attrs.field(default=0.5, validator=_number())
    max_retry_after: float = attrs.field(default=60.0, validator=_seconds())
    max_total: float = attrs.field(default=120.0, validator=_seconds(positive=True))

    def backoff(self, retry_number: int, retry_after: float | None, rand: float) -> float:
        """Return the seconds to wait before retry number ``retry_number`` (1-based).

        The same under ``set_testing(True)``: there the clock's sleep is instant instead.

        Args:
            retry_number: 1 for the first retry.
            retry_after: The server's ``Retry-After`` in seconds, if it sent one.
            rand: A random number in [0, 1) for the jitter.

        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        base = min(self.max_delay, self.initial_delay * 2.0 ** (retry_number - 1))
        return base * (1.0 + self.jitter * rand)


def default_duration_cache(
    *,
    platform: str = sys.platform,
    environ: Mapping[str, str] | None = None,
    home: Callable[[], Path] = Path.home,
) -> Path | None:
    """Return the default file of learned task durations, in the user's cache directory.

    ``$XDG_CACHE_HOME`` (when absolute) or ``~/.cache`` on Linux and other Unixes,
    ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows; then
    ``runway_async/durations.json``. Nothing is created here.

    Args:
        platform: ``sys.platform`` (given by tests).
        environ: The environment (default: ``os.environ``).
        home: Returns the user's home directory (default: ``Path.home``).

    Returns:
        The path, or ``None`` when no home directory can be determined (the cache is then off).

    """
    env = os.environ if environ is None else environ
    try:
        if platform == "win32":
            local = env.get("LOCALAPPDATA", "")
            root = Path(local) if os.path.isabs(local) else home() / "AppData" / "Local"
        elif platform == "darwin":
            root = home() / "Library" / "Caches"
        else:
            # The XDG spec says a relative value is invalid and must be ignored.
            xdg = env.get("XDG_CACHE_HOME", "")
            root = Path(xdg) if os.path.isabs(xdg) else home() / ".cache"
    except (RuntimeError, KeyError, OSError):  # no home directory: nowhere to keep it
        return None
    return root / _CACHE_DIR / _CACHE_FILE


def _cache_path(value: object) -> Path | None:
    """Return a ``duration_cache`` argument as a path (``None``: off), refusing other types."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if isinstance(path, str) and path:
            return Path(path)
    raise TypeError(
        f"duration_cache must be a non-empty str or os.PathLike path, or None (off); got {value!r}"
    )


@attrs.frozen(kw_only=True, init=False)
class PollConfig:
    """How the client's task watcher polls tasks.

    Every time constant derives from ``min_interval`` unless set, so scaling that one number
    (``PollConfig(min_interval=5 * emulator_time_scale)``) scales the whole schedule.

    Attributes:
        min_interval: Fewest seconds between two GETs of the same task. Runway asks for at
            least 5 s on the real API; lower it only against the local emulator. When left
            at its default, ``set_testing(True)`` makes it 5 ms (the schedule is otherwise
            the same); a value you pass is always honoured.
        max_interval: Most seconds between two GETs of a watched task: the pace of slow polls
            while a task is THROTTLED or its end cannot be estimated. ``None``:
            ``6 * min_interval``.
        default_duration: Seconds a task of a model never observed is assumed to take; its
            slot is released this long after an ambiguous create. ``None``:
            ``24 * min_interval``.
        jitter: Largest fraction of a task's estimated duration added after its estimated
            end, so a fleet of tasks does not synchronise (at most 0.1).
        max_in_flight: Most task GETs in flight at once, per client.
        requests_per_second: Budget of task GETs per second, per client (a token bucket
            holding one second's worth). Scale it by ``1 / time_scale`` with the emulator.
        duration_cache: The file where learned task durations are kept between processes
            (per base URL and model), so a new process's first task of a model is polled at
            the learned time instead of ``min_interval``: by default
            ``durations.json`` under ``runway_async/`` in the user's cache directory (see
            ``default_duration_cache``); a ``str`` or ``os.PathLike`` for another file;
            ``None`` for none. When left at its default, ``set_testing(True)`` turns it off
            (a path you pass is always honoured). Like ``max_in_flight``, it is a setting of
            the client's watcher: a ``with_options`` copy's is not used.
        handover: Mean seconds of THROTTLED wait per task accepted to hand a slot to the
            next create before the task holding it is seen to end: the next create is sent
            when the old task is expected to end within about one create round trip, so the
            server starts it the moment the old one ends instead of a detection lag later
            (see ``Limiter.lend``). ``None``: ``0.04 * min_interval`` (0.2 s); ``0``: a
            slot passes on only once its task is seen to end.

    """

    min_interval: float = attrs.field(validator=_seconds(positive=True))
    max_interval: float | None = attrs.field(validator=_seconds(positive=True, allow_none=True))
    default_duration: float | None = attrs.field(validator=_seconds(positive=True, allow_none=True))
    jitter: float = attrs.field(validator=_number(at_most=0.1))
    max_in_flight: int = attrs.field(
        validator=attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(1))
    )
    requests_per_second: float = attrs.field(validator=_number(positive=True))
    duration_cache: Path | None = attrs.field(
        validator=attrs.validators.optional(attrs.validators.instance_of(Path))
    )
    handover: float | None = attrs.field(validator=_seconds(allow_none=True))
    _defaulted: bool = attrs.field(init=False, default=False, repr=False, eq=False)
    _cache_defaulted: bool = attrs.field(init=False, default=False, repr=False, eq=False)

    def __init__(
        self,
        *,
        min_interval: float | None = None,
        max_interval: float | None = None,
        default_duration: float | None = None,
        jitter: float = 0.02,
        max_in_flight: int = 16,
        requests_per_second: float = 25.0,
        interval: float | None = None,
        duration_cache: str | os.PathLike[str] | NotGiven | None = NOT_GIVEN,
        handover: float | None = None,
    ) -> None:
        """Build the settings; ``interval`` is the async core's name for ``min_interval``."""
        if interval is not None and min_interval is not None and interval != min_interval:
            raise ValueError("pass min_interval or its older name interval, not both")
        chosen = min_interval if min_interval is not None else interval
        self.__attrs_init__(
            min_interval=5.0 if chosen is None else chosen,
            max_interval=max_interval,
            default_duration=default_duration,
            jitter=jitter,
            max_in_flight=max_in_flight,
            requests_per_second=requests_per_second,
            duration_cache=(
                default_duration_cache()
                if isinstance(duration_cache, NotGiven)
                else _cache_path(duration_cache)
            ),
            handover=handover,
        )
        object.__setattr__(self, "_defaulted", chosen is None)
        object.__setattr__(self, "_cache_defaulted", isinstance(duration_cache, NotGiven))
        if max_interval is not None and max_interval < self.min_interval:
            raise ValueError(
                f"max_interval ({max_interval}) must be >= min_interval ({self.min_interval})"
            )

    @property
    def interval(self) -> float:
        """The async core's name for ``min_interval``."""
        return self.min_interval

    @property
    def shortest_interval(self) -> float:
        """``min_interval`` in force: 5 ms under the testing switch if it was not given."""
        if self._defaulted and is_testing():
            return _TESTING_MIN_INTERVAL
        return self.min_interval

    @property
    def duration_cache_in_force(self) -> Path | None:
        """``duration_cache``, or ``None`` under the testing switch if it was not given."""
        if self._cache_defaulted and is_testing():
            return None
        return self.duration_cache

    @property
    def handover_budget(self) -> float:
        """``handover``, or its default of ``0.04 * shortest_interval``."""
        return self.handover if self.handover is not None else 0.04 * self.shortest_interval

    @property
    def slowest_interval(self) -> float:
        """``max_interval``, or its default of ``6 * shortest_interval``."""
        if self.max_interval is not None:
            return max(self.max_interval, self.shortest_interval)
        return 6.0 * self.shortest_interval

    @property
    def assumed_duration(self) -> float:
        """``default_duration``, or its default of ``24 * shortest_interval``."""
        if self.default_duration is not None:
            return self.default_duration
        return 24.0 * self.shortest_interval


def resolve_api_key(api_key: str | None) -> str:
    """Return the API key given, else ``$RUNWAYML_API_SECRET``, else raise a clear error."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if not key:
        raise InvalidRequestError(
            f"No API key: pass api_key=... or set the {API_KEY_ENV} environment variable.",
            field="api_key",
        )
    if not isinstance(key, str):
        raise InvalidRequestError("api_key must be a string.", field="api_key")
    return key


@functools.lru_cache(maxsize=1024)
def is_loopback_host(host: str | None) -> bool:
    """Return whether ``host`` is ``localhost`` (or a subdomain) or a loopback IP address."""
    if not host:
        return False
    # A fully qualified name ("localhost.") resolves like the bare one.
    host = host.strip("[]").lower().removesuffix(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if not may_be_ip_address(host):
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_IPV4_CHARACTERS: Final = frozenset("0123456789.")


def may_be_ip_address(host: str) -> bool:
    """Return ``False`` when ``ipaddress.ip_address(host)`` would certainly refuse ``host``.

    A cheap test that spares a raised and caught ``ValueError`` for every domain name: an
    IPv6 address has a colon, and an IPv4 one (``ipaddress`` reads only the dotted decimal
    form) has nothing but ASCII digits and dots.
    """
    return ":" in host or _IPV4_CHARACTERS.issuperset(host)


def is_loopback_url(url: str) -> bool:
    """Return whether ``url``'s host is loopback (see ``is_loopback_host``).

    Raises:
        ValueError: ``url`` cannot be split into parts (an unclosed ``[`` in its host).

    """
    return is_loopback_host(urllib.parse.urlsplit(url).hostname)


def resolve_base_url(base_url: str | None) -> str:
    """Return the base URL given, else ``$RUNWAYML_BASE_URL``, else the production URL.

    A plain ``http://`` URL is refused unless its host is loopback, since the API key would
    travel in clear text.
    """
    url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(
            f"base_url must be an http(s) URL with a host, got {url!r}.", field="base_url"
        )
    if parts.username or parts.password:
        raise InvalidRequestError(
            "base_url must not carry credentials; pass the key as api_key.", field="base_url"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise InvalidRequestError(
            f"base_url {url!r} is plain http to a non-loopback host; the API key would travel "
            "in clear text. Use https, or http only for 127.0.0.1/localhost.",
            field="base_url",
        )
    return url.rstrip("/")


def setup_logging_from_env() -> None:
    """Turn on runway_async logging to stderr when ``RUNWAYML_LOG`` is ``debug`` or ``info``."""
    level = os.environ.get(LOG_ENV, "").strip().lower()
    if level not in ("debug", "info"):
        return
    logger = logging.getLogger("runway_async")
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
    if not any(getattr(h, "_runway_async", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("[%(asctime)s - %(name)s:%(lineno)d - %(levelname)s] %(message)s")
        )
        handler._runway_async = True  # type: ignore[attr-defined]  # marks our own handler
        logger.addHandler(handler)
