"""Per-call request options: ``extra_headers``, ``extra_query``, ``extra_body``, ``timeout``.

The official SDK's keywords, accepted by every endpoint method.

Each method passes its four keywords to ``call_options``, which returns ``None`` when none
was given (the common case costs nothing more) or one frozen ``CallOptions`` that travels
through the core, the limiter and the requester unchanged:

- ``extra_headers`` are added to (and override) the client's headers for this call;
- ``extra_query`` is added to the query string (wire names, written by
  ``_spec.merge_query``: lists comma-joined, ``None`` leaves a parameter out);
- ``extra_body`` is merged into the JSON body after the keywords are converted to wire
  names: its keys are wire names, sent as given, and overriding the converted members;
  validation leaves the members it sets to the server;
- ``timeout`` bounds each HTTP request of the call (seconds, a ``Timeout``, an
  ``httpx.Timeout``-like object, or ``None`` for no per-request deadline: then only the
  retry budget, ``RetryConfig.max_total``, bounds it). It never bounds the wait for a
  concurrency slot (``slot_timeout``) nor the wait for a task.

Also here: the ``TypeError`` hint for an unknown keyword argument (``hint_unknown_keywords``)
and the ``http_client`` markers of the official SDK (``DefaultAioHttpClient``).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, Final, TypeVar

import attrs

from ._config import NOT_GIVEN, NotGiven, Timeout, TimeoutLike

__all__ = [
    "OPTION_NAMES",
    "RAW_SINK",
    "Body",
    "CallOptions",
    "DefaultAioHttpClient",
    "DefaultAsyncHttpxClient",
    "DefaultHttpxClient",
    "Headers",
    "Query",
    "RequestTimeout",
    "TimeoutLike",
    "call_options",
    "check_http_client",
    "checked_mapping",
    "hint_unknown_keywords",
]

Headers = Mapping[str, str]
"""Extra request headers (``extra_headers=``, ``default_headers=``)."""
Query = Mapping[str, object]
"""Extra query parameters (``extra_query=``, ``default_query=``): wire names."""
Body = Mapping[str, object]
"""Extra JSON body members (``extra_body=``): wire names, sent as given."""


RequestTimeout = float | Timeout | TimeoutLike | None | NotGiven
"""What ``timeout=`` takes: seconds, a ``Timeout``, an ``httpx.Timeout``-like object,
``None`` (no per-request deadline; the retry budget still bounds the call) or ``NOT_GIVEN``
(the client's)."""


@attrs.frozen
class CallOptions:
    """The per-call options of one endpoint call (see the module docstring).

    Attributes:
        extra_headers: Headers added to the client's (overriding same-named ones).
        extra_query: Query parameters added (wire names).
        extra_body: JSON members merged into the body (wire names, overriding).
        timeout: The per-request deadline of this call; ``None``: the client's.
        sink: Where the call's own HTTP exchange is recorded (``with_raw_response``): set
            from ``RAW_SINK`` when the call is made inside a raw-response wrapper. Only the
            request given these options records into it, never the other requests of the
            call (uploads, the organization read).

    """

    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, object] | None = None
    extra_body: Mapping[str, object] | None = None
    timeout: Timeout | None = None
    sink: Any = None


RAW_SINK: ContextVar[Any] = ContextVar("runway_async_raw_sink", default=None)
"""The raw-response recorder of the call being made (set by ``with_raw_response``)."""


OPTION_NAMES: Final = ("extra_headers", "extra_query", "extra_body", "timeout")
"""The official SDK's per-call option keywords, in its order."""


def call_options(
    extra_headers: object = None,
    extra_query: object = None,
    extra_body: object = None,
    timeout: object = NOT_GIVEN,
) -> CallOptions | None:
    """Return the ``CallOptions`` of one call's keywords, or ``None`` when none was given.

    Raises:
        TypeError: An option is not a mapping (a header value not a string), or ``timeout``
            is not a timeout.
        ValueError: A timeout is not positive.

    """
    sink = RAW_SINK.get()
    if (
        extra_headers is None
        and extra_query is None
        and extra_body is None
        and timeout is NOT_GIVEN
        and sink is None
    ):
        return None
    return CallOptions(
        extra_headers=checked_mapping("extra_headers", extra_headers, text_values=True),
        extra_query=checked_mapping("extra_query", extra_query),
        extra_body=checked_mapping("extra_body", extra_body),
        timeout=None if isinstance(timeout, NotGiven) else Timeout.coerce(timeout),
        sink=sink,
    )


def checked_mapping(
    name: str, value: object, *, text_values: bool = False
) -> dict[str, Any] | None:
    """Return an option that maps names to values as a dict (``None`` stays ``None``).

    The one check of ``extra_headers``, ``extra_query``, ``extra_body``, ``default_headers``
    and ``default_query``: names are strings, and with ``text_values`` (headers) so are the
    values. Messages name the option and the offending name or type, never a value.

    Raises:
        TypeError: ``value`` is not such a mapping.

    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping (a dict), got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"{name} keys must be strings, got {key!r}")
        if text_values and not isinstance(item, str):
            raise TypeError(
                f"{name} must map header names to strings, got {key!r}: {type(item).__name__}"
            )
    return dict(value)


# -- unknown keyword arguments ----------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])
_UNEXPECTED: Final = "unexpected keyword argument"
# Python 3.13 adds "Did you mean 'x'?" after the name: take the name, not the last word.
_UNEXPECTED_NAME: Final = re.compile(r"unexpected keyword argument '([^']*)'")


def hint_unknown_keywords(func: F) -> F:
    """Return ``func`` whose "unexpected keyword argument" ``TypeError`` points to ``extra_body``.

    Only a ``TypeError`` raised by the call itself (binding the arguments, before ``func``
    runs) is reworded; one raised inside ``func`` passes unchanged. A coroutine function
    gets a coroutine wrapper (so ``inspect.iscoroutinefunction`` stays true on every Python):
    its ``TypeError`` is raised when the call is awaited.
    """
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                coro = func(*args, **kwargs)
            except TypeError as exc:
                reworded = _reworded(exc)
                if reworded is exc:
                    raise
                raise reworded from None
            return await coro

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TypeError as exc:
            reworded = _reworded(exc)
            if reworded is exc:
                raise
            raise reworded from None

    return wrapper  # type: ignore[return-value]


def _reworded(exc: TypeError) -> TypeError:
    """Return ``exc`` with the ``extra_body`` hint if binding the call raised it, else itself."""
    tb = exc.__traceback__
    message = str(exc)
    if tb is None or tb.tb_next is not None or _UNEXPECTED not in message:
        return exc
    found = _UNEXPECTED_NAME.search(message)
    name = found.group(1) if found else "name"
    end = "" if message.endswith((".", "?", "!")) else "."
    return TypeError(
        f"{message}{end} To send a parameter this SDK does not know yet, pass it by its wire "
        f"name in extra_body={{{name!r}: ...}} (JSON body) or extra_query (query string)"
    )


def wrap_public_methods(cls: type) -> None:
    """Give every public method defined on ``cls`` the ``extra_body`` hint (see above)."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        if inspect.isasyncgenfunction(member):
            continue  # a stream, not an API call (and it keeps its kind for ``inspect``)
        if getattr(member, "__wrapped__", None) is not None:
            continue
        setattr(cls, name, hint_unknown_keywords(member))


# -- http_client -----------------------------------------------------------------------------


class _DefaultHTTPClient:
    """A marker for ``http_client=``: "the SDK's own HTTP client", which is ours anyway."""

    def __init__(self, **kwargs: object) -> None:
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}() takes no options here ({', '.join(sorted(kwargs))}): "
                "runway_async always uses its own aiohttp client. Pass session= for an "
                "aiohttp.ClientSession of your own; proxies come from the environment "
                "(HTTPS_PROXY, NO_PROXY); timeouts and retries from timeout=, max_retries= or "
                "with_options()."
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class DefaultAioHttpClient(_DefaultHTTPClient):
    """The official SDK's aiohttp option, ``AsyncRunway(http_client=DefaultAioHttpClient())``.

    Accepted for migration: runway_async is built on aiohttp, so this is what it does anyway.
    """


class DefaultAsyncHttpxClient(_DefaultHTTPClient):
    """The official SDK's default async client; accepted: ``AsyncRunway`` uses its own."""


class DefaultHttpxClient(_DefaultHTTPClient):
    """The official SDK's default sync client; accepted: ``Runway`` uses its own."""


def check_http_client(http_client: object) -> None:
    """Accept ``None`` and the ``Default*Client()`` markers; refuse any other client.

    Raises:
        TypeError: ``http_client`` is another object (an httpx client cannot drive us).

    """
    if http_client is None or isinstance(http_client, _DefaultHTTPClient):
        return
    raise TypeError(
        f"http_client={type(http_client).__name__}(...) cannot be used: runway_async sends its "
        "requests with aiohttp, not httpx. Instead: pass session=aiohttp.ClientSession(...) "
        "for a session of your own (its connector, trace configs and limits), set proxies in "
        "the environment (HTTPS_PROXY, NO_PROXY), and timeouts or retries with timeout=, "
        "max_retries= or client.with_options(...); http_client=DefaultAioHttpClient() is "
        "accepted."
    )
