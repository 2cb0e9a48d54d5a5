"""``client.workflows``: list, read and run the workflows published in your project."""

from __future__ import annotations

from collections.abc import Mapping

from .._convert import structure
from .._core import Core
from .._invocations import run_created_from_reply
from .._models import Workflow, WorkflowList, WorkflowRunCreated
from .._models.workflows import bind_invocation
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

    async def list(self) -> WorkflowList:
        """List every published workflow, grouped by source workflow (not paginated).

        Returns:
            The workflows in ``data``, each with its published ``versions``, newest first.

        """
        response = await self._core.call("workflows.list", {})
        return structure(response.data, WorkflowList)

    async def retrieve(self, id: str) -> Workflow:
        """Fetch one published workflow version, with its graph.

        Args:
            id: The published version's id (from ``list()``).

        Returns:
            The workflow version.

        Raises:
            NotFoundError: No such published workflow.

        """
        response = await self._core.call("workflows.retrieve", {"id": id})
        return structure(response.data, Workflow)

    async def run(
        self,
        id: str,
        *,
        node_outputs: Mapping[str, Mapping[str, NodeOutput]] | None = None,
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

        Returns:
            The new invocation's ``id``; ``await run.wait_for_task_output()`` waits for it
            and returns the ``SucceededWorkflowInvocation``.

        Raises:
            NotFoundError: No such published workflow.
            BadRequestError: The server refused ``node_outputs``.

        """
        response = await self._core.call("workflows.run", {"id": id, "node_outputs": node_outputs})
        return bind_invocation(run_created_from_reply(response.data), self._invocations)
