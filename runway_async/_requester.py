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
import time
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
    StreamingTransport,
    build_response,
    parse_retry_after,
    status_error_class,
)
from ._options import CallOptions
from ._raw import HTTPRequest, HTTPResponse, RawRecorder, http_response
from ._retry import call_with_retries, is_retryable
from ._spec import merge_query

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
# What is kept of a streamed reply over the cap, for the exception's body.
_PREVIEW_BYTES: Final = 8 * 1024


def check_max_response_bytes(value: object) -> None:
    """Refuse a ``max_response_bytes`` that is not a positive integer.

    Raises:
        ValueError: ``value`` is not an ``int`` >= 1.

    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_response_bytes must be an integer >= 1, got {value!r}")


def status_error(
    response: Response,
    *,
    method: str | None = None,
    url: str | None = None,
    http: HTTPResponse | None = None,
) -> APIStatusError:
    """Return the exception for an error ``response``, with the body's details parsed.

    Args:
        response: The error reply.
        method: The request's method, for the message.
        url: The request's URL, for the message.
        http: The exchange as ``APIStatusError.response`` shows it; by default one is made
            from ``response``, ``method`` and ``url``.

    """
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
    if http is None:
        http = HTTPResponse(
            status_code=status,
            headers=response.headers,
            request=HTTPRequest(method or "", url or ""),
            content=response.content,
            data=data,
            http_version=response.http_version,
            request_id=response.request_id,
            truncated=response.truncated,
        )
    return status_error_class(status)(
        f"Error code {status}{where}: {detail}",
        status_code=status,
        method=method,
        url=url,
        body=data,
        request_id=response.request_id,
        retry_after=parse_retry_after(response.headers),
        response=http,
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
        default_query: Query parameters added to every request (wire names).
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
        default_query: Mapping[str, object] | None = None,
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
        self.default_query: Mapping[str, str] = merge_query(None, default_query or {})
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
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
    ) -> APIRequester:
        """Return a requester with other settings, sending through the same transport.

        ``default_headers`` and ``default_query`` are added to this requester's own.
        """
        return APIRequester(
            transport=self.transport,
            base_url=self.base_url,
            api_key=self._key,
            runway_version=self.runway_version,
            timeout=timeout or self.timeout,
            retry=retry or self.retry,
            default_headers={**self.default_headers, **(default_headers or {})},
            default_query={**self.default_query, **(default_query or {})},
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
        options: CallOptions | None = None,
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
            options: The call's ``extra_headers``, ``extra_query`` and ``timeout`` (its
                ``extra_body`` is merged into ``json`` by the caller).

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
        if self.default_query or options is not None:
            params = self._query(params, options)
        call = _Call(self, method, path, json, params, idempotent=idempotent, options=options)
        return await call_with_retries(
            call.attempt,
            retry=self.retry,
            clock=self.clock,
            what=f"{method} {path}",
            idempotent=idempotent,
            rand=self._rand.random,
        )

    def _query(
        self, params: Mapping[str, str] | None, options: CallOptions | None
    ) -> Mapping[str, str] | None:
        """Return the query of a call: the defaults, its own parameters, its ``extra_query``.

        ``extra_query`` goes last, so its ``None`` removes a default too. A plain call's
        ``params`` already hold it (``to_request`` checks and writes them); merging it again
        with the same writer (``merge_query``) changes nothing else.
        """
        extra = options.extra_query if options is not None else None
        if not self.default_query and not extra:
            return params
        merged = {**self.default_query, **(params or {})}
        return merge_query(merged, extra) if extra else merged


def _merged_headers(base: Mapping[str, str], extra: Mapping[str, str]) -> _PreparedHeaders:
    """Return ``base`` with ``extra`` added, a name in ``extra`` replacing any spelling of it."""
    replaced = {name.lower() for name in extra}
    merged = {name: value for name, value in base.items() if name.lower() not in replaced}
    merged.update(extra)
    return _PreparedHeaders(merged)


class _PreparedHeaders:
    """A requester's headers, credentials included; its repr shows none of them."""

    __slots__ = ("headers",)

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers: Mapping[str, str] = MappingProxyType(headers)

    def __repr__(self) -> str:
        return "<headers>"


class _Call:
    """One ``APIRequester.request`` call: makes its attempts and judges each reply."""

    __slots__ = (
        "attempts",
        "connect",
        "headers",
        "idempotent",
        "json",
        "method",
        "params",
        "path",
        "requester",
        "sink",
        "total",
        "url",
    )

    def __init__(
        self,
        requester: APIRequester,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str] | None,
        *,
        idempotent: bool,
        options: CallOptions | None = None,
    ) -> None:
        self.requester = requester
        self.method = method
        self.path = path
        self.url = requester.url(path)
        self.json = json
        self.params = params
        self.idempotent = idempotent
        timeout = requester.timeout
        self.headers: _PreparedHeaders | None = None  # None: the requester's prepared ones
        if options is not None:
            if options.timeout is not None:
                timeout = options.timeout
            if options.extra_headers:
                self.headers = _merged_headers(requester._headers(), options.extra_headers)
        self.total = timeout.total
        self.connect = timeout.connect
        self.attempts = 0
        # Where the exchange is recorded (with_raw_response): only for the call's own task.
        sink = options.sink if options is not None else None
        self.sink: RawRecorder | None = (
            sink if isinstance(sink, RawRecorder) and sink.accepts() else None
        )

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
        total = self.total
        capped = budget < total
        if capped:
            total = max(budget, _SHORTEST_ATTEMPT)
        failure: APIConnectionError | None = None
        # The headers go straight into the request, which leaves them out of its repr: a
        # local holding them would show the key in this frame's locals.
        request = Request(
            method=method,
            url=url,
            headers=requester._headers() if self.headers is None else self.headers.headers,
            json=self.json,
            params=self.params,
            timeout=total,
            connect_timeout=min(self.connect, total),
            max_response_bytes=requester.max_response_bytes,
        )
        self.attempts += 1
        sink = self.sink
        transport = requester.transport
        started = time.perf_counter()
        try:
            if (
                sink is not None
                and sink.stream
                and method != "POST"
                and isinstance(transport, StreamingTransport)
            ):
                response = await self._open(transport, request, sink, started)
            else:
                response = await transport.send(request)
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
        http: HTTPResponse | None = None
        if sink is not None or response.status >= 400:
            http = http_response(request, response, elapsed=time.perf_counter() - started)
            if sink is not None:
                sink.record(http, self.attempts)
        if response.truncated and response.status < 400:
            raise self._oversized_error(response)
        if response.status < 400 and isinstance(response.data, str):
            raise self._not_json_error(response)
        if response.status < 400:
            return response
        error = status_error(response, method=method, url=url, http=http)
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

    async def _open(
        self, transport: StreamingTransport, request: Request, sink: RawRecorder, started: float
    ) -> Response:
        """Send one attempt whose successful reply waits, body unread, for the raw caller.

        An error reply is read at once (it becomes an exception, or is retried). A
        successful one is recorded with its headers, then ``sink.hold`` waits until the
        caller asks for the body, which is read (capped) here: the call goes on as usual.
        """
        limit = request.max_response_bytes
        async with transport.open(request) as reply:
            status = reply.status
            version = getattr(reply, "http_version", "HTTP/1.1")
            if status < 400:
                head = http_response(
                    request,
                    None,
                    elapsed=time.perf_counter() - started,
                    status=status,
                    headers=reply.headers,
                    http_version=version,
                )
                await sink.hold(reply, head, self.attempts)
            raw = await reply.read_at_most(limit + 1)
            headers = reply.headers
        if len(raw) > limit:
            return build_response(
                status,
                headers,
                raw[: min(limit, _PREVIEW_BYTES)],
                complete=False,
                http_version=version,
            )
        return build_response(status, headers, raw, http_version=version)

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
