"""``client.uploads``: ephemeral uploads of local media files (``POST /v1/uploads``)."""

from __future__ import annotations

import math
from collections.abc import Callable

from .._config import Timeout, TimeoutLike
from .._models.uploads import UploadCreateEphemeralResponse
from .._options import Body, Headers, Query, call_options
from .._upload import DEFAULT_UPLOAD_TIMEOUT, FileTypes, upload_file
from ._base import Resource

__all__ = ["Uploads"]


class Uploads(Resource):
    """Upload local media files for use in generation requests."""

    async def create_ephemeral(
        self,
        *,
        file: FileTypes,
        file_metadata: str | None = None,
        on_progress: Callable[[int, int], object] | None = None,
        timeout: float | Timeout | TimeoutLike | None = DEFAULT_UPLOAD_TIMEOUT,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
    ) -> UploadCreateEphemeralResponse:
        """Upload a temporary media file and return its ``runway://`` URI.

        Two requests: ``POST /v1/uploads`` names the file and gets a presigned storage URL,
        then the file goes there as ``multipart/form-data`` (no Runway credential is sent to
        the storage host). The file is streamed, never read whole into memory, and that POST
        is retried on transient failures, the file rewound each time. The upload expires
        after a while (about 24 hours); pass its URI as any media parameter (a create's
        media parameters also take a ``pathlib.Path`` directly, uploaded the same way).

        Args:
            file: The file: a path (``os.PathLike`` or ``str``), a file open in binary mode
                that has a ``name``, or a tuple ``(filename, content)``,
                ``(filename, content, content_type)`` or ``(filename, content, content_type,
                headers)`` whose content is bytes, a binary file or a path (headers are
                ignored). A file object is sent from its start. Image, video or audio media
                (told by the content type given, else by the file name's extension), at most
                200 MB.
            file_metadata: Optional metadata, sent as the ``metadata`` form field.
            on_progress: Called with ``(bytes_sent, total_bytes)`` as the file is sent (from
                0 again if the upload is retried).
            timeout: Seconds for sending the file, retries included (``None``: no limit).
                The first request has the client's timeout. A ``Timeout`` or
                ``httpx.Timeout``-like object counts by its total (``read``) deadline.
            extra_headers: Headers added to the ``POST /v1/uploads`` request (replacing the
                client's of the same name); never sent to the storage host.
            extra_query: Query parameters added to that request (wire names).
            extra_body: Members merged into that request's JSON body by wire name, sent
                as given and left to the server to check.

        Returns:
            The upload, whose ``uri`` is the ``runway://`` URI.

        Raises:
            InvalidRequestError: (a ``ValueError``) no file name can be inferred from
                ``file`` (bytes, a file object without a name: "Cannot infer filename from
                file"), or the file is not image, video or audio media, is empty, or is over
                200 MB. Nothing was sent.
            OSError: The file cannot be read (``FileNotFoundError`` for a missing path).
            APIStatusError: The API or the storage host refused the upload.
            APIConnectionError: The connection failed (``APITimeoutError`` for timeouts).

        """
        return await upload_file(
            self._core,
            file,
            file_metadata=file_metadata,
            on_progress=on_progress,
            timeout=_seconds(timeout),
            options=call_options(extra_headers, extra_query, extra_body),
        )


def _seconds(timeout: object) -> float | None:
    """Return an upload's deadline in seconds: a number as given, a timeout object's total."""
    if timeout is None or isinstance(timeout, (int, float)):
        return timeout  # a bool or a bad number is refused by upload_file
    total = Timeout.coerce(timeout).total
    return None if math.isinf(total) else total
