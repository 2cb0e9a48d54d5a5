"""API requests: headers, the retry policy, status errors and the never-pay-twice rules.

``APIRequester`` turns ``request("GET", "/v1/tasks/...")`` into ``HTTPTransport.send``
attempts run by ``_retry.call_with_retries``, and a reply into the parsed ``Response`` or
the matching exception. It holds the settings of one configured client (base URL, key,
timeout, retries, reply cap); ``with_options`` copies share its transport.

The retry policy never pays twice: a POST (which creates a task) is re-sent only when the
server certainly did not accept it (no connection was established, 429, 502, 503). Any other
failure after the request may have reached the server raises ``AmbiguousSubmissionError``.
"""

from __future__ import annotations

import json as jsonlib
import random
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from ._clock import SYSTEM_CLOCK, Clock
from ._config import RetryConfig, Timeout
from ._exceptions import (
    AmbiguousSubmissionError,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ResponseValidationError,
)
from ._http import (
    USER_AGENT,
    HTTPTransport,
    Request,
    Response,
    Secret,
    parse_retry_after,
    status_error_class,
)
from ._retry import call_with_retries, is_retryable

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "APIRequester",
    "check_max_response_bytes",
    "status_error",
]

DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024
"""Largest API reply read (``AsyncRunway(max_response_bytes=...)``); downloads have their own."""
_MAX_MESSAGE_TEXT: Final = 300
_SHORTEST_ATTEMPT: Final = 0.001


def check_max_response_bytes(value: object) -> None:
    """Refuse a ``max_response_bytes`` that is not a positive integer.

    Raises:
        ValueError: ``value`` is not an ``int`` >= 1.

    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_response_bytes must be an integer >= 1, got {value!r}")


def status_error(
    response: Response, *, method: str | None = None, url: str | None = None
) -> APIStatusError:
    """Return the exception for an error ``response``, with the body's details parsed."""
    status = response.status
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
    if response.truncated:
        detail += " (the reply was longer than max_response_bytes; .body holds its start)"
    where = f" for {method} {url}" if method and url else ""
    return status_error_class(status)(
        f"Error code {status}{where}: {detail}",
        status_code=status,
        method=method,
        url=url,
        body=data,
        request_id=response.request_id,
        retry_after=parse_retry_after(response.headers),
    )


class APIRequester:
    """Sends requests to the Runway API with auth, version header, retries and error mapping.

    Args:
        transport: Sends each attempt (shared with copies and downloads).
        base_url: The API's base URL, without a trailing slash.
        api_key: The API key (kept in a ``Secret``).
        runway_version: The ``X-Runway-Version`` header.
        timeout: Per-attempt timeouts.
        retry: The retry settings.
        default_headers: Extra headers sent with every request.
        max_response_bytes: Largest reply read.
        clock: Measures the retry budget and sleeps the back-offs.

    Raises:
        ValueError: ``max_response_bytes`` is not an integer >= 1.

    """

    def __init__(
        self,
        *,
        transport: HTTPTransport,
        base_url: str,
        api_key: str | Secret,
        runway_version: str,
        timeout: Timeout,
        retry: RetryConfig,
        default_headers: Mapping[str, str] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        check_max_response_bytes(max_response_bytes)
        self.transport = transport
        self.base_url = base_url
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        self.runway_version = runway_version
        self.timeout = timeout
        self.retry = retry
        self.default_headers: Mapping[str, str] = dict(default_headers or {})
        self.max_response_bytes = max_response_bytes
        self.clock = clock
        self._rand = random.Random()  # noqa: S311 - jitter, not cryptography
        self._prepared: _PreparedHeaders | None = None

    def __repr__(self) -> str:
        return f"<APIRequester {self.base_url}>"

    def copy(
        self,
        *,
        timeout: Timeout | None = None,
        retry: RetryConfig | None = None,
        max_response_bytes: int | None = None,
    ) -> APIRequester:
        """Return a requester with other settings, sending through the same transport."""
        return APIRequester(
            transport=self.transport,
            base_url=self.base_url,
            api_key=self._key,
            runway_version=self.runway_version,
            timeout=timeout or self.timeout,
            retry=retry or self.retry,
            default_headers=self.default_headers,
            max_response_bytes=(
                self.max_response_bytes if max_response_bytes is None else max_response_bytes
            ),
            clock=self.clock,
        )

    def url(self, path: str) -> str:
        """Return the absolute URL of an API ``path`` such as ``/v1/tasks/abc``."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def _headers(self) -> Mapping[str, str]:
        # The same for every request: built once, read-only (a transport cannot change what
        # later requests send), and held in an object whose repr shows no key.
        prepared = self._prepared
        if prepared is None:
            prepared = self._prepared = _PreparedHeaders(
                {
                    **self.default_headers,
                    "Authorization": f"Bearer {self._key.reveal()}",
                    "X-Runway-Version": self.runway_version,
                    "User-Agent": USER_AGENT,
                    "Accept": "application/json",
                }
            )
        return prepared.headers

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

        Each attempt's timeout is cut to what is left of ``RetryConfig.max_total``, so the
        budget bounds the whole call, the attempt in progress included.

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
            AmbiguousSubmissionError: for a non-idempotent request that may have been accepted,
                including one whose reply was too large to read.
            ResponseValidationError: a successful reply was larger than ``max_response_bytes``.

        """
        method = method.upper()
        if idempotent is None:
            idempotent = method != "POST"
        call = _Call(self, method, path, json, params, idempotent=idempotent)
        return await call_with_retries(
            call.attempt,
            retry=self.retry,
            clock=self.clock,
            what=f"{method} {path}",
            idempotent=idempotent,
            rand=self._rand.random,
        )


class _PreparedHeaders:
    """A requester's headers, credentials included; its repr shows none of them."""

    __slots__ = ("headers",)

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers: Mapping[str, str] = MappingProxyType(headers)

    def __repr__(self) -> str:
        return "<headers>"


class _Call:
    """One ``APIRequester.request`` call: makes its attempts and judges each reply."""

    __slots__ = ("idempotent", "json", "method", "params", "path", "requester", "url")

    def __init__(
        self,
        requester: APIRequester,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str] | None,
        *,
        idempotent: bool,
    ) -> None:
        self.requester = requester
        self.method = method
        self.path = path
        self.url = requester.url(path)
        self.json = json
        self.params = params
        self.idempotent = idempotent

    def __repr__(self) -> str:
        return f"<call {self.method} {self.path}>"

    async def attempt(self, budget: float) -> Response:
        """Send one attempt with at most ``budget`` seconds; return a successful reply.

        Raises:
            APIError: The attempt failed; a create that may have been accepted raises
                ``AmbiguousSubmissionError`` (never retried).

        """
        requester = self.requester
        method, url = self.method, self.url
        total = requester.timeout.total
        capped = budget < total
        if capped:
            total = max(budget, _SHORTEST_ATTEMPT)
        failure: APIConnectionError | None = None
        try:
            # The headers go straight into the request, which leaves them out of its repr:
            # a local holding them would show the key in this frame's locals.
            response = await requester.transport.send(
                Request(
                    method=method,
                    url=url,
                    headers=requester._headers(),
                    json=self.json,
                    params=self.params,
                    timeout=total,
                    connect_timeout=min(requester.timeout.connect, total),
                    max_response_bytes=requester.max_response_bytes,
                )
            )
        except APIConnectionError as exc:  # APITimeoutError included
            failure = exc
            if capped and exc.sent and isinstance(exc, APITimeoutError):
                failure = APITimeoutError(
                    f"Timed out during {method} {url} (the retry budget, "
                    "RetryConfig.max_total, ran out).",
                    method=method,
                    url=url,
                    sent=True,
                    cause=exc.cause,
                )
        if failure is not None:
            if failure.sent and not self.idempotent:
                raise AmbiguousSubmissionError(
                    f"{method} {self.path} may have reached the server ({failure.message}); "
                    "it was not re-sent, to avoid paying twice. Check your tasks before "
                    "submitting again.",
                    method=method,
                    url=url,
                    request_body=self.json,
                ) from failure
            raise failure
        if response.truncated and response.status < 400:
            raise self._oversized_error(response)
        if response.status < 400 and isinstance(response.data, str):
            raise self._not_json_error(response)
        if response.status < 400:
            return response
        error = status_error(response, method=method, url=url)
        if (
            not self.idempotent
            and response.status >= 500
            and not is_retryable(error, idempotent=False)
        ):
            raise self._ambiguous(
                response,
                f"{method} {self.path} failed with {response.status} after the server "
                "received it; it may have been accepted, so it was not re-sent. Check your "
                "tasks before submitting again.",
            ) from error
        raise error

    def _ambiguous(self, response: Response, message: str) -> AmbiguousSubmissionError:
        """Return the error of a create the server answered, which it may have accepted."""
        return AmbiguousSubmissionError(
            message,
            method=self.method,
            url=self.url,
            request_body=self.json,
            status_code=response.status,
            body=response.data,
        )

    def _not_json_error(self, response: Response) -> APIError:
        """Return the error of a successful reply whose body is text, not a JSON value.

        Every API reply is a JSON object (or empty); text is a gateway's or proxy's page.
        The message names the status, the content type and the start of the text.
        """
        text = response.data
        excerpt = text.strip()[:_MAX_MESSAGE_TEXT]
        kind = response.headers.get("content-type") or "no content type"
        what = (
            f"{self.method} {self.path} was answered {response.status} with a reply that is "
            f"not JSON ({kind}): {excerpt!r}{'...' if len(text.strip()) > len(excerpt) else ''}"
        )
        cause = ResponseValidationError(f"{what}.", method=self.method, url=self.url, body=text)
        if self.idempotent:
            return cause
        # The server may have created the task before something in between answered.
        error = self._ambiguous(
            response,
            f"{what}; it may have been accepted, so it was not re-sent. Check your tasks "
            "before submitting again.",
        )
        error.__cause__ = cause
        return error

    def _oversized_error(self, response: Response) -> APIError:
        method, path, url = self.method, self.path, self.url
        limit = self.requester.max_response_bytes
        what = (
            f"the reply to {method} {path} is larger than max_response_bytes={limit}; raise "
            "it with AsyncRunway(max_response_bytes=...) if such replies are expected"
        )
        if self.idempotent:
            return ResponseValidationError(
                f"{what[0].upper()}{what[1:]}.", method=method, url=url, body=response.data
            )
        # The server answered success: the task may exist, though its id went unread.
        return self._ambiguous(
            response,
            f"{method} {path} was answered {response.status}, but {what}; it may have been "
            "accepted, so it was not re-sent. Check your tasks before submitting again.",
        )
