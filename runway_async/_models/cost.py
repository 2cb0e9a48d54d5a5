"""Credit amounts."""

from __future__ import annotations

import attrs

__all__ = ["Cost"]


@attrs.frozen
class Cost:
    """An amount of credits, as the API reports it (``{"credits": 50}``).

    Attributes:
        credits: The number of credits. Final costs (``cost``) are integers on the wire;
            estimates (``estimatedCost``) may be fractional. The value is kept exactly as
            received, an ``int`` stays an ``int``.

    """

    credits: int | float
