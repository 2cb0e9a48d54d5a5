"""``client.workflows``: list, read and run the workflows published in your project."""

from __future__ import annotations

from collections.abc import Mapping

from .._config import NOT_GIVEN
from .._convert import structure
from .._core import Core
from .._invocations import run_created_from_reply
from .._models import Workflow, WorkflowList, WorkflowRunCreated
from .._models.workflows import bind_invocation
from .._options import Body, Headers, Query, RequestTimeout, call_options
from ..types import AudioMedia, ImageMedia, PrimitiveNodeOutput, VideoMedia
from ._base import Resource
from .workflow_invocations import WorkflowInvocations

NodeOutput = PrimitiveNodeOutput | ImageMedia | VideoMedia | AudioMedia
"""One value of ``node_outputs``: a primitive, or an image, video or audio by URI (or Path)."""

__all__ = ["Workflows"]


class Workflows(Resource):
    """Published workflows (``/v1/workflows``).

    ``run`` starts a workflow invocation; wait for it with ``wait_for_task_output()`` on the
    reply, or through ``client.workflow_invocations``.
    """

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self._invocations = WorkflowInvocations(core)

    async def list(
        self,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> WorkflowList:
        """List every published workflow, grouped by source workflow (not paginated).

        Args:
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The workflows in ``data``, each with its published ``versions``, newest first.

        """
        response = await self._core.call(
            "workflows.list",
            {},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, WorkflowList)

    async def retrieve(
        self,
        id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> Workflow:
        """Fetch one published workflow version, with its graph.

        Args:
            id: The published version's id (from ``list()``).
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The workflow version.

        Raises:
            NotFoundError: No such published workflow.

        """
        response = await self._core.call(
            "workflows.retrieve",
            {"id": id},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return structure(response.data, Workflow)

    async def run(
        self,
        id: str,
        *,
        node_outputs: Mapping[str, Mapping[str, NodeOutput]] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: RequestTimeout = NOT_GIVEN,
    ) -> WorkflowRunCreated:
        """Start a run (an invocation) of a published workflow.

        The request is sent once: it starts paid work, so an ambiguous failure is never
        re-sent. It takes no slot of the per-model concurrency limiter (the client cannot
        know which models the workflow uses).

        Args:
            id: The published version's id.
            node_outputs: Values overriding the graph's defaults: node id to output key to a
                typed value, ``{"type": "primitive", "value": ...}`` or ``{"type":
                "image" | "video" | "audio", "uri": ...}`` (an https URL, a ``runway://``
                upload URI, a data URI, or a local ``pathlib.Path``, uploaded before the run
                starts). Node ids and output keys are sent verbatim.
            extra_headers: Headers added to this request (replacing the client's of the
                same name).
            extra_query: Query parameters added to this request (wire names).
            extra_body: Members merged into the JSON body by wire name, sent as given and
                left to the server to check.
            timeout: This call's per-request deadline in seconds, a ``Timeout``, or ``None``
                for none.

        Returns:
            The new invocation's ``id``; ``await run.wait_for_task_output()`` waits for it
            and returns the ``SucceededWorkflowInvocation``.

        Raises:
            NotFoundError: No such published workflow.
            BadRequestError: The server refused ``node_outputs``.

        """
        response = await self._core.call(
            "workflows.run",
            {"id": id, "node_outputs": node_outputs},
            options=call_options(extra_headers, extra_query, extra_body, timeout),
        )
        return bind_invocation(run_created_from_reply(response.data), self._invocations)
