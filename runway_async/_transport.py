"""HTTP transport: the only client-side module that imports aiohttp.

It owns the session's lifecycle, builds the headers, retries by the policy in ``RetryConfig``
and maps every aiohttp/asyncio failure into the exception tree of ``_exceptions``.

The retry policy never pays twice: a POST (which creates a task) is re-sent only when the
server certainly did not accept it (no connection was established, 429, 502, 503). Any other
failure after the request may have reached the server raises ``AmbiguousSubmissionError``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json as jsonlib
import logging
import random
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final

import aiohttp
import attrs

from ._config import RetryConfig, Timeout
from ._exceptions import (
    AmbiguousSubmissionError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._version import __version__

__all__ = ["Response", "Transport", "status_error"]

logger = logging.getLogger("runway_async")

USER_AGENT: Final = f"runway-async/{__version__}"
_STATUS_ERRORS: Final[Mapping[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
_READ_RETRY_STATUSES: Final = frozenset({408, 429})
_CREATE_RETRY_STATUSES: Final = frozenset({429, 502, 503})
_MAX_MESSAGE_TEXT: Final = 300


class _Secret:
    """Holds the API key so that no repr, str or traceback local shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


@attrs.frozen
class Response:
    """A reply from the API.

    Attributes:
        status: HTTP status.
        headers: Response headers (lower-case names).
        data: The parsed JSON body, the text when it was not JSON, or ``None`` when empty.
        request_id: The server's request id, when it sent one.

    """

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    data: Any
    request_id: str | None = None


class _SessionHolder:
    """Creates the aiohttp session lazily inside the running loop; shared by client copies."""

    def __init__(self, session: aiohttp.ClientSession | None) -> None:
        self._session = session
        self.owned = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    @property
    def open_and_owned(self) -> bool:
        return self.owned and self._session is not None and not self._session.closed

    def get(self) -> aiohttp.ClientSession:
        if self.closed:
            raise RuntimeError("This client is closed; create a new one.")
        loop = asyncio.get_running_loop()
        if self._session is None:
            self._session = aiohttp.ClientSession(
                trust_env=True,  # honour HTTPS_PROXY / NO_PROXY like httpx-based SDKs
                connector=aiohttp.TCPConnector(limit=100),
            )
            self._loop = loop
        elif self.owned and self._loop is not loop:
            raise RuntimeError(
                "This AsyncRunway client was first used in another event loop; create one "
                "client per event loop, or use the sync Runway client."
            )
        return self._session

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.owned and self._session is not None:
            await self._session.close()


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return jsonlib.loads(text)
    except ValueError:
        return text


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def status_error(
    response: Response, *, method: str | None = None, url: str | None = None
) -> APIStatusError:
    """Return the exception for an error ``response``, with the body's details parsed."""
    status = response.status
    cls = _STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    data = response.data
    detail: str
    if isinstance(data, Mapping) and isinstance(data.get("error"), str):
        detail = data["error"]
        issues = data.get("issues")
        if isinstance(issues, list) and issues:
            parts = []
            for issue in issues[:5]:
                if isinstance(issue, Mapping):
                    path = ".".join(str(p) for p in issue.get("path", []) or [])
                    msg = issue.get("message", "")
                    parts.append(f"{path}: {msg}" if path else str(msg))
            if parts:
                detail += " (" + "; ".join(parts) + ")"
    elif isinstance(data, str):
        detail = data.strip()
    elif data is None:
        detail = "no body"
    else:
        detail = jsonlib.dumps(data)
    if len(detail) > _MAX_MESSAGE_TEXT:
        detail = detail[:_MAX_MESSAGE_TEXT] + "..."
    where = f" for {method} {url}" if method and url else ""
    return cls(
        f"Error code {status}{where}: {detail}",
        status_code=status,
        method=method,
        url=url,
        body=data,
        request_id=response.request_id,
        retry_after=_retry_after(response.headers),
    )


class Transport:
    """Sends requests to the Runway API with auth, version header, retries and error mapping."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        runway_version: str,
        timeout: Timeout,
        retry: RetryConfig,
        session: object | None = None,
        default_headers: Mapping[str, str] | None = None,
        _holder: _SessionHolder | None = None,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise TypeError("session must be an aiohttp.ClientSession")
        self.base_url = base_url
        self._key = _Secret(api_key)
        self.runway_version = runway_version
        self.timeout = timeout
        self.retry = retry
        self.default_headers = dict(default_headers or {})
        self._holder = _holder if _holder is not None else _SessionHolder(session)
        self._rand = random.Random()  # noqa: S311 - jitter, not cryptography

    def __repr__(self) -> str:
        return f"<Transport {self.base_url}>"

    @property
    def owns_open_session(self) -> bool:
        """Whether this transport created a session that is still open."""
        return self._holder.open_and_owned

    @property
    def closed(self) -> bool:
        """Whether ``aclose()`` was called on the shared session holder."""
        return self._holder.closed

    def copy(
        self, *, timeout: Timeout | None = None, retry: RetryConfig | None = None
    ) -> Transport:
        """Return a transport with other settings sharing this one's connection pool."""
        return Transport(
            base_url=self.base_url,
            api_key=self._key.reveal(),
            runway_version=self.runway_version,
            timeout=timeout or self.timeout,
            retry=retry or self.retry,
            default_headers=self.default_headers,
            _holder=self._holder,
        )

    async def aclose(self) -> None:
        """Close the session if we created it; idempotent."""
        await self._holder.close()

    def url(self, path: str) -> str:
        """Return the absolute URL of an API ``path`` such as ``/v1/tasks/abc``."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def _headers(self) -> dict[str, str]:
        return {
            **self.default_headers,
            "Authorization": f"Bearer {self._key.reveal()}",
            "X-Runway-Version": self.runway_version,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Response:
        """Send one API request with retries and return the successful reply.

        Args:
            method: HTTP method.
            path: API path (``/v1/...``).
            json: JSON body, if any.
            params: Query parameters.
            idempotent: Whether the request may be re-sent after an ambiguous failure;
                defaults to ``True`` for everything but POST.

        Raises:
            APIStatusError: (a subclass of) for error replies.
            APIConnectionError: when the connection failed and retries ran out.
            AmbiguousSubmissionError: for a non-idempotent request that may have been accepted.

        """
        method = method.upper()
        url = self.url(path)
        if idempotent is None:
            idempotent = method != "POST"
        retry = self.retry
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            error: Exception
            retry_after: float | None = None
            try:
                response = await self._send_once(method, url, json, params)
            except APIConnectionError as exc:
                if not exc.sent or idempotent:
                    error = exc
                else:
                    raise AmbiguousSubmissionError(
                        f"{method} {path} may have reached the server ({exc.message}); it was "
                        "not re-sent, to avoid paying twice. Check your tasks before "
                        "submitting again.",
                        method=method,
                        url=url,
                        request_body=json,
                    ) from exc
            else:
                if response.status < 400:
                    return response
                error = status_error(response, method=method, url=url)
                status = response.status
                if idempotent:
                    retryable = status in _READ_RETRY_STATUSES or status >= 500
                else:
                    retryable = status in _CREATE_RETRY_STATUSES
                    if not retryable and status >= 500:
                        raise AmbiguousSubmissionError(
                            f"{method} {path} failed with {status} after the server received "
                            "it; it may have been accepted, so it was not re-sent. Check your "
                            "tasks before submitting again.",
                            method=method,
                            url=url,
                            request_body=json,
                            status_code=status,
                            body=response.data,
                        ) from error
                if not retryable:
                    raise error
                retry_after = error.retry_after
            if attempt > retry.max_retries:
                raise error
            delay = retry.backoff(attempt, retry_after, self._rand.random())
            if time.monotonic() - started + delay > retry.max_total:
                raise error
            logger.info(
                "Retrying %s %s in %.2fs (retry %d of %d) after: %s",
                method,
                path,
                delay,
                attempt,
                retry.max_retries,
                error,
            )
            await asyncio.sleep(delay)

    async def _send_once(
        self,
        method: str,
        url: str,
        json: Any,
        params: Mapping[str, str] | None,
    ) -> Response:
        session = self._holder.get()
        timeout = aiohttp.ClientTimeout(total=self.timeout.total, connect=self.timeout.connect)
        started = time.monotonic()
        try:
            async with session.request(
                method,
                url,
                json=json,
                params=params,
                headers=self._headers(),
                timeout=timeout,
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                headers = {k.lower(): v for k, v in resp.headers.items()}
                status = resp.status
        except aiohttp.ClientConnectorError as exc:
            # The TCP/TLS connection was never established: the server did not see the request.
            raise APIConnectionError(
                f"Could not connect to {self.base_url}: {exc.os_error or exc}",
                method=method,
                url=url,
                sent=False,
            ) from exc
        except _CONNECT_TIMEOUTS as exc:
            raise APITimeoutError(
                f"Timed out connecting to {self.base_url}.", method=method, url=url, sent=False
            ) from exc
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise APITimeoutError(
                f"Timed out after sending {method} {url}.", method=method, url=url, sent=True
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise APIConnectionError(
                f"Connection broken during {method} {url}: {type(exc).__name__}: {exc}",
                method=method,
                url=url,
                sent=True,
            ) from exc
        request_id = headers.get("x-request-id") or headers.get("apigw-requestid")
        logger.debug(
            "%s %s -> %d in %.3fs%s",
            method,
            url,
            status,
            time.monotonic() - started,
            f" (request id {request_id})" if request_id else "",
        )
        return Response(
            status=status, headers=headers, data=_parse_body(raw), request_id=request_id
        )


# aiohttp >= 3.10 tells a connect timeout apart from a read timeout.
_CONNECT_TIMEOUTS: tuple[type[BaseException], ...] = tuple(
    cls for cls in (getattr(aiohttp, "ConnectionTimeoutError", None),) if isinstance(cls, type)
)
