"""The one exception tree of runway_async.

::

    RunwayError  (alias RunwayMLError)
    ├── InvalidRequestError (ValueError)      bad parameters, raised before any request is sent
    ├── SlotTimeoutError (TimeoutError)       no concurrency slot freed up within slot_timeout;
    │                                         nothing was sent
    ├── LimiterUnavailableError               the shared limiter (Redis) could not be reached
    │                                         within its bound; nothing was sent
    ├── MissingExtraError (ImportError)       an optional extra (``redis``) is not installed
    ├── StreamAlreadyConsumed                 a streamed raw response's body was read twice
    ├── APIError
    │   ├── APIConnectionError                the connection failed or broke
    │   │   └── APITimeoutError (TimeoutError)
    │   ├── APIStatusError                    the server answered with a 4xx/5xx status
    │   │   ├── BadRequestError               400
    │   │   ├── AuthenticationError           401
    │   │   ├── PermissionDeniedError         403
    │   │   ├── NotFoundError                 404
    │   │   ├── ConflictError                 409
    │   │   ├── UnprocessableEntityError      422
    │   │   ├── RateLimitError                429
    │   │   │   └── DailyLimitError           the model's daily quota is used up (raised
    │   │   │                                 before sending, from the organization's usage)
    │   │   └── InternalServerError           5xx
    │   ├── ResponseValidationError           a reply we could not parse
    │   │                                     (alias APIResponseValidationError)
    │   └── AmbiguousSubmissionError          a create may or may not have been accepted
    └── TaskError
        ├── TaskFailedError                   the task ended FAILED
        │   └── TaskCancelledError            the task ended CANCELLED
        └── TaskTimeoutError (TimeoutError)   waiting for the task ran past its deadline

    UnknownModelWarning (UserWarning)         a model name the spec does not know, sent with
                                              the checks that do not depend on the model

Messages never contain the API key: the transport builds them from the method, the path and
the server's reply only. Nor do tracebacks: an error of the HTTP library is never chained
(its objects and its frames' locals hold the request's headers); its type and message are
kept as text in ``APIConnectionError.cause``. Messages built from server data are bounded
(``MAX_MESSAGE_CHARS``); the full data stays on the exception (``body``, ``task_details``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._models import Task, WorkflowInvocation

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AmbiguousSubmissionError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DailyLimitError",
    "InternalServerError",
    "InvalidRequestError",
    "LimiterUnavailableError",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResourceFailedError",
    "ResponseValidationError",
    "RunwayError",
    "RunwayMLError",
    "SlotTimeoutError",
    "StreamAlreadyConsumed",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskTimeoutError",
    "UnknownModelWarning",
    "UnprocessableEntityError",
]

CLIENT_CLOSED: Final = "This client is closed; create a new one."
"""The message of the ``RuntimeError`` raised by any use of a closed client."""


MAX_MESSAGE_CHARS = 1000
"""Longest exception message built from server data; the rest is cut with a pointer."""


def bound_message(message: str, where: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Return ``message`` cut to ``limit`` characters, saying where the full text is.

    Args:
        message: The message.
        where: Where the full data stays, such as ``".body"``.
        limit: Most characters kept.

    Returns:
        ``message`` itself when short enough, else its start, ``...`` and a pointer.

    """
    if len(message) <= limit:
        return message
    return f"{message[:limit]}... ({len(message) - limit} more characters; see {where})"


class RunwayError(Exception):
    """Base class of every error raised by runway_async."""


RunwayMLError = RunwayError
"""The official SDK's name for the root error, kept for migration."""


class InvalidRequestError(RunwayError, ValueError):
    """Parameters failed client-side validation; nothing was sent.

    Attributes:
        field: Dotted path of the offending parameter as passed in Python (``voice.preset_id``).
        allowed: The allowed values, when the field takes a closed set.
        endpoint: The endpoint the parameters were meant for (``image_to_video``).

    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        allowed: Sequence[Any] | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.allowed = tuple(allowed) if allowed is not None else None
        self.endpoint = endpoint


class UnknownModelWarning(UserWarning):
    """A model name the client's spec does not know was sent anyway.

    New models ship before a client release knows them, so such a name is not refused: the
    request is sent with the checks that do not depend on the model (the JSON types of known
    members, media URIs) and the server decides. Warned once per model per process; silence
    it with ``warnings.filterwarnings("ignore", category=UnknownModelWarning)``.

    Attributes:
        model: The model name (``None`` when built by hand without one).
        endpoint: The endpoint it was first sent to (``image_to_video``), if known.

    """

    def __init__(
        self, message: str, *, model: str | None = None, endpoint: str | None = None
    ) -> None:
        super().__init__(message)
        self.model = model
        self.endpoint = endpoint


class APIError(RunwayError):
    """An error that involved talking to the API.

    Attributes:
        message: Human-readable description, at most ``MAX_MESSAGE_CHARS`` (and a pointer to
            ``body``) long.
        method: HTTP method of the request, when there was one.
        url: URL of the request (never carries credentials).
        body: The parsed JSON reply, or its raw text when it was not JSON; ``None`` if none.

    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        body: object | None = None,
    ) -> None:
        message = bound_message(message, ".body")
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.body = body


class APIConnectionError(APIError):
    """The request could not be completed at the connection level.

    It is never chained to the HTTP library's exception (whose objects and frames hold the
    request's headers, API key included); ``cause`` keeps what it said.

    Attributes:
        sent: ``False`` when the connection was never established, so the server certainly
            did not receive the request; ``True`` when it may have.
        cause: The underlying error's type and message as text (``"ClientPayloadError:
            Response payload is not completed"``), credentials and URL queries removed;
            ``None`` when there was none.

    """

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        method: str | None = None,
        url: str | None = None,
        sent: bool = True,
        cause: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.sent = sent
        self.cause = cause


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request timed out."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        method: str | None = None,
        url: str | None = None,
        sent: bool = True,
        cause: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, sent=sent, cause=cause)


class APIStatusError(APIError):
    """The server answered with an error status.

    Attributes:
        status_code: The HTTP status.
        request_id: The server's request id header, when present.
        error: The ``error`` member of a JSON error body.
        issues: The ``issues`` list of a JSON error body (each a mapping), possibly empty.
        doc_url: The ``docUrl`` member of a JSON error body.
        retry_after: Seconds the server asked us to wait (``Retry-After``), when given.
        response: The error reply, as the official SDK's ``httpx.Response`` offers it
            (an ``HTTPResponse``: ``status_code``, ``headers``, ``text``, ``json()``,
            ``request``, ``elapsed``); the request it answers carries no credentials.
            ``None`` for an error raised before anything was sent (``DailyLimitError``).

    """

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str | None = None,
        url: str | None = None,
        body: object | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(message, method=method, url=url, body=body)
        self.status_code = status_code
        self.request_id = request_id
        self.retry_after = retry_after
        self.response: Any = response
        self.error: str | None = None
        self.issues: tuple[Mapping[str, Any], ...] = ()
        self.doc_url: str | None = None
        if isinstance(body, Mapping):
            error = body.get("error")
            self.error = error if isinstance(error, str) else None
            issues = body.get("issues")
            if isinstance(issues, list):
                self.issues = tuple(i for i in issues if isinstance(i, Mapping))
            doc_url = body.get("docUrl")
            self.doc_url = doc_url if isinstance(doc_url, str) else None

    @property
    def status(self) -> int:
        """The HTTP status (same as ``status_code``)."""
        return self.status_code


class BadRequestError(APIStatusError):
    """400: the server rejected the parameters."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, invalid or disabled."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such resource (deleted tasks answer 404 too)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state."""


class UnprocessableEntityError(APIStatusError):
    """422: the server understood the request but cannot process it."""


class RateLimitError(APIStatusError):
    """429: too many requests, or the daily generation quota is used up."""


class DailyLimitError(RateLimitError):
    """The model's daily generation quota is used up; the create was not sent.

    Raised before sending when the organization's usage (``GET /v1/organization``) plus the
    creates made since it was read have reached ``maxDailyGenerations``. The quota counts a
    rolling 24 hours, so capacity comes back as the generations of 24 hours ago age out.

    Attributes:
        model: The model whose quota is used up.
        limit: Its ``maxDailyGenerations``.
        used: Generations counted in the past 24 hours (as far as this process knows).

    """

    def __init__(self, message: str, *, model: str, limit: int, used: int) -> None:
        super().__init__(message, status_code=429, method="POST")
        self.model = model
        self.limit = limit
        self.used = used


class InternalServerError(APIStatusError):
    """5xx: the server failed or is shedding load."""


class SlotTimeoutError(RunwayError, TimeoutError):
    """No concurrency slot for the model freed up before ``slot_timeout``; nothing was sent.

    Attributes:
        model: The model the create waited for.
        timeout: The seconds it waited.

    """

    def __init__(self, message: str, *, model: str, timeout: float) -> None:
        super().__init__(message)
        self.message = message
        self.model = model
        self.timeout = timeout


class LimiterUnavailableError(RunwayError):
    """The shared limiter's store (Redis) could not be reached in time; nothing was sent.

    Raised by ``RedisLimiter.acquire`` (so by a create) after at most its
    ``unavailable_timeout`` seconds of failed attempts, when it fails closed (the default).
    Tasks created before keep being watched and their results delivered.

    Attributes:
        message: Human-readable description (never the store's credentials).
        cause: The last error's type and message, as text.
        timeout: The seconds it kept trying.

    """

    def __init__(self, message: str, *, cause: str = "", timeout: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause
        self.timeout = timeout


class MissingExtraError(RunwayError, ImportError):
    """A feature needs an optional extra that is not installed, such as ``runway_async[redis]``.

    Attributes:
        extra: The extra's name, such as ``"redis"``.

    """

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class ResponseValidationError(APIError):
    """The server's reply did not have the expected shape, or was too large to read.

    The raw reply is kept in ``body`` (for a reply over ``max_response_bytes``, its first
    bytes as text).
    """


APIResponseValidationError = ResponseValidationError
"""The official SDK's name, kept for migration."""


class StreamAlreadyConsumed(RunwayError):
    """The body of a streamed raw response was asked for after it was streamed.

    A ``with_streaming_response`` body read with ``iter_bytes()``/``iter_text()``/
    ``iter_lines()`` is not kept: ``read()``, ``text()``, ``json()`` and ``parse()`` cannot
    have it afterwards (read it first, then iterate, if both are needed). Also raised once
    the response is closed before its body was read.
    """


class AmbiguousSubmissionError(APIError):
    """A create request failed in a way that leaves unknown whether the server accepted it.

    The request is not re-sent automatically, since that could pay twice for one generation.
    Check your tasks (or the usage report) before submitting again. Raised for a create whose
    reply failed, never came, or came but could not be read (not JSON, no task id, too large):
    the task may exist in every case.

    Attributes:
        request_body: The JSON body that was sent, so the caller can decide to re-send it.
        status_code: The status of the failed reply, or ``None`` when no reply came.
        body: The reply (parsed JSON, or its text), when one came.

    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        request_body: object | None = None,
        status_code: int | None = None,
        body: object | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, body=body)
        self.request_body = request_body
        self.status_code = status_code


class TaskError(RunwayError):
    """A task did not produce output.

    Attributes:
        message: Human-readable description, at most ``MAX_MESSAGE_CHARS`` (and a pointer to
            ``task_details``) long.
        task_details: The last task seen (the official SDK's name for it); for a workflow
            invocation, the last ``WorkflowInvocation`` seen.

    """

    def __init__(self, message: str, task_details: Task | WorkflowInvocation | None) -> None:
        message = bound_message(message, ".task_details")
        super().__init__(message)
        self.message = message
        self.task_details = task_details

    @property
    def task(self) -> Task | WorkflowInvocation | None:
        """The last task (or workflow invocation) seen."""
        return self.task_details


class TaskFailedError(TaskError):
    """The task ended FAILED (or CANCELLED, see the subclass).

    Attributes:
        failure: The server's human-readable failure text (for logs, not end users), in
            full (the message quotes at most ``MAX_MESSAGE_CHARS`` of it).
        failure_code: The machine-readable code such as ``SAFETY.INPUT.TEXT``, when given.

    """

    def __init__(
        self,
        message: str,
        task_details: Task | WorkflowInvocation | None,
        *,
        failure: str | None = None,
        failure_code: str | None = None,
    ) -> None:
        super().__init__(message, task_details)
        self.failure = failure
        self.failure_code = failure_code


class TaskCancelledError(TaskFailedError):
    """The task ended CANCELLED (it was cancelled or deleted).

    A subclass of ``TaskFailedError`` because the official SDK raises that for cancelled tasks.
    """


class TaskTimeoutError(TaskError, TimeoutError):
    """The wait's deadline passed before the task ended; ``task_details`` is the last task seen."""


class ResourceFailedError(RunwayError):
    """An avatar, voice or realtime session that was waited for ended FAILED (or CANCELLED).

    Attributes:
        message: Human-readable description, at most ``MAX_MESSAGE_CHARS`` (and a pointer to
            ``resource``) long.
        resource: The object as last fetched (``FailedAvatar``, ``FailedVoice``, ...).
        failure: The server's human-readable reason, when given (not stable for matching).
        failure_code: The machine-readable code, when given.

    """

    def __init__(
        self,
        message: str,
        resource: object,
        *,
        failure: str | None = None,
        failure_code: str | None = None,
    ) -> None:
        message = bound_message(message, ".resource")
        super().__init__(message)
        self.message = message
        self.resource = resource
        self.failure = failure
        self.failure_code = failure_code
