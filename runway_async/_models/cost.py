"""Credit amounts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._serial import WireModel

__all__ = ["Cost"]


@attrs.frozen
class Cost(WireModel):
    """An amount of credits, as the API reports it (``{"credits": 50}``).

    Attributes:
        credits: The number of credits. Final costs (``cost``) are integers on the wire;
            estimates (``estimatedCost``) may be fractional. The value is kept exactly as
            received, an ``int`` stays an ``int``.
        extra: Wire keys this SDK does not know, kept verbatim (not part of the hash).

    """

    credits: int | float
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False, kw_only=True)
