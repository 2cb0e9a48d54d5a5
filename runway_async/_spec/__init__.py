"""The one declarative spec of the task-creating endpoints, and its validator.

``api.json`` (package data) is built by ``scripts/build_spec.py`` from the official SDK's
request schema plus the facts of the API reference the schema lacks; ``scripts/
gen_endpoints.py`` generates the typed resource classes, ``runway_async.types`` and
``docs/endpoints.md`` from it. Nothing at run or test time reads anything else.

Layout of ``api.json``::

    {"format_version": 1, "source": "runwayml 5.24.0",
     "enums": {"ElevenVoiceId": {"description": ..., "values": [...]}, ...},
     "endpoints": {
       "image_to_video": {
         "method": "POST", "path": "/v1/image_to_video",
         "discriminator": "model" | "mode" | null, "discriminator_description": ...,
         "response": "task_created" | "id_only" | "routed", "summary": ..., "notes": ...,
         "order": 0,                          # position in the docs and generated code
         "variants": [
           {"value": "gen4.5", "title": "Gen4_5", "legacy": "runwayml 5.13.0 (HEAD)"?,
            "fields": {"<wireName>": FIELD, ...}}]}}}

    FIELD = NODE + {"python_name", "required", "description", "notes"?}
    NODE  = {"type": "string" | "integer" | "number" | "boolean" | "array" | "object"
                     | "map" | "union" | "any",
             "enum"?, "enum_name"?, "minimum"?, "maximum"?, "exclusive_minimum"?,
             "min_length"?, "max_length"?, "length_unit": "utf16"?, "pattern"?,
             "min_items"?, "max_items"?, "media": "image" | "video" | "audio"?,
             "unconfirmed": true?,            # constraints here are kept but not enforced
             "items": NODE?,                  # arrays
             "fields": {"<wireName>": FIELD}?, "title"?,   # objects
             "values": NODE?,                 # maps: keys of the user's choosing
             "any_of": [NODE, ...]?, "tag"?}  # unions; tag = member telling objects apart

The variant's fields exclude the discriminator. Everything the package uses is re-exported
here: ``ENDPOINTS``, ``get_endpoint``, ``to_wire``, ``validate_wire`` and the spec classes.
"""

from __future__ import annotations

from ._model import (
    ENDPOINTS,
    EndpointSpec,
    FieldSpec,
    MediaKind,
    ResponseKind,
    TypeSpec,
    VariantSpec,
    get_endpoint,
    python_name,
)
from ._validate import ValidationIssue, describe, validate_body
from ._wire import to_wire

__all__ = [
    "ENDPOINTS",
    "EndpointSpec",
    "FieldSpec",
    "MediaKind",
    "ResponseKind",
    "TypeSpec",
    "ValidationIssue",
    "VariantSpec",
    "describe",
    "get_endpoint",
    "python_name",
    "to_wire",
    "validate_wire",
]


def validate_wire(
    endpoint: str, body: object, *, allow_loopback_http: bool = False
) -> list[ValidationIssue]:
    """Return every issue of a camelCase JSON body for ``endpoint``; empty means valid.

    Meant for servers such as the local emulator, which report all issues at once.

    Args:
        endpoint: The endpoint name (``image_to_video``, ``recipes.product_ad``, ...).
        body: The parsed JSON body.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.

    Raises:
        InvalidRequestError: ``endpoint`` is not a known endpoint.

    """
    return validate_body(get_endpoint(endpoint), body, allow_loopback_http=allow_loopback_http)
